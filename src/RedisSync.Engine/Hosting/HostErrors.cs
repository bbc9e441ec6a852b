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
}

/// <summary>
/// The categories a host files errors under. Names and numbers are those of PowerShell's
/// ErrorCategory (a test checks it), so the cmdlets convert with a cast while the engine stays free of PowerShell.
/// </summary>
public enum HostErrorCategory
{
    NotSpecified = 0,
    InvalidArgument = 5,
    InvalidData = 6,
    InvalidOperation = 7,
    NotImplemented = 11,
    ObjectNotFound = 13,
    OperationStopped = 14,
    PermissionDenied = 18,
    ResourceBusy = 19,
    ResourceExists = 20,
    ResourceUnavailable = 21,
    WriteError = 23,
    SecurityError = 25,
    ProtocolError = 26,
    ConnectionError = 27,
    AuthenticationError = 28,
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
            case HostErrorIds.InvalidParameter:
                return HostErrorCategory.InvalidArgument;
            case SyncErrorIds.InvalidConfig:
            case SyncErrorIds.RdbCorrupt:
            case SyncErrorIds.RdbTruncated:
            case SyncErrorIds.RdbChecksumMismatch:
            case SyncErrorIds.RdbUnknownType:
            case SyncErrorIds.CheckpointInvalid:
                return HostErrorCategory.InvalidData;
            case SyncErrorIds.RdbUnsupportedVersion:
            case SyncErrorIds.TargetFeatureMissing:
                return HostErrorCategory.NotImplemented;
            case SyncErrorIds.RdbNotFound:
            case SyncErrorIds.NoCheckpoint:
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
                return HostErrorCategory.OperationStopped;
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
