using System;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Config;

/// <summary>
/// How each option of a shake.toml becomes RedisSync's own setting, and what a user sees for one that
/// RedisSync cannot honour (an error naming it, its line and column, and what to do) or ignores
/// because that is harmless (a warning that says so).
/// </summary>
public sealed class ShakeSettingsFileTests : IDisposable
{
    private const string Source = "[sync_reader]\naddress = \"10.0.0.5:6379\"\n";
    private const string Target = "[redis_writer]\naddress = \"10.0.0.6:6380\"\n";

    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-shake-").FullName;

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_TEST_SHAKE_SOURCE", null);
        Directory.Delete(_dir, recursive: true);
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "shake.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private SyncSettings Read(string text)
    {
        SyncSettings settings = SyncSettingsFile.Load(Write(text));
        Assert.Equal(SettingsFormat.RedisShake, settings.Format);
        return settings;
    }

    private string Refused(string text)
    {
        string path = Write(text);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        string prefix = $"The settings file '{path}' is not valid: ";
        Assert.StartsWith(prefix, error.Message);
        return error.Message.Substring(prefix.Length);
    }

    [Fact]
    public void The_reader_and_writer_options_become_the_source_and_the_target()
    {
        SyncOptions options = Read("""
            [sync_reader]
            cluster = false
            address = "10.0.0.5:6380"
            username = "replicator"
            password = "s-secret"
            tls = true
            sync_rdb = true
            sync_aof = true
            prefer_replica = false
            try_diskless = true

            [redis_writer]
            cluster = false
            sentinel = false
            master = ""
            address = "10.0.0.6:6379"
            username = ""
            password = "t-secret"
            tls = false
            off_reply = false
            """).Options;
        Assert.Equal("10.0.0.5", options.Source!.Host);
        Assert.Equal(6380, options.Source.Port);
        Assert.Equal("replicator", options.Source.User);
        Assert.Equal("s-secret", options.Source.Password);
        Assert.True(options.Source.UseTls);
        Assert.Equal("10.0.0.6", options.Target.Host);
        Assert.Null(options.Target.User);
        Assert.Equal("t-secret", options.Target.Password);
        Assert.False(options.Target.UseTls);
        Assert.Equal(RedisSync.SyncMode.FullAndIncremental, options.Mode);
        Assert.DoesNotContain("secret", options.Source.ToString());
    }

    [Theory]
    [InlineData("sync_rdb = true\nsync_aof = true", RedisSync.SyncMode.FullAndIncremental)]
    [InlineData("sync_aof = false", RedisSync.SyncMode.Full)]
    [InlineData("", RedisSync.SyncMode.FullAndIncremental)]
    public void Sync_rdb_and_sync_aof_choose_the_mode(string flags, RedisSync.SyncMode mode) =>
        Assert.Equal(mode, Read(Source + flags + "\n" + Target).Options.Mode);

    [Fact]
    public void An_rdb_reader_is_a_full_copy_of_the_file_found_beside_the_settings_file()
    {
        SyncOptions options = Read("[rdb_reader]\nfilepath = \"dumps/dump.rdb\"\n" + Target).Options;
        Assert.Equal(Path.Combine(_dir, "dumps/dump.rdb"), options.RdbPath);
        Assert.Null(options.Source);
        Assert.Equal(RedisSync.SyncMode.Full, options.Mode);
        options.Validate();
    }

    [Theory]
    [InlineData("panic", ConflictPolicy.Stop)]
    [InlineData("rewrite", ConflictPolicy.Replace)]
    [InlineData("skip", ConflictPolicy.Skip)]
    [InlineData("ignore", ConflictPolicy.Skip)]
    public void Rdb_restore_command_behavior_is_the_conflict_policy(string behaviour, ConflictPolicy policy) =>
        Assert.Equal(policy, Read(Source + Target + $"[advanced]\nrdb_restore_command_behavior = \"{behaviour}\"\n").Options.OnConflict);

