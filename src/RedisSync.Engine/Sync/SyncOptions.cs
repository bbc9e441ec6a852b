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

    /// <summary>
    /// One shard task of a sync of a cluster source (-Shard): the master with this node id (or its first
    /// characters), or the one that serves these slots (such as <c>0-5460</c>); null runs every shard.
    /// </summary>
    public string? Shard { get; init; }

    /// <summary>The server the data is written to.</summary>
    public RedisEndpoint Target { get; init; } = null!;

    /// <summary>Full, Incremental or FullAndIncremental (the default).</summary>
    public SyncMode Mode { get; init; } = SyncMode.FullAndIncremental;

    /// <summary>Source db → target db; a db not in the map keeps its number.</summary>
    public IReadOnlyDictionary<int, int>? DatabaseMap { get; init; }

    /// <summary>What is copied: keys, databases, types and stream commands (null: everything).</summary>
    public SyncFilter? Filter { get; init; }

    /// <summary>Source key prefix → target key prefix, such as <c>'old:*' = 'new:*'</c> (null: keys keep their names).</summary>
    public IReadOnlyDictionary<string, string>? RenameKey { get; init; }

    /// <summary>The renames ready to use (null: none).</summary>
    internal KeyRename? KeyRename => Transform.KeyRename.Compile(RenameKey);

    /// <summary>
    /// A predicate on each key of the snapshot and of the stream (-Where), called from the sync's own threads;
    /// a key it answers false for is left out, and so are the later commands on it (null: every key).
    /// </summary>
    public Func<RedisSync.KeyCandidate, bool>? Where { get; init; }

    private KeyFilter? _compiled;
    private bool _compiledDone;

    /// <summary>The filter ready to use, made once per options (it remembers the keys it dropped for their type); null when it keeps everything.</summary>
    internal KeyFilter? KeyFilter
    {
        get
        {
            lock (this)
            {
                if (!_compiledDone)
                {
                    _compiled = Transform.KeyFilter.Compile(Filter, Where);
                    _compiledDone = true;
                }
                return _compiled;
            }
        }
    }

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

    /// <summary>How a live source is read: PSYNC, SCAN with keyspace events, or PSYNC falling back to SCAN (the default).</summary>
    public SourceMode SourceMode { get; init; } = SourceMode.Auto;

    /// <summary>In scan mode, turn the source's keyspace events on (CONFIG SET notify-keyspace-events) when they are off.</summary>
    public bool EnableKeyspaceEvents { get; init; }

    /// <summary>In scan mode, SCAN's COUNT: keys asked for per call, and so per pipelined DUMP round.</summary>
    public int ScanCount { get; init; } = 1000;

    /// <summary>In scan mode, how many changed keys may wait to be copied again; more is an overflow, followed by a rescan.</summary>
    public int ChangedKeysLimit { get; init; } = 100_000;

    /// <summary>In scan mode, how often a live sync runs a verify-and-repair pass besides those after lost events (zero: never).</summary>
    public TimeSpan ScanVerifyInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>In scan mode, how long a live sync that is stopped may take for its last verify-and-repair pass (zero: none).</summary>
    public TimeSpan ScanStopVerifyTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>For tests: the newest RDB version the scan reader lets the target load (as if it were an older server); null for the target's own.</summary>
    internal int? TargetRdbVersionLimit { get; init; }

    /// <summary>In scan mode, keys per second the source is read at most (SCAN's keys, changed keys and repairs together); null for no limit.</summary>
    public long? MaxReadRate { get; init; }

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
        if (ScanCount < 1) throw Invalid($"The scan count {ScanCount} must be at least 1.");
        if (ChangedKeysLimit < 1) throw Invalid($"The limit of changed keys {ChangedKeysLimit} must be at least 1.");
        if (RdbPath != null && SourceMode == SourceMode.Scan) throw Invalid("An RDB file is read whole: -SourceMode Scan applies only to a live source.");
        if (MaxWriteRate is long rate && rate < 1) throw Invalid($"The write rate limit {rate} must be at least 1 command per second.");
        if (MaxReadRate is long readRate && readRate < 1) throw Invalid($"The read rate limit {readRate} must be at least 1 key per second.");
        if (MaxReadRate != null && SourceMode == SourceMode.Psync) throw Invalid($"-MaxReadRate {MaxReadRate} limits the scan reader, and -SourceMode Psync never reads the source by SCAN: leave one of them out.");
        if (VerifyRate is long verify && verify < 1) throw Invalid($"The verification rate {verify} must be at least 1 key per second.");
        if (RepairMismatches && VerifyRate == null) throw Invalid("-RepairMismatches repairs what -Verify finds: give -Verify <keys per second> too.");
        if (Shard != null)
        {
            _ = ShardSelection.Parse(Shard);
            if (Source == null) throw Invalid($"-Shard '{Shard}' names a shard of a cluster source: give the cluster's address as the source (not Sentinels or an RDB file).");
            if (FlushTarget)
            {
                throw Invalid($"-FlushTarget empties the whole target, which the other shard tasks of sync '{Name}' share: a shard task (-Shard '{Shard}') cannot flush it. " +
                    "Flush the target before the shard tasks start, or sync the cluster whole with -FlushTarget.");
            }
            if (SourceMode == SourceMode.Scan) throw Invalid($"-Shard '{Shard}' runs a shard of a cluster source, which is read by PSYNC: -SourceMode Scan reads one server.");
        }
        if (MaxSnapshotRetries < 0) throw Invalid("The number of full-copy retries cannot be negative.");
        _ = KeyFilter;
        _ = KeyRename;
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
