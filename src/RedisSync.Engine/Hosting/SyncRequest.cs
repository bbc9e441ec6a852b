using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Net;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// What Start-RedisSync was asked, in plain .NET types: the cmdlet binds its parameters here and
/// <see cref="Resolve"/> turns them into <see cref="SyncOptions"/> with errors that name the parameter.
/// One of <see cref="Source"/>, <see cref="RdbPath"/> and <see cref="ConfigPath"/> says where the data comes from.
/// </summary>
public sealed class SyncRequest
{
    /// <summary>A live source: <c>host:port</c> or <c>redis[s]://[user[:password]@]host:port[/db]</c>.</summary>
    public string? Source { get; set; }

    /// <summary>Sentinels that name the source's master, instead of <see cref="Source"/> (with <see cref="MasterName"/>).</summary>
    public IReadOnlyList<string>? Sentinel { get; set; }

    /// <summary>The master's name in the Sentinels' configuration.</summary>
    public string? MasterName { get; set; }

    /// <summary>The Sentinels' login, when they require one (the master's is <see cref="SourceCredential"/>).</summary>
    public NetworkCredential? SentinelCredential { get; set; }

    /// <summary>An RDB file to load instead of a live source (full path).</summary>
    public string? RdbPath { get; set; }

    /// <summary>A TOML settings file that holds everything else (full path).</summary>
    public string? ConfigPath { get; set; }

    /// <summary>The target, in the same forms as <see cref="Source"/>.</summary>
    public string? Target { get; set; }

    /// <summary>Replaces the user and password of the source address (or of the settings file).</summary>
    public NetworkCredential? SourceCredential { get; set; }

    /// <summary>Replaces the user and password of the target address (or of the settings file).</summary>
    public NetworkCredential? TargetCredential { get; set; }

    /// <summary>The sync's name (its job, checkpoint and lease); "default" when null.</summary>
    public string? Name { get; set; }

    /// <summary>-Shard: one shard task of a cluster source's sync (a master's node id or slots); over a settings file's <c>shard</c>.</summary>
    public string? Shard { get; set; }

    /// <summary>Full, Incremental or FullAndIncremental; FullAndIncremental when null (Full for an RDB file).</summary>
    public SyncMode? Mode { get; set; }

    /// <summary>Source database → target database, as a PowerShell hashtable gives it (numbers or numeric strings).</summary>
    public IDictionary? DatabaseMap { get; set; }

    /// <summary>Globs of the keys to copy (-Key); every key when null or empty.</summary>
    public IReadOnlyList<string>? Key { get; set; }

    /// <summary>Globs of keys left out (-ExcludeKey).</summary>
    public IReadOnlyList<string>? ExcludeKey { get; set; }

    /// <summary>The source databases to copy (-Database); all when null or empty.</summary>
    public IReadOnlyList<int>? Database { get; set; }

    /// <summary>The types to copy (-Type); all when null or empty.</summary>
    public IReadOnlyList<string>? Type { get; set; }

    /// <summary>Commands or @groups of the live stream left out (-ExcludeCommand).</summary>
    public IReadOnlyList<string>? ExcludeCommand { get; set; }

    /// <summary>Source key prefix → target key prefix, as a PowerShell hashtable gives it (-RenameKey @{ 'old:*' = 'new:*' }).</summary>
    public IDictionary? RenameKey { get; set; }

    /// <summary>-Where: a predicate on each key (the host runs it in a runspace of its own).</summary>
    public Func<RedisSync.KeyCandidate, bool>? Where { get; set; }

