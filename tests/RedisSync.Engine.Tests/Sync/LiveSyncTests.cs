using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

[RunsLong(27)]
public sealed class LiveSyncTests
{
    [Theory]
    [InlineData("no")]
    [InlineData("yes")]
    [InlineData("default")] // 7.0: diskless, after a 5 s delay during which the source sends newlines before +FULLRESYNC
    public async Task Full_and_incremental_sync_copies_the_data_set_then_follows_writes(string diskless)
    {
        using RedisServer source = diskless == "default"
            ? RedisServer.Start()
            : RedisServer.Start("--repl-diskless-sync", diskless, "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT >/dev/null 2>&1");
        await using var sync = new SyncHarness(SyncHarness.Options(source, target));
        await sync.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);

        IDatabase db = source.Db();
        db.StringSet("after:1", "x");
        db.HashSet("h:small", "new", "field");
        db.KeyDelete("s:short");
        db.ListRightPush("l:small", "tail");
        source.Db(1).StringIncrement("db1:counter", 5);
        await sync.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);

        RedisSync.SyncStatus final = await sync.StopAsync();
        Assert.Equal(RedisSync.SyncPhase.Stopped, final.Phase);
        Assert.Equal(1, final.FullResyncs);
        Assert.Equal(SyncHarness.MasterOffset(source), final.AppliedOffset);
        Assert.True(final.KeysWritten >= 49);
    }

    [Fact]
    public async Task Flushall_on_the_source_empties_the_target_and_the_checkpoint_survives_it()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        for (int db = 0; db < 3; db++) source.Db(db).StringSet("before", db);
        await using var sync = new SyncHarness(SyncHarness.Options(source, target, "flushall"));
        await sync.WaitCaughtUpAsync(source);
        source.Db(2).Execute("FLUSHALL");
        source.Db(1).StringSet("after", "1");
        await sync.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);
        Assert.True(target.Db(0).KeyExists("redissync:checkpoint:flushall"));
        Assert.Equal(1L, (long)target.Db(1).Execute("DBSIZE"));
    }
}
