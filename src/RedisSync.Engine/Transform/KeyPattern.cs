using System;
using System.Text;

namespace RedisSync.Engine.Transform;

/// <summary>
/// A glob pattern matched as Redis matches KEYS and SCAN MATCH (util.c's stringmatchlen): <c>*</c>,
/// <c>?</c>, <c>[abc]</c>, <c>[^a-z]</c> and <c>\</c> escapes, on the key's bytes, case-sensitive.
/// </summary>
internal sealed class KeyPattern
{
    private const int MaxNesting = 1000;
    private readonly byte[] _pattern;

    public KeyPattern(string pattern)
    {
        Text = pattern ?? throw new ArgumentNullException(nameof(pattern));
        _pattern = Encoding.UTF8.GetBytes(pattern);
        int literal = LiteralPrefixLength(_pattern);
        IsPrefix = literal == _pattern.Length - 1 && _pattern[_pattern.Length - 1] == (byte)'*';
        Prefix = IsPrefix ? new ReadOnlyMemory<byte>(_pattern, 0, literal) : ReadOnlyMemory<byte>.Empty;
    }

    /// <summary>The pattern as the user wrote it.</summary>
    public string Text { get; }

    /// <summary>A pattern of the form <c>literal*</c>: a prefix (what -RenameKey rewrites).</summary>
    public bool IsPrefix { get; }

    /// <summary>The literal part of a prefix pattern (empty otherwise).</summary>
    public ReadOnlyMemory<byte> Prefix { get; }

    /// <summary>A glob that matches keys starting with <paramref name="prefix"/> (its glob characters escaped).</summary>
    public static string ForPrefix(string prefix) => Escape(prefix) + "*";

    /// <summary>A glob that matches keys ending with <paramref name="suffix"/>.</summary>
    public static string ForSuffix(string suffix) => "*" + Escape(suffix);

    /// <summary>A glob that matches exactly <paramref name="key"/>.</summary>
    public static string ForKey(string key) => Escape(key);

    public bool IsMatch(ReadOnlySpan<byte> key)
    {
        // As KEYS and SCAN do: "*" alone is every key, the empty one too.
        if (_pattern.Length == 1 && _pattern[0] == (byte)'*') return true;
        bool skipLonger = false;
        return Match(_pattern, key, ref skipLonger, 0);
    }

    public override string ToString() => Text;

    private static string Escape(string text)
    {
        var builder = new StringBuilder(text.Length + 4);
        foreach (char c in text)
        {
            if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') builder.Append('\\');
            builder.Append(c);
        }
        return builder.ToString();
    }

    private static int LiteralPrefixLength(byte[] pattern)
    {
        for (int i = 0; i < pattern.Length; i++)
        {
            byte b = pattern[i];
            if (b == (byte)'*' || b == (byte)'?' || b == (byte)'[' || b == (byte)'\\') return i;
        }
        return pattern.Length;
    }

    /// <summary>stringmatchlen_impl, transcribed: the same answers for the same bytes, malformed patterns included.</summary>
    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> text, ref bool skipLonger, int nesting)
    {
        if (nesting > MaxNesting) return false;
        int p = 0, s = 0;
        while (p < pattern.Length && s < text.Length)
        {
            switch (pattern[p])
            {
                case (byte)'*':
                    while (p + 1 < pattern.Length && pattern[p + 1] == (byte)'*') p++;
                    if (p == pattern.Length - 1) return true;
                    while (s < text.Length)
                    {
                        if (Match(pattern.Slice(p + 1), text.Slice(s), ref skipLonger, nesting + 1)) return true;
                        if (skipLonger) return false;
                        s++;
                    }
                    skipLonger = true;
                    return false;
                case (byte)'?':
                    s++;
                    break;
                case (byte)'[':
                {
                    p++;
                    bool not = p < pattern.Length && pattern[p] == (byte)'^';
                    if (not) p++;
                    bool match = false;
                    while (true)
                    {
                        if (p < pattern.Length && pattern[p] == (byte)'\\' && pattern.Length - p >= 2)
                        {
                            p++;
                            if (pattern[p] == text[s]) match = true;
                        }
                        else if (p < pattern.Length && pattern[p] == (byte)']')
                        {
                            break;
                        }
                        else if (p >= pattern.Length)
                        {
                            p--;
                            break;
                        }
                        else if (pattern.Length - p >= 3 && pattern[p + 1] == (byte)'-')
                        {
                            int start = pattern[p], end = pattern[p + 2], c = text[s];
                            if (start > end) (start, end) = (end, start);
                            p += 2;
                            if (c >= start && c <= end) match = true;
                        }
                        else if (pattern[p] == text[s])
                        {
                            match = true;
                        }
                        p++;
                    }
                    if (not) match = !match;
                    if (!match) return false;
                    s++;
                    break;
                }
                case (byte)'\\':
                    if (pattern.Length - p >= 2) p++;
                    if (pattern[p] != text[s]) return false;
                    s++;
                    break;
                default:
                    if (pattern[p] != text[s]) return false;
                    s++;
                    break;
            }
            p++;
            if (s == text.Length)
            {
                while (p < pattern.Length && pattern[p] == (byte)'*') p++;
                break;
            }
        }
        return p == pattern.Length && s == text.Length;
    }
}
