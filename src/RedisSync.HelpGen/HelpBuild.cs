using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using RedisSync.HelpGen.About;
using RedisSync.HelpGen.Maml;
using RedisSync.HelpGen.Markdown;

namespace RedisSync.HelpGen;

/// <summary>
/// Builds a module's help from its docs folder as New-ExternalHelp &lt;docs&gt; -OutputPath &lt;out&gt;
/// would: every cmdlet page (*-*.md) into one MAML file named after the assembly, every
/// about_*.md into about_*.help.txt, both UTF-8 with a byte order mark. Every file is checked
/// before anything is written, so one run reports all the broken pages.
/// </summary>
internal static partial class HelpBuild
{
    /// <summary>What a run found and wrote.</summary>
    public sealed record Result(IReadOnlyList<HelpDiagnostic> Diagnostics, IReadOnlyList<string> Written, int CommandCount)
    {
        public bool Succeeded => Diagnostics.All(diagnostic => diagnostic.Severity != HelpSeverity.Error);
    }

    /// <summary>Reads <paramref name="docsDirectory"/> and, when no page has an error, writes into <paramref name="outputDirectory"/>.</summary>
    public static Result Run(string docsDirectory, string outputDirectory, HelpTarget target)
    {
        var diagnostics = new List<HelpDiagnostic>();
        if (!Directory.Exists(docsDirectory))
        {
            diagnostics.Add(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.InputError, docsDirectory, 0, "the docs folder does not exist"));
            return new Result(diagnostics, [], 0);
        }

        var commands = new List<CommandHelp>();
        var aboutTopics = new List<(string FileName, string Text)>();
        var files = Directory.GetFiles(docsDirectory, "*.md")
            .OrderBy(path => Path.GetFileName(path), StringComparer.OrdinalIgnoreCase);
        foreach (string path in files)
        {
            try
            {
                string text = File.ReadAllText(path, Encoding.UTF8);
                CheckPlaceholders(path, text);
                var source = MarkdownSource.Parse(path, text);
                string name = Path.GetFileNameWithoutExtension(path);
                if (name.StartsWith("about_", StringComparison.OrdinalIgnoreCase))
                {
                    aboutTopics.Add((name + ".help.txt", AboutTopicWriter.Write(source, diagnostics)));
                }
                else if (name.Contains('-'))
                {
                    commands.Add(CommandDocReader.Read(source, target, diagnostics));
                }
                else
                {
                    CheckNotCommandOrTopic(source);
                }
            }
            catch (HelpFormatException error)
            {
                diagnostics.Add(error.Diagnostic);
            }
        }

        if (commands.Count == 0 && diagnostics.All(diagnostic => diagnostic.Severity != HelpSeverity.Error))
        {
            diagnostics.Add(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.InputError, docsDirectory, 0,
                "no cmdlet help (<Verb-Noun>.md) in the docs folder"));
        }

        var result = new Result(diagnostics, [], commands.Count);
        if (!result.Succeeded)
        {
            return result;
        }

        // Always written, even when unchanged: MSBuild's incremental check needs outputs newer than inputs.
        Directory.CreateDirectory(outputDirectory);
        var written = new List<string>();
        var withBom = new UTF8Encoding(true);
        string mamlPath = Path.Combine(outputDirectory, target.HelpFileName);
        File.WriteAllText(mamlPath, MamlWriter.Write(commands), withBom);
        written.Add(mamlPath);
        foreach (var (fileName, text) in aboutTopics)
        {
            string aboutPath = Path.Combine(outputDirectory, fileName);
            File.WriteAllText(aboutPath, text, withBom);
            written.Add(aboutPath);
        }

        return result with { Written = written };
    }

    private static void CheckPlaceholders(string path, string text)
    {
        var match = PlaceholderPattern().Match(text);
        if (match.Success)
        {
            int line = 1 + text.AsSpan(0, match.Index).Count('\n');
            throw new HelpFormatException(new HelpDiagnostic(HelpSeverity.Error, HelpDiagnostic.FormatError, path, line,
                $"the platyPS placeholder '{match.Value}' is still there: write the text"));
        }
    }

    private static void CheckNotCommandOrTopic(MarkdownSource source)
    {
        if (source.Metadata?.ContainsKey("schema") == true)
        {
            throw source.Error(source.MetadataLine,
                $"{Path.GetFileName(source.Path)} has a 'schema' front matter but is not named <Verb-Noun>.md: New-ExternalHelp reads cmdlet help from *-*.md only");
        }

        var blocks = MarkdownScanner.Scan(source);
        if (blocks.Count > 1 && blocks[1] is HeadingBlock second && second.Text.Length > 5 &&
            second.Text.StartsWith("about", StringComparison.OrdinalIgnoreCase))
        {
            throw source.Error(second.Line, $"{Path.GetFileName(source.Path)} looks like an about topic: name it {second.Text}.md");
        }
    }

    [GeneratedRegex(@"\{\{\s*(Fill|Add)\b[^}]*\}\}|\{\{[^}]*Placeholder[^}]*\}\}", RegexOptions.IgnoreCase)]
    private static partial Regex PlaceholderPattern();
}
