using System.IO;
using RedisSync.HelpGen.Tests.Infrastructure;
using Xunit;

namespace RedisSync.HelpGen.Tests;

/// <summary><c>dotnet RedisSync.HelpGen.dll &lt;docsDir&gt; &lt;outDir&gt; &lt;moduleName&gt; &lt;assemblyFileName&gt;</c>.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public void Wrong_arguments_print_the_usage_and_exit_2()
    {
        var output = new StringWriter();

        int exitCode = Program.Run(["docs"], output);

        Assert.Equal(2, exitCode);
        Assert.Contains("usage: dotnet RedisSync.HelpGen.dll <docsDir> <outDir> <moduleName> <assemblyFileName>", output.ToString());
    }

    [Fact]
    public void Good_docs_exit_0_and_say_what_was_written()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.Valid);
        var output = new StringWriter();

        int exitCode = Program.Run([folder.Docs, folder.Output, "Thing", "Thing.dll"], output);

        string xml = Path.Combine(folder.Output, "Thing.dll-Help.xml");
        Assert.Equal(0, exitCode);
        Assert.True(File.Exists(xml));
        Assert.Contains($"RedisSync.HelpGen: 1 command(s) -> {xml}", output.ToString());
    }

    [Fact]
    public void Broken_doc_exits_1_writes_nothing_and_prints_an_msbuild_error()
    {
        using var folder = DocsFolder.Create();
        string page = CmdletPage.With("## SYNOPSIS\nGets a thing.\n\n", "");
        string path = folder.Write(CmdletPage.FileName, page);
        var output = new StringWriter();

        int exitCode = Program.Run([folder.Docs, folder.Output, "Thing", "Thing.dll"], output);

        Assert.Equal(1, exitCode);
        Assert.False(Directory.Exists(folder.Output));
        Assert.Contains($"{path}({DocsFolder.LineOf(page, "# Get-Thing")}): error HG1001: the '## SYNOPSIS' section is missing", output.ToString());
    }

    [Fact]
    public void Module_name_in_the_front_matter_must_match_the_module()
    {
        using var folder = DocsFolder.Create();
        folder.Write(CmdletPage.FileName, CmdletPage.Valid);
        var output = new StringWriter();

        int exitCode = Program.Run([folder.Docs, folder.Output, "OtherModule", "Thing.dll"], output);

        Assert.Equal(1, exitCode);
        Assert.Contains("(3): error HG1001: 'Module Name: Thing' should be 'OtherModule'", output.ToString());
    }
}
