using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace RedisSync.Engine.Config;

/// <summary>
/// A settings file that is not valid TOML, or a setting that is wrong: the message starts with the
/// place in the file as written (<c>line 3, column 9: …</c>) and says what was wrong, never a password.
/// </summary>
internal sealed class SettingsException : FormatException
{
    public SettingsException(int line, int column, string reason)
        : base(At(line, column, reason))
    {
        Line = line;
        Column = column;
        Reason = reason;
    }

    private SettingsException(string message, int line, int column, string reason)
        : base(message)
    {
        Line = line;
        Column = column;
        Reason = reason;
    }

    /// <summary>1-based line of the mistake, or 0 when it is not tied to a place (a missing section).</summary>
    public int Line { get; }

    /// <summary>1-based column (in characters) of the mistake, or 0 with <see cref="Line"/>.</summary>
    public int Column { get; }

    /// <summary>What was wrong, without the place.</summary>
    public string Reason { get; }

    /// <summary>One error that lists every mistake of a file on its own line, in the order of the file.</summary>
    public static SettingsException Combine(IReadOnlyList<SettingsException> problems)
    {
        if (problems.Count == 1) return problems[0];
        List<SettingsException> ordered = problems.OrderBy(p => p.Line == 0 ? int.MaxValue : p.Line).ThenBy(p => p.Column).ToList();
        var text = new StringBuilder();
        text.Append(ordered.Count).Append(" problems:");
        foreach (SettingsException problem in ordered) text.Append("\n  ").Append(problem.Message);
        SettingsException first = ordered[0];
        return new SettingsException(text.ToString(), first.Line, first.Column, first.Reason);
    }

    private static string At(int line, int column, string reason) =>
        line > 0 ? $"line {line}, column {column}: {reason}" : reason;
}
