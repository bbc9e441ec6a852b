using System;
using System.IO;
using System.Linq;
using System.Reflection;

namespace RedisSync.PowerShell.Tests.Infrastructure;

/// <summary>Where the build put what the tests read: the staged module, the PowerShell reference assembly, the repository.</summary>
internal static class Paths
{
    /// <summary>The staged module: manifest, root module and format file.</summary>
    public static string ModuleDirectory => Metadata("ModuleDirectory");

    /// <summary>One build of the cmdlets in the module folder: net8.0 (PowerShell 7.4+) or netstandard2.0 (Windows PowerShell 5.1).</summary>
    public static string BuildDirectory(string framework = "netstandard2.0") => Path.Combine(ModuleDirectory, framework);

    public static string PowerShellReference => Metadata("PowerShellStandardLibrary");

    public static string RepoRoot => Metadata("RepoRoot");

    public static string TempDirectory()
    {
        string dir = Path.Combine(Path.GetTempPath(), "redissync-ps-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string Metadata(string key)
    {
        string value = typeof(Paths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        if (!File.Exists(value) && !Directory.Exists(value)) throw new InvalidOperationException($"{key} '{value}' does not exist: build the solution first.");
        return value;
    }
}
