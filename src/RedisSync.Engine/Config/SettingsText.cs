using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;

namespace RedisSync.Engine.Config;

/// <summary>
/// The text of a settings file: read as strict UTF-8, optionally with <c>${NAME}</c> placeholders
/// replaced from the environment, and able to name the line and column of any offset of the parsed
/// text in the file as written, and whether that line holds a secret (which messages must not quote).
/// </summary>
internal sealed class SettingsText
{
    /// <summary>RedisShake's placeholder: <c>${NAME}</c> only, braces required, so a <c>$</c> in a password stays as it is.</summary>
    private static readonly Regex Placeholder = new Regex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", RegexOptions.CultureInvariant);

    /// <summary>What <see cref="SecretOn"/> says of a line that holds a value put there from the environment.</summary>
    public const string EnvironmentValue = "a value from the environment";

    private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly List<int> _lineStarts;
    private readonly List<Replacement> _replacements;

    private SettingsText(string path, string original, string text, List<Replacement> replacements)
    {
        Path = path;
        Original = original;
        Text = text;
        _replacements = replacements;
        _lineStarts = LineStarts(original);
    }

    /// <summary>The file's full path, for messages.</summary>
    public string Path { get; }

    /// <summary>The text as the file holds it (without a byte order mark).</summary>
    public string Original { get; }

    /// <summary>The text to parse: <see cref="Original"/> with the placeholders that were set replaced.</summary>
    public string Text { get; }

    /// <summary>Settings held in memory (what a sync leaves on the target), named <paramref name="path"/> in messages.</summary>
    public static SettingsText FromString(string path, string text) => new SettingsText(path, text, text, new List<Replacement>());

    /// <summary>Reads a settings file, which must be UTF-8 (with or without a byte order mark): an invalid byte is an error at its place.</summary>
    public static SettingsText Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes, start, bytes.Length - start);
        }
        catch (DecoderFallbackException ex)
        {
            int bad = Math.Max(0, ex.Index);
            string before = Encoding.UTF8.GetString(bytes, start, Math.Min(bad, bytes.Length - start));
            var prefix = new SettingsText(path, before, before, new List<Replacement>());
            (int line, int column) = prefix.Place(before.Length);
            byte value = start + bad < bytes.Length ? bytes[start + bad] : (byte)0;
            throw new SettingsException(line, column, $"byte 0x{value:X2} is not valid UTF-8 (settings files must be UTF-8)");
        }
        return new SettingsText(path, text, text, new List<Replacement>());
    }

    /// <summary>
    /// Replaces each <c>${NAME}</c> whose variable is set (even to nothing) by its value, as text, before
    /// parsing, as RedisShake does; a placeholder whose variable is not set stays as written, so that one
    /// in a comment does no harm and one in a value is an error naming the variable (<see cref="UnsetVariableIn"/>).
    /// </summary>
    public SettingsText ExpandEnvironment(Func<string, string?> lookup)
    {
        var replacements = new List<Replacement>();
        var text = new StringBuilder(Original.Length);
        int copied = 0;
        foreach (Match match in Placeholder.Matches(Original))
        {
            string name = match.Groups[1].Value;
            string? value = lookup(name);
            text.Append(Original, copied, match.Index - copied);
            replacements.Add(new Replacement(text.Length, (value ?? match.Value).Length, match.Index, match.Length, name, value != null));
            text.Append(value ?? match.Value);
            copied = match.Index + match.Length;
        }
        text.Append(Original, copied, Original.Length - copied);
        return new SettingsText(Path, Original, text.ToString(), replacements);
    }

    /// <summary>The 1-based line and column, in the file as written, of an offset of <see cref="Text"/>.</summary>
    public (int Line, int Column) Place(int textOffset) => PlaceOfOriginal(ToOriginal(textOffset));

    private (int Line, int Column) PlaceOfOriginal(int original)
    {
        int line = LineOf(original);
        int column = 1;
        for (int i = _lineStarts[line - 1]; i < original; i++)
        {
            if (!char.IsLowSurrogate(Original[i])) column++;
        }
        return (line, column);
    }

    /// <summary>
    /// What a line (1-based, as written) holds that a message must not quote — "a password" (or a URL
    /// with a user), or <see cref="EnvironmentValue"/> — or null when it holds neither.
    /// </summary>
    public string? SecretOn(int line)
    {
        if (line < 1 || line > _lineStarts.Count) return null;
        int start = _lineStarts[line - 1];
        int end = line < _lineStarts.Count ? _lineStarts[line] : Original.Length;
        foreach (Replacement r in _replacements)
        {
            if (r.Resolved && r.OriginalStart >= start && r.OriginalStart < end) return EnvironmentValue;
        }
        string text = Original.Substring(start, end - start);
        if (text.IndexOf("password", StringComparison.OrdinalIgnoreCase) >= 0) return "a password";
        if (text.IndexOf("://", StringComparison.Ordinal) >= 0 && text.IndexOf('@') >= 0) return "a password";
        return null;
    }

    /// <summary>The first variable that is not set among the placeholders of a line (1-based, as written), or null.</summary>
    public string? UnsetVariableOn(int line)
    {
        foreach (Replacement r in _replacements)
        {
            if (!r.Resolved && LineOf(r.OriginalStart) == line) return r.Name;
        }
        return null;
    }

    /// <summary>
    /// The first placeholder a parsed string still holds (its variable is not set): its name and its
    /// place as written, the first such placeholder from <paramref name="fromLine"/> on; null when none.
    /// </summary>
    public (string Name, int Line, int Column)? UnsetVariableIn(string value, int fromLine)
    {
        if (value.IndexOf("${", StringComparison.Ordinal) < 0) return null;
        foreach (Replacement r in _replacements)
        {
            if (r.Resolved || LineOf(r.OriginalStart) < fromLine || value.IndexOf("${" + r.Name + "}", StringComparison.Ordinal) < 0) continue;
            (int line, int column) = PlaceOfOriginal(r.OriginalStart);
            return (r.Name, line, column);
        }
        return null;
    }

    private int ToOriginal(int textOffset)
    {
        int delta = 0;
        foreach (Replacement r in _replacements)
        {
            if (textOffset < r.TextStart) break;
            if (textOffset < r.TextStart + r.TextLength) return r.OriginalStart;
            delta += r.TextLength - r.OriginalLength;
        }
        return Math.Max(0, Math.Min(Original.Length, textOffset - delta));
    }

    /// <summary>The 1-based line of an offset of <see cref="Original"/>.</summary>
    private int LineOf(int originalOffset)
    {
        int index = _lineStarts.BinarySearch(originalOffset);
        return index >= 0 ? index + 1 : ~index;
    }

    private static List<int> LineStarts(string text)
    {
        var starts = new List<int> { 0 };
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == '\n') starts.Add(i + 1);
        }
        return starts;
    }

    /// <summary>A placeholder: where it is in the parsed text and in the file, and whether its variable was set.</summary>
    private readonly record struct Replacement(int TextStart, int TextLength, int OriginalStart, int OriginalLength, string Name, bool Resolved);
}
