using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>Captured values are exactly what the server serializes: a DUMP payload built from one restores the key.</summary>
public sealed class RawCaptureTests
{
    private sealed class CaptureVisitor : RdbVisitor
    {
        private readonly Func<RdbKey, bool> _want;

        public CaptureVisitor(Func<RdbKey, bool> want) => _want = want;

        public List<(int Db, string Key, RdbType Type, byte[]? Raw, long ValueLength)> Keys { get; } = new();

        public override bool OnKey(in RdbKey key)
        {
            Keys.Add((key.Db, Encoding.UTF8.GetString(key.Name), key.Type, key.HasRawValue ? key.RawValue.ToArray() : null, key.ValueLength));
            return _want(key);
        }
    }

    [Fact]
    public void Every_captured_value_of_a_real_server_equals_what_DUMP_returns()
    {
        using RedisServer server = RedisServer.Start("--enable-debug-command", "local");
        server.Shell($"bash '{Fixtures.PopulateScript}' $PORT");
        string path = server.Save();

        var visitor = new CaptureVisitor(_ => false);
        RdbParser.ParseFile(path, visitor);
        Assert.True(visitor.Keys.Count >= 40, $"{visitor.Keys.Count} keys");

        var output = new ArrayBufferWriter<byte>();
        foreach (var (db, key, type, raw, _) in visitor.Keys)
        {
            byte[] dump = (byte[])server.Db(db).KeyDump(key)!;
            if (raw == null)
            {
                Assert.True(dump.Length > new RdbParserOptions().RawCaptureLimit, $"{key} ({dump.Length} bytes) was not captured");
                continue;
            }
            output.Clear();
            DumpPayload.Write(output, type, new ReadOnlySequence<byte>(raw), 10);
            Assert.True(dump.AsSpan().SequenceEqual(output.WrittenSpan), $"{key}: our payload differs from DUMP");
            Assert.Equal(dump.Length, DumpPayload.Length(raw.Length));
        }

        foreach (var (db, key, type, raw, _) in visitor.Keys.Where(k => k.Raw != null).Take(10))
        {
            output.Clear();
            DumpPayload.Write(output, type, new ReadOnlySequence<byte>(raw!), 10);
            server.Db(db).KeyRestore("copy:" + key, output.WrittenSpan.ToArray());
            Assert.Equal(server.Db(db).KeyType(key), server.Db(db).KeyType("copy:" + key));
        }
    }

    [Fact]
    public void Values_over_the_capture_limit_stream_and_smaller_ones_are_captured()
    {
        var visitor = new CaptureVisitor(_ => true);
        RdbParser.ParseFile(Fixtures.RdbPath("redis-7.4.1"), visitor, new RdbParserOptions { RawCaptureLimit = 100 });
        var byName = visitor.Keys.ToDictionary(k => k.Key);
        Assert.NotNull(byName["s:short"].Raw);
        Assert.NotNull(byName["h:small"].Raw);
        Assert.Null(byName["h:big"].Raw);
        Assert.Null(byName["l:big"].Raw);
        Assert.Null(byName["st:main"].Raw);
        Assert.Equal(1000, byName["h:big"].ValueLength);
        Assert.Equal(5, byName["h:small"].ValueLength);
        Assert.Equal(4, byName["h:hfe-small"].ValueLength);
        Assert.Equal(8, byName["z:small"].ValueLength);
        Assert.Equal(6, byName["set:int16"].ValueLength);
        Assert.Equal(614400, byName["s:big600k"].ValueLength);
        Assert.Equal(11, byName["s:int32min"].ValueLength);
        Assert.Equal(-1, byName["l:big"].ValueLength);
    }

