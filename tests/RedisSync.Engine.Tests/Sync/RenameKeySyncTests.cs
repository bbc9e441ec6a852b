using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>-RenameKey rewrites every key argument of every command, in the snapshot and the stream.</summary>
public sealed class RenameKeySyncTests
{
    internal static SyncOptions Renamed(RedisServer source, RedisServer target, string name) => new SyncOptions
    {
        Name = name,
        Source = RedisEndpoint.Parse(source.Endpoint),
        Target = RedisEndpoint.Parse(target.Endpoint),
        ReconnectTimeout = TimeSpan.FromSeconds(60),
        RenameKey = new Dictionary<string, string> { ["old:*"] = "new:*", ["old:deep:*"] = "deeper:*" },
    };

    [Fact]
    public async Task Every_key_of_the_snapshot_and_of_the_stream_gets_its_new_prefix()
    {
        using RedisServer source = FilterSyncTests.Source();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db();
        s.StringSet("old:1", "a");
        s.StringSet("old:deep:1", "b");
        s.StringSet("other", "c");
        s.HashSet("old:h", Enumerable.Range(0, 5000).Select(i => new HashEntry("f" + i, i)).ToArray());
        await using var sync = new SyncHarness(Renamed(source, target, "rename"));
        await sync.WaitCaughtUpAsync(source);
        IDatabase t = target.Db();
        Assert.Equal("a", (string?)t.StringGet("new:1"));
        Assert.Equal("b", (string?)t.StringGet("deeper:1"));
        Assert.Equal("c", (string?)t.StringGet("other"));
        Assert.Equal(5000, t.HashLength("new:h"));
        Assert.False(t.KeyExists("old:1") || t.KeyExists("old:h"));

        s.StringSet(new[] { new KeyValuePair<RedisKey, RedisValue>("old:a", "1"), new("plain", "2"), new("old:b", "3") });
        s.KeyRename("old:a", "old:c");
        s.SetAdd("old:s1", new RedisValue[] { "m", "n" });
        s.SetMove("old:s1", "old:s2", "m");
        s.ListRightPush("old:l1", new RedisValue[] { "x", "y" });
        s.ListMove("old:l1", "old:l2", ListSide.Left, ListSide.Right);
        s.SortedSetAdd("old:z1", "a", 1);
        s.SortedSetAdd("old:z2", "b", 2);
        s.Execute("ZUNIONSTORE", "old:zu", "2", "old:z1", "old:z2");
        s.StreamAdd("old:x", "f", "v");
        s.StreamCreateConsumerGroup("old:x", "g", "0");
        s.StreamReadGroup("old:x", "g", "c", ">");
        s.Execute("EVAL", "redis.call('set', KEYS[1], ARGV[1]) return redis.call('del', KEYS[2])", "2", "old:e", "old:b", "v");
        s.KeyExpire("old:c", TimeSpan.FromHours(1));
        s.Execute("COPY", "old:c", "old:copy");
        s.KeyDelete(new RedisKey[] { "old:1", "plain" });
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("1", (string?)t.StringGet("new:c"));
        Assert.True(t.KeyTimeToLive("new:c") > TimeSpan.FromMinutes(59));
        Assert.Equal("1", (string?)t.StringGet("new:copy"));
        Assert.False(t.KeyExists("new:a") || t.KeyExists("new:b") || t.KeyExists("new:1") || t.KeyExists("plain"));
        Assert.Equal(new[] { "n" }, t.SetMembers("new:s1").Select(v => (string)v!));
        Assert.Equal(new[] { "m" }, t.SetMembers("new:s2").Select(v => (string)v!));
        Assert.Equal(new[] { "x" }, t.ListRange("new:l2").Select(v => (string)v!));
        Assert.Equal(2, t.SortedSetLength("new:zu"));
        Assert.Equal(1, t.StreamLength("new:x"));
        Assert.Equal(1, t.StreamPending("new:x", "g").PendingMessageCount);
        Assert.Equal("v", (string?)t.StringGet("new:e"));
        var oldKeys = ((RedisResult[])t.Execute("KEYS", "old:*")!).Length;
        Assert.Equal(0, oldKeys);
    }

