using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

public sealed class RepairTests
{
    /// <summary>Every type on the source, with TTLs, a stream with groups, consumers and pending entries, and a big list.</summary>
    private static void LoadSource(RedisServer source)
    {
        IDatabase s = source.Db();
        s.StringSet("str", "hello");
        s.StringSet("str:ttl", "bye", TimeSpan.FromSeconds(300));
        s.StringSet("str:empty", "");
        s.StringSet("str:big", new string('x', 3 * 1024 * 1024));
        s.ListRightPush("list", new RedisValue[] { "a", "b", "a" });
        s.SetAdd("set", new RedisValue[] { "x", "y", "z" });
        s.SortedSetAdd("zset", new[] { new SortedSetEntry("a", double.NegativeInfinity), new SortedSetEntry("b", 0.1), new SortedSetEntry("c", 1e300) });
        s.HashSet("hash", new[] { new HashEntry("f", "1"), new HashEntry("g", "") });
        s.KeyExpire("hash", TimeSpan.FromSeconds(1000));
        s.Execute("XADD", "stream", "1-1", "a", "1");
        s.Execute("XADD", "stream", "2-2", "b", "2", "c", "3");
        s.Execute("XADD", "stream", "3-0", "d", "4");
        s.Execute("XDEL", "stream", "2-2");
        s.Execute("XGROUP", "CREATE", "stream", "g1", "0");
        s.Execute("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", "stream", ">");
        s.Execute("XREADGROUP", "GROUP", "g1", "alice", "COUNT", "1", "STREAMS", "stream", "0");
        s.Execute("XGROUP", "CREATECONSUMER", "stream", "g1", "bob");
        s.Execute("XGROUP", "CREATE", "stream", "g2", "$");
        s.Execute("XGROUP", "CREATE", "stream:empty", "g", "0", "MKSTREAM");
        s.Execute("XGROUP", "DESTROY", "stream:empty", "g");
        s.ScriptEvaluate("for i = 1, 20000 do redis.call('RPUSH', KEYS[1], 'e' .. i) end", new RedisKey[] { "list:big" });
        s.ScriptEvaluate("for i = 1, 20000 do redis.call('HSET', KEYS[1], 'f' .. i, i) end", new RedisKey[] { "hash:big" });
        source.Db(3).StringSet("db3", "in db 3");
    }

    /// <summary>A target that differs from the source in every way.</summary>
    private static void SpoilTarget(RedisServer source, RedisServer target)
    {
        IDatabase t = target.Db();
        foreach (string key in new[] { "str:ttl", "list", "zset", "stream", "hash:big" }) t.KeyRestore(key, source.Db().KeyDump(key)!);
        t.ListSetByIndex("list", 0, "changed");
        t.SortedSetAdd("zset", "b", 0.2);
        t.Execute("XACK", "stream", "g1", "1-1");
        t.KeyPersist("str:ttl");
        t.HashSet("hash:big", "f7777", "changed");
        t.SetAdd("str", "wrong type");
        t.StringSet("extra", "only here");
        target.Db(3).StringSet("db3", "different");
    }

    [Theory]
    [InlineData(RepairMethod.Auto)]
    [InlineData(RepairMethod.Commands)]
    public async Task After_a_repair_a_second_compare_reports_only_ok_keys_ttls_included(RepairMethod method)
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        LoadSource(source);
        SpoilTarget(source, target);
        var full = new CompareOptions { Mode = CompareMode.Full, RecheckDelay = TimeSpan.FromMilliseconds(10), ChunkSize = 500 };
        var (differences, before) = await CompareHarness.RunAsync(source, target, full);
        Assert.False(before.IsEqual);
        Assert.Contains(differences, d => d.Key == "extra" && d.Status == KeyStatus.Extra);
        Assert.Contains(differences, d => d.Key == "stream" && d.Status == KeyStatus.Value);

        var results = new List<RepairResult>();
        using (DataRepairer repairer = await DataRepairer.ConnectAsync(CompareHarness.Endpoint(source), CompareHarness.Endpoint(target),
                   new RepairOptions { RemoveExtra = true, Method = method, ChunkSize = 700, RestoreLimitBytes = 64 * 1024 }))
        {
            foreach (KeyDifference difference in differences)
            {
                Assert.NotNull(repairer.PlannedAction(difference));
                results.Add(await repairer.RepairAsync(difference));
            }
        }

