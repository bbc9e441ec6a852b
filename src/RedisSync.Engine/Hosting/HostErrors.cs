using System;
using RedisSync.Engine.Net;

namespace RedisSync.Engine.Hosting;

/// <summary>Stable ids of the errors the hosts raise themselves (the engine's are in <see cref="SyncErrorIds"/>); never rename one.</summary>
public static class HostErrorIds
{
    /// <summary>No sync of that name runs in this process.</summary>
    public const string SyncNotFound = "SyncNotFound";

    /// <summary>A sync of that name is already running in this process.</summary>
    public const string SyncAlreadyRunning = SyncErrorIds.SyncAlreadyRunning;

    /// <summary>The status file could not be written.</summary>
    public const string StatusFileFailed = "StatusFileFailed";

    /// <summary>The target holds no checkpoint of a sync of that name.</summary>
    public const string CheckpointNotFound = "CheckpointNotFound";

    /// <summary>A parameter value cannot be used (the message names the parameter).</summary>
    public const string InvalidParameter = "InvalidParameter";

    /// <summary>-SyncName names a sync that chose its keys with -Where, and no -Where was given to compare or repair the same keys.</summary>
    public const string WherePredicateRequired = "WherePredicateRequired";

    /// <summary>Wait-RedisSync: the condition did not hold within -Timeout.</summary>
    public const string WaitTimedOut = "WaitTimedOut";

    /// <summary>Wait-RedisSync: the sync ended (stopped or failed) before the condition held.</summary>
    public const string WaitSyncEnded = "WaitSyncEnded";

    /// <summary>Complete-RedisSync: the writes made before the pause were not all applied within -PauseTimeout.</summary>
    public const string CutOverNotCaughtUp = "CutOverNotCaughtUp";

    /// <summary>Complete-RedisSync: the verification found differences between the source and the target.</summary>
    public const string CutOverVerificationFailed = "CutOverVerificationFailed";

    /// <summary>Complete-RedisSync: the source took writes during the cut-over (its pause expired or was lifted).</summary>
    public const string CutOverSourceWrote = "CutOverSourceWrote";

    /// <summary>Complete-RedisSync: the sync ended (stopped or failed) during the cut-over.</summary>
    public const string CutOverSyncEnded = "CutOverSyncEnded";

    /// <summary>Complete-RedisSync: the source refused CLIENT PAUSE (an ACL, a proxy, a version before 6.2).</summary>
    public const string CutOverPauseFailed = "CutOverPauseFailed";

    /// <summary>Complete-RedisSync -Target: the sync of another process did not stop when asked through the target.</summary>
    public const string CutOverStopUnanswered = "CutOverStopUnanswered";
}

/// <summary>
/// The categories a host files errors under. Names and numbers are those of PowerShell's
/// ErrorCategory (a test checks it), so the cmdlets convert with a cast while the engine stays free of PowerShell.
/// </summary>
public enum HostErrorCategory
{
    /// <summary>ErrorCategory.NotSpecified.</summary>
    NotSpecified = 0,
    /// <summary>ErrorCategory.InvalidArgument.</summary>
    InvalidArgument = 5,
    /// <summary>ErrorCategory.InvalidData.</summary>
    InvalidData = 6,
    /// <summary>ErrorCategory.InvalidOperation.</summary>
    InvalidOperation = 7,
    /// <summary>ErrorCategory.NotImplemented.</summary>
    NotImplemented = 11,
    /// <summary>ErrorCategory.ObjectNotFound.</summary>
    ObjectNotFound = 13,
    /// <summary>ErrorCategory.OperationStopped.</summary>
    OperationStopped = 14,
    /// <summary>ErrorCategory.OperationTimeout.</summary>
    OperationTimeout = 15,
    /// <summary>ErrorCategory.PermissionDenied.</summary>
    PermissionDenied = 18,
    /// <summary>ErrorCategory.ResourceBusy.</summary>
    ResourceBusy = 19,
    /// <summary>ErrorCategory.ResourceExists.</summary>
    ResourceExists = 20,
    /// <summary>ErrorCategory.ResourceUnavailable.</summary>
    ResourceUnavailable = 21,
    /// <summary>ErrorCategory.ReadError.</summary>
    ReadError = 22,
    /// <summary>ErrorCategory.WriteError.</summary>
    WriteError = 23,
    /// <summary>ErrorCategory.SecurityError.</summary>
    SecurityError = 25,
    /// <summary>ErrorCategory.ProtocolError.</summary>
    ProtocolError = 26,
    /// <summary>ErrorCategory.ConnectionError.</summary>
    ConnectionError = 27,
    /// <summary>ErrorCategory.AuthenticationError.</summary>
    AuthenticationError = 28,
    /// <summary>ErrorCategory.LimitsExceeded.</summary>
    LimitsExceeded = 29,
}

