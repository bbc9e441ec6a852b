namespace RedisSync.Engine;

/// <summary>Stable error ids: hosts and scripts match on these, so never rename one.</summary>
public static class SyncErrorIds
{
    /// <summary>An RDB file or snapshot holds bytes that no RDB version allows; the message gives the byte offset and the key.</summary>
    public const string RdbCorrupt = "RdbCorrupt";
    /// <summary>An RDB file ends before its end marker.</summary>
    public const string RdbTruncated = "RdbTruncated";
    /// <summary>An RDB's CRC64 footer does not match its bytes.</summary>
    public const string RdbChecksumMismatch = "RdbChecksumMismatch";
    /// <summary>An RDB newer than RedisSync reads (RDB 13 and later).</summary>
    public const string RdbUnsupportedVersion = "RdbUnsupportedVersion";
    /// <summary>An RDB value of a type RedisSync does not know.</summary>
    public const string RdbUnknownType = "RdbUnknownType";
    /// <summary>The RDB file given does not exist.</summary>
    public const string RdbNotFound = "RdbNotFound";
    /// <summary>An RDB file holds the same key twice in one database (Redis refuses to load it).</summary>
    public const string RdbDuplicateKey = "RdbDuplicateKey";
    /// <summary>An RDB file cannot be opened or read (a directory, no permission, a disk error).</summary>
    public const string RdbUnreadable = "RdbUnreadable";

    /// <summary>A server sent something that is not RESP, or not what the command answers.</summary>
    public const string ProtocolError = "ProtocolError";
    /// <summary>An address that is not host:port or a redis:// URL.</summary>
    public const string InvalidEndpoint = "InvalidEndpoint";

    /// <summary>The source cannot be connected to.</summary>
    public const string SourceUnreachable = "SourceUnreachable";
    /// <summary>The source refused the login, or wants one that was not given.</summary>
    public const string SourceAuthFailed = "SourceAuthFailed";
    /// <summary>The link to the source broke and could not be made again.</summary>
    public const string SourceLinkLost = "SourceLinkLost";
    /// <summary>The source does not let this login replicate (PSYNC refused or closed).</summary>
    public const string ReplicationRefused = "ReplicationRefused";
    /// <summary>A scan sync's source publishes no keyspace events (notify-keyspace-events), and they could not be turned on.</summary>
    public const string KeyspaceEventsOff = "KeyspaceEventsOff";
    /// <summary>A warning: the source does not let the sync read notify-keyspace-events, so it cannot check that events are on.</summary>
    public const string KeyspaceEventsUnknown = "KeyspaceEventsUnknown";
    /// <summary>A warning: -EnableKeyspaceEvents turned the source's keyspace events on (CONFIG SET).</summary>
    public const string KeyspaceEventsEnabled = "KeyspaceEventsEnabled";
    /// <summary>A warning: keyspace events may have been missed (the pub/sub link broke, the queue of changed keys filled, a FLUSHDB/FLUSHALL): a rescan follows.</summary>
    public const string KeyspaceEventsLost = "KeyspaceEventsLost";
    /// <summary>A warning: the source refused replication, so the sync reads it by SCAN and keyspace events (-SourceMode Auto).</summary>
    public const string SwitchedToScan = "SwitchedToScan";
    /// <summary>A warning: the source refused DUMP, so every key is read by type in chunks.</summary>
    public const string DumpRefused = "DumpRefused";
    /// <summary>A sync with filters or key renames would read its source by SCAN, which does not apply them yet.</summary>
    public const string ScanFilterUnsupported = "ScanFilterUnsupported";
    /// <summary>A warning: a scan sync was stopped before its last verify-and-repair pass ended (keys changed without an event may differ).</summary>
    public const string StopVerifyUnfinished = "StopVerifyUnfinished";
    /// <summary>A warning: the source restarted or was replaced (its run_id changed) since the scan's checkpoint, so the scan begins again.</summary>
    public const string ScanRestarted = "ScanRestarted";
    /// <summary>The source is still loading its dataset, or has lost its own primary.</summary>
    public const string SourceLoading = "SourceLoading";
    /// <summary>The TLS handshake with the source failed (its certificate, the host name, or a client certificate).</summary>
    public const string SourceTlsFailed = "SourceTlsFailed";

