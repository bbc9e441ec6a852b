using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using System.Text.RegularExpressions;
using RedisSync.Engine.Config;

namespace RedisSync.Engine.Tests.Config;

/// <summary>
/// Compares a parsed document with toml-test's tagged JSON (every scalar is {"type", "value"}):
/// floats numerically (nan, inf), date-times field by field, everything else exactly.
/// </summary>
public static class TomlTaggedJson
{
    /// <summary>Every difference, each with its path in the document; empty when they agree.</summary>
    public static List<string> Differences(TomlTable actual, JsonElement expected)
    {
        var differences = new List<string>();
        Compare(actual, expected, "(root)", differences);
        return differences;
    }

    private static void Compare(object actual, JsonElement expected, string path, List<string> differences)
    {
        if (IsTaggedScalar(expected))
        {
            string type = expected.GetProperty("type").GetString()!;
            string value = expected.GetProperty("value").GetString()!;
            if (!ScalarMatches(actual, type, value))
            {
                differences.Add($"{path}: expected {type} {value}, got {Show(actual)}");
            }

            return;
        }

        if (expected.ValueKind == JsonValueKind.Object)
        {
            if (actual is not TomlTable table)
            {
                differences.Add($"{path}: expected a table, got {Show(actual)}");
                return;
            }

            var expectedKeys = expected.EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
            foreach (string extra in table.Keys.Where(k => !expectedKeys.Contains(k)))
            {
                differences.Add($"{path}: unexpected key \"{extra}\" = {Show(table[extra])}");
            }

            foreach (JsonProperty property in expected.EnumerateObject())
            {
                if (table.ContainsKey(property.Name))
                {
                    Compare(table[property.Name], property.Value, $"{path}.\"{property.Name}\"", differences);
                }
                else
                {
                    differences.Add($"{path}: missing key \"{property.Name}\"");
                }
            }

            return;
        }

        if (expected.ValueKind == JsonValueKind.Array)
        {
            if (actual is not TomlArray array)
            {
                differences.Add($"{path}: expected an array, got {Show(actual)}");
                return;
            }

            int count = expected.GetArrayLength();
            if (array.Count != count)
            {
                differences.Add($"{path}: expected {count} elements, got {array.Count}");
                return;
            }

            int i = 0;
            foreach (JsonElement element in expected.EnumerateArray())
            {
                Compare(array[i], element, $"{path}[{i}]", differences);
                i++;
            }

            return;
        }

        differences.Add($"{path}: the expected JSON holds a bare {expected.ValueKind}, which tagged JSON never does");
    }

    private static bool IsTaggedScalar(JsonElement element) =>
        element.ValueKind == JsonValueKind.Object
        && element.EnumerateObject().Count() == 2
        && element.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String
        && element.TryGetProperty("value", out JsonElement value) && value.ValueKind == JsonValueKind.String;

    private static bool ScalarMatches(object actual, string type, string value)
    {
        switch (type)
        {
            case "string":
                return actual is string text && string.Equals(text, value, StringComparison.Ordinal);
            case "integer":
                return actual is long number && number == long.Parse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            case "float":
                return actual is double real && FloatMatches(real, value);
            case "bool":
                return actual is bool flag && (value == "true" ? flag : value == "false" ? !flag : throw new FormatException($"bool {value}"));
            case "datetime":
                return actual is TomlDateTime { Kind: TomlDateTimeKind.OffsetDateTime } odt && DateTimeMatches(odt, value);
            case "datetime-local":
                return actual is TomlDateTime { Kind: TomlDateTimeKind.LocalDateTime } ldt && DateTimeMatches(ldt, value);
            case "date-local":
                return actual is TomlDateTime { Kind: TomlDateTimeKind.LocalDate } ld && DateTimeMatches(ld, value);
            case "time-local":
                return actual is TomlDateTime { Kind: TomlDateTimeKind.LocalTime } lt && DateTimeMatches(lt, value);
            default:
                throw new FormatException($"unknown tagged-JSON type \"{type}\"");
        }
    }

    private static bool FloatMatches(double actual, string value) => value switch
    {
        "nan" or "+nan" or "-nan" => double.IsNaN(actual),
        "inf" or "+inf" => double.IsPositiveInfinity(actual),
        "-inf" => double.IsNegativeInfinity(actual),
        _ => actual == double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static readonly Regex DateTimeText = new Regex(
        @"^(?:(?<y>\d{4})-(?<mo>\d{2})-(?<d>\d{2}))?[Tt ]?(?:(?<h>\d{2}):(?<mi>\d{2}):(?<s>\d{2})(?:\.(?<f>\d+))?)?(?<z>[Zz]|[+-]\d{2}:\d{2})?$",
        RegexOptions.CultureInvariant);

    /// <summary>Reads the expected text on its own (T/t/space and Z/z alike, fractions to the nanosecond) and compares every field.</summary>
    private static bool DateTimeMatches(TomlDateTime actual, string value)
    {
        Match m = DateTimeText.Match(value);
        if (!m.Success) throw new FormatException($"expected date-time \"{value}\" is not RFC 3339");
        int Field(string name) => m.Groups[name].Success ? int.Parse(m.Groups[name].Value, CultureInfo.InvariantCulture) : 0;
        string fraction = m.Groups["f"].Value;
        int nanosecond = fraction.Length == 0 ? 0 : int.Parse(fraction.PadRight(9, '0').Substring(0, 9), CultureInfo.InvariantCulture);
        string zone = m.Groups["z"].Value;
        int offset = zone.Length <= 1 ? 0
            : (zone[0] == '-' ? -1 : 1) * (int.Parse(zone.Substring(1, 2), CultureInfo.InvariantCulture) * 60 + int.Parse(zone.Substring(4, 2), CultureInfo.InvariantCulture));
        return actual.HasDate == m.Groups["y"].Success && actual.HasTime == m.Groups["h"].Success
            && actual.Year == Field("y") && actual.Month == Field("mo") && actual.Day == Field("d")
            && actual.Hour == Field("h") && actual.Minute == Field("mi") && actual.Second == Field("s")
            && actual.Nanosecond == nanosecond && actual.OffsetMinutes == offset;
    }

    private static string Show(object value) => value switch
    {
        string text => $"string \"{text}\"",
        long number => $"integer {number}",
        double real => $"float {real.ToString("R", CultureInfo.InvariantCulture)}",
        bool flag => $"bool {(flag ? "true" : "false")}",
        TomlDateTime dateTime => $"{dateTime.Kind} {dateTime}",
        TomlArray array => $"array of {array.Count}",
        TomlTable table => $"table of {table.Count}",
        _ => value.GetType().Name,
    };
}
