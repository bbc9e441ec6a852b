using System;
using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Transform;

namespace RedisSync.Microbench;

/// <summary>
/// The RDB parser over real files saved by redis-server (<see cref="RdbFiles"/>), from memory: every
/// element handed to a visitor that only counts, and the full-copy path (parser and transform into
/// commands, RESTORE for collections and SET for strings) into a sink that only counts bytes.
/// </summary>
[Config(typeof(MicrobenchConfig))]
public class RdbParseBenchmarks
{
    private static readonly ServerInfo Redis70 = ServerInfo.Parse("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n");
    private byte[] _rdb = Array.Empty<byte>();

    [Params("strings", "collections")]
    public string Rdb { get; set; } = "strings";

    [GlobalSetup]
    public void Setup()
    {
        _rdb = RdbFiles.Get(Rdb);
        ThroughputColumn.Register(nameof(EveryElement), Rdb, _rdb.Length);
        ThroughputColumn.Register(nameof(ToCommands), Rdb, _rdb.Length);
    }

    /// <summary>Parses every element (no values captured for RESTORE): the parser's own speed.</summary>
    [Benchmark]
    public long EveryElement()
    {
        var visitor = new CountingVisitor();
        new RdbParser(PipeReader.Create(new ReadOnlySequence<byte>(_rdb)), visitor, new RdbParserOptions { CaptureRawValues = false }).Parse();
        return visitor.Elements;
    }

    /// <summary>What a full copy does per key before the network: parse, then RESTORE or SET commands.</summary>
    [Benchmark]
    public long ToCommands()
    {
        var sink = new CountingSink();
        var parserOptions = new RdbParserOptions();
        using var transform = new RdbToCommands(sink, new TransformOptions(Redis70) { TargetIsEmpty = true, ParserOptions = parserOptions });
        new RdbParser(PipeReader.Create(new ReadOnlySequence<byte>(_rdb)), transform, parserOptions).Parse();
        return sink.Bytes;
    }

    private sealed class CountingVisitor : RdbVisitor
    {
        public long Elements;

        public override bool OnKey(in RdbKey key)
        {
            Elements++;
            return true;
        }

        public override void OnStringChunk(ReadOnlySpan<byte> chunk, long offset, long totalLength, RdbStringEncoding encoding) => Elements++;

        public override void OnListElement(ReadOnlySpan<byte> element) => Elements++;

        public override void OnSetMember(ReadOnlySpan<byte> member) => Elements++;

        public override void OnZSetMember(ReadOnlySpan<byte> member, double score) => Elements++;

        public override void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs) => Elements++;
    }

    /// <summary>Counts what a writer would send.</summary>
    private sealed class CountingSink : ICommandSink
    {
        public long Bytes;
        private long _pending;

        public long PendingCommandBytes => _pending;

        public void SelectDb(int db)
        {
        }

        public void BeginCommand() => _pending = 0;

        public void Arg(ReadOnlySpan<byte> value) => _pending += value.Length;

        public void Arg(long value) => _pending += 8;

        public void EndCommand() => Bytes += _pending;

        public void WriteCommands(ReadOnlySpan<byte> resp, int commandCount) => Bytes += resp.Length;

        public void KeyDone()
        {
        }

        public void Flush()
        {
        }
    }
}
