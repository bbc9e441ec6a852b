using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Rdb;
using RedisSync.Fuzz;
using Xunit;

namespace RedisSync.Engine.Tests.Fuzz;

/// <summary>
/// Replays the fuzz corpora and the inputs that once failed (tests/RedisSync.Fuzz/corpus and
/// regressions) through the fuzz targets, and seeded mutations of every seed, without AFL: each
/// input is accepted or refused with the documented error (<see cref="FuzzTargets.Run"/>), within a
/// time bound and an allocation bound.
/// </summary>
public sealed class FuzzReplayTests
{
    /// <summary>Generous, for a loaded machine: a parser that loops takes far longer.</summary>
    private static readonly TimeSpan PerInput = TimeSpan.FromSeconds(2);

    /// <summary>What one input may allocate on the calling thread: 64 MB plus 64 times its size.</summary>
    private static long AllocationBound(byte[] input) => 64L * 1024 * 1024 + 64L * input.Length;

    public static IEnumerable<object[]> Targets() => FuzzTargets.Names.Select(n => new object[] { n });

    [Theory]
    [MemberData(nameof(Targets))]
    public void EverySavedInputIsAcceptedOrRefusedWithTheDocumentedError(string target)
    {
        List<string> files = Inputs("corpus", target).Concat(Inputs("regressions", target)).ToList();
        Assert.NotEmpty(Inputs("corpus", target));
        foreach (string file in files) Check(target, File.ReadAllBytes(file), Path.GetFileName(file));
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void SeededMutationsOfEverySeedAreAcceptedOrRefusedWithTheDocumentedError(string target)
    {
        int checkedInputs = 0;
        foreach (string file in Inputs("corpus", target).Concat(Inputs("regressions", target)))
        {
            byte[] seed = File.ReadAllBytes(file);
            string name = Path.GetFileName(file);
            var rng = new Random(18 ^ StableHash(name));
            // Truncations at every N bytes (about 16 per seed).
            int step = Math.Max(1, seed.Length / 16);
            for (int cut = 0; cut < seed.Length; cut += step)
            {
                Check(target, seed.AsSpan(0, cut).ToArray(), $"{name} cut to {cut} bytes");
                checkedInputs++;
            }
            // Bit flips, inserted and removed bytes (ByteMutations, shared with the parsers' own mutation tests).
            for (int i = 0; i < 24 && seed.Length > 0; i++)
            {
                var data = new List<byte>(seed);
                string what = ByteMutations.Apply(data, rng, i % ByteMutations.Kinds, 0, 8);
                if (data.Count == 0) continue;
                Check(target, data.ToArray(), $"{name} with {what} (mutation {i})");
                checkedInputs++;
            }
        }
        Assert.True(checkedInputs > 100, $"only {checkedInputs} mutated inputs for {target}");
    }

    [Fact]
    public void TheFixtureDumpsParseAsWholeFilesToo()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "fixtures", "rdb");
        string[] dumps = Directory.GetFiles(dir, "dump.rdb", SearchOption.AllDirectories);
        Assert.NotEmpty(dumps);
        foreach (string dump in dumps)
        {
            RdbParser.ParseFile(dump, new Discard());
            Check("rdb", File.ReadAllBytes(dump), dump);
        }
    }

    [Fact]
    public void ASettingsFileThatEndsAfterABackslashInAStringIsInvalidConfigAtItsPlace()
    {
        // Found by the settings campaign: Tomlyn's lexer threw ArgumentOutOfRangeException here.
        string path = Path.Combine(Path.GetTempPath(), $"redissync-fuzz-{Guid.NewGuid():N}.toml");
        File.WriteAllText(path, "[target]\naddress = \"127.0.0.1:6380\\");
        try
        {
            SyncException e = Assert.Throws<SyncException>(() => RedisSync.Engine.Sync.SyncSettingsFile.Load(path));
            Assert.Equal(SyncErrorIds.InvalidConfig, e.ErrorId);
            Assert.Contains("line 2", e.Message, StringComparison.Ordinal);
            Assert.Contains("backslash", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static void Check(string target, byte[] input, string what)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var watch = Stopwatch.StartNew();
        try
        {
            FuzzTargets.Run(target, input);
        }
        catch (Exception e)
        {
            Assert.Fail($"{target}: {what}: {e.GetType().Name} escaped (not the documented error): {e}");
        }
        watch.Stop();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(watch.Elapsed < PerInput, $"{target}: {what} took {watch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(allocated <= AllocationBound(input), $"{target}: {what} allocated {allocated} bytes from an input of {input.Length}");
    }

    private static IEnumerable<string> Inputs(string kind, string target)
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "fuzz", kind, target);
        if (!Directory.Exists(dir)) return Array.Empty<string>();
        string[] files = Directory.GetFiles(dir).Where(f => !Path.GetFileName(f).StartsWith(".", StringComparison.Ordinal)).ToArray();
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    private static int StableHash(string text)
    {
        int h = 17;
        foreach (char c in text) h = unchecked(h * 31 + c);
        return h;
    }

    private sealed class Discard : RdbVisitor
    {
        public override bool OnKey(in RdbKey key) => true;
    }
}
