using System;
using System.Text;

namespace RedisSync.Engine.Compare;

/// <summary>Keys as a person reads them.</summary>
internal static class KeyNames
{
    private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);

    /// <summary>The key itself when it is printable UTF-8; otherwise quoted with \xNN escapes (as redis-cli shows it).</summary>
    public static string Printable(byte[] key)
    {
        string text;
        try
        {
            text = StrictUtf8.GetString(key);
        }
        catch (ArgumentException)
        {
            return KeyText.Format(key, int.MaxValue);
        }
        // A leading quote would read as the escaped form: escape such keys too.
        if (text.Length > 0 && text[0] == '"') return KeyText.Format(key, int.MaxValue);
        foreach (char c in text)
        {
            if (char.IsControl(c)) return KeyText.Format(key, int.MaxValue);
        }
        return text;
    }
}