/// <summary>Decides how an error is filed, so every host shows the same error the same way.</summary>
public static class HostErrors
{
    /// <summary>The category of an error id (ours or the engine's).</summary>
    public static HostErrorCategory CategoryOf(string errorId)
    {
        switch (errorId)
        {
            case SyncErrorIds.InvalidEndpoint:
            case SyncErrorIds.InvalidOptions:
            case SyncErrorIds.ShardAmbiguous:
            case HostErrorIds.InvalidParameter:
            case HostErrorIds.WherePredicateRequired:
                return HostErrorCategory.InvalidArgument;
            case SyncErrorIds.InvalidConfig:
            case SyncErrorIds.RdbCorrupt:
            case SyncErrorIds.RdbTruncated:
            case SyncErrorIds.RdbChecksumMismatch:
            case SyncErrorIds.RdbUnknownType:
            case SyncErrorIds.RdbDuplicateKey:
            case SyncErrorIds.CheckpointInvalid:
                return HostErrorCategory.InvalidData;
            case SyncErrorIds.RdbUnsupportedVersion:
            case SyncErrorIds.TargetFeatureMissing:
                return HostErrorCategory.NotImplemented;
            case SyncErrorIds.RdbNotFound:
            case SyncErrorIds.NoCheckpoint:
            case SyncErrorIds.ShardNotFound:
            case HostErrorIds.SyncNotFound:
            case HostErrorIds.CheckpointNotFound:
                return HostErrorCategory.ObjectNotFound;
            case SyncErrorIds.ProtocolError:
                return HostErrorCategory.ProtocolError;
            case SyncErrorIds.SourceUnreachable:
            case SyncErrorIds.TargetUnreachable:
            case SyncErrorIds.SourceLinkLost:
            case SyncErrorIds.TargetLinkLost:
                return HostErrorCategory.ConnectionError;
            case SyncErrorIds.SourceAuthFailed:
            case SyncErrorIds.TargetAuthFailed:
            case SyncErrorIds.TargetNoAuth:
                return HostErrorCategory.AuthenticationError;
            case SyncErrorIds.TargetNoPermission:
            case SyncErrorIds.ReplicationRefused:
            case SyncErrorIds.TargetReadOnly:
                return HostErrorCategory.PermissionDenied;
            case SyncErrorIds.SourceTlsFailed:
            case SyncErrorIds.TargetTlsFailed:
                return HostErrorCategory.SecurityError;
            case SyncErrorIds.SourceLoading:
                return HostErrorCategory.ResourceBusy;
            case SyncErrorIds.RdbUnreadable:
                return HostErrorCategory.ReadError;
            case SyncErrorIds.TargetDatabaseMissing:
                return HostErrorCategory.ObjectNotFound;
            case SyncErrorIds.LeaseLost:
                return HostErrorCategory.OperationStopped;
            case SyncErrorIds.TargetOutOfMemory:
            case SyncErrorIds.BacklogExceeded:
                return HostErrorCategory.LimitsExceeded;
            case SyncErrorIds.TargetBusyKey:
            case HostErrorIds.SyncAlreadyRunning:
                return HostErrorCategory.ResourceExists;
            case SyncErrorIds.TargetCommandFailed:
            case HostErrorIds.StatusFileFailed:
                return HostErrorCategory.WriteError;
            case SyncErrorIds.Stopped:
            case HostErrorIds.WaitSyncEnded:
            case HostErrorIds.CutOverSyncEnded:
                return HostErrorCategory.OperationStopped;
            case HostErrorIds.WaitTimedOut:
            case HostErrorIds.CutOverNotCaughtUp:
            case HostErrorIds.CutOverStopUnanswered:
                return HostErrorCategory.OperationTimeout;
            case HostErrorIds.CutOverVerificationFailed:
                return HostErrorCategory.InvalidData;
            case HostErrorIds.CutOverSourceWrote:
            case HostErrorIds.CutOverPauseFailed:
                return HostErrorCategory.InvalidOperation;
            default:
                return HostErrorCategory.NotSpecified;
        }
    }

    /// <summary>An error about one parameter: the message starts with its name, as PowerShell's own do.</summary>
    public static SyncException InvalidParameter(string parameter, string why) =>
        new SyncException(HostErrorIds.InvalidParameter, SyncErrorKind.Stop, $"-{parameter}: {why}");

    /// <summary>Parses an address given as a parameter; the error names the parameter and never shows a password.</summary>
    public static RedisEndpoint ParseEndpoint(string parameter, string? address)
    {
        if (string.IsNullOrWhiteSpace(address)) throw InvalidParameter(parameter, "an address (host:port or redis://host:port) is required.");
        try
        {
            return RedisEndpoint.Parse(address!);
        }
        catch (SyncException ex)
        {
            throw new SyncException(ex.ErrorId, ex.Kind, $"-{parameter}: {ex.Message}", ex);
        }
    }

    /// <summary>Formats an exception that is not a <see cref="SyncException"/> as one (id InternalError).</summary>
    public static SyncException Wrap(Exception ex) =>
        ex as SyncException ?? new SyncException("InternalError", SyncErrorKind.Stop, "RedisSync failed unexpectedly: " + ex.Message, ex);
}
