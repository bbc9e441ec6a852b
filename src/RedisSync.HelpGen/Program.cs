using System;
using System.IO;
using System.Linq;

namespace RedisSync.HelpGen;

/// <summary>
/// <c>dotnet RedisSync.HelpGen.dll &lt;docsDir&gt; &lt;outDir&gt; &lt;moduleName&gt; &lt;assemblyFileName&gt;</c>:
/// exit code 0 when the help was written, 1 when a page is malformed (nothing is written), 2 on
/// wrong arguments. Findings are printed in MSBuild's canonical error format.
/// </summary>
internal static class Program
{
    public static int Main(string[] args) => Run(args, Console.Out);

    /// <summary>The command line, writing to <paramref name="output"/> instead of the console.</summary>
    public static int Run(string[] args, TextWriter output)
    {
        if (args.Length != 4 || args.Any(string.IsNullOrWhiteSpace))
        {
            output.WriteLine("RedisSync.HelpGen: error HG1003: usage: dotnet RedisSync.HelpGen.dll <docsDir> <outDir> <moduleName> <assemblyFileName>");
            return 2;
        }

        var target = new HelpTarget(args[2], args[3]);
        var result = HelpBuild.Run(Path.GetFullPath(args[0]), Path.GetFullPath(args[1]), target);
        foreach (var diagnostic in result.Diagnostics)
        {
            output.WriteLine(diagnostic);
        }

        if (!result.Succeeded)
        {
            output.WriteLine($"RedisSync.HelpGen: no help written: {result.Diagnostics.Count(d => d.Severity == HelpSeverity.Error)} error(s)");
            return 1;
        }

        output.WriteLine($"RedisSync.HelpGen: {result.CommandCount} command(s) -> {result.Written[0]}");
        foreach (string about in result.Written.Skip(1))
        {
            output.WriteLine($"RedisSync.HelpGen: about topic -> {about}");
        }

        return 0;
    }
}
