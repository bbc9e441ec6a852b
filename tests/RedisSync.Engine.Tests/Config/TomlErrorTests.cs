using System;
using System.IO;
using RedisSync.Engine.Config;
using Xunit;

namespace RedisSync.Engine.Tests.Config;

/// <summary>What a user sees when a settings file is wrong: the place, and what was wrong there.</summary>
public sealed class TomlErrorTests
{
    private static TomlException Refused(string toml) => Assert.Throws<TomlException>(() => TomlDocument.Parse(toml));

    [Fact]
    public void Duplicate_key_names_the_key_its_place_and_the_first_definition()
    {
        var error = Refused("[target]\nport = 6379\n        port = 6380\n");

        Assert.Equal("line 3, column 9: duplicate key \"port\" (already defined at line 2)", error.Message);
        Assert.Equal(3, error.Line);
        Assert.Equal(9, error.Column);
        Assert.Equal("duplicate key \"port\" (already defined at line 2)", error.Reason);
    }

    [Fact]
    public void Table_defined_twice_points_at_the_second_header()
    {
        var error = Refused("[source]\nhost = \"a\"\n\n[source]\nport = 1\n");

        Assert.Equal("line 4, column 2: table \"source\" is defined twice (first at line 1)", error.Message);
    }

    [Fact]
    public void Implicit_table_defined_later_counts_from_its_own_header()
    {
        var error = Refused("[a.b]\n[a]\n[a]\n");

        Assert.Equal("line 3, column 2: table \"a\" is defined twice (first at line 2)", error.Message);
    }

    [Fact]
    public void Dotted_key_cannot_add_to_a_table_a_header_defined()
    {
        var error = Refused("[sync.retry]\ncount = 3\n\n[sync]\nretry.delay = 5\n");

        Assert.Equal("line 5, column 1: cannot add keys to the table \"retry\" with a dotted key: a table header created it (line 1)", error.Message);
    }

    [Fact]
    public void Inline_table_cannot_be_extended_by_a_header()
    {
        var error = Refused("tls = { enabled = true }\n[tls.client]\n");

        Assert.Equal("line 2, column 2: cannot add to the inline table \"tls\" (line 1): an inline table is complete as written", error.Message);
    }

    [Fact]
    public void Key_holding_a_value_cannot_become_a_table()
    {
        var error = Refused("source = \"redis://a\"\n[source.tls]\n");

        Assert.Equal("line 2, column 2: \"source\" is already a string (line 1), not a table", error.Message);
    }

    [Fact]
    public void Unclosed_string_reports_the_end_of_its_line()
    {
        var error = Refused("name = \"nightly\nport = 1\n");

        Assert.Equal("line 1, column 16: expected '\"' to close the string, found the end of the line", error.Message);
    }

    [Fact]
    public void Unclosed_array_names_where_it_was_opened()
    {
        var error = Refused("databases = [\n  0,\n  1,\n");

        Assert.Equal("line 4, column 1: expected ']' to close the array opened at line 1, column 13, found the end of the file", error.Message);
    }

    [Theory]
    [InlineData("n = 0x_1", "line 1, column 5: \"0x_1\" is not a valid number: expected a hexadecimal digit, found '_'")]
    [InlineData("n = 007", "line 1, column 5: \"007\" is not a valid number: leading zeros are not allowed")]
    [InlineData("n = 9223372036854775808", "line 1, column 5: \"9223372036854775808\" is not a valid number: it is outside the range of a 64-bit integer")]
    [InlineData("n = 0x8000000000000000", "line 1, column 5: \"0x8000000000000000\" is not a valid number: it is outside the range of a 64-bit integer")]
    [InlineData("n = 1e400", "line 1, column 5: \"1e400\" is not a valid number: it is outside the range of a 64-bit float")]
    [InlineData("n = -0xff", "line 1, column 5: \"-0xff\" is not a valid number: hexadecimal, octal and binary integers cannot have a sign")]
    [InlineData("n = 1__000", "line 1, column 5: \"1__000\" is not a valid number: an underscore must stand between two digits")]
    public void Bad_number_is_quoted_with_the_reason(string toml, string message)
    {
        Assert.Equal(message, Refused(toml).Message);
    }

