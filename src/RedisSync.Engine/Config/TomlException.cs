using System;

namespace RedisSync.Engine.Config;

/// <summary>
/// A settings file that is not valid TOML, or a setting of the wrong type: the message says what
/// was wrong and, when it is tied to a place, starts with that place (<c>line 3, column 9: …</c>).
/// </summary>
public sealed class TomlException : FormatException
{
    public TomlException(int line, int column, string reason)
        : base(line > 0 ? $"line {line}, column {column}: {reason}" : reason)
    {
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>1-based line of the error, or 0 when the error is not tied to a place in the text.</summary>
    public int Line { get; }

    /// <summary>1-based column (in Unicode characters) of the error, or 0 with <see cref="Line"/>.</summary>
    public int Column { get; }

    /// <summary>What was wrong, without the place, for hosts that show the place their own way.</summary>
    public string Reason { get; }
}
