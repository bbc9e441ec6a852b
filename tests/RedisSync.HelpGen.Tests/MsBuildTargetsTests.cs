using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text;
using RedisSync.HelpGen.Tests.Infrastructure;
using Xunit;

namespace RedisSync.HelpGen.Tests;

/// <summary>
/// RedisSync.HelpGen.targets in a throwaway netstandard2.0 project wired as the PowerShell project
/// will be (one Import): `dotnet build` writes the help into the staging folder, skips it when no
/// markdown changed, and fails with the page's file(line) when a page is broken.
/// </summary>
public sealed class MsBuildTargetsTests
{
    [Fact]
    public void Help_is_built_after_the_project_and_again_only_when_a_page_changes()
    {
        using var folder = DocsFolder.Create();
        string page = File.ReadAllText(Path.Combine(DocsFolder.SampleDocs, "Stop-RedisSync.md"));
        string pagePath = Path.Combine(folder.Docs, "Stop-RedisSync.md");
        File.WriteAllText(pagePath, page);
        File.Copy(Path.Combine(DocsFolder.SampleDocs, "about_RedisSync.md"), Path.Combine(folder.Docs, "about_RedisSync.md"));
        string project = WriteSampleProject(folder.Root);
        string staging = Path.Combine(folder.Root, "staging", "en-US");
        string maml = Path.Combine(staging, "RedisSync.dll-Help.xml");

        var (first, firstLog) = Build(project);
        Assert.True(first == 0, firstLog);
        Assert.Contains("<command:name>Stop-RedisSync</command:name>", DocsFolder.ReadWithBom(maml));
        Assert.True(File.Exists(Path.Combine(staging, "about_RedisSync.help.txt")));
        Assert.Contains($"{Path.Combine(folder.Docs, "about_RedisSync.md")}(19): warning HG2001:", firstLog);
        string output = Path.GetDirectoryName(Directory.GetFiles(Path.Combine(folder.Root, "Sample", "bin"), "RedisSync.dll", SearchOption.AllDirectories).Single())!;
        Assert.Empty(Directory.GetFiles(output, "RedisSync.HelpGen*"));

        DateTime written = File.GetLastWriteTimeUtc(maml);
        var (second, secondLog) = Build(project);
        Assert.True(second == 0, secondLog);
        Assert.Contains("Skipping target \"BuildExternalHelp\" because all output files are up-to-date", secondLog);
        Assert.Equal(written, File.GetLastWriteTimeUtc(maml));

        string broken = page.Replace("## SYNOPSIS\nStops a running sync.\n\n", "");
        File.WriteAllText(pagePath, broken);
        var (third, thirdLog) = Build(project);
        Assert.NotEqual(0, third);
        Assert.Contains($"{pagePath}({DocsFolder.LineOf(broken, "# Stop-RedisSync")}): error HG1001: the '## SYNOPSIS' section is missing", thirdLog);
    }

    private static string WriteSampleProject(string root)
    {
        // Empty Directory.* files stop MSBuild from picking up anything above the temp folder.
        foreach (string name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
        {
            File.WriteAllText(Path.Combine(root, name), "<Project />");
        }

        string targets = Path.Combine(RepoRoot(), "src", "RedisSync.HelpGen", "RedisSync.HelpGen.targets");
        string project = Path.Combine(root, "Sample", "RedisSync.csproj");
        Directory.CreateDirectory(Path.GetDirectoryName(project)!);
        File.WriteAllText(project, $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <TargetFramework>netstandard2.0</TargetFramework>
                <RepoRoot>$(MSBuildThisFileDirectory)../</RepoRoot>
                <HelpStagingDir>$(MSBuildThisFileDirectory)../staging/en-US/</HelpStagingDir>
              </PropertyGroup>
              <Import Project="{targets}" />
            </Project>
            """);
        return project;
    }

    private static (int ExitCode, string Log) Build(string project)
    {
        // The configuration this test assembly was built in: the tool is then already up to date.
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "build", project, "-c", configuration, "-v:n", "-nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false" })
        {
            start.ArgumentList.Add(argument);
        }

        foreach (string name in start.Environment.Keys.Where(key => key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(name);
        }

        using var process = Process.Start(start)!;
        var log = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("dotnet build did not finish in 5 minutes:\n" + log);
        }

        process.WaitForExit();
        return (process.ExitCode, log.ToString());
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "src", "RedisSync.HelpGen", "RedisSync.HelpGen.targets")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (src/RedisSync.HelpGen) is not above " + AppContext.BaseDirectory);
    }
}
