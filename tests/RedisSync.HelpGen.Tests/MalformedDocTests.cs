using System.IO;
using System.Linq;
using RedisSync.HelpGen.Tests.Infrastructure;
using Xunit;

namespace RedisSync.HelpGen.Tests;

/// <summary>
/// A broken page stops the build with one error that names the file, the line and what is wrong,
/// in MSBuild's canonical form; nothing is written.
/// </summary>
public sealed class MalformedDocTests
{
    public static TheoryData<string, string, string, string, string> Cases => new()
    {
        {
            "missing SYNOPSIS", "## SYNOPSIS\nGets a thing.\n\n", "", "# Get-Thing", "the '## SYNOPSIS' section is missing"
        },
        {
            "empty SYNOPSIS", "## SYNOPSIS\nGets a thing.\n", "## SYNOPSIS\n", "## SYNOPSIS", "SYNOPSIS is empty"
        },
        {
            "parameter without yaml", "The name of the thing.\n\n```yaml", "The name of the thing.\n\n```text", "### -Name",
            "parameter '-Name' has no ```yaml block"
        },
        {
            "example without code block", "### Example 1\n```powershell\nPS C:\\> Get-Thing -Name one\n```\n", "### Example 1\n", "### Example 1",
            "example 'Example 1' has no code block"
        },
        {
            "code block after the remarks", "Gets the thing named one.\n", "Gets the thing named one.\n\n```text\nmore code\n```\n", "```text",
            "New-ExternalHelp fails on a code block after the remarks"
        },
        {
            "text after the yaml", "Accept wildcard characters: False\n```\n", "Accept wildcard characters: False\n```\n\nMore about the name.\n",
            "More about the name.", "text after its yaml block makes New-ExternalHelp fail"
        },
        {
            "unknown yaml key", "Accept wildcard characters: False\n", "Accept wildcard characters: False\nDynamic: True\n", "Dynamic: True",
            "unknown key 'Dynamic'"
        },
        {
            "yaml line without colon", "Default value: None\n", "Default value None\n", "Default value None", "is not a 'key: value' line"
        },
        {
            "missing yaml key", "Position: 0\n", "", "Type: String", "has no 'Position' value"
        },
        {
            "bad position", "Position: 0\n", "Position: first\n", "Position: first", "should be Named or a number"
        },
        {
            "code block in DESCRIPTION", "Gets the thing that has the name.\n", "Gets the thing that has the name.\n\n```text\nGet-Thing\n```\n", "```text",
            "DESCRIPTION holds one block of text"
        },
        {
            "unknown section", "## NOTES\n", "## REMARKS\n", "## REMARKS", "unknown section '## REMARKS'"
        },
        {
            "sections out of order", "## SYNTAX\n\n```\nGet-Thing [-Name] <String> [<CommonParameters>]\n```\n\n## DESCRIPTION\nGets the thing that has the name.\n",
            "## DESCRIPTION\nGets the thing that has the name.\n\n## SYNTAX\n\n```\nGet-Thing [-Name] <String> [<CommonParameters>]\n```\n", "## SYNTAX",
            "'## SYNTAX' must come before '## DESCRIPTION'"
        },
        {
            "heading not the file name", "# Get-Thing\n", "# Get-Things\n", "# Get-Things", "does not match the file name Get-Thing.md"
        },
        {
            "wrong help file", "external help file: Thing.dll-Help.xml", "external help file: Other.dll-Help.xml", "external help file",
            "should be 'Thing.dll-Help.xml'"
        },
        {
            "old schema", "schema: 2.0.0", "schema: 1.0.0", "schema:", "schema '1.0.0' is not supported"
        },
        {
            "text in RELATED LINKS", "[about_Thing](about_Thing.md)\n", "[about_Thing](about_Thing.md)\nSee also the README.\n", "See also the README.",
            "'See also the README.' in RELATED LINKS is not a [text](uri) link"
        },
        {
            "paragraph that is a single link", "Gets the thing named one.\n", "[about_Thing](about_Thing.md)\n", "[about_Thing](about_Thing.md)\n\n## PARAMETERS",
            "NullReferenceException"
        },
        {
            "platyPS placeholder left", "Gets a thing.", "{{ Fill in the Synopsis }}", "{{ Fill", "placeholder '{{ Fill in the Synopsis }}'"
        },
        {
            "INPUTS without a type", "### None\n", "", "## INPUTS", "INPUTS has no '### <TypeName>' entry"
        },
        {
            "two default parameter sets", "```\nGet-Thing [-Name] <String> [<CommonParameters>]\n```\n",
            "### A (Default)\n```\nGet-Thing [-Name] <String>\n```\n\n### B (Default)\n```\nGet-Thing\n```\n", "## SYNTAX", "more than one parameter set as default"
        },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Broken_page_fails_with_file_line_and_reason(string what, string piece, string replacement, string lineSnippet, string reason)
    {
        using var folder = DocsFolder.Create();
        string page = CmdletPage.With(piece, replacement);
        string path = folder.Write(CmdletPage.FileName, page);

        var result = folder.Build();

        var error = Assert.Single(result.Diagnostics, d => d.Severity == HelpSeverity.Error);
        Assert.False(result.Succeeded, what);
        Assert.Equal(path, error.Path);
        Assert.Equal(DocsFolder.LineOf(page, lineSnippet.Split('\n')[0]), error.Line);
        Assert.Contains(reason, error.Message);
        Assert.StartsWith($"{path}({error.Line}): error HG100", error.ToString());
        Assert.False(Directory.Exists(folder.Output) && Directory.EnumerateFiles(folder.Output).Any(), "nothing is written");
    }

    [Fact]
    public void About_topic_without_its_name_heading_fails()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.Valid);
        string path = folder.Write("about_Thing.md", "# Thing\n\n## Short description\nWhat a thing is.\n");