    [Fact]
    public void A_rename_that_is_not_two_prefixes_is_refused_by_name()
    {
        var options = new SyncOptions
        {
            Source = RedisEndpoint.Parse("h:1"),
            Target = RedisEndpoint.Parse("h:2"),
            RenameKey = new Dictionary<string, string> { ["old:*:x"] = "new:*" },
        };
        var ex = Assert.Throws<SyncException>(() => options.Validate());
        Assert.Contains("-RenameKey 'old:*:x' = 'new:*': both sides must be a prefix", ex.Message);
    }
}

/// <summary>Compare and Repair understand the same map, given or read from the target by the sync's name.</summary>
public sealed class RenameKeyCompareTests
{
    [Fact]
    public async Task Compare_and_repair_follow_the_renames_of_the_sync()
    {
        using RedisServer source = FilterSyncTests.Source();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db();
        s.StringSet("old:1", "a");
        s.HashSet("old:h", "f", "v");
        s.StringSet("plain", "p");
        await using (var sync = new SyncHarness(RenameKeySyncTests.Renamed(source, target, "renames")))
        {
            await sync.WaitCaughtUpAsync(source);
            Assert.Contains("-RenameKey @{ 'old:*' = 'new:*'; 'old:deep:*' = 'deeper:*' }", sync.Session.GetStatus().Filter);
        }

        var request = new RedisSync.Engine.Hosting.CompareRequest { Source = source.Endpoint, Target = target.Endpoint, SyncName = "renames" };
        IReadOnlyDictionary<string, string>? renames = request.ResolveRenameKey(RedisSync.Engine.Tests.Compare.CompareHarness.Endpoint(target));
        Assert.Equal("new:*", renames!["old:*"]);
        (var keys, var summary) = await RedisSync.Engine.Tests.Compare.CompareHarness.RunAsync(source, target, new RedisSync.Engine.Compare.CompareOptions { RenameKey = renames });
        Assert.True(summary.IsEqual, string.Join("; ", keys));
        Assert.Equal(3, summary.Ok);

        target.Db().StringSet("new:1", "changed");
        target.Db().KeyDelete("new:h");
        target.Db().StringSet("new:extra", "x");
        (keys, summary) = await RedisSync.Engine.Tests.Compare.CompareHarness.RunAsync(source, target, new RedisSync.Engine.Compare.CompareOptions { RenameKey = renames, Mode = RedisSync.Engine.Compare.CompareMode.Full });
        var byKey = keys.ToDictionary(k => k.Key, k => k.Status);
        Assert.Equal(RedisSync.KeyStatus.Value, byKey["old:1"]);
        Assert.Equal(RedisSync.KeyStatus.Missing, byKey["old:h"]);
        Assert.Equal(RedisSync.KeyStatus.Extra, byKey["old:extra"]);

        using var repairer = await RedisSync.Engine.Compare.DataRepairer.ConnectAsync(RedisSync.Engine.Tests.Compare.CompareHarness.Endpoint(source), RedisSync.Engine.Tests.Compare.CompareHarness.Endpoint(target),
            new RedisSync.Engine.Compare.RepairOptions { RenameKey = renames, RemoveExtra = true });
        foreach (RedisSync.KeyDifference difference in keys) await repairer.RepairAsync(difference);
        Assert.Equal("a", (string?)target.Db().StringGet("new:1"));
        Assert.Equal("v", (string?)target.Db().HashGet("new:h", "f"));
        Assert.False(target.Db().KeyExists("new:extra") || target.Db().KeyExists("old:1") || target.Db().KeyExists("old:h"));
        (_, summary) = await RedisSync.Engine.Tests.Compare.CompareHarness.RunAsync(source, target, new RedisSync.Engine.Compare.CompareOptions { RenameKey = renames, Mode = RedisSync.Engine.Compare.CompareMode.Full });
        Assert.True(summary.IsEqual);
    }
}