    /// <summary>Keys the visitor declines are skipped (captured or not), and the keys after them still read right.</summary>
    [Theory]
    [InlineData(512 * 1024)]
    [InlineData(64)]
    [InlineData(0)]
    public void Declined_keys_are_skipped_and_the_rest_read_the_same(int limit)
    {
        foreach (var fixture in Fixtures.RdbNames().Select(f => (string)f[0]))
        {
            var reference = new ListingVisitor();
            RdbParser.ParseFile(Fixtures.RdbPath(fixture), reference);
            var every = new AlternatingListing();
            RdbParser.ParseFile(Fixtures.RdbPath(fixture), every, new RdbParserOptions { RawCaptureLimit = limit });
            List<string> expected = reference.KeyLines();
            List<string> got = every.KeyLines();
            Assert.Equal(every.Declined, reference.KeysEnded - every.KeysEnded);
            var wanted = FilterKeys(expected, every.Taken);
            FixtureListingTests.AssertSameLines(wanted, got.Where(l => !l.StartsWith("===", StringComparison.Ordinal) && l.Length > 0).ToList());
        }
    }

    private static List<string> FilterKeys(List<string> lines, HashSet<string> keys)
    {
        var result = new List<string>();
        bool keep = false;
        foreach (string line in lines)
        {
            if (line.StartsWith("db=", StringComparison.Ordinal)) keep = keys.Contains(line.Split(' ')[1]);
            else if (line.StartsWith("===", StringComparison.Ordinal) || line.Length == 0) { keep = false; continue; }
            if (keep) result.Add(line);
        }
        return result;
    }

    private sealed class AlternatingListing : RdbVisitor
    {
        private readonly ListingVisitor _inner = new();
        private int _n;
        private bool _taking;

        public HashSet<string> Taken { get; } = new();

        public int Declined { get; private set; }

        public int KeysEnded => _inner.KeysEnded;

        public List<string> KeyLines() => _inner.KeyLines();

        public override bool OnKey(in RdbKey key)
        {
            _taking = _n++ % 2 == 0;
            if (!_taking)
            {
                Declined++;
                return false;
            }
            Taken.Add("key=" + ListingVisitor.Quote(key.Name));
            return _inner.OnKey(key);
        }

        public override void OnStringChunk(ReadOnlySpan<byte> chunk, long offset, long totalLength, RdbStringEncoding encoding) => _inner.OnStringChunk(chunk, offset, totalLength, encoding);

        public override void OnListElement(ReadOnlySpan<byte> element) => _inner.OnListElement(element);

        public override void OnQuicklistNode(QuicklistContainer container, bool compressed) => _inner.OnQuicklistNode(container, compressed);

        public override void OnSetMember(ReadOnlySpan<byte> member) => _inner.OnSetMember(member);

        public override void OnZSetMember(ReadOnlySpan<byte> member, double score) => _inner.OnZSetMember(member, score);

        public override void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs) => _inner.OnHashField(field, value, expireAtMs);

        public override void OnStreamEntry(StreamId id, int fieldCount) => _inner.OnStreamEntry(id, fieldCount);

        public override void OnStreamField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) => _inner.OnStreamField(field, value);

        public override void OnStreamMetadata(in StreamMetadata metadata) => _inner.OnStreamMetadata(metadata);

        public override void OnStreamGroup(ReadOnlySpan<byte> name, StreamId lastDeliveredId, long entriesRead, long pendingCount, long consumerCount) =>
            _inner.OnStreamGroup(name, lastDeliveredId, entriesRead, pendingCount, consumerCount);

        public override void OnStreamConsumer(ReadOnlySpan<byte> name, long seenTimeMs, long activeTimeMs, long pendingCount) =>
            _inner.OnStreamConsumer(name, seenTimeMs, activeTimeMs, pendingCount);

        public override void OnStreamPending(StreamId id, long deliveryTimeMs, long deliveryCount) => _inner.OnStreamPending(id, deliveryTimeMs, deliveryCount);

        public override void OnKeyEnd()
        {
            if (_taking) _inner.OnKeyEnd();
        }
    }
}
