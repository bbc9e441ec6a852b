using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Tests.Sync;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

/// <summary>Compare and Repair see what a filtered sync copies: the same filter, given or read from the target by the sync's name.</summary>
public sealed class CompareFilterTests
{
    private static void Load(RedisServer source)
    {
        IDatabase s = source.Db();
        s.StringSet("user:1", "a");
        s.StringSet("user:2", "b");
        s.StringSet("tmp:1", "c");
        s.ListRightPush("user:list", "x");
        source.Db(1).StringSet("user:9", "db1");
    }

    [Fact]
    public async Task Compare_with_the_sync_name_uses_the_filter_the_sync_left_on_the_target()
    {
        using RedisServer source = FilterSyncTests.Source();
        using RedisServer target = RedisServer.Start();
        Load(source);
        var filter = new SyncFilter { Key = new[] { "user:*" }, Type = new[] { "string" }, Database = new[] { 0 } };
        await using (var sync = new SyncHarness(FilterSyncTests.Filtered(source, target, "orders", filter)))
        {
            await sync.WaitCaughtUpAsync(source);
            source.Db().StringSet("user:3", "c");
            source.Db().StringSet("tmp:2", "d");
            await sync.WaitCaughtUpAsync(source);
        }

        (var _, CompareSummary unfiltered) = await CompareHarness.RunAsync(source, target);
        Assert.False(unfiltered.IsEqual);
        Assert.Equal(4, unfiltered.Missing);

        var request = new CompareRequest { Source = source.Endpoint, Target = target.Endpoint, SyncName = "orders" };
        SyncFilter? kept = request.ResolveFilter(CompareHarness.Endpoint(target));
        Assert.NotNull(kept);
        Assert.Equal(filter.ToString(), kept!.ToString());
        (var keys, CompareSummary summary) = await CompareHarness.RunAsync(source, target, new CompareOptions { Filter = kept });
        Assert.True(summary.IsEqual, string.Join("; ", keys));
        Assert.Equal(3, summary.Ok);

        var wrong = new CompareRequest { Source = source.Endpoint, Target = target.Endpoint, SyncName = "nosuch" };
        Assert.Equal(HostErrorIds.CheckpointNotFound, Assert.Throws<SyncException>(() => wrong.ResolveFilter(CompareHarness.Endpoint(target))).ErrorId);
    }

    [Fact]
    public async Task Compare_and_repair_with_key_exclude_key_and_type_leave_the_other_keys_alone()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Load(source);
        var filter = new SyncFilter { Key = new[] { "user:*" }, ExcludeKey = new[] { "user:2" }, Type = new[] { "string" } };
        (var keys, CompareSummary summary) = await CompareHarness.RunAsync(source, target, new CompareOptions { Filter = filter, Databases = new[] { 0 } });
        Assert.Equal(new[] { "user:1" }, keys.Select(k => k.Key));
        Assert.Equal(1, summary.Missing);

        (var all, CompareSummary _) = await CompareHarness.RunAsync(source, target, new CompareOptions { Databases = new[] { 0 } });
        using DataRepairer repairer = await DataRepairer.ConnectAsync(CompareHarness.Endpoint(source), CompareHarness.Endpoint(target), new RepairOptions { Filter = filter });
        foreach (KeyDifference difference in all)
        {
            RepairResult result = await repairer.RepairAsync(difference);
            Assert.Equal(difference.Key == "user:1" ? RepairAction.Restored : RepairAction.Skipped, result.Action);
        }
        Assert.True(target.Db().KeyExists("user:1"));
        Assert.False(target.Db().KeyExists("user:2") || target.Db().KeyExists("tmp:1") || target.Db().KeyExists("user:list"));
    }

    [Fact]
    public async Task Compare_and_repair_with_a_predicate_ask_it_with_the_type_each_side_holds()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Load(source);
        target.Db().SetAdd("user:extra", "m");
        target.Db().StringSet("tmp:extra", "n");
        var seen = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        bool Where(KeyCandidate key)
        {
            seen[key.Key] = key.Type;
            return key.Key.StartsWith("user:", System.StringComparison.Ordinal) && key.Type != "list";
        }
        (var keys, CompareSummary summary) = await CompareHarness.RunAsync(source, target, new CompareOptions { Where = Where, Databases = new[] { 0 } });
        Assert.Equal(new[] { "user:1", "user:2", "user:extra" }, keys.Select(k => k.Key).OrderBy(k => k, System.StringComparer.Ordinal));
        Assert.Equal("set", seen["user:extra"]);
        Assert.Equal("list", seen["user:list"]);
        Assert.Equal("string", seen["tmp:extra"]);

        (var all, CompareSummary _) = await CompareHarness.RunAsync(source, target, new CompareOptions { Databases = new[] { 0 } });
        using DataRepairer repairer = await DataRepairer.ConnectAsync(CompareHarness.Endpoint(source), CompareHarness.Endpoint(target), new RepairOptions { Where = Where, RemoveExtra = true });
        foreach (KeyDifference difference in all)
        {
            RepairResult result = await repairer.RepairAsync(difference);
            bool kept = difference.Key is "user:1" or "user:2" or "user:extra";
            if (kept) Assert.NotEqual(RepairAction.Skipped, result.Action);
            else Assert.Equal((RepairAction.Skipped, "left out by -Where"), (result.Action, result.Detail));
        }
        Assert.True(target.Db().KeyExists("user:1") && target.Db().KeyExists("user:2") && target.Db().KeyExists("tmp:extra"));
        Assert.False(target.Db().KeyExists("user:extra") || target.Db().KeyExists("tmp:1") || target.Db().KeyExists("user:list"));
    }

    [Fact]
    public void A_filter_record_from_before_the_where_flag_reads_as_no_predicate_and_one_with_it_needs_one()
    {
        using RedisServer target = RedisServer.Start();
        target.Db().StringSet("redissync:filter:old", "[filter]\nkey = [\"user:*\"]\n");
        target.Db().StringSet("redissync:filter:new", "[filter]\nkey = [\"user:*\"]\n[where]\nused = true\n");
        RedisSync.Engine.Net.RedisEndpoint endpoint = CompareHarness.Endpoint(target);

        var old = new CompareRequest { Source = target.Endpoint, Target = target.Endpoint, SyncName = "old" };
        Assert.Equal("user:*", Assert.Single(old.ResolveFilter(endpoint)!.Key));

        var bare = new CompareRequest { Source = target.Endpoint, Target = target.Endpoint, SyncName = "new" };
        SyncException error = Assert.Throws<SyncException>(() => bare.ResolveFilter(endpoint));
        Assert.Equal(HostErrorIds.WherePredicateRequired, error.ErrorId);
        Assert.Contains("'new'", error.Message);

        var given = new CompareRequest { Source = target.Endpoint, Target = target.Endpoint, SyncName = "new", Where = _ => true };
        Assert.Equal("user:*", Assert.Single(given.ResolveFilter(endpoint)!.Key));
    }
}
