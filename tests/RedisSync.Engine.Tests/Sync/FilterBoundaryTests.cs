using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;
using static RedisSync.Engine.Tests.Sync.FilterSyncTests;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>One test per row of the truth table in Start-RedisSync's help: the meaning kept where kept and dropped keys meet.</summary>
public sealed class FilterBoundaryTests
{
    private static readonly SyncFilter Kept = new SyncFilter { Key = new[] { "k:*" } };

    [Fact]
    public async Task Rename_from_a_kept_key_to_a_dropped_one_deletes_it_on_the_target()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k:a", "1");
        await using var sync = new SyncHarness(Filtered(source, target, "rename-out", Kept));
        await sync.WaitCaughtUpAsync(source);
        Assert.True(target.Db().KeyExists("k:a"));
        source.Db().KeyRename("k:a", "d:a");
        await sync.WaitCaughtUpAsync(source);
        Assert.False(target.Db().KeyExists("k:a"));
        Assert.False(target.Db().KeyExists("d:a"));
    }

    [Fact]
    public async Task Rename_from_a_dropped_key_to_a_kept_one_copies_the_value_from_the_source()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("d:a", "new", System.TimeSpan.FromHours(1));
        source.Db().StringSet("k:a", "old");
        await using var sync = new SyncHarness(Filtered(source, target, "rename-in", Kept));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal("old", (string?)target.Db().StringGet("k:a"));
        source.Db().KeyRename("d:a", "k:a");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal("new", (string?)target.Db().StringGet("k:a"));
        Assert.InRange(target.Db().KeyTimeToLive("k:a")!.Value.TotalMinutes, 50, 60);
        Assert.False(target.Db().KeyExists("d:a"));
        Assert.DoesNotContain(sync.Warnings, w => w.ErrorId == StreamFilter.FilterBoundary);
    }

    [Fact]
    public async Task A_value_renamed_in_and_written_again_before_the_stream_reaches_the_writes_is_not_written_twice()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("d:n", 10);
        source.Db().ListRightPush("d:l", "a");
        await using var sync = new SyncHarness(Filtered(source, target, "rename-converges", Kept));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        // In one transaction: when the stream reaches the RENAME, the source's value already holds every write after it.
        ITransaction tx = source.Db().CreateTransaction();
        _ = tx.KeyRenameAsync("d:n", "k:n");
        _ = tx.KeyRenameAsync("d:l", "k:l");
        for (int i = 0; i < 5; i++)
        {
            _ = tx.StringIncrementAsync("k:n");
            _ = tx.ListRightPushAsync("k:l", "x" + i);
        }
        _ = tx.StringSetAsync("k:other", "1");
        _ = tx.KeyRenameAsync("k:l", "k:l2");
        Assert.True(await tx.ExecuteAsync());
        // And in a burst the stream may or may not be behind.
        IBatch batch = source.Db().CreateBatch();
        var pending = new System.Collections.Generic.List<Task>();
        source.Db().StringSet("d:m", 0);
        pending.Add(batch.KeyRenameAsync("d:m", "k:m"));
        for (int i = 0; i < 200; i++) pending.Add(batch.StringIncrementAsync("k:m"));
        batch.Execute();
        await Task.WhenAll(pending);
        source.Db().StringIncrement("k:m");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        IDatabase t = target.Db();
        Assert.Equal(15, (long)t.StringGet("k:n"));
        Assert.False(t.KeyExists("k:l"));
        Assert.Equal(new[] { "a", "x0", "x1", "x2", "x3", "x4" }, t.ListRange("k:l2").Select(v => (string)v!));
        Assert.Equal("1", (string?)t.StringGet("k:other"));
        Assert.Equal(201, (long)t.StringGet("k:m"));
    }

    [Fact]
    public async Task A_value_renamed_in_lands_under_its_renamed_name()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().HashSet("d:h", "f", "v");
        RedisSync.Engine.Sync.SyncOptions options = Filtered(source, target, "rename-in-renamed", new SyncFilter { Key = new[] { "old:*" } });
        await using var sync = new SyncHarness(new RedisSync.Engine.Sync.SyncOptions
        {
            Name = options.Name, Source = options.Source, Target = options.Target, ReconnectTimeout = options.ReconnectTimeout, Filter = options.Filter,
            RenameKey = new System.Collections.Generic.Dictionary<string, string> { ["old:*"] = "new:*" },
        });
        await sync.WaitCaughtUpAsync(source);
        source.Db().KeyRename("d:h", "old:h");
        source.Db().HashSet("old:h", "g", "w");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal("v", (string?)target.Db().HashGet("new:h", "f"));
        Assert.Equal("w", (string?)target.Db().HashGet("new:h", "g"));
        Assert.False(target.Db().KeyExists("old:h") || target.Db().KeyExists("d:h"));
    }

    [Fact]
    public async Task A_value_renamed_in_whose_type_the_filter_leaves_out_is_not_copied()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().ListRightPush("d:l", "a");
        source.Db().StringSet("d:s", "v");
        await using var sync = new SyncHarness(Filtered(source, target, "rename-type", new SyncFilter { Key = new[] { "k:*" }, Type = new[] { "string" } }));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        source.Db().KeyRename("d:l", "k:l");
        source.Db().KeyRename("d:s", "k:s");
        source.Db().ListRightPush("k:l", "b");
        source.Db().KeyExpire("k:l", System.TimeSpan.FromHours(1));
        source.Db().StringSet("k:marker", "1");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.False(target.Db().KeyExists("k:l"));
        Assert.Equal("v", (string?)target.Db().StringGet("k:s"));
        Assert.Equal("1", (string?)target.Db().StringGet("k:marker"));
    }

    [Fact]
    public async Task Copy_to_a_dropped_key_writes_nothing_and_from_a_dropped_key_copies_the_value_from_the_source()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k:a", "1");
        source.Db().StringSet("d:b", "2");
        source.Db().StringSet("k:b", "stale");
        await using var sync = new SyncHarness(Filtered(source, target, "copy", Kept));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        source.Db().Execute("COPY", "k:a", "d:a");
        source.Db().Execute("COPY", "d:b", "k:b", "REPLACE");
        source.Db().Execute("COPY", "k:a", "k:c");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.False(target.Db().KeyExists("d:a"));
        Assert.Equal("1", (string?)target.Db().StringGet("k:a"));
        Assert.Equal("1", (string?)target.Db().StringGet("k:c"));
        Assert.Equal("2", (string?)target.Db().StringGet("k:b"));
    }

    [Fact]
    public async Task Move_from_a_kept_database_to_a_dropped_one_deletes_the_key_and_back_copies_it_from_the_source()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db(0).StringSet("a", "1");
        source.Db(0).StringSet("b", "1");
        await using var sync = new SyncHarness(Filtered(source, target, "move", new SyncFilter { Database = new[] { 0, 2 } }));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        source.Db(0).KeyMove("a", 1);
        source.Db(0).KeyMove("b", 2);
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.False(target.Db(0).KeyExists("a"));
        Assert.False(target.Db(1).KeyExists("a"));
        Assert.False(target.Db(0).KeyExists("b"));
        Assert.Equal("1", (string?)target.Db(2).StringGet("b"));

        // Back from the dropped database: its value is not in the stream, so it is read from the source.
        source.Db(1).KeyMove("a", 0);
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal("1", (string?)target.Db(0).StringGet("a"));
        Assert.False(target.Db(1).KeyExists("a"));
    }

    [Fact]
    public async Task Smove_across_the_boundary_removes_or_adds_the_member()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().SetAdd("k:s", new RedisValue[] { "a", "b" });
        source.Db().SetAdd("d:s", new RedisValue[] { "c" });
        await using var sync = new SyncHarness(Filtered(source, target, "smove", Kept));
        await sync.WaitCaughtUpAsync(source);
        source.Db().SetMove("k:s", "d:s", "a");
        source.Db().SetMove("d:s", "k:s", "c");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal(new[] { "b", "c" }, target.Db().SetMembers("k:s").Select(v => (string)v!).OrderBy(v => v));
        Assert.False(target.Db().KeyExists("d:s"));
    }

    [Fact]
    public async Task Lmove_from_a_kept_list_to_a_dropped_one_pops_the_element_and_back_copies_the_list_from_the_source()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().ListRightPush("k:l", new RedisValue[] { "a", "b", "c" });
        await using var sync = new SyncHarness(Filtered(source, target, "lmove", Kept));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        source.Db().ListMove("k:l", "d:l", ListSide.Left, ListSide.Right);
        source.Db().Execute("RPOPLPUSH", "k:l", "d:l");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal(new[] { "b" }, target.Db().ListRange("k:l").Select(v => (string)v!));
        Assert.False(target.Db().KeyExists("d:l"));

        // Into the kept list from the dropped one: the element is not in the stream, so the list is read from the source.
        source.Db().ListMove("d:l", "k:l", ListSide.Left, ListSide.Left);
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal(new[] { "c", "b" }, target.Db().ListRange("k:l").Select(v => (string)v!));
        Assert.False(target.Db().KeyExists("d:l"));
    }

    [Fact]
    public async Task Mset_del_and_unlink_with_kept_and_dropped_keys_apply_to_the_kept_ones()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        await using var sync = new SyncHarness(Filtered(source, target, "split", Kept));
        await sync.WaitCaughtUpAsync(source);
        source.Db().StringSet(new[] { new System.Collections.Generic.KeyValuePair<RedisKey, RedisValue>("k:1", "1"), new("d:1", "x"), new("k:2", "2"), new("d:2", "y"), new("k:3", "3") });
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("1", (string?)target.Db().StringGet("k:1"));
        Assert.Equal("2", (string?)target.Db().StringGet("k:2"));
        Assert.Equal("3", (string?)target.Db().StringGet("k:3"));
        Assert.False(target.Db().KeyExists("d:1") || target.Db().KeyExists("d:2"));
        source.Db().KeyDelete(new RedisKey[] { "d:1", "k:1" });
        source.Db().Execute("UNLINK", "k:2", "d:2");
        await sync.WaitCaughtUpAsync(source);
        Assert.False(target.Db().KeyExists("k:1") || target.Db().KeyExists("k:2"));
        Assert.True(target.Db().KeyExists("k:3"));
    }

    [Fact]
    public async Task Swapdb_and_flushdb_with_a_database_filter_touch_only_the_kept_databases()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db(0).StringSet("zero", "0");
        source.Db(1).StringSet("one", "1");
        source.Db(2).StringSet("two", "2");
        source.Db(3).StringSet("three", "3");
        await using var sync = new SyncHarness(Filtered(source, target, "swapdb", new SyncFilter { Database = new[] { 0, 1, 2 } }));
        await sync.WaitCaughtUpAsync(source);
        target.Db(3).StringSet("own", "target's own");
        source.Db(0).Execute("SWAPDB", "0", "1");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("0", (string?)target.Db(1).StringGet("zero"));
        Assert.Equal("1", (string?)target.Db(0).StringGet("one"));

        source.Db(0).Execute("SWAPDB", "2", "3");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal(0, (long)target.Db(2).Execute("DBSIZE"));
        Assert.Equal("target's own", (string?)target.Db(3).StringGet("own"));
        Assert.Contains(sync.Warnings, w => w.ErrorId == StreamFilter.FilterBoundary && w.Message.Contains("SWAPDB 2 3"));

        source.Db(3).Execute("FLUSHDB");
        source.Db(1).StringSet("after", "1");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("target's own", (string?)target.Db(3).StringGet("own"));

        source.Db(0).Execute("FLUSHALL");
        source.Db(1).StringSet("marker", "1");
        await sync.WaitCaughtUpAsync(source);
        Assert.False(target.Db(1).KeyExists("zero"));
        Assert.False(target.Db(0).KeyExists("one"));
        Assert.Equal("target's own", (string?)target.Db(3).StringGet("own"));
        Assert.Equal("1", (string?)target.Db(1).StringGet("marker"));
    }

    [Fact]
    public async Task Expire_del_and_rename_of_a_key_of_a_filtered_out_type_are_dropped()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().ListRightPush("list:snap", "x");
        target.Db().StringSet("stale", "target's own");
        await using var sync = new SyncHarness(Filtered(source, target, "types", new SyncFilter { Type = new[] { "string" } }));
        await sync.WaitCaughtUpAsync(source);
        source.Db().ListRightPush("list:stream", "y");
        source.Db().KeyExpire("list:snap", System.TimeSpan.FromHours(1));
        source.Db().KeyExpire("list:stream", System.TimeSpan.FromHours(1));
        source.Db().KeyPersist("list:snap");
        source.Db().KeyRename("list:stream", "stale");
        source.Db().KeyDelete("list:snap");
        source.Db().StringSet("marker", "1");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("1", (string?)target.Db().StringGet("marker"));
        Assert.False(target.Db().KeyExists("list:snap") || target.Db().KeyExists("list:stream"));
        Assert.False(target.Db().KeyExists("stale"));
        Assert.Equal(RedisSync.SyncPhase.Streaming, sync.Session.GetStatus().Phase);
    }

    [Fact]
    public async Task A_transaction_with_kept_and_dropped_keys_applies_its_kept_part_atomically()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        await using var sync = new SyncHarness(Filtered(source, target, "multi", Kept));
        await sync.WaitCaughtUpAsync(source);
        ITransaction tx = source.Db().CreateTransaction();
        _ = tx.StringSetAsync("k:a", "1");
        _ = tx.StringSetAsync("d:a", "1");
        _ = tx.StringIncrementAsync("k:n");
        _ = tx.KeyDeleteAsync(new RedisKey[] { "d:a", "k:x" });
        Assert.True(await tx.ExecuteAsync());
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("1", (string?)target.Db().StringGet("k:a"));
        Assert.Equal(1, (long)target.Db().StringGet("k:n"));
        Assert.False(target.Db().KeyExists("d:a"));
    }
}
