using System;
using System.IO;
using System.Linq;
using System.Text;
using RedisSync.Engine.Config;
using Xunit;

namespace RedisSync.Engine.Tests.Config;

/// <summary>Reading a settings file the way the settings binder will: typed getters, order, places, encodings.</summary>
public sealed class TomlDocumentTests
{
    private const string SyncToml = """
        # nightly copy
        name = "nightly"

        [source]
        endpoint = "redis://10.0.0.5:6379"
        tls."ca-file" = 'C:\certs\ca.pem'

        [target]
        endpoint = "redis://backup:6380"
        databases = [0, 1, 15]

        [sync]
        batch-size = 500
        timeout = 30
        ratio = 0.75
        start = 2024-06-01T02:00:00.250+02:00
        enabled = true

        [[sync.exclude]]
        pattern = "tmp:*"

        [[sync.exclude]]
        pattern = "cache:*"
        """;

    [Fact]
    public void Typed_getters_read_settings_by_dotted_path()
    {
        TomlTable doc = TomlDocument.Parse(SyncToml);

        Assert.True(doc.TryGet("source.endpoint", out string? endpoint));
        Assert.Equal("redis://10.0.0.5:6379", endpoint);
        Assert.True(doc.TryGet("source.tls.\"ca-file\"", out string? caFile));
        Assert.Equal(@"C:\certs\ca.pem", caFile);
        Assert.True(doc.TryGet("sync.batch-size", out int batch));
        Assert.Equal(500, batch);
        Assert.True(doc.TryGet("sync.batch-size", out long batchLong));
        Assert.Equal(500L, batchLong);
        Assert.True(doc.TryGet("sync.timeout", out double timeout));
        Assert.Equal(30.0, timeout);
        Assert.True(doc.TryGet("sync.ratio", out double ratio));
        Assert.Equal(0.75, ratio);
        Assert.True(doc.TryGet("sync.enabled", out bool enabled));
        Assert.True(enabled);
        Assert.True(doc.TryGet("target.databases", out TomlArray? databases));
        Assert.Equal(new object[] { 0L, 1L, 15L }, databases!.ToArray());
        Assert.True(doc.TryGet("sync.exclude", out TomlArray? exclude));
        Assert.True(exclude!.IsArrayOfTables);
        Assert.Equal(new[] { "tmp:*", "cache:*" }, exclude.Cast<TomlTable>().Select(t => (string)t["pattern"]));
    }

    [Fact]
    public void Missing_setting_is_false_and_missing_section_is_an_error()
    {
        TomlTable doc = TomlDocument.Parse(SyncToml);

        Assert.False(doc.TryGet("sync.retries", out long _));
        Assert.False(doc.TryGet("checkpoint.path", out string? _));
        Assert.Equal("table \"checkpoint\" is missing", Assert.Throws<TomlException>(() => doc.GetTable("checkpoint")).Message);
        Assert.Equal("redis://backup:6380", doc.GetTable("target")["endpoint"]);
    }

    [Fact]
    public void Setting_of_the_wrong_type_names_its_line()
    {
        TomlTable doc = TomlDocument.Parse(SyncToml);

        var error = Assert.Throws<TomlException>(() => doc.TryGet("sync.enabled", out string? _));
        Assert.Equal("line 17, column 1: \"sync.enabled\" must be a string, not a boolean", error.Message);

        error = Assert.Throws<TomlException>(() => doc.TryGet("name.first", out string? _));
        Assert.Equal("line 2, column 1: \"name\" must be a table, not a string", error.Message);

        error = Assert.Throws<TomlException>(() => doc.TryGet("sync.ratio", out int _));
        Assert.Equal("line 15, column 1: \"sync.ratio\" must be an integer, not a float", error.Message);
    }

    [Fact]
    public void Integer_too_large_for_int_is_refused_not_truncated()
    {
        TomlTable doc = TomlDocument.Parse("big = 3000000000");

        var error = Assert.Throws<TomlException>(() => doc.TryGet("big", out int _));
        Assert.Equal("line 1, column 1: \"big\" is 3000000000, outside the range -2147483648 to 2147483647", error.Message);
    }

    [Fact]
    public void Path_that_is_not_toml_syntax_is_a_caller_error()
    {
        TomlTable doc = TomlDocument.Parse(SyncToml);

        Assert.Throws<ArgumentException>(() => doc.TryGet("sync..batch", out long _));
        Assert.Throws<NotSupportedException>(() => doc.TryGet("sync.start", out DateTime _));
    }

