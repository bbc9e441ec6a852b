using System;
using System.Globalization;
using System.Text;

namespace RedisSync.Engine.Config;

/// <summary>Which of TOML's four date-time forms a value was written in.</summary>
public enum TomlDateTimeKind
{
    /// <summary><c>1979-05-27T07:32:00-08:00</c>: an instant.</summary>
    OffsetDateTime,

    /// <summary><c>1979-05-27T07:32:00</c>: a wall-clock time in no particular zone.</summary>
    LocalDateTime,

    /// <summary><c>1979-05-27</c>: a day.</summary>
    LocalDate,

    /// <summary><c>07:32:00</c>: a time of day.</summary>
    LocalTime,
}

/// <summary>
/// A TOML date-time exactly as written: the form and each field, since a local time or date has
/// no faithful <see cref="DateTimeOffset"/> (fractions beyond nanoseconds are truncated, as TOML allows).
/// </summary>
public sealed class TomlDateTime : IEquatable<TomlDateTime>
{
    internal TomlDateTime(
        TomlDateTimeKind kind, int year, int month, int day,
        int hour, int minute, int second, int nanosecond, int offsetMinutes)
    {
        Kind = kind;
        Year = year;
        Month = month;
        Day = day;
        Hour = hour;
        Minute = minute;
        Second = second;
        Nanosecond = nanosecond;
        OffsetMinutes = offsetMinutes;
    }

    /// <summary>Which form was written, since the forms mean different things (an instant, a wall-clock time, a day, a time of day).</summary>
    public TomlDateTimeKind Kind { get; }

    /// <summary>Year (1–9999); 0 for a local time.</summary>
    public int Year { get; }

    /// <summary>Month (1–12); 0 for a local time.</summary>
    public int Month { get; }

    /// <summary>Day of the month; 0 for a local time.</summary>
    public int Day { get; }

    /// <summary>Hour (0–23); 0 for a local date.</summary>
    public int Hour { get; }

    public int Minute { get; }

    /// <summary>Second (0–60: RFC 3339 allows a leap second).</summary>
    public int Second { get; }

    /// <summary>Fraction of the second in nanoseconds (0–999 999 999).</summary>
    public int Nanosecond { get; }

    /// <summary>Offset from UTC in minutes for an offset date-time (<c>Z</c> is 0); 0 for the local forms.</summary>
    public int OffsetMinutes { get; }

    /// <summary>True when the value has a date part (all forms but local time).</summary>
    public bool HasDate => Kind != TomlDateTimeKind.LocalTime;

    /// <summary>True when the value has a time part (all forms but local date).</summary>
    public bool HasTime => Kind != TomlDateTimeKind.LocalDate;

    /// <summary>
    /// The instant an offset date-time names, for settings such as a start time; to 100 ns, with a
    /// leap second held at the last tick of the minute.
    /// </summary>
    public DateTimeOffset ToDateTimeOffset()
    {
        if (Kind != TomlDateTimeKind.OffsetDateTime)
        {
            throw new InvalidOperationException($"A {KindName(Kind)} ({this}) names no instant: it has no UTC offset.");
        }

        long ticks = Second == 60 ? TimeSpan.TicksPerSecond - 1 : Nanosecond / 100;
        var clock = new DateTime(Year, Month, Day, Hour, Minute, Math.Min(Second, 59), DateTimeKind.Unspecified);
        return new DateTimeOffset(clock.AddTicks(ticks), TimeSpan.FromMinutes(OffsetMinutes));
    }

    /// <summary>The RFC 3339 text of the value (<c>T</c> separator, <c>Z</c> for a zero offset, fraction without trailing zeros).</summary>
    public override string ToString()
    {
        var text = new StringBuilder(35);
        if (HasDate)
        {
            text.Append(Year.ToString("D4", CultureInfo.InvariantCulture)).Append('-')
                .Append(Month.ToString("D2", CultureInfo.InvariantCulture)).Append('-')
                .Append(Day.ToString("D2", CultureInfo.InvariantCulture));
            if (HasTime) text.Append('T');
        }

        if (HasTime)
        {
            text.Append(Hour.ToString("D2", CultureInfo.InvariantCulture)).Append(':')
                .Append(Minute.ToString("D2", CultureInfo.InvariantCulture)).Append(':')
                .Append(Second.ToString("D2", CultureInfo.InvariantCulture));
            if (Nanosecond != 0)
            {
                text.Append('.').Append(Nanosecond.ToString("D9", CultureInfo.InvariantCulture).TrimEnd('0'));
            }
        }

        if (Kind == TomlDateTimeKind.OffsetDateTime)
        {
            if (OffsetMinutes == 0)
            {
                text.Append('Z');
            }
            else
            {
                int minutes = Math.Abs(OffsetMinutes);
                text.Append(OffsetMinutes < 0 ? '-' : '+')
                    .Append((minutes / 60).ToString("D2", CultureInfo.InvariantCulture)).Append(':')
                    .Append((minutes % 60).ToString("D2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    /// <summary>Same form and same fields: 07:00:00+02:00 and 05:00:00Z name one instant but are written differently.</summary>
    public bool Equals(TomlDateTime? other) =>
        other is not null && Kind == other.Kind && Year == other.Year && Month == other.Month && Day == other.Day
        && Hour == other.Hour && Minute == other.Minute && Second == other.Second
        && Nanosecond == other.Nanosecond && OffsetMinutes == other.OffsetMinutes;

    public override bool Equals(object? obj) => Equals(obj as TomlDateTime);

    public override int GetHashCode()
    {
        unchecked
        {
            int hash = (int)Kind;
            hash = (hash * 397) ^ (((Year * 13 + Month) * 32 + Day) * 24 + Hour);
            hash = (hash * 397) ^ ((Minute * 61 + Second) * 1441 + OffsetMinutes);
            return (hash * 397) ^ Nanosecond;
        }
    }

    internal static string KindName(TomlDateTimeKind kind) => kind switch
    {
        TomlDateTimeKind.OffsetDateTime => "offset date-time",
        TomlDateTimeKind.LocalDateTime => "local date-time",
        TomlDateTimeKind.LocalDate => "local date",
        _ => "local time",
    };
}
