using System.Text;

namespace RedisSync.HelpGen;

/// <summary>
/// The character clean-up platyPS's RenderCleaner applies to what it writes: no-break spaces
/// (and "Â "/"Ã", what they look like when UTF-8 was read as ANSI) become plain spaces; about
/// topics also get CRLF line breaks and typographic quotes and dashes made ASCII.
/// </summary>
internal static class CharacterCleanup
{
    /// <summary>Spaces only: applied to the whole MAML text.</summary>
    public static string Spaces(string text) =>
        text.Replace('\u00a0', ' ')
            .Replace('\uc2a0', ' ')
            .Replace("\u00c2 ", " ")
            .Replace('\u00c3', ' ');

    /// <summary>Spaces, line breaks, quotes and dashes: applied to an about topic's text.</summary>
    public static string Full(string text)
    {
        text = Spaces(text);
        var builder = new StringBuilder(text.Length + 64);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\r':
                    builder.Append("\r\n");
                    if (i + 1 < text.Length && text[i + 1] == '\n')
                    {
                        i++;
                    }

                    break;
                case '\n':
                    builder.Append("\r\n");
                    break;
                case '\u2018' or '\u2019' or '\u201b':
                    builder.Append('\'');
                    break;
                case '\u201c' or '\u201d' or '\u201e' or '\u201f':
                    builder.Append('"');
                    break;
                case '\u05be' or '\u1806' or '\u2010' or '\u2011' or '\u00ad' or '\u2012' or '\u2013' or '\u2014' or '\u2015' or '\u2212':
                    builder.Append('-');
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }
}
