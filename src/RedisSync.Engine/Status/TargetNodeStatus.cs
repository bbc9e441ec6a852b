namespace RedisSync;

/// <summary>One master of a cluster target, as the sync's writers route to it (no rows for a target that is not a cluster).</summary>
public sealed class TargetNodeStatus
{
    /// <summary>The master's address (host:port).</summary>
    public string Address { get; init; } = string.Empty;

    /// <summary>Slots the writers' map says this master serves now.</summary>
    public int Slots { get; init; }

    /// <summary>Commands sent to this master and not yet answered.</summary>
    public long InFlightCommands { get; init; }

    /// <summary>Commands this master has applied and acknowledged in this run.</summary>
    public long AcknowledgedCommands { get; init; }

    /// <summary>MOVED and ASK redirects this master answered and the writers followed.</summary>
    public long Redirects { get; init; }

    /// <summary>
    /// The newest source offset this master acknowledged, as its slots' checkpoints record it (summed over the shards of a cluster
    /// source, like the status's offsets); null while only a snapshot was written to it. Read from the target with -Target too.
    /// </summary>
    public long? AcknowledgedOffset { get; init; }
}
