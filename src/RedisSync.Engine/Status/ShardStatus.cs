namespace RedisSync;

/// <summary>One source shard of a sync (a master of a cluster source; the only one otherwise): where it is and how far it got.</summary>
public sealed class ShardStatus
{
    /// <summary>The shard and its master now, as a person would name them.</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>Where this shard is.</summary>
    public SyncPhase Phase { get; init; }

    /// <summary>The shard's replication id.</summary>
    public string? ReplicationId { get; init; }

    /// <summary>The replication offset received from the shard's master.</summary>
    public long SourceOffset { get; init; }

    /// <summary>The offset the target has applied of this shard's stream.</summary>
    public long AppliedOffset { get; init; }

    /// <summary>SourceOffset − AppliedOffset.</summary>
    public long LagBytes { get; init; }

    /// <summary>How long the shard's oldest write not yet applied has waited.</summary>
    public long LagMilliseconds { get; init; }

    /// <summary>Full copies of this shard in this run.</summary>
    public int FullResyncs { get; init; }

    /// <summary>Partial resyncs of this shard in this run (after a dropped link or a failover).</summary>
    public int PartialResyncs { get; init; }

    /// <summary>Where the shard's task runs, for a task started over a session (Start-RedisSync -Session): the session's computer; null in this process.</summary>
    public string? Host { get; init; }

    /// <summary>The name of the session that runs the shard's task (Start-RedisSync -Session), or null.</summary>
    public string? Session { get; init; }

    /// <summary>The process that runs the shard's task on <see cref="Host"/>, or null.</summary>
    public int? ProcessId { get; init; }

    /// <summary>Keys per second the shard's task writes (a task started over a session), or null.</summary>
    public double? KeysPerSecond { get; init; }

    /// <summary>Commands per second the shard's task writes (a task started over a session), or null.</summary>
    public double? CommandsPerSecond { get; init; }

    /// <summary>How many times the shard's task was started again elsewhere because its session or process died.</summary>
    public int Restarts { get; init; }

    /// <summary>The shard's last move: from which session to which, and why; null when it never moved.</summary>
    public string? LastMove { get; init; }

    /// <summary>The source and the phase, for a one-line display.</summary>
    public override string ToString() => $"{Source}: {Phase}";
}
