namespace RedisSync.Engine;

/// <summary>Stable error ids: hosts and scripts match on these, so never rename one.</summary>
public static class SyncErrorIds
{
    public const string RdbCorrupt = "RdbCorrupt";
    public const string RdbTruncated = "RdbTruncated";
    public const string RdbChecksumMismatch = "RdbChecksumMismatch";
    public const string RdbUnsupportedVersion = "RdbUnsupportedVersion";
    public const string RdbUnknownType = "RdbUnknownType";
    public const string RdbNotFound = "RdbNotFound";

    public const string ProtocolError = "ProtocolError";
    public const string InvalidEndpoint = "InvalidEndpoint";

    public const string SourceUnreachable = "SourceUnreachable";
    public const string SourceAuthFailed = "SourceAuthFailed";
    public const string SourceLinkLost = "SourceLinkLost";
    public const string ReplicationRefused = "ReplicationRefused";
    public const string SourceLoading = "SourceLoading";
    public const string SourceTlsFailed = "SourceTlsFailed";

    public const string TargetUnreachable = "TargetUnreachable";
    public const string TargetAuthFailed = "TargetAuthFailed";
    public const string TargetLinkLost = "TargetLinkLost";
    public const string TargetOutOfMemory = "TargetOutOfMemory";
    public const string TargetReadOnly = "TargetReadOnly";
    public const string TargetNoAuth = "TargetNoAuth";
    public const string TargetNoPermission = "TargetNoPermission";
    public const string TargetBusyKey = "TargetBusyKey";
    public const string TargetCommandFailed = "TargetCommandFailed";
    public const string TargetFeatureMissing = "TargetFeatureMissing";
    public const string TargetDatabaseMissing = "TargetDatabaseMissing";
    public const string TargetTlsFailed = "TargetTlsFailed";

    /// <summary>A warning: a TLS connection was made without checking the server's certificate, as asked.</summary>
    public const string CertificateCheckSkipped = "CertificateCheckSkipped";

    public const string CheckpointInvalid = "CheckpointInvalid";
    public const string Stopped = "Stopped";
    public const string InvalidOptions = "InvalidOptions";
    public const string InvalidConfig = "InvalidConfig";
    public const string NoCheckpoint = "NoCheckpoint";
    public const string BacklogExceeded = "BacklogExceeded";
    public const string SyncAlreadyRunning = "SyncAlreadyRunning";
    public const string LeaseLost = "LeaseLost";
}
