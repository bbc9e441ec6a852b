using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Sync;

/// <summary>
/// What the target itself records of a sync, in <c>redissync:checkpoint:&lt;name&gt;</c> (db 0),
/// written in the same MULTI/EXEC as the commands it covers: the source's replication id and the
/// offset applied. A restarted sync resumes from it with a partial resync.
/// </summary>
internal sealed class Checkpoint
{
    private const string Version = "redissync-checkpoint/1";

    public Checkpoint(string replicationId, long offset, CheckpointPhase phase, DateTimeOffset time, string source, bool ownsTarget, long snapshotPosition = 0,
        RedisSync.SyncMode mode = RedisSync.SyncMode.FullAndIncremental, DateTimeOffset? started = null, int streamDb = 0, long? dataOffset = null, string? scanCursor = null)
    {
        ScanCursor = scanCursor;
        StreamDb = streamDb;
        DataOffset = dataOffset ?? offset;
        Started = started ?? time;
        Mode = mode;
        ReplicationId = replicationId;
        Offset = offset;
        SnapshotPosition = snapshotPosition;
        Phase = phase;
        Time = time;
        Source = source;
        OwnsTarget = ownsTarget;
    }

    /// <summary>The source's replication id.</summary>
    public string ReplicationId { get; }

    /// <summary>The replication offset applied (a partial resync asks for Offset + 1).</summary>
    public long Offset { get; }

    public CheckpointPhase Phase { get; }

    /// <summary>A scan sync's position while it scans (<c>db/cursor</c>): a restart continues the scan there; null otherwise.</summary>
    public string? ScanCursor { get; }

    /// <summary>
    /// The offset after the last command up to <see cref="Offset"/> that changed data: a resume asks for the
    /// stream from here, so that a promoted replica that missed the last PINGs and PUBLISHes can still continue it.
    /// </summary>
    public long DataOffset { get; }

    /// <summary>The source database the stream was in at <see cref="Offset"/>: a partial resync from it does not say.</summary>
    public int StreamDb { get; }

    /// <summary>While the snapshot is written: the keys written so far (it makes each batch's value distinct).</summary>
    public long SnapshotPosition { get; }

    /// <summary>When the batch that wrote it was formatted.</summary>
    public DateTimeOffset Time { get; }

    /// <summary>When the sync's full copy began (what a status read from the target reports as its start).</summary>
    public DateTimeOffset Started { get; }

    /// <summary>The mode of the sync that wrote it (what a status read from the target reports).</summary>
    public RedisSync.SyncMode Mode { get; }

    /// <summary>The source (host:port), for status, and so that a run from another source does not take the target for its own.</summary>
    public string Source { get; }

    /// <summary>
    /// The target's databases were empty or flushed when the sync began: a later full resync may
    /// flush them again (they hold only what the sync wrote).
    /// </summary>
    public bool OwnsTarget { get; }

    /// <summary>The checkpoint key of a sync.</summary>
    public static string Key(string name) => ReservedKeys.Checkpoint(name);

    /// <summary>The value stored in the key.</summary>
    public byte[] Format()
    {
        var sb = new StringBuilder(160);
        sb.Append(Version)
            .Append(" replid=").Append(ReplicationId)
            .Append(" offset=").Append(Offset.ToString(CultureInfo.InvariantCulture))
            .Append(" db=").Append(StreamDb.ToString(CultureInfo.InvariantCulture))
            .Append(" data=").Append(DataOffset.ToString(CultureInfo.InvariantCulture))
            .Append(" phase=").Append(Phase == CheckpointPhase.Streaming ? "streaming" : "snapshot")
            .Append(" keys=").Append(SnapshotPosition.ToString(CultureInfo.InvariantCulture))
            .Append(" time=").Append(Time.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture))
            .Append(" started=").Append(Started.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture))
            .Append(" owns-target=").Append(OwnsTarget ? "1" : "0")
            .Append(" mode=").Append(Mode.ToString());
        if (ScanCursor != null) sb.Append(" scan=").Append(ScanCursor);
        sb.Append(" source=").Append(Source);
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Parses a stored value; the error says what is wrong with it.</summary>
    public static Checkpoint Parse(string name, string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] parts = text.Split(' ');
        if (parts.Length == 0 || parts[0] != Version) throw Invalid(name, "it is not a RedisSync checkpoint (or a newer version's)");
        for (int i = 1; i < parts.Length; i++)
        {
            int eq = parts[i].IndexOf('=');
            if (eq > 0) fields[parts[i].Substring(0, eq)] = parts[i].Substring(eq + 1);
        }
        if (!fields.TryGetValue("replid", out string? replid) || replid.Length == 0) throw Invalid(name, "it has no replication id");
        if (!fields.TryGetValue("offset", out string? offsetText) || !long.TryParse(offsetText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long offset))
        {
            throw Invalid(name, "it has no offset");
        }
        CheckpointPhase phase = fields.TryGetValue("phase", out string? p) && p == "streaming" ? CheckpointPhase.Streaming : CheckpointPhase.Snapshot;
        long ms = fields.TryGetValue("time", out string? t) && long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : 0;
        bool owns = fields.TryGetValue("owns-target", out string? o) && o == "1";
        long dataOffset = fields.TryGetValue("data", out string? da) && long.TryParse(da, NumberStyles.None, CultureInfo.InvariantCulture, out long dav) ? dav : offset;
        int streamDb = fields.TryGetValue("db", out string? d) && int.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out int dv) ? dv : 0;
        long startedMs = fields.TryGetValue("started", out string? st) && long.TryParse(st, NumberStyles.None, CultureInfo.InvariantCulture, out long sv) ? sv : ms;
        fields.TryGetValue("source", out string? source);
        long rdb = fields.TryGetValue("keys", out string? r) && long.TryParse(r, NumberStyles.None, CultureInfo.InvariantCulture, out long rv) ? rv : 0;
        RedisSync.SyncMode mode = fields.TryGetValue("mode", out string? m) && Enum.TryParse(m, out RedisSync.SyncMode parsed) ? parsed : RedisSync.SyncMode.FullAndIncremental;
        fields.TryGetValue("scan", out string? scan);
        return new Checkpoint(replid, offset, phase, DateTimeOffset.FromUnixTimeMilliseconds(ms), source ?? string.Empty, owns, rdb, mode, DateTimeOffset.FromUnixTimeMilliseconds(startedMs), streamDb, dataOffset, scan);
    }

    /// <summary>Reads a sync's checkpoint from the target, or null when it has none.</summary>
    public static async Task<Checkpoint?> ReadAsync(RedisConnection target, string name, CancellationToken cancellationToken)
    {
        await target.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue value = await target.ExecuteOrThrowAsync(cancellationToken, "GET", Key(name)).ConfigureAwait(false);
        return value.IsNull ? null : Parse(name, value.AsString() ?? string.Empty);
    }

    private static SyncException Invalid(string name, string why) =>
        new SyncException(SyncErrorIds.CheckpointInvalid, SyncErrorKind.Stop,
            $"The checkpoint of sync '{name}' ({Key(name)} on the target) cannot be used: {why}. Delete it to start over with a full copy.");
}

/// <summary>What a checkpoint covers.</summary>
internal enum CheckpointPhase
{
    /// <summary>A snapshot was being written: it cannot be resumed; a restart copies again.</summary>
    Snapshot,
    /// <summary>The snapshot is complete and the stream applied up to the offset.</summary>
    Streaming,
}
