using System.IO;
using System.Linq;
using RedisSync.HelpGen.Tests.Infrastructure;
using Xunit;

namespace RedisSync.HelpGen.Tests;

/// <summary>
/// Cases of platyPS v1's own tests (test/Markdown.MAML.Test: EndToEndTests, MamlRendererTests,
/// TextRendererTests), with the same inputs and the same expected values, run through our
/// generator. Their markdown snippets are placed in a complete page, since this generator
/// requires every section.
/// </summary>
public sealed class PlatyPSCaseTests
{
    [Fact]
    public void Example_titles_are_padded_with_dashes_unless_too_long()
    {
        // MamlRendererTests.RendererProducePaddedExampleTitle and EndToEndTests.ProduceMamlFromMarkdown
        string longTitle = "Example 12: ".PadRight(66, 'A');
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("""
            ### Example 1
            ```powershell
            PS C:\> Get-Thing -Name one
            ```
            """, $$"""
            ### Example 1
            ```
            PS:> Get-Help -YouNeedIt
            ```

            ### Example 10
            ```
            PS:> Get-Help -YouNeedIt
            ```

            ### Example 11: With a title
            ```
            PS:> Get-Help -YouNeedIt
            ```

            ### {{longTitle}}
            ```
            PS:> Get-Help -YouNeedIt
            ```
            """));

        string[] titles = DocsFolder.Select(folder.BuildMaml(), "/msh:helpItems/command:command/command:examples/command:example/maml:title");

