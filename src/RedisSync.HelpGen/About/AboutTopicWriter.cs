using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using RedisSync.HelpGen.Markdown;

namespace RedisSync.HelpGen.About;

/// <summary>
/// Turns an about_*.md topic into the plain text of about_*.help.txt as platyPS 0.14's
/// TextRenderer does (New-ExternalHelp's default -MaxAboutWidth of 80): the first heading becomes
/// "TOPIC", the second (the topic's file name) is written indented in lower case, level-1
/// headings in upper case, text and code indented by four spaces, text wrapped at 76 columns.
/// New-ExternalHelp only treats a file as an about topic when its second heading starts with
/// "about"; here that is an error instead of a silently missing topic.
/// </summary>
internal static class AboutTopicWriter
{
    /// <summary>New-ExternalHelp's default -MaxAboutWidth.</summary>
    public const int Width = 80;

    private const string Indent = "    ";
    private const string NewLine = "\r\n";

    /// <summary>The text of the .help.txt file (without its byte order mark); throws on a malformed topic.</summary>
    public static string Write(MarkdownSource source, ICollection<HelpDiagnostic> warnings)
    {
        var blocks = MarkdownScanner.Scan(source);
        string name = Path.GetFileNameWithoutExtension(source.Path);
        if (blocks.Count == 0 || blocks[0] is not HeadingBlock { Level: 1 })
        {
            throw source.Error(blocks.Count == 0 ? 1 : blocks[0].Line, $"an about topic starts with a '# <Title>' heading, then '## {name}'");
        }

        if (blocks.Count < 2 || blocks[1] is not HeadingBlock { Level: 2 } second || !second.Text.Equals(name, StringComparison.OrdinalIgnoreCase))
        {
            throw source.Error(blocks.Count < 2 ? blocks[0].Line : blocks[1].Line,
                $"the second line of an about topic must be the heading '## {name}': New-ExternalHelp ignores a topic whose second heading does not start with 'about'");
        }

        var text = new StringBuilder();
        foreach (var block in blocks)
        {
            switch (block)
            {
                case HeadingBlock heading:
                    AppendHeading(text, heading, blocks);
                    break;
                case ParagraphBlock paragraph:
                    WarnAboutSplitSpans(source, paragraph, warnings);
                    AppendParagraph(text, paragraph, source, warnings);
                    break;
                case CodeBlock code:
                    foreach (string line in code.Text.Split(NewLine))
                    {
                        text.Append(Indent).Append(line).Append(NewLine);
                    }

                    text.Append(NewLine);
                    break;
            }
        }

        return CharacterCleanup.Full(text.ToString());
    }

    private static void AppendHeading(StringBuilder text, HeadingBlock heading, IReadOnlyList<MarkdownBlock> blocks)
    {
        if (ReferenceEquals(blocks[0], heading))
        {
            text.Append("TOPIC").Append(NewLine);
        }
        else if (heading.Level == 1)
        {
            text.Append(heading.Text.ToUpperInvariant()).Append(NewLine);
        }
        else if (heading.Level == 2 && ReferenceEquals(blocks[1], heading))
        {
            text.Append(Indent).Append(heading.Text.ToLowerInvariant()).Append(NewLine).Append(NewLine);
        }
        else if (heading.Level == 2)
        {
            text.Append(heading.Text).Append(NewLine);
        }
        else
        {
            text.Append(Indent).Append(heading.Text.ToUpperInvariant()).Append(NewLine);
        }
    }

    private static void AppendParagraph(StringBuilder text, ParagraphBlock paragraph, MarkdownSource source, ICollection<HelpDiagnostic> warnings)
    {
        foreach (var span in paragraph.Spans)
        {
            if (span.Text.Length > Width - 4)
            {
                Wrap(text, span, source);
                text.Append(NewLine);
            }
            else if (span.Text == "\n")
            {
                text.Append(NewLine);
            }
            else
            {
                if (span.Text.Contains(NewLine, StringComparison.Ordinal))
                {
                    warnings.Add(source.Warning(span.Line,
                        "New-ExternalHelp indents only the first line of a text of several lines that fits in 76 characters; write a list as a code block"));
                }

                text.Append(Indent).Append(span.Text).Append(NewLine);
            }
        }

        text.Append(NewLine);
    }

    /// <summary>
    /// platyPS's word wrap, quirks included: a word holding a line break ends the line there without
    /// a width check, and a part equal to the word's last part counts as the last part.
    /// </summary>
    private static void Wrap(StringBuilder text, ProseSpan span, MarkdownSource source)
    {
        string line = "";
        foreach (string word in span.Text.Split(' '))
        {
            if (word.Contains(NewLine, StringComparison.Ordinal))
            {
                string[] parts = word.Split(NewLine, StringSplitOptions.RemoveEmptyEntries);
                foreach (string part in parts)
                {
                    if (part == parts[^1])
                    {
                        line += part + " ";
                    }
                    else
                    {
                        line += part;
                        text.Append(Indent).Append(line).Append(NewLine);
                        line = "";
                    }
                }
            }
            else if (line.Length + word.Length > Width - 4)
            {
                if (line.Length == 0)
                {
                    throw source.PlatyPSFailure(span.Line,
                        $"'{word}' is longer than {Width - 4} characters and starts a line: New-ExternalHelp's about-topic wrapper fails on it (ArgumentOutOfRangeException); put a word before it");
                }

                text.Append(Indent).Append(line.EndsWith(' ') ? line[..^1] : line).Append(NewLine);
                line = word + " ";
            }
            else
            {
                line += word + " ";
            }
        }

        if (line.Length == 0 || line == " ")
        {
            return;
        }

        text.Append(Indent).Append(line.EndsWith(' ') ? line[..^1] : line);
    }

    private static void WarnAboutSplitSpans(MarkdownSource source, ParagraphBlock paragraph, ICollection<HelpDiagnostic> warnings)
    {
        var special = paragraph.Spans.FirstOrDefault(span =>
            span is LinkSpan || (span is TextSpan { Emphasis: not Emphasis.None } && paragraph.Spans.Count > 1));
        if (special is not null)
        {
            warnings.Add(source.Warning(special.Line,
                $"'{special.Text}': in an about topic New-ExternalHelp writes each link or emphasised text on a line of its own and drops link targets; write plain text"));
        }
    }
}
