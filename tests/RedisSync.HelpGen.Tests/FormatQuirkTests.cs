using System.IO;
using System.Linq;
using RedisSync.HelpGen.Tests.Infrastructure;
using Xunit;

namespace RedisSync.HelpGen.Tests;

/// <summary>
/// Behaviours of platyPS 0.14 that shape the MAML, derived from its ModelTransformerVersion2,
/// ModelTransformerBase, MarkdownParser (Full mode) and MamlRenderer.
/// </summary>
public sealed class FormatQuirkTests
{
    private const string TwoSetParameters = """
        ### -Id
        The id.

        ```yaml
        Type: Int32
        Parameter Sets: ById
        Aliases:

        Required: True
        Position: 1
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### -Name
        The name of the thing.

        ```yaml
        Type: String
        Parameter Sets: ByName
        Aliases:
        Accepted values: One, Two

        Required: True
        Position: 0
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ```yaml
        Type: String
        Parameter Sets: ById
        Aliases:
        Accepted values: One, Two

        Required: False
        Position: Named
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### -Force
        Does it anyway.

        ```yaml
        Type: SwitchParameter
        Parameter Sets: (All)
        Aliases:

        Required: False
        Position: Named
        Default value: False
        Accept pipeline input: False
        Accept wildcard characters: False
        ```
        """;

    private const string TwoSetSyntax = """
        ### ByName (Default)
        ```
        Get-Thing [-Name] <String> [-Force] [<CommonParameters>]
        ```

        ### ById
        ```
        Get-Thing [-Id] <Int32> [-Name <String>] [-Force] [<CommonParameters>]
        ```
        """;

    private static string TwoSetPage() => CmdletPage
        .With("```\nGet-Thing [-Name] <String> [<CommonParameters>]\n```", TwoSetSyntax)
        .Replace(CmdletPage.Valid.Substring(CmdletPage.Valid.IndexOf("### -Name"), CmdletPage.Valid.IndexOf("### CommonParameters") - CmdletPage.Valid.IndexOf("### -Name")), TwoSetParameters + "\n\n");

