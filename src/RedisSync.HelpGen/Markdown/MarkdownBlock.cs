using System.Collections.Generic;

namespace RedisSync.HelpGen.Markdown;

/// <summary>A top-level piece of a platyPS markdown document: a heading, a paragraph or a fenced code block.</summary>
internal abstract record MarkdownBlock(int Line);

/// <summary>A <c>#</c> heading (or an underlined one), its text without the hashes.</summary>
internal sealed record HeadingBlock(int Level, string Text, int Line) : MarkdownBlock(Line);

/// <summary>
/// A fenced code block; <see cref="Language"/> is the info string, null when there is none;
/// <see cref="Text"/> is trimmed, as platyPS trims it, and starts on <see cref="TextLine"/>.
/// </summary>
internal sealed record CodeBlock(string? Language, string Text, int Line, int TextLine) : MarkdownBlock(Line)
{
    /// <summary>True for a <c>```yaml</c> block, the one that holds a parameter's metadata.</summary>
    public bool IsYaml => string.Equals(Language, "yaml", System.StringComparison.OrdinalIgnoreCase);
}

/// <summary>All the text between two headings or code blocks, as the spans platyPS cuts it into.</summary>
internal sealed record ParagraphBlock(IReadOnlyList<ProseSpan> Spans, int Line) : MarkdownBlock(Line);

/// <summary>How platyPS marked a run of text; any mark but <see cref="None"/> makes it a separate word when joined.</summary>
internal enum Emphasis
{
    None,
    Bold,
    Italic,
}

/// <summary>A piece of a paragraph.</summary>
internal abstract record ProseSpan(string Text, int Line);

/// <summary>Plain or emphasised text, already unescaped and with its soft line breaks joined.</summary>
internal sealed record TextSpan(string Text, Emphasis Emphasis, int Line) : ProseSpan(Text, Line)
{
    /// <summary>True when emphasis came from underscores (<c>_x_</c>, <c>__x__</c>), nearly always an accident like <c>$_.Name</c>.</summary>
    public bool FromUnderscores { get; init; }
}

/// <summary>A <c>[text](uri)</c> link; the uri is kept as written.</summary>
internal sealed record LinkSpan(string Text, string Uri, int Line) : ProseSpan(Text, Line);

/// <summary>A hard line break (two spaces at the end of a line); its text is a lone LF, as in platyPS.</summary>
internal sealed record LineBreakSpan(int Line) : ProseSpan("\n", Line);