    [Fact]
    public void Empty_db_before_sync_flushes_the_target_and_log_interval_is_the_status_interval()
    {
        SyncSettings settings = Read(Source + Target + "[advanced]\nempty_db_before_sync = true\nlog_interval = 2\n");
        Assert.True(settings.Options.FlushTarget);
        Assert.Equal(TimeSpan.FromSeconds(2), settings.Options.StatusInterval);
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void Options_left_at_redisshakes_defaults_pass_silently()
    {
        SyncSettings settings = Read(Source + Target + """
            [filter]
            allow_keys = []
            allow_key_prefix = []
            block_key_regex = []
            allow_db = []
            block_command_group = []
            function = ""

            [advanced]
            dir = "data"
            ncpu = 0
            pprof_port = 0
            status_port = 0
            log_file = "shake.log"
            log_level = "info"
            pipeline_count_limit = 1024
            target_redis_client_max_querybuf_len = 1024000000
            target_redis_proto_max_bulk_len = 512_000_000
            aws_psync = ""
            empty_db_before_sync = false

            [module]
            target_mbbloom_version = 0
            """);
        Assert.Empty(settings.Warnings);
        Assert.False(settings.Options.FlushTarget);
    }

    [Theory]
    [InlineData("[advanced]\ndir = \"/var/lib/shake\"", "\"advanced.dir\" = \"/var/lib/shake\"", "never stages the snapshot")]
    [InlineData("[advanced]\nncpu = 4", "\"advanced.ncpu\" = 4", "changes only speed")]
    [InlineData("[advanced]\npprof_port = 6060", "\"advanced.pprof_port\" = 6060", "no profiling port")]
    [InlineData("[advanced]\nstatus_port = 8080", "\"advanced.status_port\" = 8080", "Get-RedisSyncStatus")]
    [InlineData("[advanced]\nlog_file = \"/var/log/shake.log\"", "\"advanced.log_file\" = \"/var/log/shake.log\"", "writes no log file")]
    [InlineData("[advanced]\nlog_level = \"debug\"", "\"advanced.log_level\" = \"debug\"", "-Verbose")]
    [InlineData("[advanced]\nlog_rotation = true", "\"advanced.log_rotation\" = true", "writes no log file")]
    [InlineData("[advanced]\nlog_interval = 0", "\"advanced.log_interval\" = 0", "every 5 seconds")]
    [InlineData("[advanced]\npipeline_count_limit = 64", "\"advanced.pipeline_count_limit\" = 64", "changes only speed")]
    [InlineData("[advanced]\ntarget_redis_proto_max_bulk_len = 1_000", "\"advanced.target_redis_proto_max_bulk_len\" = 1000", "target's own error")]
    [InlineData("[advanced]\ntarget_redis_client_max_querybuf_len = 1_000", "\"advanced.target_redis_client_max_querybuf_len\" = 1000", "bounded parts")]
    [InlineData("[module]\ntarget_mbbloom_version = 20603", "\"module.target_mbbloom_version\" = 20603", "RESTORE")]
    [InlineData("[redis_writer]\naddress = \"h:1\"\noff_reply = true", "\"redis_writer.off_reply\" = true", "reads every reply")]
    [InlineData("[redis_writer]\naddress = \"h:1\"\nclients = 4", "\"redis_writer.clients\" = 4", "one pipelined connection")]
    public void An_option_that_changes_nothing_copied_is_ignored_with_a_warning_that_names_it_and_says_so(string section, string option, string why)
    {
        string text = Source + (section.StartsWith("[redis_writer]", StringComparison.Ordinal) ? string.Empty : Target) + "   " + section.Replace("\n", "\n   ");
        int line = text.Split('\n').Length;
        SyncWarning warning = Assert.Single(Read(text).Warnings);
        Assert.Equal(ShakeSettingsFile.SettingIgnored, warning.ErrorId);
        Assert.Equal(SyncErrorKind.Skip, warning.Kind);
        Assert.StartsWith($"The settings file '{Path.Combine(_dir, "shake.toml")}', line {line}, column 4: {option} is ignored, which is harmless: ", warning.Message);
        Assert.Contains(why, warning.Message);
    }

    [Fact]
    public void A_second_reader_is_ignored_with_a_warning_as_redisshake_ignores_it()
    {
        SyncSettings settings = Read(Source + Target + "[rdb_reader]\nfilepath = \"/tmp/dump.rdb\"\n");
        Assert.Equal("10.0.0.5", settings.Options.Source!.Host);
        Assert.Null(settings.Options.RdbPath);
        SyncWarning warning = Assert.Single(settings.Warnings);
        Assert.EndsWith("line 5, column 2: [rdb_reader] is ignored: there is a [sync_reader] too, and RedisShake, like RedisSync, reads only the first of " +
            "[sync_reader], [scan_reader], [rdb_reader] and [aof_reader].", warning.Message);
    }

    [Theory]
    [InlineData("[sync_reader]\naddress = \"h:2\"\nprefer_replica = true", "line 3, column 1: \"sync_reader.prefer_replica\" = true: RedisSync reads the server at address")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\nsync_rdb = false", "line 3, column 1: \"sync_reader.sync_rdb\" = false (only the writes from now on")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\nsync_rdb = false\nsync_aof = false", "line 3, column 1: sync_rdb and sync_aof are both false: nothing would be copied")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[sync_reader.sentinel]\nmaster_name = \"m\"\naddress = \"s:26379\"", "line 3, column 14: \"sync_reader.sentinel\": RedisShake's Sentinel options are not read: give the Sentinels in a RedisSync settings file")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[sync_reader.tls_config]\nca_cert = \"/ca.pem\"", "line 3, column 14: \"sync_reader.tls_config\": TLS client certificates and a CA of one's own are not supported yet")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\ntimeout = 5", "line 3, column 1: \"sync_reader.timeout\" is not an option of RedisShake 4's [sync_reader] (its options: cluster, address,")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\ntls = \"yes\"", "line 3, column 1: \"sync_reader.tls\" must be a boolean, not a string")]
    [InlineData("[sync_reader]\naddress = \"h:99999\"", "line 2, column 1: \"sync_reader.address\": 'h:99999' is not a valid Redis address: the port '99999'")]
    [InlineData("[sync_reader]\naddress = \"\"", "line 2, column 1: \"sync_reader.address\" is empty: give the source's host:port")]
    [InlineData("[sync_reader]\nusername = \"u\"", "line 1, column 2: \"sync_reader.address\" is missing: give the source's host:port")]
    [InlineData("[rdb_reader]\nfilepath = \"\"", "line 2, column 1: \"rdb_reader.filepath\" is empty")]
    [InlineData("[scan_reader]\naddress = \"h:2\"\nscan = false", "line 3, column 1: \"scan_reader.scan\" = false (only the changes from now on")]
    [InlineData("[scan_reader]\naddress = \"h:2\"\ndbs = [1, 5]", "line 3, column 1: \"scan_reader.dbs\" = [1, 5]: choosing the databases to scan is not supported here")]
    [InlineData("[scan_reader]\naddress = \"h:2\"\ncount = 0", "line 3, column 1: \"scan_reader.count\" = 0: give a number of keys per SCAN from 1 to 1000000")]
    [InlineData("[aof_reader]\nfilepath = \"/tmp/x.aof\"", "line 1, column 2: [aof_reader] is not supported")]
    [InlineData("[sync_standalone_reader]\naddress = \"h:2\"", "line 1, column 2: [sync_standalone_reader] is RedisShake 4.0's name; RedisShake 4.1 and later, and RedisSync, call it [sync_reader]")]
    [InlineData("[file_writer]\nfilepath = \"x\"\n[sync_reader]\naddress = \"h:2\"", "line 1, column 2: \"file_writer\" is not a section or option of RedisShake 4's shake.toml")]
    [InlineData("[source]\naddress = \"h:2\"\n[sync_reader]\naddress = \"h:2\"", "line 1, column 2: \"source\" is a setting of RedisSync's own settings file, which cannot be mixed")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[filter]\nallow_command_group = [\"TAIRHASH\"]", "line 4, column 1: \"filter.allow_command_group\" names \"TAIRHASH\": Tair's own commands are not known to RedisSync")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[filter]\nblock_db = [-1]", "line 4, column 1: \"filter.block_db\": a database number is 0 or more")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[filter]\nallow_keys = \"user:1\"", "line 4, column 1: \"filter.allow_keys\" must be a list of strings, not a string")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[filter]\nblock_command_group = [\"NOPE\"]", "line 3, column 2: -ExcludeCommand '@nope' is not a command group")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[filter]\nallow_key_regex = [\"(\"]", "line 3, column 2: -KeyRegex '(' is not a regular expression")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[filter]\nfunction = \"shake.call(DB, ARGV)\"", "line 4, column 1: \"filter.function\" = \"shake.call(DB, ARGV)\": a Lua function is not supported: RedisSync runs no Lua. Choose the keys to copy with Start-RedisSync -Where")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[filter]\nallow_everything = true", "line 4, column 1: \"filter.allow_everything\" is not an option of RedisShake 4's [filter]")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[advanced]\naws_psync = \"10.0.0.1:6379@abc\"", "line 4, column 1: \"advanced.aws_psync\" = \"10.0.0.1:6379@abc\": ElastiCache's own PSYNC command is not supported")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[advanced]\nrdb_restore_command_behavior = \"overwrite\"", "line 4, column 1: \"advanced.rdb_restore_command_behavior\" = \"overwrite\" is not one of panic, rewrite and skip")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[advanced]\nlog_interval = 1_000_000", "line 4, column 1: \"advanced.log_interval\" must be from 1 to 604800 seconds")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[advanced]\nturbo = true", "line 4, column 1: \"advanced.turbo\" is not an option of RedisShake 4's [advanced]")]
    [InlineData("[sync_reader]\naddress = \"h:2\"\n[module]\nbloom = 1", "line 4, column 1: \"module.bloom\" is not an option of RedisShake 4's [module]")]
    [InlineData("function = \"return\"\n[sync_reader]\naddress = \"h:2\"", "line 1, column 1: \"function\" = \"return\": a Lua function is not supported")]
    public void An_option_redissync_cannot_honour_fails_by_name_with_its_line_column_and_what_to_do(string text, string expected)
    {
        string writer = text.Contains("[redis_writer]", StringComparison.Ordinal) ? string.Empty : "\n" + Target;
        string message = Refused(text + writer);
        string first = message.Contains(" problems:\n", StringComparison.Ordinal) ? message.Split('\n')[1].Trim() : message;
        Assert.StartsWith(expected, first);
    }

    [Fact]
    public void Shake_filter_maps_onto_the_key_database_and_command_filters()
    {
        SyncSettings settings = Read(Source + Target + """
            [filter]
            allow_keys = ["user:1"]
            allow_key_prefix = ["user:", "a*b"]
            allow_key_suffix = [":active"]
            allow_key_regex = ["^order:[0-9]+$"]
            block_keys = ["user:2"]
            block_key_prefix = ["tmp:"]
            block_key_suffix = [":old"]
            block_key_regex = ["^x"]
            allow_db = [0, 1]
            block_db = [3]
            allow_command = ["SET"]
            block_command = ["DEL"]
            allow_command_group = ["STRING", "SORTED_SET"]
            block_command_group = ["SCRIPTING"]
            function = ""
            """);
        RedisSync.Engine.Transform.SyncFilter filter = settings.Options.Filter!;
        Assert.Equal(new[] { "user:1", "user:*", "a\\*b*", "*:active" }, filter.Key);
        Assert.Equal(new[] { "user:2", "tmp:*", "*:old" }, filter.ExcludeKey);
        Assert.Equal(new[] { "^order:[0-9]+$" }, filter.KeyRegex);
        Assert.Equal(new[] { "^x" }, filter.ExcludeKeyRegex);
        Assert.Equal(new[] { 0, 1 }, filter.Database);
        Assert.Equal(new[] { 3 }, filter.ExcludeDatabase);
        Assert.Equal(new[] { "SET", "@string", "@sorted-set" }, filter.Command);
        Assert.Equal(new[] { "DEL", "@scripting" }, filter.ExcludeCommand);
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void A_redis_writer_that_is_a_cluster_or_behind_sentinel_fails_by_name()
    {
        string message = Refused(Source + "[redis_writer]\naddress = \"h:1\"\ncluster = true\nsentinel = true\nmaster = \"mymaster\"\n");
        Assert.Equal(string.Join("\n  ",
            "3 problems:",
            "line 5, column 1: \"redis_writer.cluster\" = true: a cluster target is not supported yet: RedisSync writes to one server",
            "line 6, column 1: \"redis_writer.sentinel\" = true: a target found through Sentinel is not supported yet: give the master's own address",
            "line 7, column 1: \"redis_writer.master\" = \"mymaster\": a target found through Sentinel is not supported yet: give the master's own address, and leave master empty"),
            message);
    }

    [Fact]
    public void Every_problem_of_a_file_is_listed_at_once_in_the_order_of_the_file()
    {
        string message = Refused("""
            [sync_reader]
            address = "h:2"
            prefer_replica = true
            [redis_writer]
            address = "h:1"
            [filter]
            allow_command_group = ["TAIRZSET"]
            [advanced]
            ncpu = 2
            aws_psync = "x"
            """);
        string[] lines = message.Split('\n');
        Assert.Equal("3 problems:", lines[0]);
        Assert.StartsWith("  line 3, column 1: \"sync_reader.prefer_replica\"", lines[1]);
        Assert.StartsWith("  line 7, column 1: \"filter.allow_command_group\"", lines[2]);
        Assert.StartsWith("  line 10, column 1: \"advanced.aws_psync\"", lines[3]);
    }

    [Fact]
    public void Passwords_never_reach_an_error_or_a_warning()
    {
        string message = Refused("""
            [sync_reader]
            address = "h:99999"
            username = "u"
            password = "hunter2-source"
            cluster = true
            [sync_reader.sentinel]
            address = "s:26379"
            password = "hunter2-sentinel"
            [redis_writer]
            address = "redis://u:hunter2-url@h:1"
            password = 5
            """);
        Assert.Contains("line 2, column 1", message);
        Assert.Contains("line 11, column 1: \"redis_writer.password\" must be a string, not an integer", message);
        Assert.DoesNotContain("hunter2", message);

        SyncSettings settings = Read("[sync_reader]\naddress = \"h:2\"\npassword = \"hunter2-source\"\n[redis_writer]\naddress = \"h:1\"\npassword = \"hunter2-target\"\noff_reply = true\n[advanced]\nlog_level = \"debug\"\n");
        Assert.Equal(2, settings.Warnings.Count);
        Assert.All(settings.Warnings, w => Assert.DoesNotContain("hunter2", w.Message));
    }

    [Theory]
    [InlineData("[sync_reader]\naddress = \"a:1\"\n[redis_writer]\naddress = \"b:1\"", true)]
    [InlineData("[redis_writer]\naddress = \"b:1\"", true)]
    [InlineData("[ \"advanced\" ]\ndir = \"data\"", true)]
    [InlineData("function = \"\"\n[target]\naddress = \"b:1\"", false)]
    [InlineData("allow_db = [1]", true)]
    [InlineData("address = \"a:1\"\ncluster = false", true)]
    [InlineData("name = \"x\"\naddress = \"a:1\"", false)]
    [InlineData("[target]\naddress = \"b:1\"", false)]
    [InlineData("[source]\naddress = \"a:1\"\n[target]\naddress = \"b:1\"", false)]
    [InlineData("# [sync_reader]\n[target]\naddress = \"b:1\"", false)]
    public void A_shake_toml_is_told_from_redissyncs_own_file_by_its_sections(string text, bool shake) =>
        Assert.Equal(shake, ShakeSettingsFile.Recognizes(text));

    [Fact]
    public async Task A_shake_toml_copies_the_source_into_the_target_as_redisshake_would()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start("--requirepass", "dst-secret");
        source.Cli("ACL", "SETUSER", "replicator", "on", ">src-secret", "~*", "&*", "+@all");
        IDatabase sourceDb = source.Db();
        for (int i = 0; i < 50; i++) sourceDb.StringSet("user:" + i, "v" + i);
        sourceDb.StringSet("session:1", "s", TimeSpan.FromHours(1));
        source.Db(3).HashSet("h", new[] { new HashEntry("f", "1"), new HashEntry("g", "2") });
        IDatabase targetDb = target.Client("dst-secret").GetDatabase(0);
        targetDb.StringSet("stale", "x");
        targetDb.StringSet("user:0", "old");

        Environment.SetEnvironmentVariable("REDISSYNC_TEST_SHAKE_SOURCE", source.Endpoint);
        SyncSettings settings = Read($$"""
            [sync_reader]
            address = "${REDISSYNC_TEST_SHAKE_SOURCE}"
            username = "replicator"
            password = "src-secret"
            sync_rdb = true
            sync_aof = false

            [redis_writer]
            address = "{{target.Endpoint}}"
            password = "dst-secret"

            [advanced]
            rdb_restore_command_behavior = "rewrite"
            empty_db_before_sync = true
            """);
        RedisSync.SyncStatus done = await new SyncSession(settings.Options).RunAsync();

        Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
        Assert.Equal(52, done.KeysWritten);
        Assert.False(targetDb.KeyExists("stale"));
        Assert.Equal("v0", targetDb.StringGet("user:0"));
        Assert.Equal("v49", targetDb.StringGet("user:49"));
        TimeSpan? ttl = targetDb.KeyTimeToLive("session:1");
        Assert.True(ttl > TimeSpan.FromMinutes(59) && ttl <= TimeSpan.FromHours(1), $"TTL {ttl}");
        Assert.Equal("2", target.Client("dst-secret").GetDatabase(3).HashGet("h", "g"));
        string[] keys = target.Client("dst-secret").GetServer(target.Endpoint).Keys(0).Select(k => k.ToString())
            .Where(k => !k.StartsWith("redissync:", StringComparison.Ordinal)).OrderBy(k => k, StringComparer.Ordinal).ToArray();
        Assert.Equal(Enumerable.Range(0, 50).Select(i => "user:" + i).Append("session:1").OrderBy(k => k, StringComparer.Ordinal), keys);
    }

    [Fact]
    public void A_scan_reader_with_ksn_is_a_live_scan_sync_with_its_count()
    {
        SyncOptions options = Read("[scan_reader]\naddress = \"10.0.0.5:6380\"\nusername = \"u\"\npassword = \"p\"\nksn = true\ncount = 500\n[redis_writer]\naddress = \"10.0.0.6:6379\"\n").Options;
        Assert.Equal(SourceMode.Scan, options.SourceMode);
        Assert.Equal(RedisSync.SyncMode.FullAndIncremental, options.Mode);
        Assert.Equal(500, options.ScanCount);
        Assert.Equal("u", options.Source!.User);
    }
}
