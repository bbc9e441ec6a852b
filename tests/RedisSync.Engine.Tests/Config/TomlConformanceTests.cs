using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using RedisSync.Engine.Config;
using Xunit;

namespace RedisSync.Engine.Tests.Config;

/// <summary>The official TOML 1.0.0 suite: every valid document reads as its JSON says, every invalid one is refused.</summary>
public sealed class TomlConformanceTests
{
    [TomlCorpusTheory]
    [MemberData(nameof(TomlCorpus.ValidCases), MemberType = typeof(TomlCorpus))]
    public void Valid_toml_reads_as_the_official_suite_expects(string file)
    {
        TomlTable document = TomlDocument.Load(TomlCorpus.PathOf(file));

        using JsonDocument expected = JsonDocument.Parse(File.ReadAllText(Path.ChangeExtension(TomlCorpus.PathOf(file), ".json")));
        var differences = TomlTaggedJson.Differences(document, expected.RootElement);
        Assert.True(differences.Count == 0, string.Join(Environment.NewLine, differences));
    }

    [TomlCorpusTheory]
    [MemberData(nameof(TomlCorpus.InvalidCases), MemberType = typeof(TomlCorpus))]
    public void Invalid_toml_is_refused_with_its_line_and_column(string file)
    {
        var error = Assert.Throws<TomlException>(() => TomlDocument.Load(TomlCorpus.PathOf(file)));

        Assert.True(error.Line >= 1 && error.Column >= 1, $"no place in: {error.Message}");
        Assert.StartsWith($"line {error.Line}, column {error.Column}: ", error.Message);
    }

    [TomlCorpusFact]
    public void Every_case_the_suite_lists_for_toml_1_0_is_run()
    {
        string[] listed = File.ReadAllLines(Path.Combine(TomlCorpus.TestsDir!, "files-toml-1.0.0"))
            .Where(line => line.EndsWith(".toml", StringComparison.Ordinal))
            .OrderBy(line => line, StringComparer.Ordinal)
            .ToArray();
        string[] run = TomlCorpus.CaseNames("valid").Concat(TomlCorpus.CaseNames("invalid"))
            .OrderBy(line => line, StringComparer.Ordinal)
            .ToArray();

        Assert.Equal(listed, run);
        Assert.All(TomlCorpus.CaseNames("valid"), name => Assert.True(File.Exists(Path.ChangeExtension(TomlCorpus.PathOf(name), ".json")), name));
    }
}
