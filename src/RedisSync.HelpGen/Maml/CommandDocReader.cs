using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using RedisSync.HelpGen.Markdown;

namespace RedisSync.HelpGen.Maml;

/// <summary>
/// Reads one cmdlet's PlatyPS schema 2.0.0 markdown into a <see cref="CommandHelp"/>, with the
/// meaning platyPS 0.14's ModelTransformerVersion2 gives it, and stricter: every construct that
/// platyPS rejects is an error with its line, and so is everything it would silently lose or that
/// leaves Get-Help -Full incomplete (a parameter without yaml, an example without code, a missing
/// section). Text that New-ExternalHelp drops is reported as a warning.
/// </summary>
internal sealed partial class CommandDocReader
{
    /// <summary>The sections of a cmdlet page, in the order platyPS writes them; all are required.</summary>
    public static readonly IReadOnlyList<string> Sections =
        ["SYNOPSIS", "SYNTAX", "DESCRIPTION", "EXAMPLES", "PARAMETERS", "INPUTS", "OUTPUTS", "NOTES", "RELATED LINKS"];

    private const string AllParameterSets = "(All)";
    private const string DefaultSetSuffix = " (Default)";
    private const string OnlineLinkText = "Online Version:";

    private static readonly string[] YamlKeys =
    [
        "Type", "Parameter Sets", "Aliases", "Accepted values", "Required", "Position", "Default value",
        "Accept pipeline input", "Accept wildcard characters", "Applicable",
    ];

    private static readonly string[] RequiredYamlKeys = ["Type", "Parameter Sets", "Required", "Position", "Accept pipeline input"];

    private readonly MarkdownSource _source;
    private readonly IReadOnlyList<MarkdownBlock> _blocks;
    private readonly ICollection<HelpDiagnostic> _warnings;
    private int _next;

    private CommandDocReader(MarkdownSource source, ICollection<HelpDiagnostic> warnings)
    {
        _source = source;
        _blocks = MarkdownScanner.Scan(source);
        _warnings = warnings;
    }

    /// <summary>
    /// Reads a cmdlet page. Throws <see cref="HelpFormatException"/> at the first error; adds warnings
    /// for text that the MAML will not show.
    /// </summary>
    public static CommandHelp Read(MarkdownSource source, HelpTarget target, ICollection<HelpDiagnostic> warnings)
    {
        string? onlineVersion = CheckFrontMatter(source, target);
        return new CommandDocReader(source, warnings).ReadCommand(onlineVersion);
    }

    /// <summary>True when a link target is an absolute URI the way .NET Framework on Windows (where platyPS runs) sees one.</summary>
    public static bool IsAbsoluteUri(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out _) && !(uri.StartsWith('/') && !uri.StartsWith("//", StringComparison.Ordinal));

