using System;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

[Collection(nameof(HeapMeasuringTests))]
public sealed class CompareBigKeyTests
{
    private const int Elements = 500_000;

    private static void LoadBigKeys(IDatabase db)
    {
        db.ScriptEvaluate("for i = 1, tonumber(ARGV[1]) do redis.call('HSET', KEYS[1], 'field:' .. i, 'value:' .. i) end", new RedisKey[] { "bighash" }, new RedisValue[] { Elements });
        db.ScriptEvaluate("for i = 1, tonumber(ARGV[1]) do redis.call('RPUSH', KEYS[1], 'element:' .. i) end", new RedisKey[] { "biglist" }, new RedisValue[] { Elements });
    }

    [Fact]
    public async Task Big_hash_and_list_are_compared_in_chunks_with_bounded_memory()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        LoadBigKeys(source.Db());
        LoadBigKeys(target.Db());
        var options = new CompareOptions { Mode = CompareMode.Full, IncludeEqual = true };

        // Warm up the code paths once, so the measured run counts the compare's own allocations.
        await CompareHarness.RunAsync(source, target, options);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var (keys, summary) = await CompareHarness.RunAsync(source, target, options);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(2, summary.Ok);
        Assert.True(summary.IsEqual);
        Assert.Equal(new[] { "bighash", "biglist" }, keys.Select(k => k.Key).OrderBy(k => k));
        // Both keys hold about 20 MB of field, value and element bytes, and the compare reads them
        // from both servers (about 45 MB of replies): a compare that held a key whole, or allocated
        // per element, would allocate far more than this.
        Assert.True(allocated < 4 * 1024 * 1024, $"the compare allocated {allocated / 1024} KB");
    }

    [Fact]
    public async Task A_difference_deep_inside_a_big_key_is_found_and_named()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        LoadBigKeys(source.Db());
        LoadBigKeys(target.Db());
        target.Db().HashSet("bighash", "field:400000", "changed");
        target.Db().ListSetByIndex("biglist", 399_999, "changed");

        var (keys, summary) = await CompareHarness.RunAsync(source, target, new CompareOptions { Mode = CompareMode.Full, RecheckDelay = TimeSpan.FromMilliseconds(10) });

        Assert.Equal(2, summary.Value);
        var byKey = CompareHarness.ByKey(keys);
        Assert.Equal(KeyStatus.Value, byKey["bighash"].Status);
        Assert.Equal("field \"field:400000\" differs: \"value:400000\" on the source, \"changed\" on the target", byKey["bighash"].Detail);
        Assert.Equal(KeyStatus.Value, byKey["biglist"].Status);
        Assert.Equal("element 399999 differs: \"element:400000\" on the source, \"changed\" on the target", byKey["biglist"].Detail);

        var (quickKeys, _) = await CompareHarness.RunAsync(source, target, new CompareOptions { Mode = CompareMode.Quick });
        Assert.Empty(quickKeys);
    }

    [Fact]
    public async Task Many_large_values_are_spread_over_rounds_so_the_servers_output_buffers_stay_small()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        foreach (RedisServer server in new[] { source, target })
        {
            // 200 strings of 200 KB (40 MB): each fits one chunk, all arrive in one SCAN batch.
            server.Db().ScriptEvaluate("local v = string.rep('x', 200 * 1024) for i = 1, 200 do redis.call('SET', 'big:' .. i, v) end");
            server.Cli("CONFIG", "RESETSTAT");
        }

        var (keys, summary) = await CompareHarness.RunAsync(source, target, new CompareOptions { Mode = CompareMode.Full });

        Assert.Empty(keys);
        Assert.Equal(200, summary.Ok);
        foreach (RedisServer server in new[] { source, target })
        {
            long peak = long.Parse(server.Cli("INFO", "clients").Split('\n')
                .Single(line => line.StartsWith("client_recent_max_output_buffer:", StringComparison.Ordinal)).Split(':')[1].Trim());
            Assert.True(peak < 12 * 1024 * 1024, $"a client's output buffer reached {peak / 1024} KB");
        }
    }
}
