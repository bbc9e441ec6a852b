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

    /// <summary>The source and the phase, for a one-line display.</summary>
    public override string ToString() => $"{Source}: {Phase}";
}