    [Theory]
    [InlineData("d = 2023-02-29", "line 1, column 5: 2023-02-29 is not a date: February 2023 has 28 days")]
    [InlineData("t = 24:00:00", "line 1, column 5: 24:00:00 is not a time of day (hours 00-23, minutes 00-59, seconds 00-60)")]
    [InlineData("t = 1979-05-27T07:32Z", "line 1, column 21: expected ':' between the minutes and the seconds (TOML 1.0 requires seconds), found 'Z'")]
    [InlineData("t = 1979-05-27T07:32:00+25:00", "line 1, column 24: +25:00 is not a UTC offset (hours 00-23, minutes 00-59)")]
    public void Bad_date_time_says_which_field_is_wrong(string toml, string message)
    {
        Assert.Equal(message, Refused(toml).Message);
    }

    [Theory]
    [InlineData("s = \"a\\qb\"", "line 1, column 7: invalid escape sequence \\q (TOML knows \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)")]
    [InlineData("s = \"\\uD800\"", "line 1, column 6: \\uD800 is not a Unicode scalar value")]
    [InlineData("s = \"tab\u0001\"", "line 1, column 9: control character U+0001 must be escaped in a string")]
    [InlineData("s = \"\"\"a\"\"\"\"\"\"", "line 1, column 14: a multi-line string cannot hold three quotes in a row: escape one (\\\")")]
    public void Bad_string_points_at_the_offending_character(string toml, string message)
    {
        Assert.Equal(message, Refused(toml).Message);
    }

    [Theory]
    [InlineData("mode = full", "line 1, column 8: \"full\" is not a value: strings need quotes, booleans are true or false")]
    [InlineData("t = { a = 1, }", "line 1, column 14: an inline table cannot end with a trailing comma")]
    [InlineData("t = { a = 1\n}", "line 1, column 12: an inline table must be on one line: expected ',' or '}', found the end of the line")]
    [InlineData("a = 1 b = 2", "line 1, column 7: expected the end of the line after the value, found 'b'")]
    [InlineData("a = 1\rb = 2", "line 1, column 6: a carriage return (U+000D) must be followed by a line feed")]
    [InlineData("[[jobs]\n", "line 1, column 8: expected ']]' to close the array-of-tables header, found the end of the line")]
    public void Bad_structure_says_what_was_expected(string toml, string message)
    {
        Assert.Equal(message, Refused(toml).Message);
    }

    [Fact]
    public void Columns_count_characters_not_utf16_units()
    {
        var error = Refused("name = \"\U0001F600\U0001F600\" x\n");

        Assert.Equal("line 1, column 13: expected the end of the line after the value, found 'x'", error.Message);
    }

    [Fact]
    public void Lines_count_crlf_endings_once()
    {
        var error = Refused("a = 1\r\nb = 2\r\na = 3\r\n");

        Assert.Equal("line 3, column 1: duplicate key \"a\" (already defined at line 1)", error.Message);
    }

    [Fact]
    public void Unpaired_surrogate_in_text_is_refused()
    {
        var error = Refused("a = 1\nb = \"\uD800\"\n");

        Assert.Equal("line 2, column 6: unpaired surrogate U+D800 is not Unicode text", error.Message);
    }

    [Fact]
    public void Invalid_utf8_in_a_file_names_the_byte_and_its_place()
    {
        string path = Path.Combine(Path.GetTempPath(), $"redissync-toml-{Guid.NewGuid():N}.toml");
        try
        {
            File.WriteAllBytes(path, new byte[] { (byte)'a', (byte)'=', (byte)'1', (byte)'\n', (byte)'b', (byte)' ', (byte)'=', (byte)' ', (byte)'"', 0xC3, 0xA9, 0xFF, (byte)'"', (byte)'\n' });

            var error = Assert.Throws<TomlException>(() => TomlDocument.Load(path));

            Assert.Equal("line 2, column 7: byte 0xFF is not valid UTF-8 (settings files must be UTF-8)", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
