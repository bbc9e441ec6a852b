using System;

namespace RedisSync;

/// <summary>
/// A snapshot of a sync's state: cheap to take at any time, from any thread. What
/// Get-RedisSyncStatus shows and a sync job writes to its output.
/// </summary>
public sealed class SyncStatus
{
    /// <summary>The sync's name (its checkpoint key is redissync:checkpoint:&lt;Name&gt;).</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>Where the sync is: copying, streaming, reconnecting, or how it ended.</summary>
    public SyncPhase Phase { get; init; }

    /// <summary>What the sync copies: the snapshot, the stream after a checkpoint, or both.</summary>
    public SyncMode Mode { get; init; }

    /// <summary>The source (host:port, or the RDB file); never a password.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>
    /// The shard of a cluster source this run is the task of (Start-RedisSync -Shard): its master's slot ranges,
    /// such as <c>0-5460</c>, which name its lease and checkpoint on the target; null when the run syncs every shard.
    /// </summary>
    public string? Shard { get; init; }

    /// <summary>The target (host:port); never a password.</summary>
    public string Target { get; init; } = string.Empty;

    /// <summary>What the sync copies, as Start-RedisSync's filter parameters say it (such as <c>-Key 'user:*' -Database 0</c>); empty when it copies everything.</summary>
    public string Filter { get; init; } = string.Empty;

    /// <summary>When this snapshot was taken.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>When the sync began (for a status read from the target, its checkpoint's start).</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>The source's replication id the offsets belong to.</summary>
    public string? ReplicationId { get; init; }

    /// <summary>The replication offset received from the source.</summary>
    public long SourceOffset { get; init; }

    /// <summary>The replication offset the target has acknowledged (applied and checkpointed).</summary>
    public long AppliedOffset { get; init; }

    /// <summary>SourceOffset − AppliedOffset; null when it cannot be known (a status read from the target's checkpoint).</summary>
    public long? LagBytes { get; init; }

    /// <summary>How long the oldest received but not yet applied write has waited (0 when caught up); null when it cannot be known.</summary>
    public long? LagMilliseconds { get; init; }

    /// <summary>
    /// Seconds until the lag is zero at the current rates (the target's apply rate against the source's write rate):
    /// 0 when caught up, null while the target does not gain on the source or when it cannot be known.
    /// </summary>
    public double? CatchUpSeconds { get; init; }

    /// <summary>Bytes of the snapshot (or RDB file) read so far.</summary>
    public long SnapshotBytesReceived { get; init; }

    /// <summary>The snapshot's size, or -1 when unknown (a diskless transfer).</summary>
    public long SnapshotBytesTotal { get; init; }

    /// <summary>Percent of the snapshot received, or null when its size is unknown.</summary>
    public double? SnapshotPercent { get; init; }

    /// <summary>Keys written and acknowledged by the target.</summary>
    public long KeysWritten { get; init; }

    /// <summary>Commands written and acknowledged by the target.</summary>
    public long CommandsWritten { get; init; }

    /// <summary>Keys the target acknowledged per second, over the last second.</summary>
    public double KeysPerSecond { get; init; }

    /// <summary>Commands the target acknowledged per second, over the last second.</summary>
    public double CommandsPerSecond { get; init; }

    /// <summary>Full copies this run made (more than one after a broken copy or a lost backlog).</summary>
    public int FullResyncs { get; init; }

    /// <summary>Partial resyncs: the stream continued from an offset, without a new copy.</summary>
    public int PartialResyncs { get; init; }

    /// <summary>How the live source is read: Psync (as a replica) or Scan (SCAN and keyspace events); null for an RDB file.</summary>
    public SourceMode? SourceMode { get; init; }

    /// <summary>Scan mode: keys read by SCAN and copied by this run.</summary>
    public long KeysScanned { get; init; }

    /// <summary>Scan mode: keyspace events received from the source.</summary>
    public long KeyspaceEvents { get; init; }

    /// <summary>Scan mode: verify-and-repair passes begun because events may have been lost (a broken pub/sub link, a full queue, a flush, a restart).</summary>
    public long Rescans { get; init; }

    /// <summary>Scan mode: keys a verify-and-repair pass found different and copied again.</summary>
    public long Repairs { get; init; }

    /// <summary>Transient errors that were retried (dropped links, a loading server).</summary>
    public long RetriedErrors { get; init; }

    /// <summary>Errors that skipped a key or a command (by policy), and warnings.</summary>
    public long SkippedErrors { get; init; }

    /// <summary>Errors that stopped the sync (0 or 1).</summary>
    public long StopErrors { get; init; }

    /// <summary>Each source shard's own figures (one row for a source that is not a cluster).</summary>
    public System.Collections.Generic.IReadOnlyList<ShardStatus> Shards { get; init; } = System.Array.Empty<ShardStatus>();

    /// <summary>Each master of a cluster target: its slots, commands in flight and acknowledged, redirects (empty for a target that is not a cluster).</summary>
    public System.Collections.Generic.IReadOnlyList<TargetNodeStatus> TargetNodes { get; init; } = System.Array.Empty<TargetNodeStatus>();

    /// <summary>Keys compared between the source and the target while streaming (-Verify).</summary>
    public long KeysVerified { get; init; }

    /// <summary>Keys that -Verify found different once the target had applied what the source held (each also a VerifyMismatch warning).</summary>
    public long Mismatches { get; init; }

    /// <summary>The sync's -MaxWriteRate delayed writes, or its -MaxReadRate the scan reader's reads, within the last second.</summary>
    public bool HeldBack { get; init; }

    /// <summary>The last error or warning message (never a password).</summary>
    public string? LastError { get; init; }

    /// <summary>The stable id of <see cref="LastError"/>.</summary>
    public string? LastErrorId { get; init; }

    /// <summary>The name and the phase, for a one-line display.</summary>
    public override string ToString() => $"{Name}: {Phase}";
}
