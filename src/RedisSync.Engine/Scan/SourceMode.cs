namespace RedisSync;

/// <summary>How a live source is read.</summary>
public enum SourceMode
{
    /// <summary>As a replica (PSYNC); when the source refuses replication, by SCAN and keyspace events, with a warning.</summary>
    Auto,
    /// <summary>As a replica (PSYNC) only: a source that refuses replication stops the sync (ReplicationRefused).</summary>
    Psync,
    /// <summary>By SCAN + DUMP, live changes by keyspace events, converging by a verify-and-repair pass (sources that refuse PSYNC).</summary>
    Scan,
}
