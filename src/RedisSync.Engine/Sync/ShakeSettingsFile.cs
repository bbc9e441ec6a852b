using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using RedisSync.Engine.Config;
using RedisSync.Engine.Net;
using RedisSync.Engine.Transform;
using Tomlyn.Model;

namespace RedisSync.Engine.Sync;

/// <summary>
/// RedisShake 4's shake.toml, read as it is: <c>${NAME}</c> placeholders are replaced from the
/// environment first, as RedisShake does, then every option is mapped onto RedisSync's own setting.
/// An option RedisSync cannot honour fails by name (all of them at once, each with its line and what
/// to do); one whose value changes nothing that is copied is ignored with a warning that says so.
/// An option left at RedisShake's default asks for nothing and passes silently.
/// </summary>
internal static class ShakeSettingsFile
{
    /// <summary>The id of the warning for an option that is ignored because ignoring it is harmless.</summary>
    public const string SettingIgnored = "SettingIgnored";

    /// <summary>The reader sections in the order RedisShake looks for them: the first one present is used.</summary>
    private static readonly string[] Readers = { "sync_reader", "scan_reader", "rdb_reader", "aof_reader" };

    private static readonly string[] Sections = { "sync_reader", "scan_reader", "rdb_reader", "aof_reader", "redis_writer", "filter", "advanced", "module" };

