using System.IO;
using System.Linq;
using System.Xml.Linq;
using RedisSync.HelpGen.Tests.Infrastructure;
using Xunit;

namespace RedisSync.HelpGen.Tests;

/// <summary>
/// The sample docs (Samples/docs: a cmdlet with two parameter sets, pipeline input, aliases,
/// switches, mandatory and positional parameters, accepted values, several examples, inputs,
/// outputs, notes, related links and an online version; a one-set cmdlet; an about topic; a module
/// page) against Samples/*.expected.*, written by hand from platyPS 0.14's MamlRenderer and
/// TextRenderer, element by element.
/// </summary>
public sealed class SampleHelpTests
{
    private static readonly HelpTarget RedisSync = new("RedisSync", "RedisSync.dll");

    [Fact]
    public void Sample_docs_give_the_maml_platyPS_writes_byte_for_byte()
    {
        using var folder = BuildSamples(out _);

        string actual = DocsFolder.ReadWithBom(Path.Combine(folder.Output, "RedisSync.dll-Help.xml"));
        // XDocument.Save writes no line break after the closing tag.
        string expected = DocsFolder.WithCrlf(File.ReadAllText(DocsFolder.Sample("RedisSync.dll-Help.expected.xml"))).TrimEnd('\r', '\n');
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void About_topic_text_is_what_platyPS_writes()
    {
        using var folder = BuildSamples(out _);

        string actual = DocsFolder.ReadWithBom(Path.Combine(folder.Output, "about_RedisSync.help.txt"));
        string expected = DocsFolder.WithCrlf(File.ReadAllText(DocsFolder.Sample("about_RedisSync.help.expected.txt")));
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Help_xml_is_well_formed_and_in_the_maml_namespaces()
    {
        using var folder = BuildSamples(out _);

        var maml = XDocument.Load(Path.Combine(folder.Output, "RedisSync.dll-Help.xml"));
        XNamespace command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
        Assert.Equal(XName.Get("helpItems", "http://msh"), maml.Root!.Name);
        Assert.Equal("maml", (string?)maml.Root.Attribute("schema"));
        var commands = maml.Root.Elements(command + "command").ToList();
        Assert.Equal(2, commands.Count);
        foreach (var element in commands)
        {
            Assert.Equal("http://schemas.microsoft.com/maml/2004/10", element.GetNamespaceOfPrefix("maml")?.NamespaceName);
            Assert.Equal("http://schemas.microsoft.com/maml/dev/command/2004/10", element.GetNamespaceOfPrefix("command")?.NamespaceName);
            Assert.Equal("http://schemas.microsoft.com/maml/dev/2004/10", element.GetNamespaceOfPrefix("dev")?.NamespaceName);
            Assert.Equal("http://msdn.microsoft.com/mshelp", element.GetNamespaceOfPrefix("MSHelp")?.NamespaceName);
        }

        Assert.Equal(["Start-RedisSync", "Stop-RedisSync"], DocsFolder.Select(maml, "/msh:helpItems/command:command/command:details/command:name"));
        Assert.Equal(2, DocsFolder.Select(maml, "/msh:helpItems/command:command[command:details/command:name='Start-RedisSync']/command:syntax/command:syntaxItem").Length);
        Assert.Equal(["Source", "Target", "Database", "Mode", "NoFlush", "Confirm", "WhatIf"],
            DocsFolder.Select(maml, "//command:command[command:details/command:name='Start-RedisSync']/command:syntax/command:syntaxItem[1]/command:parameter/maml:name"));
        Assert.Equal(["InputObject", "Mode", "NoFlush", "Confirm", "WhatIf"],
            DocsFolder.Select(maml, "//command:command[command:details/command:name='Start-RedisSync']/command:syntax/command:syntaxItem[2]/command:parameter/maml:name"));
        Assert.Equal(3, DocsFolder.Select(maml, "//command:command[command:details/command:name='Start-RedisSync']/command:examples/command:example").Length);
    }

    [Fact]
    public void Module_page_is_left_out_and_only_cmdlet_pages_become_commands()
    {
        using var folder = BuildSamples(out var result);

        Assert.Equal(2, result.CommandCount);
        Assert.Equal(["about_RedisSync.help.txt", "RedisSync.dll-Help.xml"],
            Directory.GetFiles(folder.Output).Select(path => Path.GetFileName(path)!).Order().ToArray());
    }

    [Fact]
    public void Sample_docs_warn_about_the_text_New_ExternalHelp_drops_or_changes()
    {
        using var folder = BuildSamples(out var result);

        string page = File.ReadAllText(Path.Combine(DocsFolder.SampleDocs, "Start-RedisSync.md"));
        string about = File.ReadAllText(Path.Combine(DocsFolder.SampleDocs, "about_RedisSync.md"));
        var warnings = result.Diagnostics.Select(d => (File: Path.GetFileName(d.Path), d.Line, d.Code, d.Message)).ToList();
        Assert.Contains(warnings, w => w.File == "Start-RedisSync.md" && w.Code == "HG2001" &&
            w.Line == DocsFolder.LineOf(page, "The session keeps the replication offset.") && w.Message.Contains("drops the text before the code block"));
        Assert.Contains(warnings, w => w.File == "Start-RedisSync.md" && w.Code == "HG2001" &&
            w.Line == DocsFolder.LineOf(page, "[the design notes]") && w.Message.Contains("glues the next word"));
        Assert.Contains(warnings, w => w.File == "about_RedisSync.md" && w.Code == "HG2001" &&
            w.Line == DocsFolder.LineOf(about, "- Start-RedisSync") && w.Message.Contains("indents only the first line"));
        Assert.Equal(4, warnings.Count);
    }

    private static DocsFolder BuildSamples(out HelpBuild.Result result)
    {
        var folder = DocsFolder.Create();
        result = HelpBuild.Run(DocsFolder.SampleDocs, folder.Output, RedisSync);
        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        return folder;
    }
}