        Assert.Equal(4, titles.Length);
        Assert.Equal(63, titles[0].Length);
        Assert.Equal(64, titles[1].Length);
        Assert.Equal(66, titles[3].Length);
        Assert.Matches("^-+ Example 1 -+$", titles[0]);
        Assert.Matches("^-+ Example 10 -+$", titles[1]);
        Assert.Matches("^-+ Example 11: With a title -+$", titles[2]);
        Assert.Equal(longTitle, titles[3]);
    }

    [Fact]
    public void Description_paragraphs_become_one_para_each()
    {
        // EndToEndTests.ProduceMultilineDescription
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("Gets the thing that has the name.", """
            Hello,

            I'm a multiline description.

            And this is my last line.
            """));

        string[] description = DocsFolder.Select(folder.BuildMaml(), "/msh:helpItems/command:command/maml:description/maml:para");

        Assert.Equal(["Hello,", "I'm a multiline description.", "And this is my last line."], description);
    }

    [Fact]
    public void Hash_inside_a_paragraph_is_text()
    {
        // EndToEndTests.CanUseSharpInsideParagraphs
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("Gets a thing.", "This is Synopsis #hashtagNotAHeader."));

        var maml = folder.BuildMaml();

        Assert.Equal(["This is Synopsis #hashtagNotAHeader."], DocsFolder.Select(maml, "/msh:helpItems/command:command/command:details/maml:description/maml:para"));
        Assert.Equal(["Gets the thing that has the name."], DocsFolder.Select(maml, "/msh:helpItems/command:command/maml:description/maml:para"));
    }

    [Fact]
    public void Related_links_keep_only_absolute_uris()
    {
        // EndToEndTests.CanUseRelativeLinksInRelatedLinksSection
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("[about_Thing](about_Thing.md)", """
            [foo](foo.md)
            [bar](bar://bar.md)
            """));

        var maml = folder.BuildMaml();

        Assert.Equal(["foo", "bar"], DocsFolder.Select(maml, "/msh:helpItems/command:command/command:relatedLinks/maml:navigationLink/maml:linkText"));
        Assert.Equal(["", "bar://bar.md"], DocsFolder.Select(maml, "/msh:helpItems/command:command/command:relatedLinks/maml:navigationLink/maml:uri"));
    }

    [Fact]
    public void Code_blocks_of_one_example_are_joined_by_a_blank_line()
    {
        // MamlRendererTests.RendererProduceNameAndSynopsis, example 2
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("""
            ```powershell
            PS C:\> Get-Thing -Name one
            ```
            """, """
            ```powershell
            PS:> Get-Help -YouNeedIt
            ```

            ```
            Output
            ```
            """));

        string[] code = DocsFolder.Select(folder.BuildMaml(), "/msh:helpItems/command:command/command:examples/command:example/dev:code");

        // An XML reader turns the CRLF in the file into LF.
        Assert.Equal(["PS:> Get-Help -YouNeedIt\n\nOutput"], code);
        Assert.Contains("<dev:code>PS:&gt; Get-Help -YouNeedIt\r\n\r\nOutput</dev:code>", DocsFolder.ReadWithBom(Path.Combine(folder.Output, "Thing.dll-Help.xml")));
    }

    [Fact]
    public void Xml_special_characters_are_escaped()
    {
        // MamlRendererTests.RendererProduceEscapeXmlSpecialChars
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.With("Gets a thing.", "<port&number>"));

        var maml = folder.BuildMaml();

        Assert.Equal(["<port&number>"], DocsFolder.Select(maml, "/msh:helpItems/command:command/command:details/maml:description/maml:para"));
        Assert.Contains("<maml:para>&lt;port&amp;number&gt;</maml:para>", DocsFolder.ReadWithBom(Path.Combine(folder.Output, "Thing.dll-Help.xml")));
    }

    [Fact]
    public void About_topic_is_rendered_as_in_platyPS_text_renderer_test()
    {
        // TextRendererTests.RendererCreatesAboutTopicString: same markdown, same expected text.
        const string markdown = """
            # TopicName
            ## about_TopicName

            ```
            ABOUT TOPIC NOTE:
            The first header of the about topic should be the topic name.
            The second header contains the lookup name used by the help system.

            IE:
            # Some Help Topic Name
            ## SomeHelpTopicFileName

            This will be transformed into the text file as `about_SomeHelpTopicFileName`.

            Do not include file extensions.
            The second header should have no spaces.
            ```

            # SHORT DESCRIPTION
            {{Short Description Placeholder}}

            ```
            ABOUT TOPIC NOTE:
            About topics can be no longer than 80 characters wide when rendered to text.
            Any topics greater than 80 characters will be automatically wrapped.
            The generated about topic will be encoded UTF-8.
            ```

            # LONG DESCRIPTION
            {{Long Description Placeholder}}

            ## Optional Subtopics
            {{Optional Subtopic Placeholder}}

            # EXAMPLES
            {{Code or descriptive examples of how to leverage functions described.}}

            # NOTE
            {{Note Placeholder - Additional information that a user needs to know.}}

            # TROUBLESHOOTING NOTE
            {{Troubleshooting Placeholder - Warns users of bug.}}

            {{Explains behavior that is likely to change with fixes}}

            # SEE ALSO
            {{See also placeholder, list related articles, blogs, and video URLs.}}

            - https://somewebsite.com

            # KEYWORDS
            {{List alternate names or titles for this topic that readers might use.}}

            - {{Keyword Placeholder}}
            - {{Keyword Placeholder}}
            - {{Keyword Placeholder}}
            - {{Keyword Placeholder}}

            """;
        const string expected = """
            TOPIC
                about_topicname

                ABOUT TOPIC NOTE:
                The first header of the about topic should be the topic name.
                The second header contains the lookup name used by the help system.
                
                IE:
                # Some Help Topic Name
                ## SomeHelpTopicFileName
                
                This will be transformed into the text file as `about_SomeHelpTopicFileName`.
                
                Do not include file extensions.
                The second header should have no spaces.

            SHORT DESCRIPTION
                {{Short Description Placeholder}}

                ABOUT TOPIC NOTE:
                About topics can be no longer than 80 characters wide when rendered to text.
                Any topics greater than 80 characters will be automatically wrapped.
                The generated about topic will be encoded UTF-8.

            LONG DESCRIPTION
                {{Long Description Placeholder}}

            Optional Subtopics
                {{Optional Subtopic Placeholder}}

            EXAMPLES
                {{Code or descriptive examples of how to leverage functions described.}}

            NOTE
                {{Note Placeholder - Additional information that a user needs to know.}}

            TROUBLESHOOTING NOTE
                {{Troubleshooting Placeholder - Warns users of bug.}}
                {{Explains behavior that is likely to change with fixes}}

            SEE ALSO
                {{See also placeholder, list related articles, blogs, and video URLs.}}
                - https://somewebsite.com

            KEYWORDS
                {{List alternate names or titles for this topic that readers might use.}}
                - {{Keyword Placeholder}}
                - {{Keyword Placeholder}}
                - {{Keyword Placeholder}}
                - {{Keyword Placeholder}}


            """;
        var source = Markdown.MarkdownSource.Parse("about_TopicName.md", markdown);

        string text = About.AboutTopicWriter.Write(source, new System.Collections.Generic.List<HelpDiagnostic>());

        Assert.Equal(DocsFolder.WithCrlf(expected), text);
    }
}