    [Fact]
    public void Syntax_items_follow_the_order_the_parameters_name_their_sets_and_sort_by_position()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, TwoSetPage());

        var maml = folder.BuildMaml();

        // -Id names ById first, so ById is the first syntax item although SYNTAX lists ByName first.
        Assert.Equal(["Id", "Name", "Force"], DocsFolder.Select(maml, "//command:syntaxItem[1]/command:parameter/maml:name"));
        Assert.Equal(["Name", "Force"], DocsFolder.Select(maml, "//command:syntaxItem[2]/command:parameter/maml:name"));
        Assert.Equal(["Id", "Name", "Force"], DocsFolder.Select(maml, "//command:parameters/command:parameter/maml:name"));
    }

    [Fact]
    public void Parameter_with_a_yaml_block_per_set_shows_each_in_its_syntax_and_the_first_in_parameters()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, TwoSetPage());

        var maml = folder.BuildMaml();

        var byId = maml.Descendants().Where(e => e.Name.LocalName == "syntaxItem").First()
            .Elements().Single(e => e.Name.LocalName == "parameter" && e.Elements().First().Value == "Name");
        var byName = maml.Descendants().Where(e => e.Name.LocalName == "syntaxItem").Last()
            .Elements().Single(e => e.Name.LocalName == "parameter" && e.Elements().First().Value == "Name");
        var listed = maml.Descendants().Single(e => e.Name.LocalName == "parameters")
            .Elements().Single(e => e.Elements().First().Value == "Name");
        Assert.Equal(("false", "named"), ((string)byId.Attribute("required")!, (string)byId.Attribute("position")!));
        Assert.Equal(("true", "0"), ((string)byName.Attribute("required")!, (string)byName.Attribute("position")!));
        Assert.Equal(("true", "0"), ((string)listed.Attribute("required")!, (string)listed.Attribute("position")!));
    }

    [Fact]
    public void Accepted_values_in_two_yaml_blocks_are_listed_twice_and_warned_about()
    {
        using var folder = DocsFolder.Create();
        string page = TwoSetPage();
        folder.Write(CmdletPage.FileName, page);

        var result = folder.Build();

        var maml = System.Xml.Linq.XDocument.Load(Path.Combine(folder.Output, "Thing.dll-Help.xml"));
        Assert.Equal(["One", "Two", "One", "Two"], DocsFolder.Select(maml, "//command:syntaxItem[2]/command:parameter[maml:name='Name']/command:parameterValueGroup/command:parameterValue"));
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal((HelpSeverity.Warning, DocsFolder.LineOf(page, "### -Name")), (warning.Severity, warning.Line));
        Assert.Contains("'Accepted values' in 2 yaml blocks", warning.Message);
    }

    [Fact]
    public void Underscores_around_text_are_read_as_emphasis_with_a_warning()
    {
        using var folder = DocsFolder.Create();
        string page = CmdletPage.With("Gets the thing that has the name.", "Filter with $_.Name and $_.Id in a script block.");
        folder.Write(CmdletPage.FileName, page);

        var result = folder.Build();

        var maml = System.Xml.Linq.XDocument.Load(Path.Combine(folder.Output, "Thing.dll-Help.xml"));
        Assert.Equal(["Filter with $ .Name and $ .Id in a script block."], DocsFolder.Select(maml, "/msh:helpItems/command:command/maml:description/maml:para"));
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal((HelpSeverity.Warning, DocsFolder.LineOf(page, "Filter with")), (warning.Severity, warning.Line));
        Assert.Contains("escape them as \\_", warning.Message);
    }

    [Fact]
    public void Online_version_becomes_the_first_related_link_once()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("online version:", "online version: https://example.org/Get-Thing"));
        folder.Write("Set-Thing.md", CmdletPage.Valid.Replace("Get-Thing", "Set-Thing")
            .Replace("online version:", "online version: https://example.org/Set-Thing")
            .Replace("[about_Thing](about_Thing.md)", "[Online Version:](https://example.org/Set-Thing)\n[about_Thing](about_Thing.md)"));

        var maml = folder.BuildMaml();

        Assert.Equal(["Online Version:", "about_Thing"], DocsFolder.Select(maml, "//command:command[command:details/command:name='Get-Thing']//maml:linkText"));
        Assert.Equal(["https://example.org/Get-Thing", ""], DocsFolder.Select(maml, "//command:command[command:details/command:name='Get-Thing']//maml:navigationLink/maml:uri"));
        Assert.Equal(["Online Version:", "about_Thing"], DocsFolder.Select(maml, "//command:command[command:details/command:name='Set-Thing']//maml:linkText"));
    }

    [Fact]
    public void Lists_keep_their_lines_and_single_line_breaks_become_spaces()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("## NOTES\n", """
            ## NOTES
            The thing is read
            from the cache:

            - first the local one,
            - then the shared one.
            Then it is checked.

            """));

        var maml = folder.BuildMaml();

        Assert.Equal(
            ["The thing is read from the cache:", "- first the local one,", "- then the shared one.", "Then it is checked."],
            DocsFolder.Select(maml, "//maml:alertSet/maml:alert/maml:para"));
    }

    [Fact]
    public void Syntax_entry_for_a_set_no_parameter_names_is_warned_about()
    {
        using var folder = DocsFolder.Create();
        string page = TwoSetPage().Replace("### ById\n", "### ByIdentity\n");
        folder.Write(CmdletPage.FileName, page);

        var result = folder.Build();

        var warnings = result.Diagnostics.Where(d => d.Message.Contains("SYNTAX")).ToList();
        Assert.Contains(warnings, w => w.Line == DocsFolder.LineOf(page, "### ByIdentity") && w.Message.Contains("no parameter's yaml names it"));
        Assert.Contains(warnings, w => w.Line == DocsFolder.LineOf(page, "## SYNTAX") && w.Message.Contains("'ById' (from the parameters' yaml) has no '### ById' entry"));
    }

    [Fact]
    public void About_topic_front_matter_is_skipped()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.Valid);
        folder.Write("about_Thing.md", "---\nschema: 2.0.0\n---\n\n# Thing\n## about_Thing\n\n# SHORT DESCRIPTION\nWhat a thing is.\n");

        var result = folder.Build();

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Equal("TOPIC\r\n    about_thing\r\n\r\nSHORT DESCRIPTION\r\n    What a thing is.\r\n\r\n",
            DocsFolder.ReadWithBom(Path.Combine(folder.Output, "about_Thing.help.txt")));
    }
}
