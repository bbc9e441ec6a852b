using System;
using System.IO;
using System.Linq;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using Xunit;

namespace RedisSync.Engine.Tests.Config;

/// <summary>
/// Every example configuration of RedisShake 4 (its shake.toml files and the toml blocks of its docs/,
/// copied into tests/fixtures/shake-configs) is read as it is: it maps onto RedisSync's settings, or
/// fails naming each option RedisSync does not support, with its line and column.
/// </summary>
/// <remarks>One class, so the tests that set SHAKE_SRC_ADDRESS and SHAKE_DST_ADDRESS never run beside one that expects them unset.</remarks>
public sealed class ShakeExampleTests : IDisposable
{
    private static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "shake-configs");

    private static readonly string[] Covered =
    {
        "shake.toml", "shake_sync_env.toml", "shake_scan_env.toml", "docs-en-guide-getting-started.toml",
        "docs-en-reader-sync_reader.toml", "docs-en-writer-redis_writer.toml", "docs-en-reader-rdb_reader.toml",
        "docs-en-reader-aof_reader.toml", "docs-zh-reader-scan_reader.toml", "docs-en-filter-function.toml",
        "docs-en-filter-filter-1.toml", "docs-en-filter-filter-2.toml", "docs-en-filter-filter-3.toml", "docs-en-filter-filter-4.toml",
    };

    public void Dispose()
    {
        Environment.SetEnvironmentVariable("SHAKE_SRC_ADDRESS", null);
        Environment.SetEnvironmentVariable("SHAKE_DST_ADDRESS", null);
    }

    private static string PathOf(string name) => Path.Combine(Dir, name);

    private static SyncSettings Read(string name)
    {
        SyncSettings settings = SyncSettingsFile.Load(PathOf(name));
        Assert.Equal(SettingsFormat.RedisShake, settings.Format);
        return settings;
    }

    /// <summary>The error's lines after its first: one problem each, in the order of the file.</summary>
    private static string[] Problems(string name)
    {
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(PathOf(name)));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        Assert.StartsWith($"The settings file '{PathOf(name)}' is not valid: ", error.Message);
        string[] lines = error.Message.Split('\n');
        return lines.Length == 1
            ? new[] { lines[0].Substring($"The settings file '{PathOf(name)}' is not valid: ".Length) }
            : lines.Skip(1).Select(l => l.Trim()).ToArray();
    }

    [Fact]
    public void Every_example_configuration_has_its_test()
    {
        string[] files = Directory.GetFiles(Dir, "*.toml").Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToArray()!;
        Assert.Equal(Covered.OrderBy(n => n, StringComparer.Ordinal), files);
    }

    [Fact]
    public void Shake_toml_maps_onto_a_full_and_incremental_sync_with_one_harmless_warning()
    {
        SyncSettings settings = Read("shake.toml");
        SyncOptions options = settings.Options;
        Assert.Equal("127.0.0.1", options.Source!.Host);
        Assert.Equal(6379, options.Source.Port);
        Assert.Null(options.Source.User);
        Assert.Null(options.Source.Password);
        Assert.False(options.Source.UseTls);
        Assert.Equal(6380, options.Target.Port);
        Assert.Null(options.Target.Password);
        Assert.Equal(RedisSync.SyncMode.FullAndIncremental, options.Mode);
        Assert.Equal(ConflictPolicy.Stop, options.OnConflict);
        Assert.False(options.FlushTarget);
        Assert.Equal(TimeSpan.FromSeconds(5), options.StatusInterval);
        Assert.Null(options.RdbPath);
        Assert.Null(settings.StatusFile);
        SyncWarning warning = Assert.Single(settings.Warnings);
        Assert.Equal(ShakeSettingsFile.SettingIgnored, warning.ErrorId);
        Assert.StartsWith($"The settings file '{PathOf("shake.toml")}', line 137, column 1: \"module.target_mbbloom_version\" = 20603 is ignored, which is harmless", warning.Message);
        options.Validate();
    }

    [Fact]
    public void Shake_sync_env_toml_takes_its_addresses_from_the_environment()
    {
        Environment.SetEnvironmentVariable("SHAKE_SRC_ADDRESS", "10.1.2.3:6379");
        Environment.SetEnvironmentVariable("SHAKE_DST_ADDRESS", "10.1.2.4:6380");
        SyncOptions options = Read("shake_sync_env.toml").Options;
        Assert.Equal("10.1.2.3", options.Source!.Host);
        Assert.Equal("10.1.2.4", options.Target.Host);
        Assert.Equal(6380, options.Target.Port);
        Assert.Equal(RedisSync.SyncMode.FullAndIncremental, options.Mode);
    }

    [Fact]
    public void Shake_sync_env_toml_without_its_variables_names_each_one_where_it_is_used()
    {
        Assert.Equal(new[]
        {
            "line 2, column 12: \"sync_reader.address\": the environment variable SHAKE_SRC_ADDRESS is not set (the file uses ${SHAKE_SRC_ADDRESS} here): set it, or write the value itself",
            "line 5, column 12: \"redis_writer.address\": the environment variable SHAKE_DST_ADDRESS is not set (the file uses ${SHAKE_DST_ADDRESS} here): set it, or write the value itself",
        }, Problems("shake_sync_env.toml"));
    }

    [Fact]
    public void Shake_scan_env_toml_is_read_as_a_scan_copy()
    {
        Environment.SetEnvironmentVariable("SHAKE_SRC_ADDRESS", "10.1.2.3:6379");
        Environment.SetEnvironmentVariable("SHAKE_DST_ADDRESS", "10.1.2.4:6380");
        SyncSettings settings = Read("shake_scan_env.toml");
        Assert.Equal("10.1.2.3:6379", settings.Options.Source!.ToString());
        Assert.Equal("10.1.2.4:6380", settings.Options.Target.ToString());
        Assert.Equal(SourceMode.Scan, settings.Options.SourceMode);
        // ksn is false by default in RedisShake: a scan without keyspace notifications is a one-off copy.
        Assert.Equal(RedisSync.SyncMode.Full, settings.Options.Mode);
    }

    [Fact]
    public void The_getting_started_example_maps_source_and_target()
    {
        SyncSettings settings = Read("docs-en-guide-getting-started.toml");
        Assert.Equal("127.0.0.1:6379", settings.Options.Source!.ToString());
        Assert.Equal("127.0.0.1:6380", settings.Options.Target.ToString());
        Assert.Empty(settings.Warnings);
    }

    [Fact]
    public void The_sync_reader_example_alone_lacks_only_a_target()
    {
        Assert.Equal(new[] { "there is no target: add a [redis_writer] section with the target's address = \"host:port\"" }, Problems("docs-en-reader-sync_reader.toml"));
    }

    [Fact]
    public void The_redis_writer_example_alone_lacks_only_a_source()
    {
        string problem = Assert.Single(Problems("docs-en-writer-redis_writer.toml"));
        Assert.StartsWith("there is no source: add a [sync_reader] section", problem);
    }

    [Fact]
    public void The_rdb_reader_example_alone_lacks_only_a_target()
    {
        Assert.Equal(new[] { "there is no target: add a [redis_writer] section with the target's address = \"host:port\"" }, Problems("docs-en-reader-rdb_reader.toml"));
    }

    [Fact]
    public void The_aof_reader_example_fails_on_its_section()
    {
        string[] problems = Problems("docs-en-reader-aof_reader.toml");
        Assert.StartsWith("line 1, column 2: [aof_reader] is not supported: RedisSync reads a live server ([sync_reader]) or an RDB file ([rdb_reader])", problems[0]);
        Assert.StartsWith("there is no target", problems[1]);
    }

    [Fact]
    public void The_scan_reader_options_without_their_header_are_named()
    {
        string[] problems = Problems("docs-zh-reader-scan_reader.toml");
        Assert.StartsWith("line 1, column 1: \"cluster\", \"address\", \"username\", \"password\", \"tls\", \"dbs\", \"scan\", \"ksn\", \"count\" are outside a section", problems[0]);
        Assert.Equal(3, problems.Length);
    }

    [Fact]
    public void The_lua_function_example_is_refused_with_a_pointer_to_where()
    {
        string problem = Assert.Single(Problems("docs-en-filter-function.toml"));
        Assert.StartsWith("line 1, column 1: \"function\": a Lua function is not supported", problem);
        Assert.Contains("Start-RedisSync -Where", problem);
        Assert.DoesNotContain("shake.call", problem);
    }

    [Theory]
    [InlineData("docs-en-filter-filter-1.toml", "RedisShake reads it only under [filter]: put it there", "allow_key_prefix", "allow_key_suffix", "block_key_prefix", "block_key_suffix")]
    [InlineData("docs-en-filter-filter-2.toml", "RedisShake reads it only under [filter]: put it there", "allow_db", "block_db")]
    [InlineData("docs-en-filter-filter-3.toml", "RedisShake reads it only under [filter]: put it there", "allow_command", "block_command")]
    [InlineData("docs-en-filter-filter-4.toml", "RedisShake reads it only under [filter]: put it there", "allow_command_group", "block_command_group")]
    public void The_filter_examples_outside_a_filter_section_fail_naming_each_filter(string file, string reason, params string[] options)
    {
        string[] problems = Problems(file);
        for (int i = 0; i < options.Length; i++)
        {
            Assert.StartsWith($"line {i + 1}, column 1: \"{options[i]}\" = [", problems[i]);
            Assert.Contains(reason, problems[i]);
        }
        Assert.Equal(options.Length + 2, problems.Length);
        Assert.StartsWith("there is no source", problems[^2]);
        Assert.StartsWith("there is no target", problems[^1]);
    }
}