    /// <summary>Reads -RenameKey; the error names the entry that is wrong.</summary>
    public static IReadOnlyDictionary<string, string>? ParseRenameKey(IDictionary? map)
    {
        if (map == null || map.Count == 0) return null;
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in map)
        {
            if (entry.Key is not string from || entry.Value is not string to)
            {
                throw HostErrors.InvalidParameter("RenameKey", $"the entry {Show(entry.Key)} = {Show(entry.Value)} is not a pair of key prefixes (write it as @{{ 'old:*' = 'new:*' }}).");
            }
            result[from] = to;
        }
        Transform.KeyRename.Compile(result);
        return result;
    }

    /// <summary>The filter the parameters ask for (empty when they ask for none).</summary>
    public SyncFilter ParameterFilter() => new SyncFilter
    {
        Key = Key ?? Array.Empty<string>(),
        ExcludeKey = ExcludeKey ?? Array.Empty<string>(),
        Database = Database ?? Array.Empty<int>(),
        Type = Type ?? Array.Empty<string>(),
        ExcludeCommand = ExcludeCommand ?? Array.Empty<string>(),
    };

    /// <summary>Empty the target before the full copy (the host has asked for confirmation).</summary>
    public bool FlushTarget { get; set; }

    /// <summary>What a key that exists on the target means to the first full copy; Stop when null.</summary>
    public ConflictPolicy? OnConflict { get; set; }

    /// <summary>Skip the commands the target refuses, with a warning each, instead of stopping.</summary>
    public bool SkipFailedCommands { get; set; }

    /// <summary>How a live source is read (Psync, Scan, or Auto: PSYNC, SCAN when it is refused); over the settings file's source_mode; Auto when null.</summary>
    public RedisSync.SourceMode? SourceMode { get; set; }

    /// <summary>In scan mode, turn the source's keyspace events on (CONFIG SET) when they are off; over the settings file's enable_keyspace_events.</summary>
    public bool EnableKeyspaceEvents { get; set; }

    /// <summary>In scan mode, SCAN's COUNT; over the settings file's scan_count; 1000 when null.</summary>
    public int? ScanCount { get; set; }
    /// <summary>Commands per second the target is sent at most (-MaxWriteRate); the settings file's, or none, when null.</summary>
    public long? MaxWriteRate { get; set; }
    /// <summary>Keys per second the scan reader reads from the source at most (-MaxReadRate); the settings file's, or none, when null.</summary>
    public long? MaxReadRate { get; set; }

    /// <summary>Keys per second compared while streaming (-Verify); the settings file's, or none, when null.</summary>
    public long? Verify { get; set; }

    /// <summary>Copies again the keys -Verify finds different.</summary>
    public bool RepairMismatches { get; set; }

    /// <summary>A JSON status file to keep up to date (full path); overrides the settings file's status_file.</summary>
    public string? StatusPath { get; set; }

    /// <summary>
    /// What the settings file of <see cref="ConfigPath"/> asks and RedisSync ignores because that is
    /// harmless, set by <see cref="Resolve"/>: the host shows each as a warning.
    /// </summary>
    public IReadOnlyList<SyncWarning> SettingsWarnings { get; private set; } = Array.Empty<SyncWarning>();

    /// <summary>TLS for the source and the target (-Tls and the certificate parameters; over a settings file's); none when null.</summary>
    public TlsRequest? Tls { get; set; }

    /// <summary>Checks the request and builds the sync's options; <paramref name="statusPath"/> is where to keep the status file, or null.</summary>
    public SyncOptions Resolve(out string? statusPath)
    {
        int sources = (Source != null ? 1 : 0) + (RdbPath != null ? 1 : 0) + (ConfigPath != null ? 1 : 0) + (Sentinel != null ? 1 : 0);
        if (sources != 1) throw HostErrors.InvalidParameter("Source", "give exactly one of -Source, -Sentinel, -RdbPath and -ConfigPath.");
        if (Sentinel != null && (Sentinel.Count == 0 || string.IsNullOrWhiteSpace(MasterName)))
        {
            throw HostErrors.InvalidParameter(Sentinel.Count == 0 ? "Sentinel" : "MasterName", "a Sentinel source needs at least one Sentinel address and the master's name.");
        }
        SyncOptions options = ConfigPath != null ? FromConfig(out statusPath) : FromParameters(out statusPath);
        options.Validate();
        return options;
    }

    private SyncOptions FromParameters(out string? statusPath)
    {
        var asked = new List<RedisEndpoint?>
        {
            Source != null ? WithCredential(HostErrors.ParseEndpoint("Source", Source), SourceCredential) : null,
            WithCredential(HostErrors.ParseEndpoint("Target", Target), TargetCredential),
            // The login of the master the Sentinels name (its address comes from them).
            Sentinel != null ? WithCredential(new RedisEndpoint("master", 0), SourceCredential) : null,
        };
        foreach (string sentinel in Sentinel ?? Array.Empty<string>()) asked.Add(WithCredential(HostErrors.ParseEndpoint("Sentinel", sentinel), SentinelCredential));
        RedisEndpoint?[] servers = (Tls ?? new TlsRequest()).Apply(asked.ToArray());
        RedisEndpoint? source = servers[0];
        RedisEndpoint target = servers[1]!;
        if (RdbPath != null && Mode != null && Mode != SyncMode.Full)
        {
            throw HostErrors.InvalidParameter("Mode", $"an RDB file is always copied in Full mode, not {Mode}.");
        }
        statusPath = StatusPath;
        return new SyncOptions
        {
            Name = Name ?? "default",
            Shard = Shard,
            Source = source,
            Sentinels = Sentinel != null ? servers.Skip(3).Select(e => e!).ToList() : null,
            MasterName = MasterName,
            MasterLogin = servers[2],
            RdbPath = RdbPath,
            Target = target,
            Mode = RdbPath != null ? SyncMode.Full : Mode ?? SyncMode.FullAndIncremental,
            DatabaseMap = ParseDatabaseMap(DatabaseMap),
            Filter = Filtered(ParameterFilter()),
            RenameKey = ParseRenameKey(RenameKey),
            Where = Where,
            FlushTarget = FlushTarget,
            OnConflict = OnConflict ?? ConflictPolicy.Stop,
            SkipFailedCommands = SkipFailedCommands,
            SourceMode = SourceMode ?? RedisSync.SourceMode.Auto,
            EnableKeyspaceEvents = EnableKeyspaceEvents,
            ScanCount = ScanCount ?? 1000,
            MaxWriteRate = MaxWriteRate,
            MaxReadRate = MaxReadRate,
            VerifyRate = Verify,
            RepairMismatches = RepairMismatches,
        };
    }

    private SyncOptions FromConfig(out string? statusPath)
    {
        SyncSettings settings = SyncSettingsFile.Load(ConfigPath!);
        SettingsWarnings = settings.Warnings;
        SyncOptions file = settings.Options;
        statusPath = StatusPath ?? settings.StatusFile;
        RedisEndpoint?[] servers = (Tls ?? new TlsRequest()).Apply(
            file.Source != null ? WithCredential(file.Source, SourceCredential) : null,
            WithCredential(file.Target, TargetCredential),
            file.MasterLogin != null ? WithCredential(file.MasterLogin, SourceCredential) : null);
        return new SyncOptions
        {
            Name = file.Name,
            Shard = Shard ?? file.Shard,
            Source = servers[0],
            Sentinels = file.Sentinels,
            MasterName = file.MasterName,
            MasterLogin = servers[2],
            SourceMode = SourceMode ?? file.SourceMode,
            EnableKeyspaceEvents = EnableKeyspaceEvents || file.EnableKeyspaceEvents,
            ScanCount = ScanCount ?? file.ScanCount,
            RdbPath = file.RdbPath,
            Target = servers[1]!,
            Mode = file.Mode,
            DatabaseMap = file.DatabaseMap,
            Filter = Filtered((file.Filter ?? new SyncFilter()).With(ParameterFilter())),
            RenameKey = Merge(file.RenameKey, ParseRenameKey(RenameKey)),
            Where = Where,
            FlushTarget = file.FlushTarget,
            OnConflict = file.OnConflict,
            SkipFailedCommands = file.SkipFailedCommands,
            StatusInterval = file.StatusInterval,
            ReconnectTimeout = file.ReconnectTimeout,
            MaxWriteRate = MaxWriteRate ?? file.MaxWriteRate,
            MaxReadRate = MaxReadRate ?? file.MaxReadRate,
            VerifyRate = Verify ?? file.VerifyRate,
            RepairMismatches = RepairMismatches || file.RepairMismatches,
        };
    }

    /// <summary>The settings file's renames with the parameter's over them.</summary>
    internal static IReadOnlyDictionary<string, string>? Merge(IReadOnlyDictionary<string, string>? file, IReadOnlyDictionary<string, string>? given)
    {
        if (file == null || file.Count == 0) return given;
        if (given == null || given.Count == 0) return file;
        var merged = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in file) merged[pair.Key] = pair.Value;
        foreach (var pair in given) merged[pair.Key] = pair.Value;
        return merged;
    }

    /// <summary>The filter, checked (the error names the parameter), or null when it keeps everything.</summary>
    private static SyncFilter? Filtered(SyncFilter filter)
    {
        if (filter.IsEmpty) return null;
        Transform.KeyFilter.Compile(filter);
        return filter;
    }

    /// <summary>
    /// A credential replaces the address's user and password. The user "default" (or none) logs in
    /// with the password alone, which every Redis version accepts for the default user.
    /// </summary>
    public static RedisEndpoint WithCredential(RedisEndpoint endpoint, NetworkCredential? credential)
    {
        if (credential == null) return endpoint;
        string? user = string.IsNullOrEmpty(credential.UserName) || string.Equals(credential.UserName, "default", StringComparison.Ordinal)
            ? null
            : credential.UserName;
        string password = credential.Password;
        return endpoint.WithCredential(user, password.Length == 0 ? null : password);
    }

    /// <summary>Reads a database map such as <c>@{ 0 = 1; '2' = 3 }</c>; the error names the entry that is wrong.</summary>
    public static IReadOnlyDictionary<int, int>? ParseDatabaseMap(IDictionary? map)
    {
        if (map == null || map.Count == 0) return null;
        var result = new Dictionary<int, int>();
        foreach (DictionaryEntry entry in map)
        {
            int from = DatabaseNumber(entry.Key, entry);
            int to = DatabaseNumber(entry.Value, entry);
            result[from] = to;
        }
        return result;
    }

    private static int DatabaseNumber(object? value, DictionaryEntry entry)
    {
        long n;
        switch (value)
        {
            case int i: n = i; break;
            case long l: n = l; break;
            case short s: n = s; break;
            case byte b: n = b; break;
            case string text when long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long parsed): n = parsed; break;
            default:
                throw HostErrors.InvalidParameter("DatabaseMap",
                    $"the entry {Show(entry.Key)} = {Show(entry.Value)} is not a pair of database numbers (write it as @{{ 0 = 1 }}: source database = target database).");
        }
        if (n < 0 || n > int.MaxValue)
        {
            throw HostErrors.InvalidParameter("DatabaseMap", $"the entry {Show(entry.Key)} = {Show(entry.Value)} has a database number that is not 0 or more.");
        }
        return (int)n;
    }

    private static string Show(object? value) => value switch
    {
        null => "$null",
        string s => "'" + s + "'",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? value.GetType().Name,
    };

    /// <summary>
    /// What the sync will destroy on the target, for -WhatIf and -Confirm ("Flush …"), or null when it
    /// only adds keys that are missing.
    /// </summary>
    public static string? DestructiveAction(SyncOptions options)
    {
        string from = options.Source?.ToString() ?? Path.GetFileName(options.RdbPath ?? string.Empty);
        if (options.FlushTarget) return $"Delete every key in every database (FLUSHALL), then copy {from} into it (sync '{options.Name}')";
        if (options.OnConflict == ConflictPolicy.Replace) return $"Copy {from} into it, replacing the keys that already exist (sync '{options.Name}')";
        return null;
    }

    /// <summary>The action of starting a sync, for -WhatIf and -Confirm.</summary>
    public static string Action(SyncOptions options)
    {
        string from = options.Source?.ToString() ?? Path.GetFileName(options.RdbPath ?? string.Empty);
        return DestructiveAction(options) ?? $"Copy {from} into it, {options.Mode} (sync '{options.Name}')";
    }
}
