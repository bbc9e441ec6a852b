using System.Collections.Generic;
using System.Text.RegularExpressions;

namespace RedisSync.HelpGen.Markdown;

/// <summary>
/// Cuts a prepared document into headings, code blocks and paragraphs the way platyPS 0.14's
/// MarkdownParser does in its "Full" mode (the mode New-ExternalHelp uses). That parser is not
/// CommonMark: at each position it tries a fixed list of patterns, the match that starts first wins
/// (the earlier pattern on a tie), and the text before it becomes a text span. Its consequences are
/// part of the MAML format, so they are reproduced here on purpose:
/// <list type="bullet">
/// <item>a paragraph is everything between two headings or code blocks: blank lines do not end
/// it (its "new paragraph" and "soft break" patterns are written <c>(\r\n){{2,}}</c> and
/// <c>(\r\n){{1}}</c>, which match a literal brace, not line breaks);</item>
/// <item>links, <c>**bold**</c>, <c>*italic*</c>, <c>__bold__</c> and <c>_italic_</c> split a
/// paragraph into spans, each trimmed;</item>
/// <item>a line ending in two spaces is a hard break span.</item>
/// </list>
/// The patterns run with IgnorePatternWhitespace, as in platyPS.
/// </summary>
internal static class MarkdownScanner
{
    private enum Token
    {
        HashHeading,
        HashHeadingAfterLineBreak,
        UnderlinedHeading,
        FencedCode,
        HardBreak,
        SoftBreak,
        ParagraphBreak,
        Link,
        Bold,
        Italic,
        BoldUnderscores,
        ItalicUnderscores,
    }

    private const RegexOptions Options = RegexOptions.IgnorePatternWhitespace;

    private static readonly (Token Kind, Regex Pattern)[] Patterns =
    [
        (Token.HashHeading, new Regex(@"(\#+)[ ]*(.+?)[ ]*\#*(\r\n)+", Options)),
        (Token.HashHeadingAfterLineBreak, new Regex(@"(\r\n)+(\#+)[ ]*(.+?)[ ]*\#*(\r\n)+", Options)),
        (Token.UnderlinedHeading, new Regex(@"(.+?)[ ]*\r\n(==+|--+)[ ]*(\r\n)+", Options)),
        (Token.FencedCode, new Regex(@"```(\w*)(\r\n)*((.|\r\n)*?)```(\r\n)*", Options)),
        (Token.HardBreak, new Regex(@"[ ]{2}\r\n", Options)),
        (Token.SoftBreak, new Regex(@"(\r\n){{1}}", Options)),
        (Token.ParagraphBreak, new Regex(@"(\r\n){{2,}}", Options)),
        (Token.Link, new Regex(@"\[(.+?)\]\((.*)\)", Options)),
        (Token.Bold, new Regex(@"\*\*(.+?)\*\*", Options)),
        (Token.Italic, new Regex(@"\*(.+?)\*", Options)),
        (Token.BoldUnderscores, new Regex(@"(?<![a-zA-Z0-9])__(.+?)__(?![a-zA-Z0-9])", Options)),
        (Token.ItalicUnderscores, new Regex(@"(?<![a-zA-Z0-9])_(.+?)_(?![a-zA-Z0-9])", Options)),
    ];

    /// <summary>The blocks of a document, in order.</summary>
    public static IReadOnlyList<MarkdownBlock> Scan(MarkdownSource source)
    {
        var state = new ScanState(source);
        string text = source.Body;
        int position = 0;
        while (position < text.Length)
        {
            Match? first = null;
            Token firstKind = default;
            foreach (var (kind, pattern) in Patterns)
            {
                // platyPS tries the plain hash heading only where a '#' stands at the current position.
                if (kind == Token.HashHeading && text[position] != '#')
                {
                    continue;
                }

                Match match = pattern.Match(text, position);
                if (match.Success && (first is null || first.Index > match.Index))
                {
                    first = match;
                    firstKind = kind;
                    if (match.Index == position)
                    {
                        break;
                    }
                }
            }

            if (first is null)
            {
                state.AddText(position, text.Length);
                break;
            }

            state.AddText(position, first.Index);
            state.Apply(firstKind, first);
            position = first.Index + first.Length;
        }

        state.EndParagraph();
        return state.Blocks;
    }

    private sealed class ScanState(MarkdownSource source)
    {
        private List<ProseSpan>? _spans;

        public List<MarkdownBlock> Blocks { get; } = [];

        public void AddText(int start, int end)
        {
            string raw = source.Body.Substring(start, end - start);
            if (string.IsNullOrWhiteSpace(raw))
            {
                return;
            }

            int firstVisible = start + (raw.Length - raw.TrimStart().Length);
            AddSpan(new TextSpan(ProseText.Unwrap(raw.Trim()), Emphasis.None, source.LineAt(firstVisible)));
        }

        public void Apply(Token kind, Match match)
        {
            switch (kind)
            {
                case Token.HashHeading:
                    AddHeading(match.Groups[1].Value.Length, match.Groups[2].Value, match.Groups[1].Index);
                    break;
                case Token.HashHeadingAfterLineBreak:
                    AddHeading(match.Groups[2].Value.Length, match.Groups[3].Value, match.Groups[2].Index);
                    break;
                case Token.UnderlinedHeading:
                    AddHeading(match.Groups[2].Value[0] == '=' ? 1 : 2, match.Groups[1].Value, match.Groups[1].Index);
                    break;
                case Token.FencedCode:
                    EndParagraph();
                    string language = match.Groups[1].Value;
                    Group code = match.Groups[3];
                    int textStart = code.Index + (code.Value.Length - code.Value.TrimStart().Length);
                    Blocks.Add(new CodeBlock(language.Length == 0 ? null : language, code.Value.Trim(), source.LineAt(match.Index), source.LineAt(textStart)));
                    break;
                case Token.HardBreak:
                    AddSpan(new LineBreakSpan(source.LineAt(match.Index)));
                    break;
                case Token.SoftBreak:
                    break;
                case Token.ParagraphBreak:
                    EndParagraph();
                    break;
                case Token.Link:
                    AddSpan(new LinkSpan(match.Groups[1].Value, match.Groups[2].Value, source.LineAt(match.Index)));
                    break;
                case Token.Bold:
                case Token.Italic:
                case Token.BoldUnderscores:
                case Token.ItalicUnderscores:
                    var emphasis = kind is Token.Bold or Token.BoldUnderscores ? Emphasis.Bold : Emphasis.Italic;
                    AddSpan(new TextSpan(ProseText.Unwrap(match.Groups[1].Value.Trim()), emphasis, source.LineAt(match.Index))
                    {
                        FromUnderscores = kind is Token.BoldUnderscores or Token.ItalicUnderscores,
                    });
                    break;
            }
        }

        public void EndParagraph()
        {
            if (_spans is { Count: > 0 })
            {
                Blocks.Add(new ParagraphBlock(_spans, _spans[0].Line));
            }

            _spans = null;
        }

        private void AddHeading(int level, string text, int offset)
        {
            EndParagraph();
            Blocks.Add(new HeadingBlock(level, text, source.LineAt(offset)));
        }

        private void AddSpan(ProseSpan span)
        {
            _spans ??= [];
            _spans.Add(span);
        }
    }
}
