using System;
using System.IO;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>A scheduled task's settings file (TOML) becomes the sync's options; mistakes name their line and column.</summary>
public sealed class SettingsFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "sync.toml");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void Every_setting_is_read_and_passwords_come_from_the_file_an_environment_variable_or_a_secret_file()
    {
        File.WriteAllText(Path.Combine(_dir, "target.secret"), "t-secret\n");
        Environment.SetEnvironmentVariable("REDISSYNC_TEST_SOURCE_PASSWORD", "s-secret");
        string path = Write("""
            name = "orders"
            mode = "FullAndIncremental"
            flush_target = true
            on_conflict = "replace"
            skip_failed_commands = true
            reconnect_timeout_seconds = 90
            max_write_rate = 2500
            status_file = "status/orders.json"

            [source]
            address = "redis://10.0.0.5:6380"
            user = "replicator"
            password_env = "REDISSYNC_TEST_SOURCE_PASSWORD"

            [target]
            address = "10.0.0.6:6379"
            password_file = "target.secret"

            [database_map]
            0 = 1
            2 = 3
            """);
        SyncSettings settings = SyncSettingsFile.Load(path);
        SyncOptions options = settings.Options;
        string? statusFile = settings.StatusFile;
        Assert.Equal(SettingsFormat.RedisSync, settings.Format);
        Assert.Empty(settings.Warnings);
        Assert.Equal("orders", options.Name);
        Assert.Equal(RedisSync.SyncMode.FullAndIncremental, options.Mode);
        Assert.True(options.FlushTarget);
        Assert.Equal(ConflictPolicy.Replace, options.OnConflict);
        Assert.True(options.SkipFailedCommands);
        Assert.Equal(TimeSpan.FromSeconds(90), options.ReconnectTimeout);
        Assert.Equal(2500, options.MaxWriteRate);
        Assert.Equal(Path.Combine(_dir, "status/orders.json"), statusFile);
        Assert.Equal("10.0.0.5", options.Source!.Host);
        Assert.Equal(6380, options.Source.Port);
        Assert.Equal("replicator", options.Source.User);
        Assert.Equal("s-secret", options.Source.Password);
        Assert.Equal("t-secret", options.Target.Password);
        Assert.Equal(1, options.DatabaseMap![0]);
        Assert.Equal(3, options.DatabaseMap[2]);
        Assert.DoesNotContain("secret", options.Source.ToString());
        options.Validate();
    }

    [Theory]
    [InlineData("nmae = \"x\"\n[target]\naddress = \"h:1\"", "line 1, column 1: unknown setting \"nmae\" (known: name, mode,")]
    [InlineData("mode = \"Sometimes\"\n[target]\naddress = \"h:1\"", "line 1, column 1: \"Sometimes\" is not one of Full, Incremental, FullAndIncremental")]
    [InlineData("[target]\naddress = \"h:1\"\n  mode = \"Full\"", "line 3, column 3: unknown setting \"target.mode\"")]
    [InlineData("[target]\naddress = \"h:99999\"", "line 2, column 1: 'h:99999' is not a valid Redis address: the port '99999'")]
    [InlineData("name = 5\n[target]\naddress = \"h:1\"", "line 1, column 1: \"name\" must be a string, not an integer")]
    [InlineData("flush_target = \"yes\"\n[target]\naddress = \"h:1\"", "line 1, column 1: \"flush_target\" must be a boolean, not a string")]
    [InlineData("status_interval_seconds = 0\n[target]\naddress = \"h:1\"", "line 1, column 1: \"status_interval_seconds\" must be from 1 to 604800 seconds")]
    [InlineData("[target]\naddress = \"h:1\"\n[database_map]\n0 = -1", "line 4, column 1: a database number must be 0 or more")]
    [InlineData("[target]\naddress = \"h:1\"\n[database_map]\nx = 1", "line 4, column 1: database \"x\" is not a number")]
    [InlineData("[source]\naddress = \"h:1\"", "the [target] section is missing")]
    [InlineData("[source]\nuser = \"u\"\n[target]\naddress = \"h:1\"", "line 1, column 2: \"source.address\" is missing")]
    [InlineData("[target]\naddress = \"h:1\"\npassword_env = \"REDISSYNC_TEST_UNSET_VARIABLE\"", "line 3, column 1: the environment variable \"REDISSYNC_TEST_UNSET_VARIABLE\" is not set")]
    [InlineData("[target\naddress = \"h:1\"", "line 1, column 8: not valid TOML: ")]
    [InlineData("[target]\naddress = \"h:1\"\naddress = \"h:2\"", "line 3, column 1: not valid TOML: The key `target.address` is already defined")]
    [InlineData("[target]\naddress = \"h:1\"\n[target]\nuser = \"u\"", "line 3, column 1: not valid TOML: ")]
    public void A_mistake_is_an_error_that_names_the_file_the_line_the_column_and_what_is_wrong(string text, string expected)
    {
        string path = Write(text);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        Assert.StartsWith($"The settings file '{path}' is not valid: {expected}", error.Message);
    }

    [Theory]
    [InlineData("[target]\naddress = \"h:1\"\npassword = \"hunter2\" extra")]
    [InlineData("[target]\naddress = \"h:1\"\npassword = hunter2")]
    [InlineData("[target]\naddress = \"h:1\"\npassword = \"hunter2\"\npassword = \"hunter2\"")]
    [InlineData("[target]\naddress = \"redis://u:hunter2@h:1\" extra")]
    [InlineData("[target]\naddress = \"redis://u:hunter2@h:99999\"")]
    [InlineData("[target]\naddress = \"h:1\"\npassword = 7")]
    public void A_mistake_near_a_password_names_its_place_but_never_the_password(string text)
    {
        string path = Write(text);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        Assert.Matches(@"line \d+, column \d+: ", error.Message);
        Assert.DoesNotContain("hunter", error.Message);
    }

    [Fact]
    public void A_byte_that_is_not_utf8_is_named_with_its_line_and_column()
    {
        string path = Path.Combine(_dir, "sync.toml");
        byte[] start = System.Text.Encoding.UTF8.GetBytes("[target]\naddress = \"h:1\"\nname = \"\u00e9x");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. start, 0xFF, (byte)'"', (byte)'\n']);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Contains("line 3, column 11: byte 0xFF is not valid UTF-8", error.Message);
    }

    [Fact]
    public void A_settings_file_with_a_byte_order_mark_and_crlf_line_ends_is_read_as_written()
    {
        string path = Path.Combine(_dir, "sync.toml");
        File.WriteAllText(path, "\uFEFFname = \"crlf\"\r\n[target]\r\naddress = \"h:1\"\r\n  user = 3\r\n");
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Contains("line 4, column 3: \"target.user\" must be a string, not an integer", error.Message);
        File.WriteAllText(path, "\uFEFFname = \"crlf\"\r\n[target]\r\naddress = \"h:1\"\r\n");
        Assert.Equal("crlf", SyncSettingsFile.Load(path).Options.Name);
    }

    [Fact]
    public void A_placeholder_in_redissyncs_own_file_is_kept_as_written()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_TEST_OWN_PLACEHOLDER", "replaced");
        string path = Write("name = \"x\"\n[target]\naddress = \"h:1\"\npassword = \"${REDISSYNC_TEST_OWN_PLACEHOLDER}\"");
        Assert.Equal("${REDISSYNC_TEST_OWN_PLACEHOLDER}", SyncSettingsFile.Load(path).Options.Target.Password);
    }

    [Fact]
    public void The_filter_section_sets_the_same_filters_as_the_parameters()
    {
        string path = Write("""
            name = "filtered"
            [source]
            address = "10.0.0.5:6379"
            [target]
            address = "10.0.0.6:6379"
            [filter]
            key = ["user:*", "order:*"]
            exclude_key = ["user:tmp:*"]
            database = [0, 2]
            type = ["string", "hash"]
            exclude_command = ["FLUSHALL", "@scripting"]
            """);
        SyncSettings settings = SyncSettingsFile.Load(path);
        Assert.Equal(SettingsFormat.RedisSync, settings.Format);
        RedisSync.Engine.Transform.SyncFilter filter = settings.Options.Filter!;
        Assert.Equal("-Key 'user:*','order:*' -ExcludeKey 'user:tmp:*' -Database 0,2 -Type string,hash -ExcludeCommand 'FLUSHALL','@scripting'", filter.ToString());
        Assert.Equal(filter.ToString(), RedisSync.Engine.Sync.FilterSettings.Parse(filter.ToToml())!.ToString());
    }

    [Theory]
    [InlineData("[filter]\nkeys = [\"a\"]", "line 6, column 1: unknown setting \"filter.keys\"")]
    [InlineData("[filter]\ntype = [\"blob\"]", "line 5, column 2: -Type 'blob' is not a type")]
    [InlineData("[filter]\ndatabase = [\"0\"]", "line 6, column 1: \"filter.database\" must be a list of integers")]
    public void A_wrong_filter_setting_names_its_line(string section, string expected)
    {
        string path = Write("[source]\naddress = \"h:1\"\n[target]\naddress = \"h:2\"\n" + section + "\n");
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        Assert.Contains(expected, error.Message);
    }
}
