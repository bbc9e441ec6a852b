using System;
using System.Globalization;

namespace RedisSync.Engine.Config;

/// <summary>The scalar values: the four string forms, integers, floats, booleans and date-times.</summary>
internal sealed partial class TomlParser
{
    // ---- strings ----

    /// <summary>A "basic string" with escapes, on one line.</summary>
    private string ReadBasicString()
    {
        _pos++;
        _scratch.Clear();
        int run = _pos;
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] == '\n' || _text[_pos] == '\r')
            {
                throw Error($"expected '\"' to close the string, found {Found(_pos)}");
            }

            char c = _text[_pos];
            if (c == '"')
            {
                _scratch.Append(_text, run, _pos - run);
                _pos++;
                return _scratch.ToString();
            }

            if (c == '\\')
            {
                _scratch.Append(_text, run, _pos - run);
                ReadEscape();
                run = _pos;
            }
            else if (IsControl(c))
            {
                throw Error($"{Found(_pos)} must be escaped in a string");
            }
            else
            {
                _pos++;
            }
        }
    }

    /// <summary>A 'literal string': no escapes, on one line.</summary>
    private string ReadLiteralString()
    {
        int start = ++_pos;
        while (true)
        {
            if (_pos >= _text.Length || _text[_pos] == '\n' || _text[_pos] == '\r')
            {
                throw Error($"expected \"'\" to close the literal string, found {Found(_pos)}");
            }

            char c = _text[_pos];
            if (c == '\'')
            {
                _pos++;
                return _text.Substring(start, _pos - 1 - start);
            }

            if (IsControl(c)) throw Error($"{Found(_pos)} is not allowed in a literal string");
            _pos++;
        }
    }

    /// <summary>
    /// A """multi-line basic""" or '''multi-line literal''' string: a newline right after the
    /// opening quotes is dropped, newlines (LF or CRLF) read as LF whatever the file uses, up to
    /// two quotes may stand together, and in the basic form a backslash at the end of a line
    /// joins it to the next text.
    /// </summary>
    private string ReadMultilineString(char quote)
    {
        bool basic = quote == '"';
        string form = basic ? "multi-line string" : "multi-line literal string";
        int openedLine = _line;
        _pos += 3;
        TryNewLine();
        _scratch.Clear();
        int run = _pos;
        while (true)
        {
            if (_pos >= _text.Length)
            {
                throw Error($"expected {new string(quote, 3)} to close the {form} opened on line {openedLine}, found the end of the file");
            }

            char c = _text[_pos];
            if (c == quote)
            {
                int quotes = 1;
                while (_pos + quotes < _text.Length && _text[_pos + quotes] == quote) quotes++;
                if (quotes < 3)
                {
                    _pos += quotes;
                    continue;
                }

                if (quotes > 5)
                {
                    throw ErrorAt(_pos + 5, basic
                        ? "a multi-line string cannot hold three quotes in a row: escape one (\\\")"
                        : "a multi-line literal string cannot hold three apostrophes in a row");
                }

                _scratch.Append(_text, run, _pos + quotes - 3 - run);
                _pos += quotes;
                return _scratch.ToString();
            }

            if (c == '\n' || c == '\r')
            {
                _scratch.Append(_text, run, _pos - run).Append('\n');
                TryNewLine();
                run = _pos;
            }
            else if (basic && c == '\\')
            {
                _scratch.Append(_text, run, _pos - run);
                if (IsLineEndingBackslash())
                {
                    SkipLineEndingBackslash();
                }
                else
                {
                    ReadEscape();
                }

                run = _pos;
            }
            else if (IsControl(c))
            {
                throw Error($"{Found(_pos)} {(basic ? "must be escaped" : "is not allowed")} in a {form}");
            }
            else
            {
                _pos++;
            }
        }
    }

    /// <summary>True when the backslash at the position has only spaces after it up to the end of its line.</summary>
    private bool IsLineEndingBackslash()
    {
        int i = _pos + 1;
        while (i < _text.Length && (_text[i] == ' ' || _text[i] == '\t')) i++;
        return i < _text.Length && (_text[i] == '\n' || (_text[i] == '\r' && i + 1 < _text.Length && _text[i + 1] == '\n'));
    }

    /// <summary>Drops the backslash and all whitespace and newlines after it.</summary>
    private void SkipLineEndingBackslash()
    {
        _pos++;
        while (true)
        {
            SkipSpaces();
            if (!TryNewLine()) return;
        }
    }

    /// <summary>Appends the character an escape sequence stands for (the position is at the backslash).</summary>
    private void ReadEscape()
    {
        int start = _pos;
        char c = Peek(1);
        char value;
        switch (c)
        {
            case 'b': value = '\b'; break;
            case 't': value = '\t'; break;
            case 'n': value = '\n'; break;
            case 'f': value = '\f'; break;
            case 'r': value = '\r'; break;
            case '"': value = '"'; break;
            case '\\': value = '\\'; break;
            case 'u':
            case 'U':
                ReadUnicodeEscape(c == 'u' ? 4 : 8);
                return;
            default:
                string what = _pos + 1 >= _text.Length || c == '\n' || c == '\r' || c == ' ' || c == '\t'
                    ? $"a backslash must start an escape sequence, found {Found(_pos + 1)} after it"
                    : $"invalid escape sequence \\{(IsControl(c) || c >= 0x80 ? Found(_pos + 1) : c.ToString())}"
                      + " (TOML knows \\b \\t \\n \\f \\r \\\" \\\\ \\uXXXX \\UXXXXXXXX)";
                throw ErrorAt(start, what);
        }

        _scratch.Append(value);
        _pos += 2;
    }

    private void ReadUnicodeEscape(int digits)
    {
        int start = _pos;
        char letter = _text[_pos + 1];
        _pos += 2;
        int codePoint = 0;
        for (int i = 0; i < digits; i++)
        {
            int digit = _pos < _text.Length ? HexValue(_text[_pos]) : -1;
            if (digit < 0)
            {
                throw ErrorAt(start, $"\\{letter} must be followed by {digits} hexadecimal digits, found {Found(_pos)}");
            }

            if (codePoint > 0x10FFFF) codePoint = 0x110000;
            else codePoint = (codePoint << 4) | digit;
            _pos++;
        }

        if (codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))
        {
            throw ErrorAt(start, $"{_text.Substring(start, _pos - start)} is not a Unicode scalar value");
        }

        if (codePoint < 0x10000)
        {
            _scratch.Append((char)codePoint);
        }
        else
        {
            codePoint -= 0x10000;
            _scratch.Append((char)(0xD800 + (codePoint >> 10))).Append((char)(0xDC00 + (codePoint & 0x3FF)));
        }
    }

    private static int HexValue(char c) =>
        c >= '0' && c <= '9' ? c - '0'
        : c >= 'a' && c <= 'f' ? c - 'a' + 10
        : c >= 'A' && c <= 'F' ? c - 'A' + 10
        : -1;

    // ---- booleans and numbers ----

    /// <summary>An unquoted value that is not a date-time: true, false, an integer or a float.</summary>
    private object ParseWord()
    {
        int start = _pos;
        while (_pos < _text.Length && (TomlKey.IsBare(_text[_pos]) || _text[_pos] == '.' || _text[_pos] == '+')) _pos++;
        string word = _text.Substring(start, _pos - start);
        switch (word)
        {
            case "true": return true;
            case "false": return false;
            case "inf": case "+inf": return double.PositiveInfinity;
            case "-inf": return double.NegativeInfinity;
            case "nan": case "+nan": case "-nan": return double.NaN;
        }

        char first = word[0];
        if (!IsDigit(first) && first != '+' && first != '-')
        {
            throw ErrorAt(start, $"\"{word}\" is not a value: strings need quotes, booleans are true or false");
        }

        return new NumberReader(this, word, start).Read();
    }

    /// <summary>Checks a number against the TOML grammar, then converts it; errors quote the whole number.</summary>
    private readonly struct NumberReader
    {
        private readonly TomlParser _parser;
        private readonly string _word;
        private readonly int _start;

        public NumberReader(TomlParser parser, string word, int start)
        {
            _parser = parser;
            _word = word;
            _start = start;
        }

        public object Read()
        {
            int i = _word[0] == '+' || _word[0] == '-' ? 1 : 0;
            if (_word.Length > i + 1 && _word[i] == '0' && _word[i + 1] is 'x' or 'o' or 'b' or 'X' or 'O' or 'B')
            {
                return ReadPrefixed(i);
            }

            int integerStart = i;
            Digits(ref i, 10, "a digit");
            if (_word[integerStart] == '0' && i - integerStart > 1) throw Fail("leading zeros are not allowed");
            bool isFloat = false;
            if (i < _word.Length && _word[i] == '.')
            {
                i++;
                Digits(ref i, 10, "a digit after the decimal point");
                isFloat = true;
            }

            if (i < _word.Length && (_word[i] == 'e' || _word[i] == 'E'))
            {
                i++;
                if (i < _word.Length && (_word[i] == '+' || _word[i] == '-')) i++;
                Digits(ref i, 10, "a digit in the exponent");
                isFloat = true;
            }

            if (i < _word.Length) throw Fail($"unexpected '{_word[i]}'");
            string plain = _word.Replace("_", "");
            if (isFloat)
            {
                const NumberStyles FloatStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;
                if (double.TryParse(plain, FloatStyle, CultureInfo.InvariantCulture, out double real) && !double.IsInfinity(real))
                {
                    return real;
                }

                throw Fail("it is outside the range of a 64-bit float");
            }

            return long.TryParse(plain, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long whole)
                ? whole
                : throw Fail("it is outside the range of a 64-bit integer");
        }

        /// <summary>0x, 0o and 0b integers: unsigned in the text, at most long.MaxValue.</summary>
        private object ReadPrefixed(int i)
        {
            char prefix = _word[i + 1];
            int radix = prefix switch { 'x' => 16, 'o' => 8, 'b' => 2, _ => 0 };
            if (radix == 0) throw Fail("the prefix must be lower case (0x, 0o, 0b)");

            if (i > 0) throw Fail("hexadecimal, octal and binary integers cannot have a sign");
            string digitName = radix == 16 ? "a hexadecimal digit" : radix == 8 ? "an octal digit" : "a binary digit";
            int p = i + 2;
            Digits(ref p, radix, digitName);
            if (p < _word.Length) throw Fail($"'{_word[p]}' is not {digitName}");
            long value = 0;
            for (int k = i + 2; k < _word.Length; k++)
            {
                if (_word[k] == '_') continue;
                int digit = HexValue(_word[k]);
                if (value > (long.MaxValue - digit) / radix) throw Fail("it is outside the range of a 64-bit integer");
                value = value * radix + digit;
            }

            return value;
        }

        /// <summary>One or more digits of the radix, an underscore allowed only between two of them.</summary>
        private void Digits(ref int i, int radix, string what)
        {
            if (!IsDigitOf(i, radix))
            {
                throw Fail(i < _word.Length ? $"expected {what}, found '{_word[i]}'" : $"expected {what} at the end");
            }

            for (i++; i < _word.Length; i++)
            {
                if (_word[i] == '_')
                {
                    if (!IsDigitOf(i + 1, radix)) throw Fail("an underscore must stand between two digits");
                }
                else if (!IsDigitOf(i, radix))
                {
                    return;
                }
            }
        }

        private bool IsDigitOf(int i, int radix)
        {
            if (i >= _word.Length) return false;
            int value = HexValue(_word[i]);
            return value >= 0 && value < radix;
        }

        private TomlException Fail(string why) => _parser.ErrorAt(_start, $"\"{_word}\" is not a valid number: {why}");
    }

    // ---- date-times ----

    /// <summary>A local date, then, after T or a space, a time and an optional offset.</summary>
    private TomlDateTime ParseDate()
    {
        int start = _pos;
        int year = FixedDigits(4, "year");
        Expect('-', "between the year and the month");
        int month = FixedDigits(2, "month");
        Expect('-', "between the month and the day");
        int day = FixedDigits(2, "day");
        if (month < 1 || month > 12)
        {
            throw ErrorAt(start, $"{_text.Substring(start, _pos - start)} is not a date: month {month:D2} does not exist");
        }

        if (day < 1 || day > DaysInMonth(year, month))
        {
            throw ErrorAt(start, $"{_text.Substring(start, _pos - start)} is not a date: {CultureInfo.InvariantCulture.DateTimeFormat.GetMonthName(month)} {year:D4} has {DaysInMonth(year, month)} days");
        }

        char separator = Peek(0);
        bool hasTime = separator == 'T' || separator == 't'
            || (separator == ' ' && IsDigit(Peek(1)) && IsDigit(Peek(2)) && Peek(3) == ':');
        if (!hasTime) return new TomlDateTime(TomlDateTimeKind.LocalDate, year, month, day, 0, 0, 0, 0, 0);

        _pos++;
        ParseTime(out int hour, out int minute, out int second, out int nanosecond);
        char zone = Peek(0);
        if (zone == 'Z' || zone == 'z')
        {
            _pos++;
            return new TomlDateTime(TomlDateTimeKind.OffsetDateTime, year, month, day, hour, minute, second, nanosecond, 0);
        }

        if (zone != '+' && zone != '-')
        {
            return new TomlDateTime(TomlDateTimeKind.LocalDateTime, year, month, day, hour, minute, second, nanosecond, 0);
        }

        int offsetStart = _pos++;
        int offsetHour = FixedDigits(2, "offset hours");
        Expect(':', "between the offset hours and minutes");
        int offsetMinute = FixedDigits(2, "offset minutes");
        if (offsetHour > 23 || offsetMinute > 59)
        {
            throw ErrorAt(offsetStart, $"{_text.Substring(offsetStart, _pos - offsetStart)} is not a UTC offset (hours 00-23, minutes 00-59)");
        }

        int offset = (offsetHour * 60 + offsetMinute) * (zone == '-' ? -1 : 1);
        return new TomlDateTime(TomlDateTimeKind.OffsetDateTime, year, month, day, hour, minute, second, nanosecond, offset);
    }

    private TomlDateTime ParseLocalTime()
    {
        ParseTime(out int hour, out int minute, out int second, out int nanosecond);
        return new TomlDateTime(TomlDateTimeKind.LocalTime, 0, 0, 0, hour, minute, second, nanosecond, 0);
    }

    /// <summary>HH:MM:SS with an optional fraction, kept to the nanosecond (further digits are truncated).</summary>
    private void ParseTime(out int hour, out int minute, out int second, out int nanosecond)
    {
        int start = _pos;
        hour = FixedDigits(2, "hour");
        Expect(':', "between the hour and the minutes");
        minute = FixedDigits(2, "minutes");
        Expect(':', "between the minutes and the seconds (TOML 1.0 requires seconds)");
        second = FixedDigits(2, "seconds");
        nanosecond = 0;
        if (Peek(0) == '.')
        {
            _pos++;
            if (!IsDigit(Peek(0))) throw Error($"expected a digit after the decimal point of the seconds, found {Found(_pos)}");
            int scale = 100_000_000;
            for (; _pos < _text.Length && IsDigit(_text[_pos]); _pos++)
            {
                nanosecond += (_text[_pos] - '0') * scale;
                scale /= 10;
            }
        }

        if (hour > 23 || minute > 59 || second > 60)
        {
            throw ErrorAt(start, $"{_text.Substring(start, _pos - start)} is not a time of day (hours 00-23, minutes 00-59, seconds 00-60)");
        }
    }

    private int FixedDigits(int count, string what)
    {
        int value = 0;
        for (int i = 0; i < count; i++)
        {
            if (!IsDigit(Peek(0))) throw Error($"expected {count} digits for the {what}, found {Found(_pos)}");
            value = value * 10 + (_text[_pos++] - '0');
        }

        return value;
    }

    private void Expect(char c, string where)
    {
        if (Peek(0) != c) throw Error($"expected '{c}' {where}, found {Found(_pos)}");
        _pos++;
    }

    private static int DaysInMonth(int year, int month) =>
        month == 2 ? (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28)
        : month is 4 or 6 or 9 or 11 ? 30
        : 31;
}