    /// <summary>RedisShake 4.0's section names, renamed in 4.1.</summary>
    private static readonly Dictionary<string, string> OldSections = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sync_standalone_reader"] = "[sync_reader]",
        ["sync_cluster_reader"] = "[sync_reader] with cluster = true",
        ["scan_standalone_reader"] = "[scan_reader]",
        ["scan_cluster_reader"] = "[scan_reader] with cluster = true",
        ["redis_standalone_writer"] = "[redis_writer]",
        ["redis_cluster_writer"] = "[redis_writer] with cluster = true",
    };

    private static readonly string[] KeyFilters =
    {
        "allow_keys", "allow_key_prefix", "allow_key_suffix", "allow_key_regex",
        "block_keys", "block_key_prefix", "block_key_suffix", "block_key_regex",
    };

    private static readonly string[] DatabaseFilters = { "allow_db", "block_db" };

    private static readonly string[] CommandFilters = { "allow_command", "block_command", "allow_command_group", "block_command_group" };

    /// <summary>Options of RedisShake's readers and writers, which a file may hold without their section header.</summary>
    private static readonly string[] SectionOptions =
    {
        "cluster", "address", "username", "password", "tls", "tls_config", "sync_rdb", "sync_aof", "prefer_replica", "try_diskless",
        "dbs", "scan", "ksn", "count", "filepath", "timestamp", "aoffilepath", "aoftimestamp", "sentinel", "master", "off_reply",
    };

    /// <summary>
    /// Whether a file is a shake.toml rather than RedisSync's own settings file: it has a section of
    /// RedisShake's (as a header or an inline table), or, at its top, a RedisShake option (a filter, a Lua function, a reader's options
    /// without their header) and nothing of RedisSync's own. Read from the lines as written, so that
    /// placeholders need not be replaced yet.
    /// </summary>
    public static bool Recognizes(string text)
    {
        bool shakeOption = false;
        bool ownSetting = false;
        bool topLevel = true;
        foreach (string raw in text.Split('\n'))
        {
            string? name = FirstName(raw.Trim(), out bool header);
            if (name == null) continue;
            if (header)
            {
                topLevel = false;
                // [filter] is a section of both forms of file.
                if ((name != "filter" && Array.IndexOf(Sections, name) >= 0) || OldSections.ContainsKey(name)) return true;
                ownSetting |= Array.IndexOf(SyncSettingsFile.Sections, name) >= 0;
            }
            else if (topLevel)
            {
                shakeOption |= IsTopLevelOption(name);
                ownSetting |= Array.IndexOf(SyncSettingsFile.TopLevel, name) >= 0;
            }
        }
        return shakeOption && !ownSetting;
    }

    /// <summary>Replaces the placeholders, parses the file and maps it; throws a <see cref="SettingsException"/> listing every problem.</summary>
    public static SyncSettings Map(SettingsText file, string baseDir)
    {
        SettingsText text = file.ExpandEnvironment(Environment.GetEnvironmentVariable);
        SettingsTable root = SettingsDocument.Parse(text);
        var map = new Mapping(text.Path);

        CheckTopLevel(map, root);
        RedisEndpoint? source = null;
        string? rdbPath = null;
        SyncMode mode = SyncMode.FullAndIncremental;
        SourceMode sourceMode = SourceMode.Auto;
        int scanCount = 1000;
        string? reader = Readers.FirstOrDefault(root.Contains);
        foreach (string other in Readers.Where(r => r != reader && root.Contains(r)))
        {
            map.Warn(root, other, $"[{other}] is ignored: there is a [{reader}] too, and RedisShake, like RedisSync, reads only the first of " +
                "[sync_reader], [scan_reader], [rdb_reader] and [aof_reader]");
        }
        SettingsTable? readerTable = reader != null ? map.Section(root, reader) : null;
        switch (reader)
        {
            case "sync_reader":
                if (readerTable != null) source = SyncReader(map, readerTable, out mode);
                break;
            case "scan_reader":
                if (readerTable != null) source = ScanReader(map, readerTable, out mode, out scanCount);
                sourceMode = SourceMode.Scan;
                break;
            case "rdb_reader":
                if (readerTable != null) rdbPath = RdbReader(map, readerTable, baseDir);
                mode = SyncMode.Full;
                break;
            case "aof_reader":
                map.Fail(root, reader, "[aof_reader] is not supported: RedisSync reads a live server ([sync_reader]) or an RDB file ([rdb_reader]), not an AOF file");
                break;
            default:
                map.Problems.Add(new SettingsException(0, 0, "there is no source: add a [sync_reader] section (a live server: address = \"host:port\") " +
                    "or an [rdb_reader] section (an RDB file: filepath = \"…\")"));
                break;
        }

        RedisEndpoint? target = null;
        if (map.Section(root, "redis_writer") is { } writer) target = RedisWriter(map, writer);
        else if (!root.Contains("redis_writer")) map.Problems.Add(new SettingsException(0, 0, "there is no target: add a [redis_writer] section with the target's address = \"host:port\""));

        SyncFilter? syncFilter = map.Section(root, "filter") is { } filter ? Filter(map, filter) : null;
        bool flush = false;
        ConflictPolicy conflict = ConflictPolicy.Stop;
        TimeSpan interval = TimeSpan.FromSeconds(5);
        if (map.Section(root, "advanced") is { } advanced) Advanced(map, advanced, ref flush, ref conflict, ref interval);
        if (map.Section(root, "module") is { } module) Module(map, module);

        if (map.Problems.Count > 0) throw SettingsException.Combine(map.Problems);
        var options = new SyncOptions
        {
            Source = source,
            RdbPath = rdbPath,
            Target = target!,
            Mode = mode,
            SourceMode = sourceMode,
            ScanCount = scanCount,
            Filter = syncFilter,
            FlushTarget = flush,
            OnConflict = conflict,
            StatusInterval = interval,
        };
        return new SyncSettings(options, null, SettingsFormat.RedisShake, map.Warnings);
    }

    private static void CheckTopLevel(Mapping map, SettingsTable root)
    {
        var headerless = new List<string>();
        foreach (string key in root.Keys)
        {
            if (Array.IndexOf(Sections, key) >= 0) continue;
            if (OldSections.TryGetValue(key, out string? renamed))
            {
                map.Fail(root, key, $"[{key}] is RedisShake 4.0's name; RedisShake 4.1 and later, and RedisSync, call it {renamed}: rename the section");
            }
            else if (key == "function" || key == "transform" || IsFilter(key))
            {
                FilterOption(map, root, key);
            }
            else if (Array.IndexOf(SectionOptions, key) >= 0)
            {
                headerless.Add(key);
            }
            else if (Array.IndexOf(SyncSettingsFile.Sections, key) >= 0 || Array.IndexOf(SyncSettingsFile.TopLevel, key) >= 0)
            {
                map.Fail(root, key, $"\"{key}\" is a setting of RedisSync's own settings file, which cannot be mixed with RedisShake's sections: " +
                    "write the file in one form or the other");
            }
            else
            {
                map.Fail(root, key, $"\"{key}\" is not a section or option of RedisShake 4's shake.toml (its sections: {string.Join(", ", Sections.Select(s => "[" + s + "]"))})");
            }
        }
        if (headerless.Count > 0)
        {
            map.Fail(root, headerless[0], $"{Names(headerless)} {(headerless.Count == 1 ? "is" : "are")} outside a section: RedisShake reads them only inside one, " +
                "such as [sync_reader] (the source) or [redis_writer] (the target); put them under the section header they belong to");
        }
    }

    private static RedisEndpoint? SyncReader(Mapping map, SettingsTable reader, out SyncMode mode)
    {
        map.Known(reader, "cluster", "address", "username", "password", "tls", "tls_config", "sync_rdb", "sync_aof", "prefer_replica", "try_diskless", "sentinel");
        // RedisSync finds out by itself that the address is a node of a cluster, and then reads every master.
        map.Bool(reader, "cluster");
        map.Refuse(reader, "sentinel", IsEmpty, "RedisShake's Sentinel options are not read: give the Sentinels in a RedisSync settings file " +
            "([sentinel] addresses and master_name), or with Start-RedisSync -Sentinel and -MasterName");
        map.Refuse(reader, "prefer_replica", IsEmpty, "RedisSync reads the server at address and does not look for a replica of it: give the replica's own address instead");
        map.Bool(reader, "try_diskless");
        RedisEndpoint? source = map.Endpoint(reader, "source");

        bool rdb = map.Bool(reader, "sync_rdb") ?? true;
        bool aof = map.Bool(reader, "sync_aof") ?? true;
        mode = aof ? SyncMode.FullAndIncremental : SyncMode.Full;
        if (!rdb && !aof)
        {
            map.Fail(reader, "sync_rdb", "sync_rdb and sync_aof are both false: nothing would be copied. Set sync_aof = false alone for a one-off full copy");
        }
        else if (!rdb)
        {
            map.Fail(reader, "sync_rdb", "\"sync_reader.sync_rdb\" = false (only the writes from now on, without the data already there) is not supported: " +
                "RedisSync copies the snapshot first, or continues an earlier RedisSync sync from its checkpoint (mode = \"Incremental\" in a " +
                "RedisSync settings file, or Start-RedisSync -Mode Incremental). Remove sync_rdb to copy the data and then every write");
        }
        return source;
    }

    /// <summary>
    /// RedisShake's [scan_reader]: RedisSync's scan reader (-SourceMode Scan). ksn = true follows the
    /// keyspace notifications after the scan (a live sync); without it the scan is a one-off copy.
    /// </summary>
    private static RedisEndpoint? ScanReader(Mapping map, SettingsTable reader, out SyncMode mode, out int count)
    {
        map.Known(reader, "cluster", "address", "username", "password", "tls", "tls_config", "dbs", "scan", "ksn", "count", "prefer_replica");
        map.Refuse(reader, "cluster", IsEmpty, "a cluster source read by SCAN is not supported yet: give [sync_reader] (RedisSync reads every master of a cluster as a replica) " +
            "or the address of one master per settings file");
        map.Refuse(reader, "dbs", IsEmpty, "choosing the databases to scan is not supported here: RedisSync scans every database; leave dbs empty");
        map.Refuse(reader, "prefer_replica", IsEmpty, "RedisSync reads the server at address and does not look for a replica of it: give the replica's own address instead");
        RedisEndpoint? source = map.Endpoint(reader, "source");
        bool scan = map.Bool(reader, "scan") ?? true;
        bool ksn = map.Bool(reader, "ksn") ?? false;
        if (!scan)
        {
            map.Fail(reader, "scan", "\"scan_reader.scan\" = false (only the changes from now on, without the keys already there) is not supported: " +
                "RedisSync scans the keys first. Remove scan to copy the keys and then follow the changes (with ksn = true)");
        }
        mode = ksn ? SyncMode.FullAndIncremental : SyncMode.Full;
        long? scanCount = map.Integer(reader, "count");
        count = 1000;
        if (scanCount != null)
        {
            if (scanCount < 1 || scanCount > 1_000_000) map.Fail(reader, "count", $"\"scan_reader.count\" = {scanCount}: give a number of keys per SCAN from 1 to 1000000");
            else count = (int)scanCount.Value;
        }
        return source;
    }

    private static string? RdbReader(Mapping map, SettingsTable reader, string baseDir)
    {
        map.Known(reader, "filepath");
        string? path = map.Text(reader, "filepath");
        if (path == null)
        {
            if (!reader.Contains("filepath")) map.Problems.Add(reader.Error("\"rdb_reader.filepath\" is missing: give the path of the RDB file"));
            return null;
        }
        if (path.Length == 0)
        {
            map.Fail(reader, "filepath", "\"rdb_reader.filepath\" is empty: give the path of the RDB file");
            return null;
        }
        return Path.Combine(baseDir, path);
    }

    private static RedisEndpoint? RedisWriter(Mapping map, SettingsTable writer)
    {
        map.Known(writer, "cluster", "sentinel", "master", "address", "username", "password", "tls", "tls_config", "off_reply", "clients", "parallel");
        map.Refuse(writer, "cluster", IsEmpty, "a cluster target is not supported yet: RedisSync writes to one server");
        map.Refuse(writer, "sentinel", IsEmpty, "a target found through Sentinel is not supported yet: give the master's own address");
        map.Refuse(writer, "master", IsEmpty, "a target found through Sentinel is not supported yet: give the master's own address, and leave master empty");
        map.Ignore(writer, "off_reply", IsEmpty, "RedisSync reads every reply of the target, because each batch commits with its checkpoint; this changes only speed");
        map.Ignore(writer, "clients", Is(1L), "RedisSync writes through one pipelined connection to the target; this changes only speed");
        map.Ignore(writer, "parallel", Is(1L), "RedisSync writes through one pipelined connection to the target; this changes only speed");
        return map.Endpoint(writer, "target");
    }

    /// <summary>
    /// [filter] onto RedisSync's filter: allow_keys, allow_key_prefix and allow_key_suffix become -Key globs (exact,
    /// prefix*, *suffix), allow_key_regex a regular expression, block_* their -ExcludeKey forms, allow_db and block_db
    /// the databases, allow_command(_group) and block_command(_group) the stream's commands. The meaning is RedisShake's:
    /// a block rule wins; an allow list, once given, lets through only what it names.
    /// </summary>
    private static SyncFilter? Filter(Mapping map, SettingsTable filter)
    {
        var key = new List<string>();
        var excludeKey = new List<string>();
        var regex = new List<string>();
        var excludeRegex = new List<string>();
        var command = new List<string>();
        var excludeCommand = new List<string>();
        IReadOnlyList<int> databases = Array.Empty<int>(), excludeDatabases = Array.Empty<int>();
        foreach (string option in filter.Keys)
        {
            switch (option)
            {
                case "function":
                    FilterOption(map, filter, option);
                    break;
                case "allow_keys": key.AddRange(Strings(map, filter, option).Select(KeyPattern.ForKey)); break;
                case "allow_key_prefix": key.AddRange(Strings(map, filter, option).Select(KeyPattern.ForPrefix)); break;
                case "allow_key_suffix": key.AddRange(Strings(map, filter, option).Select(KeyPattern.ForSuffix)); break;
                case "allow_key_regex": regex.AddRange(Strings(map, filter, option)); break;
                case "block_keys": excludeKey.AddRange(Strings(map, filter, option).Select(KeyPattern.ForKey)); break;
                case "block_key_prefix": excludeKey.AddRange(Strings(map, filter, option).Select(KeyPattern.ForPrefix)); break;
                case "block_key_suffix": excludeKey.AddRange(Strings(map, filter, option).Select(KeyPattern.ForSuffix)); break;
                case "block_key_regex": excludeRegex.AddRange(Strings(map, filter, option)); break;
                case "allow_db": databases = Databases(map, filter, option); break;
                case "block_db": excludeDatabases = Databases(map, filter, option); break;
                case "allow_command": command.AddRange(Strings(map, filter, option)); break;
                case "block_command": excludeCommand.AddRange(Strings(map, filter, option)); break;
                case "allow_command_group": command.AddRange(Groups(map, filter, option)); break;
                case "block_command_group": excludeCommand.AddRange(Groups(map, filter, option)); break;
                default:
                    map.Fail(filter, option, $"\"{filter.NameOf(option)}\" is not an option of RedisShake 4's [filter]");
                    break;
            }
        }
        var result = new SyncFilter
        {
            Key = key,
            ExcludeKey = excludeKey,
            KeyRegex = regex,
            ExcludeKeyRegex = excludeRegex,
            Database = databases,
            ExcludeDatabase = excludeDatabases,
            Command = command,
            ExcludeCommand = excludeCommand,
        };
        try
        {
            KeyFilter.Compile(result);
        }
        catch (SyncException ex)
        {
            map.Problems.Add(filter.Error(ex.Message.TrimEnd('.')));
        }
        return result.IsEmpty ? null : result;
    }

    private static IReadOnlyList<string> Strings(Mapping map, SettingsTable table, string key)
    {
        try
        {
            return table.GetStrings(key) ?? Array.Empty<string>();
        }
        catch (SettingsException ex)
        {
            map.Problems.Add(ex);
            return Array.Empty<string>();
        }
    }

    private static IReadOnlyList<int> Databases(Mapping map, SettingsTable table, string key)
    {
        try
        {
            IReadOnlyList<long> numbers = table.GetIntegers(key) ?? Array.Empty<long>();
            if (numbers.Any(n => n < 0 || n > int.MaxValue))
            {
                map.Fail(table, key, $"\"{table.NameOf(key)}\": a database number is 0 or more");
                return Array.Empty<int>();
            }
            return numbers.Select(n => (int)n).ToList();
        }
        catch (SettingsException ex)
        {
            map.Problems.Add(ex);
            return Array.Empty<int>();
        }
    }

    /// <summary>RedisShake's group names (STRING, SORTED_SET, …) as RedisSync's (@string, @sorted-set); Tair's own groups are refused by name.</summary>
    private static IEnumerable<string> Groups(Mapping map, SettingsTable table, string key)
    {
        var groups = new List<string>();
        foreach (string group in Strings(map, table, key))
        {
            string name = group.Trim().ToLowerInvariant().Replace('_', '-');
            if (name.StartsWith("tair", StringComparison.Ordinal))
            {
                map.Fail(table, key, $"\"{table.NameOf(key)}\" names {Show(group)}: Tair's own commands are not known to RedisSync, so it cannot choose them by group; " +
                    "name the commands in allow_command or block_command instead");
                continue;
            }
            groups.Add("@" + name);
        }
        return groups;
    }

    /// <summary>A filter outside [filter] (or a Lua function) that is empty asks for nothing; any other is refused by name.</summary>
    private static void FilterOption(Mapping map, SettingsTable table, string key)
    {
        string reason =
            key == "function" || key == "transform"
                ? "a Lua function is not supported: RedisSync runs no Lua. Choose the keys to copy with Start-RedisSync -Where { … } " +
                  "(a PowerShell predicate on each key), or with the [filter] options (allow_key_prefix, …) and -Key, -ExcludeKey, -Database " +
                  "and -Type, and leave function empty"
                : "RedisShake reads it only under [filter]: put it there";
        map.Refuse(table, key, IsEmpty, reason);
    }

    private static void Advanced(Mapping map, SettingsTable advanced, ref bool flush, ref ConflictPolicy conflict, ref TimeSpan interval)
    {
        foreach (string key in advanced.Keys)
        {
            switch (key)
            {
                case "dir":
                    map.Ignore(advanced, key, Is("data"), "RedisSync keeps no working folder: it never stages the snapshot or the stream on disk; this changes nothing that is copied");
                    break;
                case "ncpu":
                    map.Ignore(advanced, key, Is(0L), "the .NET runtime sizes RedisSync's threads; this changes only speed");
                    break;
                case "pprof_port":
                    map.Ignore(advanced, key, Is(0L), "RedisSync has no profiling port; this changes nothing that is copied");
                    break;
                case "status_port":
                    map.Ignore(advanced, key, Is(0L), "RedisSync serves no HTTP status: Get-RedisSyncStatus and -StatusPath (a JSON status file) " +
                        "show it; this changes nothing that is copied");
                    break;
                case "log_file":
                    map.Ignore(advanced, key, Is("shake.log"), LogFile);
                    break;
                case "log_level":
                    map.Ignore(advanced, key, Is("info"), "RedisSync's warnings and errors always show, and -Verbose shows each phase; " +
                        "this changes nothing that is copied");
                    break;
                case "log_interval":
                    interval = LogInterval(map, advanced, key) ?? interval;
                    break;
                case "rdb_restore_command_behavior":
                    conflict = RestoreBehaviour(map, advanced, key) ?? conflict;
                    break;
                case "pipeline_count_limit":
                    map.Ignore(advanced, key, Is(1024L), "RedisSync sizes its own batches and the commands in flight; this changes only speed");
                    break;
                case "target_redis_client_max_querybuf_len":
                    map.Ignore(advanced, key, v => Is(1024000000L)(v) || Is(1073741824L)(v), "RedisSync does not read this limit: it sends a big " +
                        "collection in bounded parts, and a command the target refuses fails with the target's own error; this changes nothing that is copied");
                    break;
                case "target_redis_proto_max_bulk_len":
                    map.Ignore(advanced, key, Is(512000000L), "RedisSync does not read this limit: a value too big for the target fails with the " +
                        "target's own error, naming the key; this changes nothing that is copied");
                    break;
                case "aws_psync":
                    map.Refuse(advanced, key, IsEmpty, "ElastiCache's own PSYNC command is not supported: RedisSync sends the standard PSYNC, " +
                        "and reading a source that refuses it, by SCAN, is not written yet");
                    break;
                case "empty_db_before_sync":
                    flush = map.Bool(advanced, key) ?? flush;
                    break;
                default:
                    if (key.StartsWith("log_", StringComparison.Ordinal))
                    {
                        map.Ignore(advanced, key, _ => false, LogFile);
                    }
                    else
                    {
                        map.Fail(advanced, key, $"\"advanced.{key}\" is not an option of RedisShake 4's [advanced]");
                    }
                    break;
            }
        }
    }

    private const string LogFile = "RedisSync writes no log file: its warnings and errors go to PowerShell's streams and the job's output, " +
        "and -StatusPath keeps a status file; this changes nothing that is copied";

    private static TimeSpan? LogInterval(Mapping map, SettingsTable advanced, string key)
    {
        long? seconds = map.Integer(advanced, key);
        if (seconds == null) return null;
        if (seconds <= 0)
        {
            map.Ignore(advanced, key, _ => false, "RedisSync reports its status every 5 seconds all the same (to the job's output and -StatusPath); " +
                "this changes nothing that is copied");
            return null;
        }
        if (seconds > 7 * 24 * 3600)
        {
            map.Fail(advanced, key, "\"advanced.log_interval\" must be from 1 to 604800 seconds (how often RedisSync reports its status)");
            return null;
        }
        return TimeSpan.FromSeconds(seconds.Value);
    }

    private static ConflictPolicy? RestoreBehaviour(Mapping map, SettingsTable advanced, string key)
    {
        switch (map.Text(advanced, key))
        {
            case null: return null;
            case "panic": return ConflictPolicy.Stop;
            case "rewrite": return ConflictPolicy.Replace;
            case "skip":
            case "ignore": return ConflictPolicy.Skip;
            case string other:
                map.Fail(advanced, key, $"\"advanced.rdb_restore_command_behavior\" = {Show(other)} is not one of panic, rewrite and skip");
                return null;
        }
    }

    private static void Module(Mapping map, SettingsTable module)
    {
        map.Known(module, "target_mbbloom_version");
        map.Ignore(module, "target_mbbloom_version", Is(0L), "RedisSync copies module values, RedisBloom's too, with RESTORE as the source " +
            "holds them (the target needs the same module) and converts none; this changes nothing that is copied");
    }

    private static bool IsFilter(string key) =>
        Array.IndexOf(KeyFilters, key) >= 0 || Array.IndexOf(DatabaseFilters, key) >= 0 || Array.IndexOf(CommandFilters, key) >= 0;

    private static bool IsTopLevelOption(string name) =>
        Array.IndexOf(Sections, name) >= 0 || name == "function" || name == "transform" || IsFilter(name) || Array.IndexOf(SectionOptions, name) >= 0;

    /// <summary>The first key or table name of a line (bare or quoted), or null when the line starts with neither.</summary>
    private static string? FirstName(string line, out bool header)
    {
        header = line.StartsWith("[", StringComparison.Ordinal);
        int i = header ? (line.StartsWith("[[", StringComparison.Ordinal) ? 2 : 1) : 0;
        while (i < line.Length && (line[i] == ' ' || line[i] == '\t')) i++;
        char quote = i < line.Length && (line[i] == '"' || line[i] == '\'') ? line[i] : '\0';
        if (quote != '\0') i++;
        int start = i;
        while (i < line.Length && (char.IsLetterOrDigit(line[i]) || line[i] == '_' || line[i] == '-')) i++;
        if (i == start) return null;
        string name = line.Substring(start, i - start);
        if (quote != '\0') return i < line.Length && line[i] == quote ? name : null;
        if (header) return name;
        while (i < line.Length && (line[i] == ' ' || line[i] == '\t')) i++;
        return i < line.Length && (line[i] == '=' || line[i] == '.') ? name : null;
    }

    /// <summary>RedisShake's "nothing asked": false, "", an empty array, or a table of such values.</summary>
    private static bool IsEmpty(object value) => value switch
    {
        bool flag => !flag,
        string text => text.Length == 0,
        TomlArray array => array.Count == 0,
        TomlTable table => table.All(entry => entry.Value != null && IsEmpty(entry.Value)),
        _ => false,
    };

    private static Func<object, bool> Is(object expected) => value => Equals(value, expected);

    private static string Names(IEnumerable<string> names) => string.Join(", ", names.Select(n => "\"" + n + "\""));

    /// <summary>
    /// A value as TOML writes it, for messages about options that hold no secret; null for a table (its
    /// contents may) and for a text of several lines or a long one (a Lua function).
    /// </summary>
    private static string? Show(object value) => value switch
    {
        string text when text.IndexOf('\n') < 0 && text.Length <= 80 => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
        bool flag => flag ? "true" : "false",
        long number => number.ToString(CultureInfo.InvariantCulture),
        double real => real.ToString("R", CultureInfo.InvariantCulture),
        TomlArray array => "[" + string.Join(", ", array.Select(item => item != null ? Show(item) ?? "{…}" : string.Empty)) + "]",
        _ => null,
    };

    /// <summary>What the mapping found: the problems (each an error at its place) and the warnings.</summary>
    private sealed class Mapping
    {
        private readonly string _path;

        public Mapping(string path) => _path = path;

        public List<SettingsException> Problems { get; } = new List<SettingsException>();

        public List<SyncWarning> Warnings { get; } = new List<SyncWarning>();

        public void Fail(SettingsTable table, string key, string reason) => Problems.Add(table.ErrorAt(key, reason));

        /// <summary>A warning naming the file, the place and the option, and why ignoring it is harmless.</summary>
        public void Warn(SettingsTable table, string key, string why)
        {
            (int line, int column) = table.PlaceOf(key);
            Warnings.Add(new SyncWarning(SettingIgnored, SyncErrorKind.Skip, null, null,
                $"The settings file '{_path}', line {line}, column {column}: {why}."));
        }

        /// <summary>A section, or null when it is absent, or (with a problem) when the name holds something else.</summary>
        public SettingsTable? Section(SettingsTable root, string name) => Read(() => root.GetTable(name));

        public void Known(SettingsTable table, params string[] options)
        {
            foreach (string key in table.Keys)
            {
                if (Array.IndexOf(options, key) < 0)
                {
                    Fail(table, key, $"\"{table.NameOf(key)}\" is not an option of RedisShake 4's [{table.Path}] (its options: {string.Join(", ", options)})");
                }
            }
        }

        /// <summary>An option RedisSync cannot honour: fine while it asks for nothing (<paramref name="asksNothing"/>), else a problem.</summary>
        public void Refuse(SettingsTable table, string key, Func<object, bool> asksNothing, string reason)
        {
            object? value = table.GetValue(key);
            if (value == null || asksNothing(value)) return;
            string? shown = Show(value);
            Fail(table, key, shown != null ? $"\"{table.NameOf(key)}\" = {shown}: {reason}" : $"\"{table.NameOf(key)}\": {reason}");
        }

        /// <summary>An option whose value changes nothing that is copied: silent at its default, else a warning that says why.</summary>
        public void Ignore(SettingsTable table, string key, Func<object, bool> isDefault, string why)
        {
            object? value = table.GetValue(key);
            if (value == null || isDefault(value)) return;
            Warn(table, key, $"\"{table.NameOf(key)}\" = {Show(value) ?? "{…}"} is ignored, which is harmless: {why}");
        }

        public bool? Bool(SettingsTable table, string key) => Read(() => table.GetBoolean(key));

        public long? Integer(SettingsTable table, string key) => Read(() => table.GetInteger(key));

        public string? Text(SettingsTable table, string key) => Read(() => table.GetString(key));

        /// <summary>address, username, password and tls of a reader or writer; null (with a problem) when the address is missing or wrong.</summary>
        public RedisEndpoint? Endpoint(SettingsTable table, string role)
        {
            TlsConfig(table);
            string? address = Text(table, "address");
            string? user = Text(table, "username");
            string? password = Text(table, "password");
            bool tls = Bool(table, "tls") ?? false;
            if (address == null || address.Length == 0)
            {
                if (!table.Contains("address")) Problems.Add(table.Error($"\"{table.NameOf("address")}\" is missing: give the {role}'s host:port"));
                else if (address != null) Fail(table, "address", $"\"{table.NameOf("address")}\" is empty: give the {role}'s host:port");
                return null;
            }
            RedisEndpoint parsed;
            try
            {
                parsed = RedisEndpoint.Parse(address);
            }
            catch (SyncException ex)
            {
                Fail(table, "address", $"\"{table.NameOf("address")}\": {ex.Message}");
                return null;
            }
            return new RedisEndpoint(parsed.Host, parsed.Port)
            {
                User = string.IsNullOrEmpty(user) ? parsed.User : user,
                Password = string.IsNullOrEmpty(password) ? parsed.Password : password,
                Database = parsed.Database,
                UseTls = tls || parsed.UseTls,
            };
        }

        private void TlsConfig(SettingsTable table) =>
            Refuse(table, "tls_config", IsEmpty, "TLS client certificates and a CA of one's own are not supported yet: with tls = true, RedisSync trusts " +
                "the certificates the system trusts");

        private T? Read<T>(Func<T?> read)
        {
            try
            {
                return read();
            }
            catch (SettingsException ex)
            {
                Problems.Add(ex);
                return default;
            }
        }
    }
}
