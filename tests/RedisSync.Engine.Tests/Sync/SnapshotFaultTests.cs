using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>Faults during the full copy and writes to databases the map does not name.</summary>
[RunsLong(40)]
public sealed class SnapshotFaultTests
{
    private static RedisServer BigSource(int keys)
    {
        RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0", "--enable-debug-command", "yes");
        source.Db().Execute("DEBUG", "POPULATE", keys, "key", 2000);
        // The snapshot is made at 200 us a key (2 s for 10,000, more where a sleep overshoots: about 0.7 ms a
        // key on a 2-core VM): the link is killed while the copy is still arriving, not while the target
        // acknowledges the last of a copy already read (which a partial resync then continues, rightly).
        source.Db().Execute("CONFIG", "SET", "rdb-key-save-delay", "200");
        return source;
    }

    private static string[] UserKeys(RedisServer server, int db) =>
        ((RedisResult[])server.Db(db).Execute("KEYS", "*")!).Select(r => (string)r!).Where(k => !k.StartsWith(ReservedKeys.Prefix, StringComparison.Ordinal)).OrderBy(k => k).ToArray();

    private static async Task KillReplicaDuringTheCopyAsync(RedisServer source, SyncHarness sync)
    {
        var clock = Stopwatch.StartNew();
        while (sync.Session.GetStatus().KeysWritten == 0)
        {
            if (sync.Run.IsCompleted) await sync.Run;
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("no key written");
            await Task.Delay(5);
        }
        RedisSync.SyncStatus now = sync.Session.GetStatus();
        Assert.Equal(RedisSync.SyncPhase.LoadingSnapshot, now.Phase);
        Assert.True(now.SnapshotBytesTotal <= 0 || now.SnapshotBytesReceived < now.SnapshotBytesTotal, $"the copy is still arriving: {now.SnapshotBytesReceived} of {now.SnapshotBytesTotal} bytes");
        source.Db().Execute("CLIENT", "KILL", "TYPE", "replica");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_source_link_dropped_during_the_snapshot_is_retried_with_a_new_full_copy(bool targetHeldKeys)
    {
        using RedisServer source = BigSource(10_000);
        using RedisServer target = RedisServer.Start();
        if (targetHeldKeys) target.Db().StringSet("target:own", "kept");
        SyncOptions options = RunModeTests.Options(source, target, RedisSync.SyncMode.FullAndIncremental, onConflict: RedisSync.Engine.Transform.ConflictPolicy.Replace);
        await using var sync = new SyncHarness(options);
        await KillReplicaDuringTheCopyAsync(source, sync);
        source.Db().StringSet("after-the-kill", "1");
        // A key deleted meanwhile is gone from the target too when the target could be flushed again (it held
        // nothing of its own); over keys of the user's, the new copy overwrites the broken one and says so.
        if (!targetHeldKeys) source.Db().KeyDelete("key:17");
        await sync.WaitCaughtUpAsync(source, TimeSpan.FromSeconds(120));

        RedisSync.SyncStatus status = sync.Session.GetStatus();
        Assert.Equal(2, status.FullResyncs);
        Assert.Equal(2, SyncHarness.Stat(source, "sync_full"));
        SyncWarning retried = Assert.Single(sync.Warnings, w => w.ErrorId == "SnapshotRetried");
        Assert.Contains("attempt 2 of 4", retried.Message);
        Assert.True(status.RetriedErrors >= 1);
        if (targetHeldKeys)
        {
            Assert.Contains(sync.Warnings, w => w.ErrorId == "TargetNotFlushed");
            Assert.Equal("kept", (string?)target.Db().StringGet("target:own"));
            target.Db().KeyDelete("target:own");
        }
        SyncHarness.AssertSame(source, target);
    }

    [Fact]
    public async Task A_link_that_keeps_breaking_during_the_snapshot_gives_up_after_the_retries()
    {
        using RedisServer source = BigSource(10_000);
        using RedisServer target = RedisServer.Start();
        var options = new SyncOptions
        {
            Name = "breaks",
            Source = RedisEndpoint.Parse(source.Endpoint),
            Target = RedisEndpoint.Parse(target.Endpoint),
            MaxSnapshotRetries = 1,
            ReconnectTimeout = TimeSpan.FromSeconds(30),
        };
        await using var sync = new SyncHarness(options);
        await KillReplicaDuringTheCopyAsync(source, sync);
        var clock = Stopwatch.StartNew();
        while (sync.Session.GetStatus().FullResyncs < 2 || sync.Session.Phase != RedisSync.SyncPhase.LoadingSnapshot || sync.Session.GetStatus().KeysWritten == 0)
        {
            if (sync.Run.IsCompleted || clock.Elapsed > TimeSpan.FromSeconds(60)) break;
            await Task.Delay(5);
        }
        source.Db().Execute("CLIENT", "KILL", "TYPE", "replica");
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => sync.Run);
        Assert.Equal(SyncErrorIds.SourceLinkLost, e.ErrorId);
        Assert.Contains("broke during the full copy 2 times in a row", e.Message);
    }

    [Fact]
    public async Task Streamed_writes_to_a_database_the_target_lacks_stop_the_sync_before_reaching_any_other_database()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start("--databases", "4");
        source.Db(0).StringSet("a", "1");
        await using var sync = new SyncHarness(RunModeTests.Options(source, target, RedisSync.SyncMode.FullAndIncremental));
        await sync.WaitCaughtUpAsync(source);
        // One transaction that writes db 0, then db 9, then db 0 again.
        source.Shell("printf 'MULTI\\nSET b 2\\nSELECT 9\\nSET lost 1\\nSELECT 0\\nSET c 3\\nEXEC\\n' | redis-cli -p $PORT");
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => sync.Run);
        Assert.Equal(SyncErrorIds.TargetDatabaseMissing, e.ErrorId);
        Assert.StartsWith("The source's database 9 keeps its number", e.Message);
        // Nothing of the transaction landed anywhere: a transaction is applied whole or not at all.
        Assert.Equal(new[] { "a" }, UserKeys(target, 0));
        for (int db = 1; db < 4; db++) Assert.Equal(0L, (long)target.Db(db).Execute("DBSIZE"));
    }

    [Fact]
    public async Task A_status_read_from_the_target_leaves_the_lag_empty_and_gives_the_syncs_start()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("a", "1");
        DateTimeOffset before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var sync = new SyncHarness(RunModeTests.Options(source, target, RedisSync.SyncMode.FullAndIncremental, name: "remote"));
        await sync.WaitCaughtUpAsync(source);
        RedisSync.SyncStatus running = await SyncCheckpointStatus.ReadAsync(RedisEndpoint.Parse(target.Endpoint), "remote", default);
        Assert.Equal(RedisSync.SyncPhase.Streaming, running.Phase);
        Assert.Null(running.LagMilliseconds);
        Assert.Null(running.LagBytes);
        Assert.InRange(running.StartTime, before, DateTimeOffset.UtcNow);
        await sync.StopAsync();
        RedisSync.SyncStatus stopped = await SyncCheckpointStatus.ReadAsync(RedisEndpoint.Parse(target.Endpoint), "remote", default);
        Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
        Assert.Equal(running.StartTime, stopped.StartTime);
    }
}
