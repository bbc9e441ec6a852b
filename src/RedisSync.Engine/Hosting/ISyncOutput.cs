namespace RedisSync.Engine.Hosting;

/// <summary>
/// Where a host shows a running sync: a cmdlet writes to its pipeline, a job to its streams.
/// <see cref="SyncRun.Drain"/> calls it only on the thread that drains, never on the engine's threads.
/// </summary>
public interface ISyncOutput
{
    /// <summary>A status object: on every phase change, every status interval, and a last one if the end changed it.</summary>
    void WriteStatus(SyncStatus status, StatusReason reason);

    /// <summary>The progress bar's new content (about once a second).</summary>
    void WriteProgress(SyncProgress progress);

    /// <summary>Something was skipped or recovered from.</summary>
    void WriteWarning(SyncWarning warning);
}

/// <summary>Why a status object was written.</summary>
public enum StatusReason
{
    /// <summary>The sync entered a new phase.</summary>
    PhaseChanged,
    /// <summary>The status interval (5 s by default) passed without a phase change.</summary>
    Interval,
    /// <summary>The sync ended and its last status differs from the last one written.</summary>
    Final,
}