    [Fact]
    public void Keys_keep_document_order_and_binder_errors_point_at_a_key()
    {
        TomlTable doc = TomlDocument.Parse(SyncToml);
        TomlTable sync = doc.GetTable("sync");

        Assert.Equal(new[] { "name", "source", "target", "sync" }, doc.Keys);
        Assert.Equal(new[] { "batch-size", "timeout", "ratio", "start", "enabled", "exclude" }, sync.Keys);
        Assert.Equal(sync.Keys, sync.Select(pair => pair.Key));
        Assert.Equal("line 14, column 1: unknown setting \"timeout\"", sync.ErrorAt("timeout", "unknown setting \"timeout\"").Message);
        Assert.Equal(12, doc.ErrorAt("sync", "x").Line);
    }

    [Fact]
    public void Date_times_keep_their_kind_and_exact_fields()
    {
        TomlTable doc = TomlDocument.Parse("odt = 2024-06-01T02:00:00.250+02:00\nldt = 2024-06-01 02:00:00.123456789999\nld = 2024-02-29\nlt = 23:59:60\n");

        var odt = (TomlDateTime)doc["odt"];
        Assert.Equal(TomlDateTimeKind.OffsetDateTime, odt.Kind);
        Assert.Equal((2024, 6, 1, 2, 0, 0, 250_000_000, 120), (odt.Year, odt.Month, odt.Day, odt.Hour, odt.Minute, odt.Second, odt.Nanosecond, odt.OffsetMinutes));
        Assert.Equal(new DateTimeOffset(2024, 6, 1, 0, 0, 0, 250, TimeSpan.Zero), odt.ToDateTimeOffset());
        Assert.Equal("2024-06-01T02:00:00.25+02:00", odt.ToString());

        var ldt = (TomlDateTime)doc["ldt"];
        Assert.Equal(TomlDateTimeKind.LocalDateTime, ldt.Kind);
        Assert.Equal(123_456_789, ldt.Nanosecond);
        Assert.Equal("2024-06-01T02:00:00.123456789", ldt.ToString());
        Assert.Throws<InvalidOperationException>(() => ldt.ToDateTimeOffset());

        var ld = (TomlDateTime)doc["ld"];
        Assert.Equal((TomlDateTimeKind.LocalDate, "2024-02-29"), (ld.Kind, ld.ToString()));

        var lt = (TomlDateTime)doc["lt"];
        Assert.Equal((TomlDateTimeKind.LocalTime, 60, "23:59:60"), (lt.Kind, lt.Second, lt.ToString()));
        Assert.Equal(lt, TomlDocument.Parse("x = 23:59:60")["x"]);
    }

    [Fact]
    public void Multiline_strings_read_the_same_from_crlf_and_lf_files()
    {
        const string Lf = "s = \"\"\"\none\ntwo \\\n   three\"\"\"\nr = '''\nraw\\n\n'''\n";

        TomlTable fromLf = TomlDocument.Parse(Lf);
        TomlTable fromCrlf = TomlDocument.Parse(Lf.Replace("\n", "\r\n"));

        Assert.Equal("one\ntwo three", fromLf["s"]);
        Assert.Equal("raw\\n\n", fromLf["r"]);
        Assert.Equal(fromLf["s"], fromCrlf["s"]);
        Assert.Equal(fromLf["r"], fromCrlf["r"]);
    }

    [Fact]
    public void Load_reads_utf8_with_or_without_a_byte_order_mark()
    {
        string path = Path.Combine(Path.GetTempPath(), $"redissync-toml-{Guid.NewGuid():N}.toml");
        try
        {
            byte[] body = Encoding.UTF8.GetBytes("name = \"Zürich ☃\"\n");
            File.WriteAllBytes(path, body);
            Assert.Equal("Zürich ☃", TomlDocument.Load(path)["name"]);

            File.WriteAllBytes(path, new byte[] { 0xEF, 0xBB, 0xBF }.Concat(body).ToArray());
            Assert.Equal("Zürich ☃", TomlDocument.Load(path)["name"]);

            File.WriteAllBytes(path, new byte[] { 0xEF, 0xBB, 0xBF, 0xEF, 0xBB, 0xBF }.Concat(body).ToArray());
            Assert.Equal("line 1, column 1: expected a key, found '\uFEFF' (U+FEFF)", Assert.Throws<TomlException>(() => TomlDocument.Load(path)).Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Special_floats_and_prefixed_integers_read_as_values()
    {
        TomlTable doc = TomlDocument.Parse("a = -inf\nb = nan\nc = 0xdead_beef\nd = 0o755\ne = 0b1010\nf = -9_223_372_036_854_775_808\ng = 6.02e+23\nh = 0e0\n");

        Assert.Equal(double.NegativeInfinity, doc["a"]);
        Assert.True(double.IsNaN((double)doc["b"]));
        Assert.Equal(0xdeadbeefL, doc["c"]);
        Assert.Equal(493L, doc["d"]);
        Assert.Equal(10L, doc["e"]);
        Assert.Equal(long.MinValue, doc["f"]);
        Assert.Equal(6.02e23, doc["g"]);
        Assert.Equal(0.0, doc["h"]);
    }
}
