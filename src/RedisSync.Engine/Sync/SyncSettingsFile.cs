using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using RedisSync.Engine.Config;
using RedisSync.Engine.Net;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Reads a sync's settings from a TOML file (for scheduled tasks): RedisSync's own file, or RedisShake
/// 4's shake.toml as it is (<see cref="ShakeSettingsFile"/>), told apart by their sections. In RedisSync's
/// own file every setting has the meaning of the Start-RedisSync parameter of the same name; an unknown
/// or mistyped setting is an error that names its line and column. Passwords may be in the file, or
/// read from an environment variable or a file.
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
    /// <summary>The top-level settings of RedisSync's own file.</summary>
    internal static readonly string[] TopLevel =
    {
        "name", "mode", "rdb_path", "flush_target", "on_conflict", "skip_failed_commands", "reconnect_timeout_seconds",
        "status_interval_seconds", "status_file", "source", "target", "database_map", "sentinel", "filter", "rename_key", "source_mode", "enable_keyspace_events", "scan_count", "max_write_rate", "max_read_rate", "verify_keys_per_second", "repair_mismatches", "shard",
    };

    /// <summary>The sections of RedisSync's own file, which tell it apart from a shake.toml.</summary>
    internal static readonly string[] Sections = { "source", "target", "database_map", "sentinel" };

    /// <summary>A [database_map] table: source database → target database (a settings file's, or the one a sync records on its target).</summary>
    internal static Dictionary<int, int> ReadDatabaseMap(SettingsTable mapTable)
    {
        var map = new Dictionary<int, int>();
        foreach (string key in mapTable.Keys)
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int from)) throw mapTable.ErrorAt(key, $"database \"{key}\" is not a number");
            long? to = mapTable.GetInteger(key);
            if (to is not { } number || number < 0 || number > int.MaxValue) throw mapTable.ErrorAt(key, "a database number must be 0 or more");
            map[from] = (int)number;
        }
        return map;
    }

    private static readonly string[] EndpointKeys =
    {
        "address", "user", "password", "password_env", "password_file", "tls", "certificate_authority_path", "client_certificate_path", "client_key_path",
        "client_certificate_password", "client_certificate_password_env", "client_certificate_password_file", "skip_certificate_check",
    };

    /// <summary>The TLS settings of [source] and [target] whose value is a certificate file or its password (each needs a TLS link).</summary>
    private static readonly string[] CertificateKeys =
    {
        "certificate_authority_path", "client_certificate_path", "client_key_path", "client_certificate_password", "client_certificate_password_env",
        "client_certificate_password_file", "skip_certificate_check",
    };

    private static readonly string[] SentinelKeys = { "addresses", "master_name", "user", "password", "password_env", "password_file" };

    /// <summary>Loads the file; a mistake is an <see cref="SyncErrorIds.InvalidConfig"/> error naming the file, the line and the setting.</summary>
    public static SyncSettings Load(string path)
    {
        try
        {
            SettingsText text = SettingsText.Read(path);
            return Parse(text, Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".");
        }
        catch (SettingsException ex)
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
    }

    /// <summary>
    /// Reads settings already in memory, either form of file (what <see cref="Load"/> does after reading it);
    /// a mistake is a <see cref="SettingsException"/>, which <see cref="Load"/> turns into InvalidConfig.
    /// </summary>
    internal static SyncSettings Parse(SettingsText text, string baseDir)
    {
        if (ShakeSettingsFile.Recognizes(text.Original)) return ShakeSettingsFile.Map(text, baseDir);
        SyncOptions options = Bind(SettingsDocument.Parse(text), baseDir, out string? statusFile);
        return new SyncSettings(options, statusFile, SettingsFormat.RedisSync, Array.Empty<SyncWarning>());
    }

    private static SyncOptions Bind(SettingsTable root, string baseDir, out string? statusFile)
    {
        RejectUnknown(root, TopLevel);
        SettingsTable? sourceTable = root.GetTable("source");
        SettingsTable? targetTable = root.GetTable("target");
        SettingsTable? sentinelTable = root.GetTable("sentinel");
        IReadOnlyList<RedisEndpoint>? sentinels = null;
        string? masterName = null;
        RedisEndpoint? masterLogin = null;
        if (sentinelTable != null)
        {
            RejectUnknown(sentinelTable, SentinelKeys);
            IReadOnlyList<string> addresses = sentinelTable.GetStrings("addresses") ?? throw sentinelTable.Error($"\"{sentinelTable.NameOf("addresses")}\" is missing");
            if (addresses.Count == 0) throw sentinelTable.ErrorAt("addresses", "give at least one Sentinel address");
            masterName = sentinelTable.GetString("master_name") ?? throw sentinelTable.Error($"\"{sentinelTable.NameOf("master_name")}\" is missing");
            var list = new List<RedisEndpoint>();
            foreach (string address in addresses) list.Add(Login(sentinelTable, Parse(sentinelTable, "addresses", address), baseDir));
            sentinels = list;
            // The master's own login, if any, is in [source] (without an address: the Sentinels give it).
            if (sourceTable != null) RejectUnknown(sourceTable, EndpointKeys);
            masterLogin = sourceTable != null ? Tls(sourceTable, Login(sourceTable, sourceTable.GetString("address") is string given ? Parse(sourceTable, "address", given) : new RedisEndpoint("master", 0), baseDir), baseDir) : null;
        }
        RedisEndpoint? source = sourceTable != null && sentinelTable == null ? Endpoint(sourceTable, baseDir) : null;
        RedisEndpoint target = targetTable != null ? Endpoint(targetTable, baseDir) : throw new SettingsException(0, 0, "the [target] section is missing");

        SettingsTable? mapTable = root.GetTable("database_map");
        Dictionary<int, int>? map = mapTable != null ? ReadDatabaseMap(mapTable) : null;

        SettingsTable? filterTable = root.GetTable("filter");
        SyncFilter? filter = filterTable != null ? FilterSettings.Read(filterTable) : null;
        SettingsTable? renameTable = root.GetTable("rename_key");
        IReadOnlyDictionary<string, string>? renames = renameTable != null ? RenameSettings.Read(renameTable) : null;

        string? status = root.GetString("status_file");
        string? rdb = root.GetString("rdb_path");
        string? mode = root.GetString("mode");
        string? conflict = root.GetString("on_conflict");
        string? sourceMode = root.GetString("source_mode");
        long? scanCount = root.GetInteger("scan_count");
        if (scanCount is < 1 or > int.MaxValue) throw root.ErrorAt("scan_count", "\"scan_count\" must be 1 or more");
        statusFile = status != null ? Path.Combine(baseDir, status) : null;
        string? rdbPath = rdb != null ? Path.Combine(baseDir, rdb) : null;
        return new SyncOptions
        {
            Name = root.GetString("name") ?? "default",
            Shard = root.GetString("shard"),
            Source = source,
            Sentinels = sentinels,
            MasterName = masterName,
            MasterLogin = masterLogin,
            RdbPath = rdbPath,
            Target = target,
            Mode = mode != null ? ParseEnum<SyncMode>(root, "mode", mode) : (rdbPath != null ? SyncMode.Full : SyncMode.FullAndIncremental),
            DatabaseMap = map,
            Filter = filter,
            RenameKey = renames,
            FlushTarget = root.GetBoolean("flush_target") ?? false,
            OnConflict = conflict != null ? ParseEnum<ConflictPolicy>(root, "on_conflict", conflict) : ConflictPolicy.Stop,
            SkipFailedCommands = root.GetBoolean("skip_failed_commands") ?? false,
            SourceMode = sourceMode != null ? ParseEnum<RedisSync.SourceMode>(root, "source_mode", sourceMode) : RedisSync.SourceMode.Auto,
            EnableKeyspaceEvents = root.GetBoolean("enable_keyspace_events") ?? false,
            ScanCount = (int)(scanCount ?? 1000),
            ReconnectTimeout = Seconds(root, "reconnect_timeout_seconds") ?? TimeSpan.FromMinutes(5),
            StatusInterval = Seconds(root, "status_interval_seconds") ?? TimeSpan.FromSeconds(5),
            MaxWriteRate = root.GetInteger("max_write_rate"),
            MaxReadRate = root.GetInteger("max_read_rate"),
            VerifyRate = root.GetInteger("verify_keys_per_second"),
            RepairMismatches = root.GetBoolean("repair_mismatches") ?? false,
        };
    }

    private static RedisEndpoint Endpoint(SettingsTable table, string baseDir)
    {
        RejectUnknown(table, EndpointKeys);
        string address = table.GetString("address") ?? throw table.Error($"\"{table.NameOf("address")}\" is missing");
        return Tls(table, Login(table, Parse(table, "address", address), baseDir), baseDir);
    }

    /// <summary>
    /// The table's TLS settings on an address: tls = true (as a rediss:// address), and the certificate files and
    /// password, built into the same <see cref="TlsOptions"/> the cmdlets' -CertificateAuthorityPath … parameters make.
    /// </summary>
    private static RedisEndpoint Tls(SettingsTable table, RedisEndpoint endpoint, string baseDir)
    {
        bool tls = table.GetBoolean("tls") ?? false;
        string? given = Array.Find(CertificateKeys, k => table.Contains(k));
        if (given == null) return tls ? endpoint.WithTls(true, endpoint.Tls) : endpoint;
        if (!tls && !endpoint.UseTls) throw table.ErrorAt(given, $"\"{table.NameOf(given)}\" applies to a TLS link: add {table.NameOf("tls")} = true, or give the address as rediss://host:port");
        string? FilePath(string key) => table.GetString(key) is string path ? Path.Combine(baseDir, path) : null;
        string? password = Secret(table, "client_certificate_password", baseDir);
        System.Security.SecureString? secure = null;
        if (password != null)
        {
            secure = new System.Security.SecureString();
            foreach (char c in password) secure.AppendChar(c);
            secure.MakeReadOnly();
        }
        var options = new TlsOptions
        {
            CertificateAuthorityPath = FilePath("certificate_authority_path"),
            ClientCertificatePath = FilePath("client_certificate_path"),
            ClientKeyPath = FilePath("client_key_path"),
            ClientCertificatePassword = secure,
            SkipCertificateCheck = table.GetBoolean("skip_certificate_check") ?? false,
        };
        try
        {
            options.Load(name => table.NameOf(SettingName(name)));
        }
        catch (SyncException ex)
        {
            throw table.ErrorAt(given, ex.Message);
        }
        return endpoint.WithTls(true, options);
    }

    /// <summary>A property name as its setting: ClientKeyPath → client_key_path.</summary>
    private static string SettingName(string property)
    {
        var sb = new System.Text.StringBuilder(property.Length + 4);
        foreach (char c in property)
        {
            if (char.IsUpper(c) && sb.Length > 0) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>A secret given in the file, from an environment variable (<c>&lt;key&gt;_env</c>) or from a file (<c>&lt;key&gt;_file</c>): at most one of them.</summary>
    private static string? Secret(SettingsTable table, string key, string baseDir)
    {
        string? value = null;
        int given = 0;
        if (table.GetString(key) is string inline) { value = inline; given++; }
        if (table.GetString(key + "_env") is string env)
        {
            value = Environment.GetEnvironmentVariable(env) ?? throw table.ErrorAt(key + "_env", $"the environment variable \"{env}\" is not set");
            given++;
        }
        if (table.GetString(key + "_file") is string file)
        {
            string full = Path.Combine(baseDir, file);
            try
            {
                value = File.ReadAllText(full).TrimEnd('\r', '\n');
            }
            catch (IOException ex)
            {
                throw table.ErrorAt(key + "_file", $"cannot read \"{full}\": {ex.Message}");
            }
            given++;
        }
        if (given > 1) throw table.ErrorAt(key, $"give only one of {table.NameOf(key)}, {key}_env and {key}_file");
        return value;
    }

    private static RedisEndpoint Parse(SettingsTable table, string key, string address)
    {
        try
        {
            return RedisEndpoint.Parse(address);
        }
        catch (SyncException ex)
        {
            throw table.ErrorAt(key, ex.Message);
        }
    }

    /// <summary>The table's user and password (given, from an environment variable, or from a file) on an address.</summary>
    private static RedisEndpoint Login(SettingsTable table, RedisEndpoint endpoint, string baseDir)
    {
        string? user = table.GetString("user") ?? endpoint.User;
        string? password = Secret(table, "password", baseDir) ?? endpoint.Password;
        return endpoint.WithCredential(user, password);
    }

    private static void RejectUnknown(SettingsTable table, string[] known)
    {
        foreach (string key in table.Keys)
        {
            if (Array.IndexOf(known, key) < 0) throw table.ErrorAt(key, $"unknown setting \"{table.NameOf(key)}\" (known: {string.Join(", ", known)})");
        }
    }

    private static T ParseEnum<T>(SettingsTable table, string key, string text) where T : struct
    {
        if (Enum.TryParse(text, ignoreCase: true, out T value) && Enum.IsDefined(typeof(T), value)) return value;
        throw table.ErrorAt(key, $"\"{text}\" is not one of {string.Join(", ", Enum.GetNames(typeof(T)))}");
    }

    private static TimeSpan? Seconds(SettingsTable table, string key)
    {
        long? seconds = table.GetInteger(key);
        if (seconds == null) return null;
        if (seconds < 1 || seconds > 7 * 24 * 3600) throw table.ErrorAt(key, $"\"{key}\" must be from 1 to 604800 seconds");
        return TimeSpan.FromSeconds(seconds.Value);
    }

    private static SyncException Invalid(string path, string why, Exception inner) =>
        new SyncException(SyncErrorIds.InvalidConfig, SyncErrorKind.Stop, $"The settings file '{path}' is not valid: {why}", inner);
}