        Assert.Equal(differences.Count, results.Count);
        Assert.Equal(RepairAction.Removed, results.Single(r => r.Key == "extra").Action);
        RepairAction copy = method == RepairMethod.Commands ? RepairAction.Rewritten : RepairAction.Restored;
        Assert.All(results.Where(r => r.Key != "extra" && !r.Key.EndsWith(":big", StringComparison.Ordinal)), r => Assert.Equal(copy, r.Action));
        Assert.All(results.Where(r => r.Key.EndsWith(":big", StringComparison.Ordinal)), r => Assert.Equal(RepairAction.Rewritten, r.Action));

        var (after, summary) = await CompareHarness.RunAsync(source, target, full);
        Assert.Empty(after);
        Assert.True(summary.IsEqual);
        Assert.Equal(13, summary.Ok);
        TimeSpan? ttl = target.Db().KeyTimeToLive("str:ttl");
        Assert.InRange(ttl!.Value.TotalSeconds, 290, 300);
        Assert.Null(target.Db().KeyTimeToLive("str"));
        Assert.Empty((RedisResult[])target.Db().Execute("KEYS", "redissync:*")!);
        Assert.Equal("in db 3", (string?)target.Db(3).StringGet("db3"));
    }

    [Fact]
    public async Task Extra_keys_are_removed_only_with_RemoveExtra()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        target.Db().StringSet("extra", "x");
        target.Db().StringSet("arrived", "x");
        var (differences, _) = await CompareHarness.RunAsync(source, target, new CompareOptions { RecheckDelay = TimeSpan.Zero });
        KeyDifference extra = differences.Single(d => d.Key == "extra");
        KeyDifference arrived = differences.Single(d => d.Key == "arrived");
        Assert.Equal(KeyStatus.Extra, extra.Status);

        using (DataRepairer keep = await DataRepairer.ConnectAsync(CompareHarness.Endpoint(source), CompareHarness.Endpoint(target)))
        {
            Assert.Null(keep.PlannedAction(extra));
            RepairResult kept = await keep.RepairAsync(extra);
            Assert.Equal(RepairAction.Skipped, kept.Action);
            Assert.Contains("RemoveExtra", kept.Detail);
            Assert.True(target.Db().KeyExists("extra"));
        }

        // The source got the key after the compare: repairing copies it instead of deleting it.
        source.Db().StringSet("arrived", "from the source");
        using DataRepairer remove = await DataRepairer.ConnectAsync(CompareHarness.Endpoint(source), CompareHarness.Endpoint(target), new RepairOptions { RemoveExtra = true });
        Assert.Equal("Delete from the target", remove.PlannedAction(extra));
        Assert.Equal(RepairAction.Removed, (await remove.RepairAsync(extra)).Action);
        Assert.False(target.Db().KeyExists("extra"));
        Assert.Equal(RepairAction.Restored, (await remove.RepairAsync(arrived)).Action);
        Assert.Equal("from the source", (string?)target.Db().StringGet("arrived"));
        Assert.Equal(RepairAction.Skipped, (await remove.RepairAsync(extra)).Action);
    }

    [Fact]
    public void A_dump_payload_carries_the_rdb_version_the_target_must_load()
    {
        using RedisServer server = RedisServer.Start();
        server.Db().StringSet("k", "v");
        byte[] payload = server.Db().KeyDump("k")!;
        Assert.Equal(10, DataRepairer.PayloadVersion(new ReadOnlySequence<byte>(payload)));
    }

    [Fact]
    public async Task A_read_only_target_is_a_clear_error_naming_the_key()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer nowhere = RedisServer.Start();
        int masterPort = nowhere.Port;
        nowhere.Kill();
        using RedisServer replica = RedisServer.Start("--replicaof", "127.0.0.1", masterPort.ToString());
        source.Db().StringSet("k", "v");
        using DataRepairer repairer = await DataRepairer.ConnectAsync(CompareHarness.Endpoint(source), CompareHarness.Endpoint(replica));

        var error = await Assert.ThrowsAsync<SyncException>(() => repairer.RepairAsync(new KeyDifference(0, "k"u8.ToArray(), KeyStatus.Missing)));

        Assert.Equal(SyncErrorIds.TargetReadOnly, error.ErrorId);
        Assert.Equal("\"k\"", error.Key);
        Assert.Contains("RESTORE", error.Message);
    }
}