    private static string? CheckFrontMatter(MarkdownSource source, HelpTarget target)
    {
        var metadata = source.Metadata
            ?? throw source.Error(1, $"no front matter: a cmdlet help file starts with a '---' block holding 'schema: 2.0.0' and 'external help file: {target.HelpFileName}'");
        int line = source.MetadataLine;
        if (!metadata.TryGetValue("schema", out string? schema) || schema is null)
        {
            throw source.Error(line, "the front matter has no 'schema: 2.0.0'");
        }

        if (schema != "2.0.0")
        {
            throw source.Error(metadata.LineOf("schema"), $"schema '{schema}' is not supported: New-ExternalHelp (platyPS 0.14) reads schema 2.0.0");
        }

        if (!metadata.TryGetValue("external help file", out string? helpFile) || helpFile is null)
        {
            throw source.Error(line, $"the front matter has no 'external help file: {target.HelpFileName}' (New-ExternalHelp would write this command to rename-me-help.xml)");
        }

        if (!string.Equals(helpFile, target.HelpFileName, StringComparison.OrdinalIgnoreCase))
        {
            throw source.Error(metadata.LineOf("external help file"),
                $"'external help file: {helpFile}' should be '{target.HelpFileName}': New-ExternalHelp writes each command into the file its front matter names");
        }

        if (metadata.TryGetValue("Module Name", out string? module) && module is not null &&
            !string.Equals(module, target.ModuleName, StringComparison.OrdinalIgnoreCase))
        {
            throw source.Error(metadata.LineOf("Module Name"), $"'Module Name: {module}' should be '{target.ModuleName}'");
        }

        if (metadata.TryGetValue("online version", out string? online) && online is not null &&
            !(Uri.TryCreate(online, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
        {
            throw source.Error(metadata.LineOf("online version"), $"'online version: {online}' is not an absolute http(s) URL; Get-Help -Online opens it");
        }

        return online;
    }

    private CommandHelp ReadCommand(string? onlineVersion)
    {
        string expectedName = Path.GetFileNameWithoutExtension(_source.Path);
        if (Peek() is not HeadingBlock { Level: 1 } title)
        {
            throw Peek() is { } first
                ? _source.Error(first.Line, $"expected the '# {expectedName}' heading first, found {Describe(first)}")
                : _source.Error(1, $"the file has no '# {expectedName}' heading");
        }

        Take();
        if (title.Text != expectedName)
        {
            throw _source.Error(title.Line, $"the heading '# {title.Text}' does not match the file name {Path.GetFileName(_source.Path)}");
        }

        var parts = new CommandParts();
        var seen = new Dictionary<string, HeadingBlock>();
        int last = -1;
        while (Peek() is { } block)
        {
            if (block is not HeadingBlock { Level: 2 } heading)
            {
                throw block is HeadingBlock { Level: 1 } another
                    ? _source.Error(another.Line, $"a second command heading '# {another.Text}': write one command per file")
                    : _source.Error(block.Line, $"{Describe(block)} stands outside any '## ' section");
            }

            Take();
            string name = heading.Text.ToUpperInvariant();
            int index = IndexOfSection(name);
            if (index < 0)
            {
                throw _source.Error(heading.Line, $"unknown section '## {heading.Text}': the sections are {string.Join(", ", Sections)}");
            }

            if (seen.ContainsKey(name))
            {
                throw _source.Error(heading.Line, $"'## {heading.Text}' appears twice");
            }

            if (index < last)
            {
                throw _source.Error(heading.Line, $"'## {heading.Text}' must come before '## {Sections[last]}' (order: {string.Join(", ", Sections)})");
            }

            seen.Add(name, heading);
            last = index;
            ReadSection(name, heading, parts);
        }

        foreach (string section in Sections)
        {
            if (!seen.ContainsKey(section))
            {
                throw _source.Error(title.Line, $"the '## {section}' section is missing");
            }
        }

        var links = parts.Links;
        // platyPS compares with PowerShell's -ne: case-insensitively.
        if (onlineVersion is not null && (links.Count == 0 || !links[0].Uri.Equals(onlineVersion, StringComparison.OrdinalIgnoreCase)))
        {
            links.Insert(0, new LinkHelp(OnlineLinkText, onlineVersion));
        }

        CheckSyntaxAgainstParameters(parts, seen["SYNTAX"]);
        return new CommandHelp
        {
            Name = title.Text,
            Synopsis = parts.Synopsis,
            Description = parts.Description,
            Syntax = BuildSyntax(parts.ParameterSets),
            Parameters = parts.Parameters,
            Inputs = parts.Inputs,
            Outputs = parts.Outputs,
            Notes = parts.Notes,
            Examples = parts.Examples,
            Links = links,
        };
    }

    private static int IndexOfSection(string name)
    {
        for (int i = 0; i < Sections.Count; i++)
        {
            if (Sections[i] == name)
            {
                return i;
            }
        }

        return -1;
    }

    private void ReadSection(string name, HeadingBlock heading, CommandParts parts)
    {
        switch (name)
        {
            case "SYNOPSIS":
                parts.Synopsis = ReadTextSection(heading, required: true);
                break;
            case "SYNTAX":
                ReadSyntax(heading, parts);
                break;
            case "DESCRIPTION":
                parts.Description = ReadTextSection(heading, required: true);
                break;
            case "EXAMPLES":
                ReadExamples(heading, parts.Examples);
                break;
            case "PARAMETERS":
                ReadParameters(heading, parts);
                break;
            case "INPUTS":
                ReadTypes(heading, parts.Inputs, "'### None' when the cmdlet takes no pipeline input");
                break;
            case "OUTPUTS":
                ReadTypes(heading, parts.Outputs, "'### None' when the cmdlet writes no output");
                break;
            case "NOTES":
                parts.Notes = ReadTextSection(heading, required: false);
                break;
            default:
                ReadLinks(heading, parts.Links);
                break;
        }
    }

    private string ReadTextSection(HeadingBlock heading, bool required)
    {
        var paragraph = TakeParagraph();
        string text = ReadText(paragraph);
        ExpectEnd(2, $"{heading.Text} holds one block of text; New-ExternalHelp (platyPS 0.14) fails on anything else here ('Expect Heading')");
        if (required && text.Length == 0)
        {
            throw _source.Error(heading.Line, $"{heading.Text} is empty");
        }

        return text;
    }

    private void ReadSyntax(HeadingBlock heading, CommandParts parts)
    {
        int defaults = 0;
        while (true)
        {
            if (Peek() is CodeBlock)
            {
                // A code block without a heading stands for the default parameter set.
                Take();
                defaults++;
                parts.SyntaxEntries++;
                continue;
            }

            if (Peek() is not HeadingBlock { Level: 3 } entry)
            {
                break;
            }

            Take();
            bool isDefault = entry.Text.EndsWith(DefaultSetSuffix, StringComparison.Ordinal);
            string setName = isDefault ? entry.Text[..^DefaultSetSuffix.Length] : entry.Text;
            if (Peek() is not CodeBlock)
            {
                throw _source.Error(entry.Line, $"the syntax of parameter set '{setName}' needs its code block right after '### {entry.Text}'");
            }

            Take();
            defaults += isDefault ? 1 : 0;
            parts.SyntaxEntries++;
            parts.SyntaxSets.Add((setName, entry.Line));
        }

        ExpectEnd(2, "SYNTAX holds '### <ParameterSet>' headings, each followed by its code block");
        if (parts.SyntaxEntries == 0)
        {
            throw _source.Error(heading.Line, "SYNTAX has no syntax code block");
        }

        if (defaults > 1)
        {
            throw _source.Error(heading.Line,
                "SYNTAX marks more than one parameter set as default (a code block without heading counts as one): New-ExternalHelp would add an empty syntax for each");
        }
    }

    private void ReadExamples(HeadingBlock heading, List<ExampleHelp> examples)
    {
        ExpectEnd(3, "text in EXAMPLES belongs under a '### Example N' heading");
        while (Peek() is HeadingBlock { Level: 3 } title)
        {
            Take();
            if (TakeParagraph() is { } introduction)
            {
                ReadText(introduction);
                _warnings.Add(_source.Warning(introduction.Line,
                    $"example '{title.Text}': New-ExternalHelp drops the text before the code block (the MAML has only title, code and remarks); put it after the code block"));
            }

            var code = new List<string>();
            while (Peek() is CodeBlock block)
            {
                Take();
                code.Add(block.Text);
            }

            if (code.Count == 0)
            {
                throw _source.Error(title.Line, $"example '{title.Text}' has no code block");
            }

            string remarks = ReadText(TakeParagraph());
            ExpectEnd(3, $"example '{title.Text}': everything after the remarks must wait for the next '### ' heading; New-ExternalHelp fails on a code block after the remarks ('Expect Heading'), so put every code block before the text");
            examples.Add(new ExampleHelp(title.Text, code, remarks));
        }

        if (examples.Count == 0)
        {
            throw _source.Error(heading.Line, "EXAMPLES has no '### Example' entry");
        }
    }

    private void ReadParameters(HeadingBlock heading, CommandParts parts)
    {
        ExpectEnd(3, "text in PARAMETERS belongs under a '### -Name' heading");
        while (Peek() is HeadingBlock { Level: 3 } title)
        {
            Take();
            string name = title.Text.StartsWith('-') ? title.Text[1..] : title.Text;
            string description = ReadParameterDescription();
            if (name.Equals("CommonParameters", StringComparison.OrdinalIgnoreCase) ||
                name.Equals("WorkflowCommonParameters", StringComparison.OrdinalIgnoreCase))
            {
                // platyPS keeps only the fact that the command supports them; MAML has no entry for them.
                ExpectEnd(3, $"'### {title.Text}' takes text only, no yaml block");
                continue;
            }

            if (parts.ParameterSets.Any(entry => entry.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                throw _source.Error(title.Line, $"parameter '-{name}' is described twice");
            }

            var acceptedValues = new List<string>();
            var sets = new OrderedDictionary<string, ParameterHelp>(StringComparer.OrdinalIgnoreCase);
            ParameterHelp? first = null;
            int blocksWithValues = 0;
            while (Peek() is CodeBlock yaml)
            {
                Take();
                if (!yaml.IsYaml)
                {
                    throw _source.Error(yaml.Line, $"parameter '-{name}': a code block after its yaml must be ```yaml too (New-ExternalHelp reads every one as yaml)");
                }

                var (parameter, setNames) = ReadParameterYaml(yaml, name, description, acceptedValues, ref blocksWithValues);
                first ??= parameter;
                foreach (string set in SplitList(setNames))
                {
                    if (set.Length > 0)
                    {
                        sets[set] = parameter;
                    }
                }
            }

            if (first is null)
            {
                throw _source.Error(title.Line, $"parameter '-{name}' has no ```yaml block (Type, Parameter Sets, Aliases, Required, Position, Default value, Accept pipeline input, Accept wildcard characters)");
            }

            ExpectEnd(3, $"parameter '-{name}': text after its yaml block makes New-ExternalHelp fail ('Expect Heading'); put the description before the yaml");
            if (blocksWithValues > 1)
            {
                _warnings.Add(_source.Warning(title.Line,
                    $"parameter '-{name}': 'Accepted values' in {blocksWithValues} yaml blocks; New-ExternalHelp lists every value once per block in the syntax"));
            }

            parts.Parameters.Add(first);
            parts.ParameterSets.Add((name, sets));
        }
    }

    private string ReadParameterDescription()
    {
        // Text and non-yaml code blocks up to the first yaml block, joined by a blank line.
        var pieces = new List<string>();
        while (true)
        {
            if (Peek() is ParagraphBlock paragraph)
            {
                Take();
                pieces.Add(ReadText(paragraph));
            }
            else if (Peek() is CodeBlock { IsYaml: false } code)
            {
                Take();
                pieces.Add(code.Text);
            }
            else
            {
                return string.Join("\r\n\r\n", pieces);
            }
        }
    }

    private (ParameterHelp Help, string SetNames) ReadParameterYaml(CodeBlock yaml, string name, string description, List<string> acceptedValues, ref int blocksWithValues)
    {
        string what = $"yaml of '-{name}'";
        var pairs = MarkdownSource.ParseKeyValues(_source.Path, yaml.Text, yaml.TextLine, what);
        foreach (string key in pairs.Keys)
        {
            if (!YamlKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                throw _source.PlatyPSFailure(pairs.LineOf(key), $"unknown key '{key}' in the {what}: New-ExternalHelp fails on it ('Invalid yaml: unknown key')");
            }
        }

        foreach (string key in RequiredYamlKeys)
        {
            if (!pairs.TryGetValue(key, out string? value) || value is null)
            {
                throw _source.Error(yaml.TextLine, $"the {what} has no '{key}' value");
            }
        }

        string required = pairs["Required"]!;
        if (!IsBoolean(required))
        {
            throw _source.Error(pairs.LineOf("Required"), $"'Required: {required}' in the {what} should be True or False");
        }

        string position = pairs["Position"]!;
        if (!position.Equals("Named", StringComparison.OrdinalIgnoreCase) && !position.All(char.IsAsciiDigit))
        {
            throw _source.Error(pairs.LineOf("Position"), $"'Position: {position}' in the {what} should be Named or a number");
        }

        string pipelineInput = pairs["Accept pipeline input"]!;
        if (!PipelineInputPattern().IsMatch(pipelineInput))
        {
            throw _source.Error(pairs.LineOf("Accept pipeline input"),
                $"'Accept pipeline input: {pipelineInput}' in the {what} should be False, True (ByValue), True (ByPropertyName) or True (ByPropertyName, ByValue)");
        }

        bool globbing = false;
        if (pairs.TryGetValue("Accept wildcard characters", out string? wildcards) && wildcards is not null)
        {
            if (!IsBoolean(wildcards))
            {
                throw _source.Error(pairs.LineOf("Accept wildcard characters"), $"'Accept wildcard characters: {wildcards}' in the {what} should be True or False");
            }

            globbing = wildcards.Equals("true", StringComparison.OrdinalIgnoreCase);
        }

        if (pairs.TryGetValue("Accepted values", out string? values) && values is not null)
        {
            acceptedValues.AddRange(SplitList(values));
            blocksWithValues++;
        }

        string sets = pairs["Parameter Sets"]!;
        if (SplitList(sets).All(set => set.Length == 0))
        {
            throw _source.Error(pairs.LineOf("Parameter Sets"), $"'Parameter Sets: {sets}' in the {what} names no parameter set");
        }

        var help = new ParameterHelp
        {
            Name = name,
            Description = description,
            Type = pairs["Type"]!,
            Required = required.Equals("true", StringComparison.OrdinalIgnoreCase),
            Position = position,
            DefaultValue = pairs.TryGetValue("Default value", out string? defaultValue) ? defaultValue : null,
            PipelineInput = pipelineInput,
            Globbing = globbing,
            Aliases = pairs.TryGetValue("Aliases", out string? aliases) && aliases is not null ? SplitList(aliases) : [],
            AcceptedValues = acceptedValues,
        };
        return (help, sets);
    }

    private void ReadTypes(HeadingBlock heading, List<TypeHelp> types, string hint)
    {
        ExpectEnd(3, $"text in {heading.Text} belongs under a '### <TypeName>' heading");
        while (Peek() is HeadingBlock { Level: 3 } type)
        {
            Take();
            string description = ReadText(TakeParagraph());
            ExpectEnd(3, $"type '{type.Text}' in {heading.Text} holds text only: New-ExternalHelp fails on a code block here ('Expect Heading')");
            types.Add(new TypeHelp(type.Text, description));
        }

        if (types.Count == 0)
        {
            throw _source.Error(heading.Line, $"{heading.Text} has no '### <TypeName>' entry; write {hint}");
        }
    }

    private void ReadLinks(HeadingBlock heading, List<LinkHelp> links)
    {
        if (TakeParagraph() is { } paragraph)
        {
            foreach (var span in paragraph.Spans)
            {
                if (span is not LinkSpan link)
                {
                    string what = span is LineBreakSpan ? "a line ending in two spaces" : $"'{span.Text}'";
                    throw _source.PlatyPSFailure(span.Line, $"{what} in {heading.Text} is not a [text](uri) link: New-ExternalHelp fails on it ('Expect hyperlink')");
                }

                links.Add(new LinkHelp(link.Text, link.Uri));
            }
        }

        ExpectEnd(2, $"{heading.Text} holds [text](uri) links only");
    }

    private void CheckSyntaxAgainstParameters(CommandParts parts, HeadingBlock syntax)
    {
        var named = ParameterSetNames(parts.ParameterSets).Where(name => name != AllParameterSets).ToList();
        if (named.Count == 0)
        {
            if (parts.SyntaxEntries > 1)
            {
                _warnings.Add(_source.Warning(syntax.Line,
                    $"SYNTAX shows {parts.SyntaxEntries} parameter sets but every parameter's yaml says 'Parameter Sets: (All)': New-ExternalHelp writes one syntax"));
            }

            return;
        }

        foreach (var (set, line) in parts.SyntaxSets)
        {
            if (!named.Contains(set, StringComparer.OrdinalIgnoreCase))
            {
                _warnings.Add(_source.Warning(line,
                    $"SYNTAX shows parameter set '{set}' but no parameter's yaml names it: New-ExternalHelp writes no syntax for it"));
            }
        }

        foreach (string set in named)
        {
            if (!parts.SyntaxSets.Any(entry => entry.Name.Equals(set, StringComparison.OrdinalIgnoreCase)))
            {
                _warnings.Add(_source.Warning(syntax.Line, $"parameter set '{set}' (from the parameters' yaml) has no '### {set}' entry in SYNTAX"));
            }
        }
    }

    /// <summary>
    /// platyPS's rule: one syntax item per parameter set, sets in the order the parameters first
    /// name them; "(All)" becomes a syntax of its own only when it is the only set. Each item lists
    /// the parameters of its set plus those in "(All)", ordered by position as text ("0" &lt; "1" &lt; "Named").
    /// </summary>
    private static List<SyntaxItem> BuildSyntax(List<(string Name, OrderedDictionary<string, ParameterHelp> Sets)> parameters)
    {
        var names = ParameterSetNames(parameters);
        if (names.Count == 0)
        {
            return [new SyntaxItem([])];
        }

        var syntax = new List<SyntaxItem>();
        foreach (string name in names)
        {
            if (name == AllParameterSets && names.Count > 1)
            {
                continue;
            }

            var members = new List<ParameterHelp>();
            foreach (var (_, sets) in parameters)
            {
                if (sets.TryGetValue(name, out var member))
                {
                    members.Add(member);
                }
                else if (sets.Count == 1 && sets.GetAt(0).Key == AllParameterSets)
                {
                    members.Add(sets.GetAt(0).Value);
                }
            }

            syntax.Add(new SyntaxItem(members.OrderBy(member => member.Position, PositionOrder.Instance).ToList()));
        }

        return syntax;
    }

    private static List<string> ParameterSetNames(List<(string Name, OrderedDictionary<string, ParameterHelp> Sets)> parameters)
    {
        var names = new List<string>();
        foreach (var (_, sets) in parameters)
        {
            foreach (string name in sets.Keys)
            {
                if (!names.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    names.Add(name);
                }
            }
        }

        return names;
    }

    private static string[] SplitList(string value) => value.Split(',').Select(item => item.Trim()).ToArray();

    private static bool IsBoolean(string value) =>
        value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase);

    [GeneratedRegex(@"^(False|True|True \((ByValue|ByPropertyName)(, (ByValue|ByPropertyName))?\))$", RegexOptions.IgnoreCase)]
    private static partial Regex PipelineInputPattern();

    private string ReadText(ParagraphBlock? paragraph)
    {
        if (paragraph is null)
        {
            return "";
        }

        var spans = paragraph.Spans;
        for (int i = 0; i < spans.Count; i++)
        {
            if (spans[i] is TextSpan { FromUnderscores: true } text)
            {
                _warnings.Add(_source.Warning(text.Line,
                    $"'{text.Text}' stands between underscores that New-ExternalHelp reads as emphasis: it drops them and adds spaces around it; escape them as \\_ (e.g. $\\_)"));
            }

            if (spans[i] is LinkSpan link && !string.IsNullOrWhiteSpace(link.Uri) &&
                i + 1 < spans.Count && spans[i + 1] is TextSpan { Emphasis: Emphasis.None } next && next.Text.Length > 0 && char.IsLetterOrDigit(next.Text[0]))
            {
                _warnings.Add(_source.Warning(link.Line,
                    $"New-ExternalHelp writes the link '[{link.Text}]({link.Uri})' as '{link.Text} ({link.Uri})' and glues the next word to it: '({link.Uri}){next.Text.Split(' ')[0]}'; end the sentence after the link"));
            }
        }

        return ProseText.Join(paragraph.Spans)
            ?? throw _source.PlatyPSFailure(paragraph.Line,
                "a paragraph that is only a link (or only a line of spaces) makes New-ExternalHelp fail with a NullReferenceException; add words to it or remove it");
    }

    private void ExpectEnd(int level, string message)
    {
        var block = Peek();
        if (block is null || block is HeadingBlock heading && heading.Level <= level)
        {
            return;
        }

        throw _source.Error(block.Line, $"unexpected {Describe(block)}: {message}");
    }

    private static string Describe(MarkdownBlock block) => block switch
    {
        HeadingBlock heading => $"heading '{new string('#', heading.Level)} {heading.Text}'",
        CodeBlock => "code block",
        ParagraphBlock paragraph => $"text '{Shorten(paragraph.Spans[0].Text)}'",
        _ => "markdown",
    };

    private static string Shorten(string text)
    {
        text = text.Replace("\r\n", " ").Replace('\n', ' ');
        return text.Length <= 40 ? text : text[..40] + "...";
    }

    private MarkdownBlock? Peek() => _next < _blocks.Count ? _blocks[_next] : null;

    private void Take() => _next++;

    private ParagraphBlock? TakeParagraph()
    {
        if (Peek() is ParagraphBlock paragraph)
        {
            Take();
            return paragraph;
        }

        return null;
    }

    /// <summary>
    /// The order of LINQ's default string comparer on Windows (platyPS sorts positions as text):
    /// case-insensitive first, lower case before upper case on a tie.
    /// </summary>
    private sealed class PositionOrder : IComparer<string>
    {
        public static readonly PositionOrder Instance = new();

        public int Compare(string? x, string? y)
        {
            int order = string.Compare(x, y, StringComparison.OrdinalIgnoreCase);
            return order != 0 ? order : -string.CompareOrdinal(x, y);
        }
    }

    private sealed class CommandParts
    {
        public string Synopsis { get; set; } = "";

        public string Description { get; set; } = "";

        public string Notes { get; set; } = "";

        public int SyntaxEntries { get; set; }

        public List<(string Name, int Line)> SyntaxSets { get; } = [];

        public List<ExampleHelp> Examples { get; } = [];

        public List<ParameterHelp> Parameters { get; } = [];

        public List<(string Name, OrderedDictionary<string, ParameterHelp> Sets)> ParameterSets { get; } = [];

        public List<TypeHelp> Inputs { get; } = [];

        public List<TypeHelp> Outputs { get; } = [];

        public List<LinkHelp> Links { get; } = [];
    }
}