    /// <summary>The target cannot be connected to.</summary>
    public const string TargetUnreachable = "TargetUnreachable";
    /// <summary>The target refused the login.</summary>
    public const string TargetAuthFailed = "TargetAuthFailed";
    /// <summary>The link to the target broke and could not be made again.</summary>
    public const string TargetLinkLost = "TargetLinkLost";
    /// <summary>The target is full (OOM): it refused a write.</summary>
    public const string TargetOutOfMemory = "TargetOutOfMemory";
    /// <summary>The target is a replica, or refuses writes until its replicas are connected.</summary>
    public const string TargetReadOnly = "TargetReadOnly";
    /// <summary>The target wants a login that was not given.</summary>
    public const string TargetNoAuth = "TargetNoAuth";
    /// <summary>An ACL of the target forbids a command the sync needs.</summary>
    public const string TargetNoPermission = "TargetNoPermission";
    /// <summary>A key the copy writes exists on the target already (see -OnConflict).</summary>
    public const string TargetBusyKey = "TargetBusyKey";
    /// <summary>The target refused a command for a reason of its own (see -SkipFailedCommands).</summary>
    public const string TargetCommandFailed = "TargetCommandFailed";
    /// <summary>The target lacks a feature the data needs (a module, functions, a newer version).</summary>
    public const string TargetFeatureMissing = "TargetFeatureMissing";
    /// <summary>A database the copy writes to does not exist on the target (see -DatabaseMap).</summary>
    public const string TargetDatabaseMissing = "TargetDatabaseMissing";
    /// <summary>A command whose keys are in different slots of a cluster target, and that cannot be split by slot without changing its meaning.</summary>
    public const string TargetCrossSlot = "TargetCrossSlot";
    /// <summary>A command of the source whose keys span slots of the target cluster was applied with the same end result by other commands (a warning: RENAME as RESTORE then DEL, …).</summary>
    public const string TargetCrossSlotRewritten = "TargetCrossSlotRewritten";
    /// <summary>A transaction of the source (MULTI/EXEC, or a script's effects) wrote keys in several slots of the target cluster: each slot's share ran as a transaction of its own (a warning).</summary>
    public const string TargetTransactionSplit = "TargetTransactionSplit";

    /// <summary>The TLS handshake with the target failed (its certificate, the host name, or a client certificate).</summary>
    public const string TargetTlsFailed = "TargetTlsFailed";

    /// <summary>A warning: a TLS connection was made without checking the server's certificate, as asked.</summary>
    public const string CertificateCheckSkipped = "CertificateCheckSkipped";

    /// <summary>The checkpoint on the target cannot be used (another version wrote it, or it changed under the sync).</summary>
    public const string CheckpointInvalid = "CheckpointInvalid";
    /// <summary>The sync was stopped while something was still to be done (drained at a stop).</summary>
    public const string Stopped = "Stopped";
    /// <summary>The -Where predicate failed on a key (the message names the key and the predicate's error).</summary>
    public const string WherePredicateFailed = "WherePredicateFailed";
    /// <summary>The options of a sync contradict each other or are out of range.</summary>
    public const string InvalidOptions = "InvalidOptions";
    /// <summary>A settings file that cannot be read, or holds a setting that is wrong.</summary>
    public const string InvalidConfig = "InvalidConfig";
    /// <summary>An incremental sync found no checkpoint of its own to continue from.</summary>
    public const string NoCheckpoint = "NoCheckpoint";
    /// <summary>The source's replication backlog no longer covers the checkpoint: a new full copy is needed.</summary>
    public const string BacklogExceeded = "BacklogExceeded";
    /// <summary>Another run of the same sync holds its lease on the target.</summary>
    public const string SyncAlreadyRunning = "SyncAlreadyRunning";
    /// <summary>Another run of the same sync took this run's lease: this run writes nothing more.</summary>
    public const string LeaseLost = "LeaseLost";
    /// <summary>-Shard names no master of the source cluster (no node id, no slot range of one), or the source is not a cluster.</summary>
    public const string ShardNotFound = "ShardNotFound";
    /// <summary>-Shard matches several masters of the source cluster (a node id prefix, or a slot range over more than one master).</summary>
    public const string ShardAmbiguous = "ShardAmbiguous";
}
