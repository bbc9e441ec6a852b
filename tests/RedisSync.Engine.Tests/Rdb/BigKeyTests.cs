using System;
using System.Buffers.Text;
using System.IO;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>Big keys saved by a real server stream through the parser in bounded memory (allocation counters, not timing).</summary>
public sealed class BigKeyTests
{
    private const int HashFields = 2_000_000;
    private const int ListElements = 1_000_000;
    private const int StringBytes = 100 * 1024 * 1024;
    private static readonly byte[] Pattern = "0123456789abcdef"u8.ToArray();

    private readonly ITestOutputHelper _output;

    public BigKeyTests(ITestOutputHelper output) => _output = output;

    /// <summary>Counts and checks elements without allocating: field "f{i}" holds "v{i}", element i is "e{i+1}".</summary>
    private sealed class CountingVisitor : RdbVisitor
    {
        private string _key = "";
        private readonly int _chunkSize;

        public CountingVisitor(int chunkSize) => _chunkSize = chunkSize;

        public long Fields, FieldSum, Elements, StringLength, Mismatches, Keys;
        public ulong StringCrc;
        public RdbStringEncoding StringEncoding;

        public override bool OnKey(in RdbKey key)
        {
            Keys++;
            _key = key.Name.SequenceEqual("h:big"u8) ? "h" : key.Name.SequenceEqual("l:big"u8) ? "l" : key.Name.SequenceEqual("s:big"u8) ? "s" : "";
            return true;
        }

        public override void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs)
        {
            Fields++;
            if (!Utf8Parser.TryParse(field.Slice(1), out long i, out _) || !Utf8Parser.TryParse(value.Slice(1), out long j, out _) || i != j || field[0] != 'f' || value[0] != 'v') Mismatches++;
            FieldSum += i;
        }

        public override void OnListElement(ReadOnlySpan<byte> element)
        {
            Elements++;
            if (element[0] != 'e' || !Utf8Parser.TryParse(element.Slice(1), out long i, out _) || i != Elements) Mismatches++;
        }

        public override void OnStringChunk(ReadOnlySpan<byte> chunk, long offset, long totalLength, RdbStringEncoding encoding)
        {
            if (offset != StringLength || chunk.Length > _chunkSize || totalLength != StringBytes) Mismatches++;
            StringLength += chunk.Length;
            StringEncoding = encoding;
            StringCrc = Crc64.Update(StringCrc, chunk);
        }
    }

    private const string FillHash = @"
local n = tonumber(ARGV[1]) local batch = {}
for i = 1, n do
  batch[#batch + 1] = 'f' .. i
  batch[#batch + 1] = 'v' .. i
  if #batch >= 2000 then redis.call('HSET', KEYS[1], unpack(batch)) batch = {} end
end
if #batch > 0 then redis.call('HSET', KEYS[1], unpack(batch)) end
return n";

    private const string FillList = @"
local n = tonumber(ARGV[1]) local batch = {}
for i = 1, n do
  batch[#batch + 1] = 'e' .. i
  if #batch >= 2000 then redis.call('RPUSH', KEYS[1], unpack(batch)) batch = {} end
end
if #batch > 0 then redis.call('RPUSH', KEYS[1], unpack(batch)) end
return n";

    [Fact]
    public void Big_hash_list_and_string_of_a_real_server_stream_in_bounded_memory()
    {
        using RedisServer server = RedisServer.Start();
        IDatabase db = server.Db();
        db.ScriptEvaluate(FillHash, new RedisKey[] { "h:big" }, new RedisValue[] { HashFields });
        db.ScriptEvaluate(FillList, new RedisKey[] { "l:big" }, new RedisValue[] { ListElements });
        db.ScriptEvaluate("redis.call('SET', KEYS[1], string.rep(ARGV[1], tonumber(ARGV[2]))) return 1",
            new RedisKey[] { "s:big" }, new RedisValue[] { Pattern, StringBytes / Pattern.Length });

        ulong expectedCrc = 0;
        var block = new byte[64 * 1024];
        for (int i = 0; i < block.Length; i++) block[i] = Pattern[i % Pattern.Length];
        for (int i = 0; i < StringBytes / block.Length; i++) expectedCrc = Crc64.Update(expectedCrc, block);

        foreach (bool compressed in new[] { true, false })
        {
            server.Cli("CONFIG", "SET", "rdbcompression", compressed ? "yes" : "no");
            string path = server.Save();
            long fileSize = new FileInfo(path).Length;
            var options = new RdbParserOptions();
            var visitor = new CountingVisitor(options.ChunkSize);

            long before = GC.GetAllocatedBytesForCurrentThread();
            RdbParser.ParseFile(path, visitor, options);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            _output.WriteLine($"rdbcompression={compressed}: file {fileSize:N0} bytes, parser allocated {allocated:N0} bytes");

            Assert.Equal(3, visitor.Keys);
            Assert.Equal(0, visitor.Mismatches);
            Assert.Equal(HashFields, visitor.Fields);
            Assert.Equal((long)HashFields * (HashFields + 1) / 2, visitor.FieldSum);
            Assert.Equal(ListElements, visitor.Elements);
            Assert.Equal(StringBytes, visitor.StringLength);
            Assert.Equal(expectedCrc, visitor.StringCrc);
            Assert.Equal(compressed ? RdbStringEncoding.Lzf : RdbStringEncoding.Raw, visitor.StringEncoding);
            Assert.True(allocated < 8 * 1024 * 1024, $"the parser allocated {allocated:N0} bytes for a {fileSize:N0}-byte file");
        }
    }
}
