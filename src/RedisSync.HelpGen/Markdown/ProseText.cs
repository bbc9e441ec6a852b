using System.Collections.Generic;
using System.Text;

namespace RedisSync.HelpGen.Markdown;

/// <summary>
/// How platyPS 0.14 turns markdown prose into help text: a single line break is a space, a blank
/// line is one line break (each line becomes a <c>maml:para</c>), lines of a "- " / "* " / "--"
/// list keep their breaks, and markdown escapes (<c>\[</c>, <c>\*</c>, <c>\_</c>, ...) are undone.
/// </summary>
internal static class ProseText
{
    private static readonly (string Escaped, string Plain)[] Escapes =
    [
        (@"\[", "["),
        (@"\]", "]"),
        (@"\(", "("),
        (@"\)", ")"),
        (@"\`", "`"),
        (@"\<", "<"),
        (@"\>", ">"),
        (@"\_", "_"),
        (@"\*", "*"),
        (@"\\", @"\"),
    ];

    /// <summary>Unescapes a trimmed run of markdown text and joins its soft line breaks.</summary>
    public static string Unwrap(string text)
    {
        // The escapes are undone one after the other, in this order, as platyPS does.
        foreach (var (escaped, plain) in Escapes)
        {
            text = text.Replace(escaped, plain);
        }

        var result = new StringBuilder(text.Length + 16);
        string previous = "foo";
        bool inList = false;
        foreach (string line in text.Split("\r\n"))
        {
            AppendLine(result, line, previous, ref inList);
            previous = line;
        }

        // platyPS's line pattern also matches the empty string at the very end: one more break.
        result.Append("\r\n");
        return result.ToString().Replace(" \r\n", "\r\n").Trim();
    }

    /// <summary>True for a line that starts a list item as platyPS sees one: "- ", "* " or "--".</summary>
    private static bool HasListPrefix(string line) =>
        line.Length >= 2 && ((line[0] == '-' && (line[1] == '-' || line[1] == ' ')) || (line[0] == '*' && line[1] == ' '));

    /// <summary>
    /// Joins the spans of a paragraph into one string as platyPS's transformer does: emphasised text
    /// and links stand apart by a space, a link is written "text (uri)" and the text after such a
    /// link follows it without a space. Returns null where platyPS itself crashes: a paragraph
    /// that is a single link or a single hard break (it casts the only span to a text span).
    /// </summary>
    public static string? Join(IReadOnlyList<ProseSpan> spans)
    {
        if (spans.Count == 1 && spans[0] is not TextSpan)
        {
            return null;
        }

        var builder = new StringBuilder();
        bool first = true;
        bool previousStandsApart = false;
        foreach (var span in spans)
        {
            bool standsApart = span is LinkSpan || (span is TextSpan text && text.Emphasis != Emphasis.None);
            if ((!first && standsApart) || previousStandsApart)
            {
                builder.Append(' ');
            }

            builder.Append(span.Text);
            previousStandsApart = standsApart;
            if (span is LinkSpan link && !string.IsNullOrWhiteSpace(link.Uri))
            {
                builder.Append(" (").Append(link.Uri).Append(')');
                previousStandsApart = false;
            }

            first = false;
        }

        return builder.ToString();
    }

    private static void AppendLine(StringBuilder result, string line, string previous, ref bool inList)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            result.Append("\r\n");
            return;
        }

        if (HasListPrefix(previous) && HasListPrefix(line))
        {
            inList = true;
            result.Append("\r\n").Append(line);
            return;
        }

        if (inList)
        {
            // The first line after a list keeps a line break before it.
            inList = false;
            result.Append("\r\n");
        }

        result.Append(line).Append(' ');
    }
}
