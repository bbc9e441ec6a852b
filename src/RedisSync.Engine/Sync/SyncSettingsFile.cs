using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using RedisSync.Engine.Config;
using RedisSync.Engine.Net;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Reads a sync's settings from a TOML file (for scheduled tasks). Every setting has the meaning of
/// the Start-RedisSync parameter of the same name; an unknown or mistyped setting is an error that
/// names its line. Passwords may be in the file, or read from an environment variable or a file.
/// </summary>
/// <example>
/// name = "orders"
/// mode = "FullAndIncremental"
/// flush_target = false
/// on_conflict = "Stop"
/// [source]
/// address = "redis://10.0.0.5:6379"
/// user = "replicator"
/// password_env = "SOURCE_PASSWORD"
/// [target]
/// address = "10.0.0.6:6379"
/// password_file = "/etc/redissync/target.secret"
/// [database_map]
/// 0 = 1
/// </example>
public static class SyncSettingsFile
{
    private static readonly HashSet<string> TopLevel = new HashSet<string>(StringComparer.Ordinal)
    {
        "name", "mode", "rdb_path", "flush_target", "on_conflict", "skip_failed_commands", "reconnect_timeout_seconds",
        "status_interval_seconds", "status_file", "source", "target", "database_map",
    };

    private static readonly HashSet<string> EndpointKeys = new HashSet<string>(StringComparer.Ordinal)
    {
        "address", "user", "password", "password_env", "password_file",
    };

    /// <summary>Loads the file; <paramref name="statusFile"/> is its status_file setting (or null).</summary>
    public static SyncOptions Load(string path, out string? statusFile)
    {
        TomlTable root;
        try
        {
            root = TomlDocument.Load(path);
        }
        catch (TomlException ex)
        {
            throw Invalid(path, ex.Message, ex);
        }
        catch (IOException ex)
        {
            throw Invalid(path, ex.Message, ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw Invalid(path, ex.Message, ex);
        }
        try
        {
            return Bind(root, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", out statusFile);
        }
        catch (TomlException ex)
        {
            throw Invalid(path, ex.Message, ex);
        }
    }

    private static SyncOptions Bind(TomlTable root, string baseDir, out string? statusFile)
    {
        foreach (string key in root.Keys)
        {
            if (!TopLevel.Contains(key)) throw root.ErrorAt(key, $"unknown setting \"{key}\" (known: {string.Join(", ", TopLevel)})");
        }
        TomlTable? sourceTable = Get<TomlTable>(root, "source");
        TomlTable? targetTable = Get<TomlTable>(root, "target");
        RedisEndpoint? source = sourceTable != null ? Endpoint(sourceTable, "source", baseDir) : null;
        RedisEndpoint? target = targetTable != null ? Endpoint(targetTable, "target", baseDir) : null;
        if (target == null) throw new TomlException(0, 0, "the [target] section is missing");

        Dictionary<int, int>? map = null;
        TomlTable? mapTable = Get<TomlTable>(root, "database_map");
        if (mapTable != null)
        {
            map = new Dictionary<int, int>();
            foreach (string key in mapTable.Keys)
            {
                if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int from)) throw mapTable.ErrorAt(key, $"database \"{key}\" is not a number");
                if (!mapTable.TryGet(key, out int to) || to < 0) throw mapTable.ErrorAt(key, "a database number must be 0 or more");
                map[from] = to;
            }
        }

        string? status = Get<string>(root, "status_file");
        string? rdb = Get<string>(root, "rdb_path");
        string? name = Get<string>(root, "name");
        string? mode = Get<string>(root, "mode");
        string? conflict = Get<string>(root, "on_conflict");
        statusFile = status != null ? Path.Combine(baseDir, status) : null;
        string? rdbPath = rdb != null ? Path.Combine(baseDir, rdb) : null;
        return new SyncOptions
        {
            Name = name ?? "default",
            Source = source,
            RdbPath = rdbPath,
            Target = target,
            Mode = mode != null ? ParseEnum<SyncMode>(root, "mode", mode) : (rdbPath != null ? SyncMode.Full : SyncMode.FullAndIncremental),
            DatabaseMap = map,
            FlushTarget = root.TryGet("flush_target", out bool flush) && flush,
            OnConflict = conflict != null ? ParseEnum<ConflictPolicy>(root, "on_conflict", conflict) : ConflictPolicy.Stop,
            SkipFailedCommands = root.TryGet("skip_failed_commands", out bool skip) && skip,
            ReconnectTimeout = root.TryGet("reconnect_timeout_seconds", out long reconnect) ? Seconds(root, "reconnect_timeout_seconds", reconnect) : TimeSpan.FromMinutes(5),
            StatusInterval = root.TryGet("status_interval_seconds", out long interval) ? Seconds(root, "status_interval_seconds", interval) : TimeSpan.FromSeconds(5),
        };
    }

    private static RedisEndpoint Endpoint(TomlTable table, string section, string baseDir)
    {
        foreach (string key in table.Keys)
        {
            if (!EndpointKeys.Contains(key)) throw table.ErrorAt(key, $"unknown setting \"{section}.{key}\" (known: {string.Join(", ", EndpointKeys)})");
        }
        string address = Get<string>(table, "address") ?? throw new TomlException(0, 0, $"\"{section}.address\" is missing");
        RedisEndpoint endpoint;
        try
        {
            endpoint = RedisEndpoint.Parse(address);
        }
        catch (SyncException ex)
        {
            throw table.ErrorAt("address", ex.Message);
        }
        string? user = Get<string>(table, "user") ?? endpoint.User;
        string? password = endpoint.Password;
        int given = 0;
        string? p = Get<string>(table, "password");
        string? env = Get<string>(table, "password_env");
        string? file = Get<string>(table, "password_file");
        if (p != null) { password = p; given++; }
        if (env != null)
        {
            password = Environment.GetEnvironmentVariable(env) ?? throw table.ErrorAt("password_env", $"the environment variable \"{env}\" is not set");
            given++;
        }
        if (file != null)
        {
            string full = Path.Combine(baseDir, file);
            try
            {
                password = File.ReadAllText(full).TrimEnd('\r', '\n');
            }
            catch (IOException ex)
            {
                throw table.ErrorAt("password_file", $"cannot read \"{full}\": {ex.Message}");
            }
            given++;
        }
        if (given > 1) throw table.ErrorAt("address", $"give only one of {section}.password, password_env and password_file");
        return endpoint.WithCredential(user, password);
    }

    private static T? Get<T>(TomlTable table, string key) where T : class =>
        table.TryGet(key, out T? value) ? value : null;

    private static T ParseEnum<T>(TomlTable table, string key, string text) where T : struct
    {
        if (Enum.TryParse(text, ignoreCase: true, out T value) && Enum.IsDefined(typeof(T), value)) return value;
        throw table.ErrorAt(key, $"\"{text}\" is not one of {string.Join(", ", Enum.GetNames(typeof(T)))}");
    }

    private static TimeSpan Seconds(TomlTable table, string key, long seconds)
    {
        if (seconds < 1 || seconds > 7 * 24 * 3600) throw table.ErrorAt(key, "must be from 1 to 604800 seconds");
        return TimeSpan.FromSeconds(seconds);
    }

    private static SyncException Invalid(string path, string why, Exception inner) =>
        new SyncException(SyncErrorIds.InvalidConfig, SyncErrorKind.Stop, $"The settings file '{path}' is not valid: {why}", inner);
}
