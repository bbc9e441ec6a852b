using System;
using System.IO;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>A scheduled task's settings file (TOML) becomes the sync's options; mistakes name their line.</summary>
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
        SyncOptions options = SyncSettingsFile.Load(path, out string? statusFile);
        Assert.Equal("orders", options.Name);
        Assert.Equal(RedisSync.SyncMode.FullAndIncremental, options.Mode);
        Assert.True(options.FlushTarget);
        Assert.Equal(ConflictPolicy.Replace, options.OnConflict);
        Assert.True(options.SkipFailedCommands);
        Assert.Equal(TimeSpan.FromSeconds(90), options.ReconnectTimeout);
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
    [InlineData("nmae = \"x\"\n[target]\naddress = \"h:1\"", "line 1", "unknown setting \"nmae\"")]
    [InlineData("mode = \"Sometimes\"\n[target]\naddress = \"h:1\"", "line 1", "\"Sometimes\" is not one of")]
    [InlineData("[target]\naddress = \"h:1\"\nmode = \"Full\"", "line 3", "unknown setting \"target.mode\"")]
    [InlineData("[target]\naddress = \"h:99999\"", "line 2", "port")]
    [InlineData("name = 5\n[target]\naddress = \"h:1\"", "line 1", "must be a string")]
    [InlineData("[source]\naddress = \"h:1\"", "", "[target] section is missing")]
    [InlineData("[target]\naddress = \"h:1\"\npassword_env = \"REDISSYNC_TEST_UNSET_VARIABLE\"", "line 3", "is not set")]
    [InlineData("[target\naddress = \"h:1\"", "line 1", "")]
    public void A_mistake_is_an_error_that_names_the_file_the_line_and_what_is_wrong(string text, string line, string what)
    {
        string path = Write(text);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path, out _));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        Assert.Contains(path, error.Message);
        Assert.Contains(line, error.Message);
        Assert.Contains(what, error.Message);
    }
}