        var result = folder.Build();

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((path, 3, HelpSeverity.Error), (error.Path, error.Line, error.Severity));
        Assert.Contains("must be the heading '## about_Thing'", error.Message);
    }

    [Fact]
    public void About_topic_line_starting_with_a_word_longer_than_76_characters_fails_as_in_platyPS()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.Valid);
        string url = "https://example.org/" + new string('a', 70);
        string path = folder.Write("about_Thing.md", $"# Thing\n## about_Thing\n\n# LONG DESCRIPTION\n{url} is where it lives.\n");

        var result = folder.Build();

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((path, 5, HelpDiagnostic.PlatyPSFailure), (error.Path, error.Line, error.Code));
        Assert.Contains("ArgumentOutOfRangeException", error.Message);
    }

    [Fact]
    public void Every_broken_page_is_reported_in_one_run()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("## NOTES\n", "## REMARKS\n"));
        folder.Write("Set-Thing.md", CmdletPage.Valid.Replace("Get-Thing", "Set-Thing").Replace("Gets a thing.\n", ""));

        var result = folder.Build();

        Assert.Equal(["Get-Thing.md", "Set-Thing.md"], result.Diagnostics.Select(d => Path.GetFileName(d.Path)).ToArray());
    }

    [Fact]
    public void Control_character_that_XML_cannot_hold_fails_at_its_line()
    {
        using var folder = DocsFolder.Create();
        string page = CmdletPage.With("Gets a thing.", "Gets a \u0007thing.");
        string path = folder.Write(CmdletPage.FileName, page);

        var result = folder.Build();

        var error = Assert.Single(result.Diagnostics);
        Assert.Equal((path, DocsFolder.LineOf(page, "Gets a \u0007thing.")), (error.Path, error.Line));
        Assert.Contains("U+0007 cannot be written to XML", error.Message);
    }

    [Fact]
    public void Empty_docs_folder_fails()
    {
        using var folder = DocsFolder.Create();

        var result = folder.Build();

        var error = Assert.Single(result.Diagnostics);
        Assert.Contains("no cmdlet help", error.Message);
    }
}
