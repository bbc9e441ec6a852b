using System;
using System.IO;
using RedisSync.Engine.Sync;
using Xunit;

namespace RedisSync.Engine.Tests.Config;

/// <summary>
/// <c>${NAME}</c> in a shake.toml is replaced from the environment before the file is parsed, as
/// RedisShake does (braces required, so a <c>$</c> in a password stays); a variable that is not set is
/// an error naming it where a value uses it, and places in errors stay those of the file as written.
/// </summary>
public sealed class ShakePlaceholderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-placeholder-").FullName;

    public void Dispose()
    {
        foreach (string name in new[] { "REDISSYNC_PH_SOURCE", "REDISSYNC_PH_TLS", "REDISSYNC_PH_EMPTY", "REDISSYNC_PH_LONG", "REDISSYNC_PH_QUOTE", "REDISSYNC_PH_SET" })
        {
            Environment.SetEnvironmentVariable(name, null);
        }
        Directory.Delete(_dir, recursive: true);
    }

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "shake.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private string Refused(string text)
    {
        string path = Write(text);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        return error.Message.Substring($"The settings file '{path}' is not valid: ".Length);
    }

    [Fact]
    public void A_placeholder_is_replaced_as_text_before_parsing_so_it_may_stand_for_any_value()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_PH_SOURCE", "10.9.8.7:6390");
        Environment.SetEnvironmentVariable("REDISSYNC_PH_TLS", "true");
        SyncOptions options = SyncSettingsFile.Load(Write("""
            [sync_reader]
            address = "${REDISSYNC_PH_SOURCE}"
            tls = ${REDISSYNC_PH_TLS}
            [redis_writer]
            address = "redis://${REDISSYNC_PH_SOURCE}/2"
            """)).Options;
        Assert.Equal("10.9.8.7", options.Source!.Host);
        Assert.Equal(6390, options.Source.Port);
        Assert.True(options.Source.UseTls);
        Assert.Equal(2, options.Target.Database);
    }

    [Fact]
    public void Only_the_braced_form_is_replaced_so_a_dollar_in_a_password_stays()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_PH_SET", "replaced");
        SyncOptions options = SyncSettingsFile.Load(Write("""
            [sync_reader]
            address = "a:1"
            password = "pa$REDISSYNC_PH_SET-${REDISSYNC_PH_SET:-x}-$${REDISSYNC_PH_SET}"
            [redis_writer]
            address = "b:1"
            """)).Options;
        Assert.Equal("pa$REDISSYNC_PH_SET-${REDISSYNC_PH_SET:-x}-$replaced", options.Source!.Password);
    }

    [Fact]
    public void A_variable_set_to_nothing_gives_an_empty_value()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_PH_EMPTY", string.Empty);
        if (Environment.GetEnvironmentVariable("REDISSYNC_PH_EMPTY") == null) return; // Windows cannot hold an empty variable
        SyncOptions options = SyncSettingsFile.Load(Write("""
            [sync_reader]
            address = "a:1"
            username = "${REDISSYNC_PH_EMPTY}"
            password = "${REDISSYNC_PH_EMPTY}"
            [redis_writer]
            address = "b:1"
            """)).Options;
        Assert.Null(options.Source!.User);
        Assert.Null(options.Source.Password);
    }

    [Fact]
    public void A_placeholder_of_a_variable_that_is_not_set_does_no_harm_in_a_comment()
    {
        SyncOptions options = SyncSettingsFile.Load(Write("""
            # export REDISSYNC_PH_NEVER_SET=... to use ${REDISSYNC_PH_NEVER_SET}
            [sync_reader]
            address = "a:1" # or ${REDISSYNC_PH_NEVER_SET}
            [redis_writer]
            address = "b:1"
            """)).Options;
        Assert.Equal("a", options.Source!.Host);
    }

    [Fact]
    public void A_variable_that_is_not_set_is_named_at_its_place_in_a_string_and_outside_one()
    {
        Assert.Equal(
            "line 3, column 20: \"sync_reader.password\": the environment variable REDISSYNC_PH_NEVER_SET is not set " +
            "(the file uses ${REDISSYNC_PH_NEVER_SET} here): set it, or write the value itself",
            Refused("[sync_reader]\naddress = \"a:1\"\npassword = \"secret-${REDISSYNC_PH_NEVER_SET}\"\n[redis_writer]\naddress = \"b:1\"\n"));
        Assert.Equal(
            "line 3, column 7: the environment variable REDISSYNC_PH_NEVER_SET is not set (the file uses ${REDISSYNC_PH_NEVER_SET} here): set it, or write the value itself",
            Refused("[sync_reader]\naddress = \"a:1\"\ntls = ${REDISSYNC_PH_NEVER_SET}\n[redis_writer]\naddress = \"b:1\"\n"));
    }

    [Fact]
    public void An_error_after_a_replaced_value_gives_the_column_of_the_file_as_written()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_PH_LONG", "a-rather-long-host-name.example.net:6379");
        string message = Refused("[sync_reader]\naddress = \"a:1\"\n[redis_writer]\naddress = \"b:1\"\n[advanced]\ndir = \"${REDISSYNC_PH_LONG}\"; ncpu = 1\n");
        Assert.StartsWith("line 6, column 29: not valid TOML", message);
        Assert.DoesNotContain("rather-long", message);

        string mapped = Refused("redis_writer = { address = \"${REDISSYNC_PH_LONG}\", tls = \"no\" }\n[sync_reader]\naddress = \"a:1\"\n");
        Assert.Equal("line 1, column 52: \"redis_writer.tls\" must be a boolean, not a string", mapped);
    }

    [Fact]
    public void A_value_that_breaks_the_toml_is_not_quoted_in_the_error()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_PH_QUOTE", "pa\"ss-hunter2");
        string message = Refused("[sync_reader]\naddress = \"a:1\"\npassword = \"${REDISSYNC_PH_QUOTE}\"\n[redis_writer]\naddress = \"b:1\"\n");
        Assert.StartsWith("line 3, column 13: not valid TOML (a ${NAME} value goes in as text, as RedisShake puts it", message);
        Assert.EndsWith("the parser's message is left out because this line holds a value from the environment", message);
        Assert.DoesNotContain("hunter2", message);
    }
}
