using System.Collections.Generic;
using System.Text;

namespace RedisSync.Engine.Config;

/// <summary>Writes dotted keys back in TOML syntax for messages, quoting the parts that are not bare.</summary>
internal static class TomlKey
{
    public static bool IsBare(char c) =>
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';

    /// <summary>
    /// The first <paramref name="count"/> parts (all when count is larger) as a message shows them:
    /// <c>"server.port"</c>, or <c>server."tls ca"</c> when a part needs quotes of its own.
    /// </summary>
    public static string Display(IReadOnlyList<string> parts, int count)
    {
        string key = Format(parts, count);
        return key.IndexOf('"') >= 0 ? key : "\"" + key + "\"";
    }

    private static string Format(IReadOnlyList<string> parts, int count)
    {
        var text = new StringBuilder();
        for (int i = 0; i < parts.Count && i < count; i++)
        {
            if (i > 0) text.Append('.');
            AppendPart(text, parts[i]);
        }

        return text.ToString();
    }

    private static void AppendPart(StringBuilder text, string part)
    {
        bool bare = part.Length > 0;
        foreach (char c in part) bare &= IsBare(c);
        if (bare)
        {
            text.Append(part);
            return;
        }

        text.Append('"');
        foreach (char c in part)
        {
            if (c == '"' || c == '\\') text.Append('\\').Append(c);
            else if (c < 0x20 || c == 0x7F) text.Append("\\u").Append(((int)c).ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
            else text.Append(c);
        }

        text.Append('"');
    }
}
