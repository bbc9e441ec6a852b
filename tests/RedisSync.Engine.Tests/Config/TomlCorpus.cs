using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Xunit;

namespace RedisSync.Engine.Tests.Config;

/// <summary>
/// The official TOML 1.0 conformance corpus (toml-lang/toml-test), kept beside the repository and
/// never copied into it: <c>$TOML_TEST_DIR</c>, else <c>../shared/toml-test</c> from the folder
/// holding the solution (a worktree's ancestors are searched the same way).
/// </summary>
public static class TomlCorpus
{
    public const string EnvironmentVariable = "TOML_TEST_DIR";

    /// <summary>The folder holding valid/ and invalid/, or null when the corpus is not on this machine.</summary>
    public static string? TestsDir { get; } = Locate();

    public static string MissingReason =>
        $"TOML conformance corpus not found: set {EnvironmentVariable} or put toml-test at ../shared/toml-test beside the repository.";

    public static IEnumerable<object[]> ValidCases() => Cases("valid");

    public static IEnumerable<object[]> InvalidCases() => Cases("invalid");

    /// <summary>Corpus-relative paths with '/' (valid/array/nested.toml), sorted, so each case is a named row.</summary>
    public static IEnumerable<string> CaseNames(string kind)
    {
        if (TestsDir is null) return Array.Empty<string>();
        return Directory.EnumerateFiles(Path.Combine(TestsDir, kind), "*.toml", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(TestsDir, file).Replace(Path.DirectorySeparatorChar, '/'))
            .OrderBy(name => name, StringComparer.Ordinal);
    }

    public static string PathOf(string caseName) =>
        Path.Combine(TestsDir ?? throw new InvalidOperationException(MissingReason), caseName.Replace('/', Path.DirectorySeparatorChar));

    private static IEnumerable<object[]> Cases(string kind) => CaseNames(kind).Select(name => new object[] { name });

    private static string? Locate()
    {
        string? fromEnvironment = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(fromEnvironment)) return TestsFolder(fromEnvironment);

        DirectoryInfo? dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RedisSync.sln"))
            && !File.Exists(Path.Combine(dir.FullName, "RedisSync.slnx")))
        {
            dir = dir.Parent;
        }

        for (DirectoryInfo? above = dir?.Parent; above is not null; above = above.Parent)
        {
            string? found = TestsFolder(Path.Combine(above.FullName, "shared", "toml-test"));
            if (found is not null) return found;
        }

        return null;
    }

    /// <summary>Accepts the corpus root (with tests/) or its tests folder itself.</summary>
    private static string? TestsFolder(string path)
    {
        foreach (string candidate in new[] { Path.Combine(path, "tests"), path })
        {
            if (Directory.Exists(Path.Combine(candidate, "valid")) && Directory.Exists(Path.Combine(candidate, "invalid")))
            {
                return Path.GetFullPath(candidate);
            }
        }

        return null;
    }
}

/// <summary>A theory over the corpus that is reported skipped, with the reason, on machines without it.</summary>
public sealed class TomlCorpusTheoryAttribute : TheoryAttribute
{
    public TomlCorpusTheoryAttribute()
    {
        if (TomlCorpus.TestsDir is null) Skip = TomlCorpus.MissingReason;
    }
}

/// <summary>A fact about the corpus that is reported skipped, with the reason, on machines without it.</summary>
public sealed class TomlCorpusFactAttribute : FactAttribute
{
    public TomlCorpusFactAttribute()
    {
        if (TomlCorpus.TestsDir is null) Skip = TomlCorpus.MissingReason;
    }
}
