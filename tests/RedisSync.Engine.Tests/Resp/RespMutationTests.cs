using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Tests.Rdb;
using Xunit;
using Xunit.Abstractions;

namespace RedisSync.Engine.Tests.Resp;

/// <summary>
/// Seeded mutations of RESP2 and RESP3 traffic (a replication stream's commands, every kind of reply),
/// cut into random segments as a pipe hands them out, read as commands (the replication stream), as
/// values (the control path) and skipped (the writer's replies): each read returns a frame, waits for
/// more, or throws a <see cref="SyncException"/> ProtocolError; nothing else, in bounded time and memory.
/// </summary>
public sealed class RespMutationTests
{
    private const int Seed = 20_260_602;
    private const int Mutations = 3000;

    private static readonly string[] Traffic =
    {
        "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*1\r\n$5\r\nMULTI\r\n*3\r\n$4\r\nINCR\r\n$1\r\nx\r\n*1\r\n$4\r\nEXEC\r\n",
        "*2\r\n$6\r\nSELECT\r\n$1\r\n9\r\n*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n*4\r\n$4\r\nHSET\r\n$1\r\nh\r\n$0\r\n\r\n$" + "1000\r\n" + new string('v', 1000) + "\r\n",
        "+OK\r\n-ERR wrong\r\n:123\r\n$5\r\nhello\r\n$-1\r\n*-1\r\n*2\r\n$1\r\na\r\n:1\r\n*0\r\n",
        "%2\r\n+a\r\n:1\r\n+b\r\n*1\r\n_\r\n~2\r\n+x\r\n#t\r\n|1\r\n+key\r\n+val\r\n+reply\r\n>2\r\n+message\r\n$1\r\nm\r\n",
        ",1.5\r\n,inf\r\n(12345678901234567890\r\n=8\r\ntxt:abcd\r\n!9\r\nERR wrong\r\n#f\r\n",
        "*3\r\n+OK\r\n-BUSYKEY Target key name already exists.\r\n*2\r\n:1\r\n-OOM no\r\n",
    };

    private static readonly string[] Huge = { "2147483647", "9223372036854775807", "99999999999999999999", "-2", "-9223372036854775808", "4294967296", "?" };

    private readonly ITestOutputHelper _output;

    public RespMutationTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Mutated_traffic_is_read_or_refused_as_a_protocol_error_only()
    {
        var rng = new Random(Seed);
        var outcomes = new Dictionary<string, int>();
        for (int i = 0; i < Mutations; i++)
        {
            byte[] input = Mutate(Encoding.ASCII.GetBytes(Traffic[rng.Next(Traffic.Length)]), rng, out string what);
            ReadOnlySequence<byte> sequence = Cut(input, rng);
            string label = $"mutation {i} (seed {Seed}): {what}: {Encoding.ASCII.GetString(input.Take(120).ToArray()).Replace("\r\n", "\\r\\n")}";
            foreach ((string reader, Func<ReadOnlySequence<byte>, bool> read) in Readers())
            {
                string outcome = ReadAll(sequence, read, label + " read as " + reader);
                outcomes[reader + " " + outcome] = outcomes.GetValueOrDefault(reader + " " + outcome) + 1;
            }
        }
        _output.WriteLine(string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.Contains(outcomes.Keys, k => k.EndsWith(SyncErrorIds.ProtocolError, StringComparison.Ordinal));
    }

    private static IEnumerable<(string, Func<ReadOnlySequence<byte>, bool>)> Readers()
    {
        var args = new List<ReadOnlySequence<byte>>();
        yield return ("commands", b => RespParser.TryReadCommand(ref b, args, out _) ? Consumed(b) : false);
        yield return ("values", b => RespParser.TryRead(ref b, out _) ? Consumed(b) : false);
        yield return ("skipped replies", b => RespParser.TrySkip(ref b, out _) ? Consumed(b) : false);
    }

    [ThreadStatic]
    private static ReadOnlySequence<byte> t_rest;

    private static bool Consumed(ReadOnlySequence<byte> rest)
    {
        t_rest = rest;
        return true;
    }

    /// <summary>Reads frames until one is incomplete or the input ends: "complete", "incomplete" or the error id.</summary>
    private static string ReadAll(ReadOnlySequence<byte> buffer, Func<ReadOnlySequence<byte>, bool> read, string label)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        long length = buffer.Length;
        try
        {
            while (!buffer.IsEmpty)
            {
                if (!read(buffer)) return "incomplete";
                Assert.True(t_rest.Length < buffer.Length, $"{label}: a frame was read without consuming a byte");
                buffer = t_rest;
            }
            return "complete";
        }
        catch (SyncException e) when (e.ErrorId == SyncErrorIds.ProtocolError)
        {
            return e.ErrorId;
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new Xunit.Sdk.XunitException($"{label} threw {e}");
        }
        finally
        {
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < 1024 * 1024 + 64L * length, $"{label} allocated {allocated} bytes");
        }
    }

    private static byte[] Mutate(byte[] original, Random rng, out string what)
    {
        var data = new List<byte>(original);
        int kind = rng.Next(ByteMutations.Kinds + 2);
        int[] numbers = Enumerable.Range(0, data.Count - 1).Where(k => "*$%~|>:=!(".IndexOf((char)data[k]) >= 0 && char.IsDigit((char)data[k + 1])).ToArray();
        if (kind < ByteMutations.Kinds || numbers.Length == 0)
        {
            what = ByteMutations.Apply(data, rng, kind % ByteMutations.Kinds, 0, 8);
        }
        else if (kind == ByteMutations.Kinds)
        {
            // A frame's type byte where none belongs.
            int at = rng.Next(data.Count);
            const string types = "*$%~|>:\r\n-+_#,(=!";
            char type = types[rng.Next(types.Length)];
            data.Insert(at, (byte)type);
            what = $"'{type}' inserted at {at}";
        }
        else
        {
            // A length or integer after a type byte made huge, negative or a streamed '?'.
            int start = numbers[rng.Next(numbers.Length)] + 1;
            int end = start;
            while (end < data.Count && char.IsDigit((char)data[end])) end++;
            string number = Huge[rng.Next(Huge.Length)];
            data.RemoveRange(start, end - start);
            data.InsertRange(start, Encoding.ASCII.GetBytes(number));
            what = $"number at {start} made {number}";
        }
        return data.ToArray();
    }

    /// <summary>The bytes in 1 to 6 segments cut at random places, some of them empty.</summary>
    private static ReadOnlySequence<byte> Cut(byte[] data, Random rng) =>
        Segments.Split(data, Enumerable.Range(0, rng.Next(6)).Select(_ => rng.Next(data.Length + 1)).OrderBy(c => c).ToArray());
}
