using System;
using System.Linq;
using System.Security.Cryptography;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>
/// Big keys made by a real server go file → parser → target intact, in bounded memory: the
/// allocations of the thread that parses and formats stay far below the data's size.
/// </summary>
[RunsLong(41)]
public sealed class BigKeyCopyTests
{
    [Fact]
    public async Task Big_hash_list_and_strings_are_copied_whole_in_bounded_memory()
    {
        using RedisServer source = RedisServer.Start();
        IDatabase src = source.Db();
        src.ScriptEvaluate("for i = 1, 2000000 do redis.call('HSET', KEYS[1], 'field:' .. i, 'value-' .. i) end", new RedisKey[] { "big:hash" });
        src.ScriptEvaluate("for i = 1, 1000000, 1000 do local t = {} for j = i, i + 999 do t[#t + 1] = 'item-' .. j end redis.call('RPUSH', KEYS[1], unpack(t)) end", new RedisKey[] { "big:list" });
        src.ScriptEvaluate("local s = string.rep('0123456789abcdef', 65536) for i = 1, 100 do redis.call('APPEND', KEYS[1], s) end", new RedisKey[] { "big:text" });
        byte[] noise = new byte[100 * 1024 * 1024];
        new Random(42).NextBytes(noise);
        src.StringSet("big:noise", noise);
        src.KeyExpire("big:hash", DateTime.UtcNow.AddDays(30));
        string rdb = source.Save();

        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(rdb, target.Endpoint);
        Assert.Null(result.Error);

        // 2M fields + 1M items + 200 MB of strings went through; the producing thread allocated a small fraction.
        Assert.True(result.ParserAllocatedBytes < 64L * 1024 * 1024, $"parser thread allocated {result.ParserAllocatedBytes:N0} bytes");

        IDatabase dst = target.Db();
        Assert.Equal(2_000_000, dst.HashLength("big:hash"));
        var fields = dst.HashGetAll("big:hash").ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal(2_000_000, fields.Count);
        foreach (int i in new[] { 1, 2, 999_999, 1_000_000, 2_000_000 }) Assert.Equal("value-" + i, fields["field:" + i]);
        Assert.All(fields, kv => Assert.Equal("value-" + kv.Key.Substring(6), kv.Value));
        TimeSpan? ttl = dst.KeyTimeToLive("big:hash");
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value.TotalDays, 29.9, 30.0);

        Assert.Equal(1_000_000, dst.ListLength("big:list"));
        for (long start = 0; start < 1_000_000; start += 100_000)
        {
            RedisValue[] items = dst.ListRange("big:list", start, start + 99_999);
            for (int j = 0; j < items.Length; j++) Assert.Equal("item-" + (start + j + 1), (string)items[j]!);
        }

        Assert.Equal(Sha((byte[])src.StringGet("big:text")!), Sha((byte[])dst.StringGet("big:text")!));
        Assert.Equal(Sha(noise), Sha((byte[])dst.StringGet("big:noise")!));
        Assert.Empty(target.Client().GetServer(target.Endpoint).Keys(0, "redissync:*"));
    }

    private static string Sha(byte[] data) => Convert.ToHexString(SHA256.HashData(data));
}
