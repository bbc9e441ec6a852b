using System.Collections.Generic;

namespace RedisSync.Engine.Sync;

/// <summary>
/// A settings file as read: the sync's options, its status file, and the warnings the host shows
/// for what the file asks and RedisSync ignores because ignoring it is harmless.
/// </summary>
public sealed class SyncSettings
{
    internal SyncSettings(SyncOptions options, string? statusFile, SettingsFormat format, IReadOnlyList<SyncWarning> warnings)
    {
        Options = options;
        StatusFile = statusFile;
        Format = format;
        Warnings = warnings;
    }

    /// <summary>The sync the file describes.</summary>
    public SyncOptions Options { get; }

    /// <summary>The file's status_file setting as a full path, or null.</summary>
    public string? StatusFile { get; }

    /// <summary>Each names the file, the line and the option, and says why ignoring it does no harm.</summary>
    public IReadOnlyList<SyncWarning> Warnings { get; }

    internal SettingsFormat Format { get; }
}

/// <summary>Which kind of settings file was read.</summary>
internal enum SettingsFormat
{
    /// <summary>RedisSync's own file ([source], [target], …).</summary>
    RedisSync,

    /// <summary>RedisShake 4's shake.toml ([sync_reader], [redis_writer], …).</summary>
    RedisShake,
}
