using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using Xunit;
using Xunit.Abstractions;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>
/// Hundreds of seeded mutations of the fixture files (bit flips, truncations, inserted and removed
/// bytes, length fields made huge; half of them with the CRC footer fixed up so the structure is what
/// fails), each read by the whole-file check and by the parser into the copy's transform: every one
/// ends as a success or a <see cref="SyncException"/> with an RDB error id and a byte offset, never
/// another exception, within a bounded time and a bounded allocation.
/// </summary>
public sealed class RdbMutationTests : IDisposable
{
    private const int Seed = 20_260_601;
    private const int Mutations = 1000;
    private static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(30);
    private static readonly ServerInfo Redis70 = ServerInfo.Parse("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n");

    private static readonly HashSet<string> RdbErrors = new()
    {
        SyncErrorIds.RdbCorrupt, SyncErrorIds.RdbTruncated, SyncErrorIds.RdbChecksumMismatch, SyncErrorIds.RdbUnknownType,
        SyncErrorIds.RdbUnsupportedVersion, SyncErrorIds.RdbDuplicateKey,
    };

    private readonly ITestOutputHelper _output;
    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-mutation-").FullName;

    public RdbMutationTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed record Source(string Name, byte[] Bytes, List<int> Lengths);

    /// <summary>The fixture files, each with where its keys' name lengths and values begin (where a huge length does harm).</summary>
    private static List<Source> Sources()
    {
        var files = Fixtures.RdbNames().Select(n => Fixtures.RdbPath((string)n[0])).ToList();
        files.AddRange(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "fixtures", "rdb-corpus"), "*.rdb").OrderBy(f => f, StringComparer.Ordinal));
        var sources = new List<Source>();
        foreach (string file in files)
        {
            byte[] bytes = File.ReadAllBytes(file);
            var keys = new KeyStarts();
            try
            {
                SyntheticRdbTests.Parse(bytes, keys);
            }
            catch (SyncException)
            {
                // a file of the corpus that is refused: the keys before the error serve
            }
            sources.Add(new Source(Path.GetRelativePath(Path.Combine(AppContext.BaseDirectory, "fixtures"), file), bytes, keys.Lengths));
        }
        return sources;
    }

    private sealed class KeyStarts : RdbVisitor
    {
        public List<int> Lengths { get; } = new();

        public override bool OnKey(in RdbKey key)
        {
            int name = (int)key.Offset + 1;
            Lengths.Add(name);
            Lengths.Add(name + (key.Name.Length < 64 ? 1 : key.Name.Length < 16384 ? 2 : 5) + key.Name.Length);
            return false;
        }
    }

    [Fact]
    public void Mutated_files_fail_only_with_rdb_error_ids_in_bounded_time_and_memory()
    {
        List<Source> sources = Sources();
        var rng = new Random(Seed);
        var outcomes = new Dictionary<string, int>();
        long mostAllocated = 0;
        string path = Path.Combine(_dir, "mutated.rdb");
        for (int i = 0; i < Mutations; i++)
        {
            Source source = sources[rng.Next(sources.Count)];
            byte[] input = Mutate(source, rng, out string what);
            string label = $"mutation {i} (seed {Seed}) of {source.Name}: {what}";
            File.WriteAllBytes(path, input);
            foreach ((string reader, Action read) in new (string, Action)[]
            {
                ("check", () => new RdbFileCheck(path).Run()),
                ("copy", () => ToCommands(input)),
            })
            {
                (string outcome, long allocated) = Run(read, label + " read by the " + reader);
                outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
                mostAllocated = Math.Max(mostAllocated, allocated);
                long limit = 16L * 1024 * 1024 + 90L * input.Length; // LZF may grow data 88 times; nothing else more than the input
                Assert.True(allocated <= limit, $"{label} read by the {reader} allocated {allocated} bytes (limit {limit})");
            }
        }
        _output.WriteLine($"{Mutations} mutations x 2 readers: " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")) +
            $"; most allocated by one read: {mostAllocated / 1024} KB");
        Assert.True(outcomes.Count > 3, "the mutations should reach several kinds of error");
    }

    /// <summary>Runs one read on a thread of its own: its outcome (OK or the error id) and what it allocated, or a failure.</summary>
    private static (string Outcome, long Allocated) Run(Action read, string label)
    {
        string? outcome = null;
        Exception? unexpected = null;
        long allocated = 0;
        var thread = new Thread(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                read();
                outcome = "OK";
            }
            catch (SyncException e) when (RdbErrors.Contains(e.ErrorId) && e.Offset != null && e.Message.Contains(" byte ", StringComparison.Ordinal))
            {
                outcome = e.ErrorId;
            }
            catch (Exception e)
            {
                unexpected = e;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }) { IsBackground = true };
        thread.Start();
        Assert.True(thread.Join(TimeLimit), $"{label} did not end within {TimeLimit.TotalSeconds} s");
        if (unexpected != null) throw new Xunit.Sdk.XunitException($"{label} threw {unexpected}");
        return (outcome!, allocated);
    }

    /// <summary>What a full copy does with the file before the network: parse, RESTORE payloads checked, commands built.</summary>
    private static void ToCommands(byte[] input)
    {
        var parserOptions = new RdbParserOptions();
        using var transform = new RdbToCommands(new NullSink(), new TransformOptions(Redis70) { TargetIsEmpty = true, ParserOptions = parserOptions });
        new RdbParser(PipeReader.Create(new ReadOnlySequence<byte>(input)), transform, parserOptions).Parse();
    }

    private static byte[] Mutate(Source source, Random rng, out string what)
    {
        byte[] original = source.Bytes;
        var data = new List<byte>(original);
        int kind = rng.Next(ByteMutations.Kinds + 1);
        if (kind < ByteMutations.Kinds)
        {
            what = ByteMutations.Apply(data, rng, kind, 9, 16); // past the header, which has its own tests
        }
        else
        {
            int at = rng.Next(9, data.Count);
            byte[][] huge =
            {
                new byte[] { 0x80, 0xFF, 0xFF, 0xFF, 0xF0 },                         // a 32-bit RDB length of 4 GB
                new byte[] { 0x81, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }, // a 64-bit RDB length
                new byte[] { 0x80, 0x7F, 0x00, 0x00, 0x00 },                         // 2 GB, just under what an element may be
                new byte[] { 0x80, 0x10, 0x00, 0x00, 0x00 },                         // 256 MB
                new byte[] { 0x7F, 0xFF },                                           // the largest 14-bit length
                new byte[] { 0xFF, 0xFF, 0xFF, 0x7F },                               // a listpack/ziplist/intset 32-bit field
            };
            byte[] length = huge[rng.Next(huge.Length)];
            if (source.Lengths.Count > 0 && rng.Next(4) != 0) at = source.Lengths[rng.Next(source.Lengths.Count)];
            for (int k = 0; k < length.Length && at + k < data.Count; k++) data[at + k] = length[k];
            what = $"length field {Convert.ToHexString(length)} written at {at}";
        }
        byte[] result = data.ToArray();
        int version = result[5] == (byte)'0' ? int.Parse(System.Text.Encoding.ASCII.GetString(original, 5, 4)) : 0;
        if (version >= 5 && result.Length > 17 && rng.Next(2) == 0)
        {
            BitConverter.TryWriteBytes(result.AsSpan(result.Length - 8), Crc64.Update(0, result.AsSpan(0, result.Length - 8)));
            what += ", CRC footer fixed up";
        }
        return result;
    }

    private sealed class NullSink : ICommandSink
    {
        private long _pending;

        public long PendingCommandBytes => _pending;

        public void SelectDb(int db)
        {
        }

        public void BeginCommand() => _pending = 0;

        public void Arg(ReadOnlySpan<byte> value) => _pending += value.Length;

        public void Arg(long value) => _pending += 8;

        public void EndCommand() => _pending = 0;

        public void WriteCommands(ReadOnlySpan<byte> resp, int commandCount)
        {
        }

        public void KeyDone()
        {
        }

        public void Flush()
        {
        }
    }
}
