using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Xml;

namespace RedisSync.HelpGen.Markdown;

/// <summary>
/// One markdown file prepared the way platyPS prepares it before parsing: leading white space
/// trimmed, en dashes turned into hyphens, every line break made CRLF, and the <c>---</c> front
/// matter split off into <see cref="Metadata"/>. Keeps enough to name the original line of any
/// offset in <see cref="Body"/>, so that errors point where the author has to look.
/// </summary>
internal sealed class MarkdownSource
{
    private readonly int[] _lineStarts;
    private readonly int _firstBodyLine;

    private MarkdownSource(string path, string body, int firstBodyLine, OrderedKeyValues? metadata, int metadataLine)
    {
        Path = path;
        Body = body;
        Metadata = metadata;
        MetadataLine = metadataLine;
        _firstBodyLine = firstBodyLine;
        var starts = new List<int> { 0 };
        for (int i = 0; i < body.Length; i++)
        {
            if (body[i] == '\n')
            {
                starts.Add(i + 1);
            }
        }

        _lineStarts = starts.ToArray();
    }

    /// <summary>The file as given on the command line; diagnostics name it.</summary>
    public string Path { get; }

    /// <summary>The text after the front matter, CRLF line breaks, as platyPS's parser sees it.</summary>
    public string Body { get; }

    /// <summary>The front matter keys (case-insensitive); a key without a value maps to null. Null when there is none.</summary>
    public OrderedKeyValues? Metadata { get; }

    /// <summary>The line of the opening <c>---</c>, for errors about the front matter.</summary>
    public int MetadataLine { get; }

    /// <summary>Reads a file (UTF-8, a BOM is skipped) and prepares it; a malformed front matter throws.</summary>
    public static MarkdownSource Load(string path) => Parse(path, File.ReadAllText(path, Encoding.UTF8));

    /// <summary>Prepares markdown text; a malformed front matter throws.</summary>
    public static MarkdownSource Parse(string path, string text)
    {
        CheckXmlCharacters(path, text);
        text = NormalizeLineBreaks(text).Replace('\u2013', '-');
        string trimmed = text.TrimStart();
        int line = 1 + CountLines(text, 0, text.Length - trimmed.Length);
        text = trimmed;

        // platyPS: the block starts with "---" + CRLF and ends at the next CRLF + "---".
        if (!text.StartsWith("---\r\n", StringComparison.Ordinal))
        {
            return new MarkdownSource(path, text, line, null, 0);
        }

        int end = text.IndexOf("\r\n---", 5, StringComparison.Ordinal);
        if (end < 0)
        {
            throw new HelpFormatException(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.FormatError, path, line,
                "the front matter opened by '---' is never closed by a '---' line"));
        }

        var metadata = ParseKeyValues(path, text.Substring(5, end - 5), line + 1, "front matter");
        string rest = text.Substring(end + 5);
        string body = rest.TrimStart();
        int bodyLine = line + CountLines(text, 0, end + 5) + CountLines(rest, 0, rest.Length - body.Length);
        return new MarkdownSource(path, body, bodyLine, metadata, line);
    }

    /// <summary>
    /// The "key: value" lines platyPS accepts in front matter and in a parameter's yaml block:
    /// split at the first colon, both sides trimmed, an empty value is null. Anything else is an error
    /// here (platyPS fails on it too); a repeated key is an error here (platyPS keeps the last one).
    /// </summary>
    public static OrderedKeyValues ParseKeyValues(string path, string text, int firstLine, string what)
    {
        var result = new OrderedKeyValues();
        string[] lines = text.Split("\r\n");
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0)
            {
                continue;
            }

            int colon = line.IndexOf(':');
            if (colon < 0)
            {
                throw new HelpFormatException(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.FormatError, path, firstLine + i,
                    $"'{line}' in the {what} is not a 'key: value' line"));
            }

            string key = line.Substring(0, colon).Trim();
            string value = line.Substring(colon + 1).Trim();
            if (!result.TryAdd(key, value.Length == 0 ? null : value, firstLine + i))
            {
                throw new HelpFormatException(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.FormatError, path, firstLine + i,
                    $"'{key}' appears twice in the {what}"));
            }
        }

        return result;
    }

    /// <summary>The 1-based line in the original file of an offset in <see cref="Body"/>.</summary>
    public int LineAt(int offset)
    {
        int index = Array.BinarySearch(_lineStarts, offset);
        if (index < 0)
        {
            index = ~index - 1;
        }

        return _firstBodyLine + index;
    }

    /// <summary>An error at a line of this file.</summary>
    public HelpFormatException Error(int line, string message) =>
        new(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.FormatError, Path, line, message));

    /// <summary>An error for markdown that New-ExternalHelp itself cannot process.</summary>
    public HelpFormatException PlatyPSFailure(int line, string message) =>
        new(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.PlatyPSFailure, Path, line, message));

    /// <summary>A warning at a line of this file.</summary>
    public HelpDiagnostic Warning(int line, string message) =>
        new(HelpSeverity.Warning, HelpDiagnostic.TextDropped, Path, line, message);

    /// <summary>A control character (other than tab and line breaks) cannot be written to the MAML: say where it is.</summary>
    private static void CheckXmlCharacters(string path, string text)
    {
        int line = 1;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\n')
            {
                line++;
            }
            else if (char.IsSurrogatePair(text, i))
            {
                i++;
            }
            else if (!XmlConvert.IsXmlChar(c))
            {
                throw new HelpFormatException(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.FormatError, path, line,
                    $"the character U+{(int)c:X4} cannot be written to XML help"));
            }
        }
    }

    private static string NormalizeLineBreaks(string text)
    {
        var builder = new StringBuilder(text.Length + 64);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (c == '\r')
            {
                builder.Append("\r\n");
                if (i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }
            }
            else if (c == '\n')
            {
                builder.Append("\r\n");
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static int CountLines(string text, int start, int length)
    {
        int count = 0;
        for (int i = start; i < start + length; i++)
        {
            if (text[i] == '\n')
            {
                count++;
            }
        }

        return count;
    }
}

/// <summary>Key-value pairs in file order, looked up case-insensitively, each with its line.</summary>
internal sealed class OrderedKeyValues : IReadOnlyDictionary<string, string?>
{
    private readonly OrderedDictionary<string, (string? Value, int Line)> _pairs = new(StringComparer.OrdinalIgnoreCase);

    public int Count => _pairs.Count;

    public IEnumerable<string> Keys => _pairs.Keys;

    public IEnumerable<string?> Values
    {
        get
        {
            foreach (var pair in _pairs)
            {
                yield return pair.Value.Value;
            }
        }
    }

    public string? this[string key] => _pairs[key].Value;

    /// <summary>The line a key was written on.</summary>
    public int LineOf(string key) => _pairs[key].Line;

    public bool TryAdd(string key, string? value, int line) => _pairs.TryAdd(key, (value, line));

    public bool ContainsKey(string key) => _pairs.ContainsKey(key);

    public bool TryGetValue(string key, out string? value)
    {
        if (_pairs.TryGetValue(key, out var entry))
        {
            value = entry.Value;
            return true;
        }

        value = null;
        return false;
    }

    public IEnumerator<KeyValuePair<string, string?>> GetEnumerator()
    {
        foreach (var pair in _pairs)
        {
            yield return new KeyValuePair<string, string?>(pair.Key, pair.Value.Value);
        }
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
