using System;
using System.Collections.Generic;
using RedisSync.Engine.Net;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>Everything a sync needs to know; what Start-RedisSync binds its parameters to.</summary>
public sealed class SyncOptions
{
    /// <summary>Names the sync (and its checkpoint key); a sync started again with the same name resumes.</summary>
    public string Name { get; init; } = "default";

    /// <summary>A live source, read as a replica (PSYNC). Either this or <see cref="RdbPath"/>.</summary>
    public RedisEndpoint? Source { get; init; }

    /// <summary>
    /// Sentinels that name the source's master, instead of <see cref="Source"/>: the sync asks them
    /// again after every dropped link and follows a failover with a partial resync.
    /// </summary>
    public IReadOnlyList<RedisEndpoint>? Sentinels { get; init; }

    /// <summary>The master's name in the Sentinels' configuration (with <see cref="Sentinels"/>).</summary>
    public string? MasterName { get; init; }

    /// <summary>The user, password and TLS of the master the Sentinels name (its host and port are not used).</summary>
    public RedisEndpoint? MasterLogin { get; init; }

    /// <summary>An RDB file to load instead of a live source (always a full copy).</summary>
    public string? RdbPath { get; init; }

    /// <summary>The server the data is written to.</summary>
    public RedisEndpoint Target { get; init; } = null!;

    /// <summary>Full, Incremental or FullAndIncremental (the default).</summary>
    public SyncMode Mode { get; init; } = SyncMode.FullAndIncremental;

    /// <summary>Source db → target db; a db not in the map keeps its number.</summary>
    public IReadOnlyDictionary<int, int>? DatabaseMap { get; init; }

    /// <summary>Empty the whole target (FLUSHALL) before the full copy; a run with it always makes a new full copy.</summary>
    public bool FlushTarget { get; init; }

    /// <summary>What to do with a key that already exists on the target during the full copy.</summary>
    public ConflictPolicy OnConflict { get; init; } = ConflictPolicy.Stop;

    /// <summary>What to do when the target rejects a command (other than the errors that always stop).</summary>
    public bool SkipFailedCommands { get; init; }

    /// <summary>How often status is reported while nothing changes phase.</summary>
    public TimeSpan StatusInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to keep reconnecting to a source or target that went away before giving up.</summary>
    public TimeSpan ReconnectTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long the sync's lease on the target lasts without renewal (it is renewed with every batch, and
    /// every third of this while idle): the time after which another run may take over from a killed one.
    /// </summary>
    public TimeSpan LeaseTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How many times a full copy whose source link broke is begun again before the sync gives up.</summary>
    public int MaxSnapshotRetries { get; init; } = 3;

    /// <summary>Commands per second the target is sent at most (every writer of the sync together); null for no limit.</summary>
    public long? MaxWriteRate { get; init; }

    /// <summary>Keys per second compared between the source and the target while streaming (-Verify); null for none.</summary>
    public long? VerifyRate { get; init; }

    /// <summary>Copies again a key that the verification finds different (-RepairMismatches).</summary>
    public bool RepairMismatches { get; init; }

    /// <summary>Checks the options; the error names the one that is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Name) || Name.IndexOfAny(new[] { ' ', '\r', '\n', '\t' }) >= 0)
        {
            throw Invalid($"The sync name '{Name}' must be a non-empty word without spaces.");
        }
        if (Target == null) throw Invalid("A target is required.");
        int sources = (Source != null ? 1 : 0) + (RdbPath != null ? 1 : 0) + (Sentinels != null ? 1 : 0);
        if (sources != 1) throw Invalid("Give exactly one of a source server, Sentinels with a master name, and an RDB file.");
        if (Sentinels != null && (Sentinels.Count == 0 || string.IsNullOrWhiteSpace(MasterName)))
        {
            throw Invalid("With Sentinels, give at least one Sentinel address and the master's name (-MasterName).");
        }
        if (RdbPath != null && Mode != SyncMode.Full) throw Invalid("An RDB file can only be copied in Full mode.");
        if (Mode == SyncMode.Incremental && FlushTarget)
        {
            throw Invalid("-FlushTarget empties the target for a new full copy, which -Mode Incremental never makes: use -Mode Full or FullAndIncremental, or leave -FlushTarget out.");
        }
        if (LeaseTime < TimeSpan.FromSeconds(1)) throw Invalid($"The lease time {LeaseTime} is too short: give at least one second.");
        if (MaxWriteRate is long rate && rate < 1) throw Invalid($"The write rate limit {rate} must be at least 1 command per second.");
        if (VerifyRate is long verify && verify < 1) throw Invalid($"The verification rate {verify} must be at least 1 key per second.");
        if (RepairMismatches && VerifyRate == null) throw Invalid("-RepairMismatches repairs what -Verify finds: give -Verify <keys per second> too.");
        if (MaxSnapshotRetries < 0) throw Invalid("The number of full-copy retries cannot be negative.");
        if (DatabaseMap != null)
        {
            foreach (KeyValuePair<int, int> pair in DatabaseMap)
            {
                if (pair.Key < 0 || pair.Value < 0) throw Invalid($"The database map entry {pair.Key} → {pair.Value} has a negative database number.");
            }
        }
    }

    private static SyncException Invalid(string message) =>
        new SyncException(SyncErrorIds.InvalidOptions, SyncErrorKind.Stop, message);
}
