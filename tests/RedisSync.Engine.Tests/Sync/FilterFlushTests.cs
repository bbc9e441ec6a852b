using System.Collections.Generic;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;
using static RedisSync.Engine.Tests.Sync.FilterSyncTests;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>FLUSHDB and FLUSHALL of a sync with key filters or renames: only what the sync copies is deleted on the target.</summary>
public sealed class FilterFlushTests
{
    [Fact]
    public async Task Flushdb_under_a_key_filter_deletes_the_kept_keys_and_leaves_the_targets_own()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k:a", "1");
        source.Db().HashSet("k:h", "f", "v");
        source.Db().StringSet("d:a", "dropped");
        target.Db().StringSet("own:1", "target's own");
        target.Db().StringSet("d:own", "target's own");
        await using var sync = new SyncHarness(Filtered(source, target, "flushdb-keys", new SyncFilter { Key = new[] { "k:*" } }));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        source.Db().StringSet("k:stream", "1");
        source.Db().Execute("FLUSHDB");
        source.Db().StringSet("k:after", "2");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        IDatabase t = target.Db();
        Assert.False(t.KeyExists("k:a") || t.KeyExists("k:h") || t.KeyExists("k:stream"));
        Assert.Equal("2", (string?)t.StringGet("k:after"));
        Assert.Equal("target's own", (string?)t.StringGet("own:1"));
        Assert.Equal("target's own", (string?)t.StringGet("d:own"));
        Assert.Equal(RedisSync.SyncPhase.Streaming, sync.Session.GetStatus().Phase);
    }

    [Fact]
    public async Task Flushall_under_ExcludeKey_deletes_the_kept_keys_of_every_database()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db(0).StringSet("a", "0");
        source.Db(1).StringSet("b", "1");
        target.Db(0).StringSet("own:0", "target's own");
        target.Db(1).StringSet("own:1", "target's own");
        await using var sync = new SyncHarness(Filtered(source, target, "flushall-exclude", new SyncFilter { ExcludeKey = new[] { "own:*" } }));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal("1", (string?)target.Db(1).StringGet("b"));
        source.Db(0).Execute("FLUSHALL");
        source.Db(1).StringSet("after", "1");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.False(target.Db(0).KeyExists("a") || target.Db(1).KeyExists("b"));
        Assert.Equal("target's own", (string?)target.Db(0).StringGet("own:0"));
        Assert.Equal("target's own", (string?)target.Db(1).StringGet("own:1"));
        Assert.Equal("1", (string?)target.Db(1).StringGet("after"));
        Assert.True(target.Db(0).KeyExists(RedisSync.Engine.Sync.Checkpoint.Key("flushall-exclude")));
    }

    [Fact]
    public async Task Flushdb_under_a_type_filter_and_a_database_filter_leaves_the_other_types_and_databases()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db(0).StringSet("s", "1");
        source.Db(2).StringSet("s2", "1");
        target.Db(0).HashSet("own:h", "f", "target's own");
        target.Db(1).StringSet("own:s", "target's own");
        var filter = new SyncFilter { Type = new[] { "string" }, Database = new[] { 0, 2 } };
        await using var sync = new SyncHarness(Filtered(source, target, "flush-types", filter));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        source.Db(0).Execute("FLUSHALL");
        source.Db(0).StringSet("after", "1");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.False(target.Db(0).KeyExists("s") || target.Db(2).KeyExists("s2"));
        Assert.Equal("target's own", (string?)target.Db(0).HashGet("own:h", "f"));
        Assert.Equal("target's own", (string?)target.Db(1).StringGet("own:s"));
        Assert.Equal("1", (string?)target.Db(0).StringGet("after"));
    }

    [Fact]
    public async Task Flushdb_with_renamed_keys_deletes_what_the_source_keys_became()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("old:a", "1");
        source.Db().StringSet("plain", "1");
        target.Db().StringSet("old:own", "target's own");
        var options = SyncHarness.Options(source, target, "flush-rename");
        await using var sync = new SyncHarness(new RedisSync.Engine.Sync.SyncOptions
        {
            Name = options.Name, Source = options.Source, Target = options.Target, ReconnectTimeout = options.ReconnectTimeout,
            RenameKey = new Dictionary<string, string> { ["old:*"] = "new:*" },
        });
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal("1", (string?)target.Db().StringGet("new:a"));
        source.Db().Execute("FLUSHDB");
        source.Db().StringSet("old:after", "2");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        Assert.False(target.Db().KeyExists("new:a") || target.Db().KeyExists("plain"));
        Assert.Equal("target's own", (string?)target.Db().StringGet("old:own"));
        Assert.Equal("2", (string?)target.Db().StringGet("new:after"));
    }

    [Fact]
    public async Task Flushdb_inside_a_transaction_deletes_what_the_transaction_wrote_before_it_and_keeps_what_follows()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k:a", "1");
        target.Db().StringSet("own", "target's own");
        await using var sync = new SyncHarness(Filtered(source, target, "flush-multi", new SyncFilter { Key = new[] { "k:*" } }));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        ITransaction tx = source.Db().CreateTransaction();
        _ = tx.StringSetAsync("k:before", "1");
        _ = tx.StringSetAsync("d:before", "1");
        _ = tx.ExecuteAsync("FLUSHDB");
        _ = tx.StringSetAsync("k:after", "2");
        Assert.True(await tx.ExecuteAsync());
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        IDatabase t = target.Db();
        Assert.False(t.KeyExists("k:a") || t.KeyExists("k:before") || t.KeyExists("d:before"));
        Assert.Equal("2", (string?)t.StringGet("k:after"));
        Assert.Equal("target's own", (string?)t.StringGet("own"));
    }
    [Fact]
    public async Task Flushdb_after_a_value_renamed_in_deletes_it_too_and_keeps_what_follows()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("d:a", 5);
        source.Db(1).StringSet("d:b", 7);
        target.Db().StringSet("own", "target's own");
        await using var sync = new SyncHarness(Filtered(source, target, "flush-read", new SyncFilter { Key = new[] { "k:*" } }));
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        ITransaction tx = source.Db().CreateTransaction();
        _ = tx.KeyRenameAsync("d:a", "k:a");
        _ = tx.StringIncrementAsync("k:a");
        _ = tx.ExecuteAsync("FLUSHDB");
        _ = tx.StringIncrementAsync("k:a");
        _ = tx.StringSetAsync("k:c", "1");
        Assert.True(await tx.ExecuteAsync());
        source.Db(1).KeyRename("d:b", "k:b");
        source.Db(1).KeyMove("k:b", 0);
        source.Db().StringIncrement("k:b");
        await sync.WaitCaughtUpAndStillWritingAsync(source);
        IDatabase t = target.Db();
        Assert.Equal(1, (long)t.StringGet("k:a"));
        Assert.Equal("1", (string?)t.StringGet("k:c"));
        Assert.Equal(8, (long)t.StringGet("k:b"));
        Assert.False(target.Db(1).KeyExists("k:b"));
        Assert.Equal("target's own", (string?)t.StringGet("own"));
    }
    [Fact]
    public async Task A_flush_while_the_sync_is_stopped_is_applied_by_the_resumed_sync_to_the_kept_keys_only()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k:a", "1");
        source.Db().ListRightPush("k:l", "x");
        target.Db().StringSet("own", "target's own");
        target.Db().ListRightPush("k:own-list", "target's own");
        var filter = new SyncFilter { Key = new[] { "k:*" }, Type = new[] { "string" } };
        await using (var first = new SyncHarness(Filtered(source, target, "flush-resume", filter)))
        {
            await first.WaitCaughtUpAsync(source);
            await first.StopAsync();
        }
        source.Db().Execute("FLUSHDB");
        source.Db().StringSet("k:after", "2");
        await using var second = new SyncHarness(Filtered(source, target, "flush-resume", filter));
        await second.WaitCaughtUpAndStillWritingAsync(source);
        Assert.Equal(0, second.Session.GetStatus().FullResyncs);
        IDatabase t = target.Db();
        Assert.False(t.KeyExists("k:a") || t.KeyExists("k:l"));
        Assert.Equal("2", (string?)t.StringGet("k:after"));
        Assert.Equal("target's own", (string?)t.StringGet("own"));
        Assert.Equal("target's own", (string?)t.ListGetByIndex("k:own-list", 0));
    }
    [Fact]
    public async Task A_run_that_lost_its_lease_deletes_nothing_at_a_filtered_flush()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k:a", "1");
        var harness = new SyncHarness(Filtered(source, target, "flush-lease", new SyncFilter { Key = new[] { "k:*" } }));
        try
        {
            await harness.WaitCaughtUpAsync(source);
            target.Db().StringSet(ReservedKeys.Lease("flush-lease"), "another run", System.TimeSpan.FromMinutes(5));
            source.Db().Execute("FLUSHDB");
            SyncException error = await Assert.ThrowsAsync<SyncException>(() => harness.Run);
            Assert.Equal(SyncErrorIds.LeaseLost, error.ErrorId);
            Assert.Equal("1", (string?)target.Db().StringGet("k:a"));
        }
        finally
        {
            try { await harness.DisposeAsync(); } catch (SyncException) { }
        }
    }
}
