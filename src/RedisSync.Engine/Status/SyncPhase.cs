namespace RedisSync;

/// <summary>Where a sync is in its life.</summary>
public enum SyncPhase
{
    /// <summary>Connecting to the source and the target.</summary>
    Connecting,
    /// <summary>The source accepted a full resync and is preparing its snapshot.</summary>
    WaitingForSnapshot,
    /// <summary>The snapshot (or an RDB file) is being read and written to the target.</summary>
    LoadingSnapshot,
    /// <summary>The source's writes are being applied as they happen.</summary>
    Streaming,
    /// <summary>A link dropped; the sync is connecting again and will resume.</summary>
    Reconnecting,
    /// <summary>A full copy (or an RDB file) was written whole; the sync ended by itself.</summary>
    Completed,
    /// <summary>The sync was stopped on request, after draining and checkpointing.</summary>
    Stopped,
    /// <summary>The sync ended on an error (see LastError).</summary>
    Failed,
}

/// <summary>What a sync copies.</summary>
public enum SyncMode
{
    /// <summary>The snapshot only; the sync ends when it has been written.</summary>
    Full,
    /// <summary>Only the writes after the sync's checkpoint (a partial resync); no full copy.</summary>
    Incremental,
    /// <summary>The snapshot, then every write as it happens, until stopped.</summary>
    FullAndIncremental,
}
