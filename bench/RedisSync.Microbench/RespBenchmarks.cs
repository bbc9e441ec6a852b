using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using BenchmarkDotNet.Attributes;
using RedisSync.Engine.Resp;

namespace RedisSync.Microbench;

/// <summary>
/// RESP on the hot paths: reading the replication stream's commands (TryReadCommand), skipping a
/// target's replies to a MULTI … EXEC batch (TrySkip), and formatting commands (RespFormatter).
/// </summary>
[Config(typeof(MicrobenchConfig))]
public class RespBenchmarks
{
    private const int Commands = 10_000;
    private readonly List<ReadOnlySequence<byte>> _args = new List<ReadOnlySequence<byte>>(8);
    private readonly ArrayBufferWriter<byte> _output = new ArrayBufferWriter<byte>(4 << 20);
    private byte[] _stream = Array.Empty<byte>();
    private byte[] _replies = Array.Empty<byte>();
    private byte[][] _keys = Array.Empty<byte[]>();
    private byte[] _value = Array.Empty<byte>();

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        _keys = new byte[Commands][];
        for (int i = 0; i < Commands; i++) _keys[i] = Encoding.ASCII.GetBytes("key:" + rng.Next(1_000_000).ToString("D12"));
        _value = new byte[80];
        rng.NextBytes(_value);
        var stream = new ArrayBufferWriter<byte>();
        foreach (byte[] key in _keys)
        {
            RespFormatter.WriteArrayHeader(stream, 3);
            RespFormatter.WriteBulk(stream, "SET"u8);
            RespFormatter.WriteBulk(stream, key);
            RespFormatter.WriteBulk(stream, _value);
        }
        _stream = stream.WrittenSpan.ToArray();
        var replies = new StringBuilder("+OK\r\n");
        for (int i = 0; i < Commands; i++) replies.Append("+QUEUED\r\n");
        replies.Append('*').Append(Commands).Append("\r\n");
        for (int i = 0; i < Commands; i++) replies.Append("+OK\r\n");
        _replies = Encoding.ASCII.GetBytes(replies.ToString());
        ThroughputColumn.Register(nameof(ReadCommands), string.Empty, _stream.Length);
        ThroughputColumn.Register(nameof(SkipReplies), string.Empty, _replies.Length);
        ThroughputColumn.Register(nameof(FormatCommands), string.Empty, _stream.Length);
    }

    /// <summary>10,000 SET commands of the replication stream, each parsed into its arguments.</summary>
    [Benchmark]
    public int ReadCommands()
    {
        var buffer = new ReadOnlySequence<byte>(_stream);
        int n = 0;
        while (RespParser.TryReadCommand(ref buffer, _args, out _)) n++;
        return n;
    }

    /// <summary>The replies to one transaction of 10,000 commands (+OK, +QUEUED each, and EXEC's array), walked without allocating.</summary>
    [Benchmark]
    public int SkipReplies()
    {
        var buffer = new ReadOnlySequence<byte>(_replies);
        int n = 0;
        while (RespParser.TrySkip(ref buffer, out RespFrame _)) n++;
        return n;
    }

    /// <summary>The same 10,000 SET commands formatted into a buffer.</summary>
    [Benchmark]
    public int FormatCommands()
    {
        _output.ResetWrittenCount();
        foreach (byte[] key in _keys)
        {
            RespFormatter.WriteArrayHeader(_output, 3);
            RespFormatter.WriteBulk(_output, "SET"u8);
            RespFormatter.WriteBulk(_output, key);
            RespFormatter.WriteBulk(_output, _value);
        }
        return _output.WrittenCount;
    }
}
