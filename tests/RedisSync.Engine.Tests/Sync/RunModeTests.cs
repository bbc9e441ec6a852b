using System;
using System.Collections.Generic;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>What each combination of -Mode, an existing checkpoint and -FlushTarget does (the table in Start-RedisSync's help).</summary>
public sealed class RunModeTests
{
    internal static SyncOptions Options(RedisServer source, RedisServer target, RedisSync.SyncMode mode, string name = "modes", bool flush = false,
        ConflictPolicy onConflict = ConflictPolicy.Stop, IReadOnlyDictionary<int, int>? map = null) =>
        new SyncOptions
        {
            Name = name,
            Source = RedisEndpoint.Parse(source.Endpoint),
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = mode,
            FlushTarget = flush,
            OnConflict = onConflict,
            DatabaseMap = map,
            ReconnectTimeout = TimeSpan.FromSeconds(30),
        };

    internal static async Task<RedisSync.SyncStatus> RunAsync(SyncOptions options)
    {
        using var session = new SyncSession(options);
        return await session.RunAsync().WaitAsync(TimeSpan.FromSeconds(120));
    }

    [Fact]
    public async Task A_second_Full_run_with_FlushTarget_flushes_copies_afresh_and_ends()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        IDatabase src = source.Db();
        for (int i = 0; i < 100; i++) src.StringSet("k:" + i, "v1:" + i);
        RedisSync.SyncStatus first = await RunAsync(Options(source, target, RedisSync.SyncMode.Full, flush: true));
        Assert.Equal(RedisSync.SyncPhase.Completed, first.Phase);
        SyncHarness.AssertSame(source, target);

        // The source changes: keys deleted, changed, added; the target gets a key of its own.
        for (int i = 0; i < 50; i++) src.KeyDelete("k:" + i);
        for (int i = 50; i < 100; i++) src.StringSet("k:" + i, "v2:" + i, TimeSpan.FromHours(1));
        src.StringSet("new", "n");
        target.Db().StringSet("stray", "x");

        RedisSync.SyncStatus second = await RunAsync(Options(source, target, RedisSync.SyncMode.Full, flush: true));
        Assert.Equal(RedisSync.SyncPhase.Completed, second.Phase);
        Assert.Equal(1, second.FullResyncs);
        Assert.Equal(51, second.KeysWritten);
        SyncHarness.AssertSame(source, target);
        Assert.False(target.Db().KeyExists("stray"));
        Assert.Equal(2, SyncHarness.Stat(source, "sync_full"));
    }

    [Fact]
    public async Task A_second_Full_run_without_FlushTarget_copies_afresh_over_the_first_and_warns()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        IDatabase src = source.Db();
        for (int i = 0; i < 20; i++) src.StringSet("k:" + i, "v1");
        await RunAsync(Options(source, target, RedisSync.SyncMode.Full));
        for (int i = 0; i < 20; i++) src.StringSet("k:" + i, "v2");

        using var session = new SyncSession(Options(source, target, RedisSync.SyncMode.Full));
        var warnings = new List<SyncWarning>();
        session.Warning += w => { lock (warnings) warnings.Add(w); };
        RedisSync.SyncStatus second = await session.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(RedisSync.SyncPhase.Completed, second.Phase);
        SyncHarness.AssertSame(source, target);
        Assert.Contains(warnings, w => w.ErrorId == "TargetNotFlushed");
        Assert.Equal(2, SyncHarness.Stat(source, "sync_full"));
    }

    [Fact]
    public async Task FlushTarget_flushes_after_a_failed_run_of_the_same_name()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        IDatabase src = source.Db();
        for (int i = 0; i < 50; i++) src.StringSet("k:" + i, "source");
        target.Db().StringSet("k:7", "the target's own");

        SyncException failed = await Assert.ThrowsAsync<SyncException>(() => RunAsync(Options(source, target, RedisSync.SyncMode.FullAndIncremental)));
        Assert.Equal(SyncErrorIds.TargetBusyKey, failed.ErrorId);
        Assert.Contains("-FlushTarget", failed.Message);

        await using var again = new SyncHarness(Options(source, target, RedisSync.SyncMode.FullAndIncremental, flush: true));
        await again.WaitCaughtUpAsync(source);
        Assert.Equal("source", (string?)target.Db().StringGet("k:7"));
        SyncHarness.AssertSame(source, target);
    }

    [Fact]
    public async Task FullAndIncremental_resumes_from_its_checkpoint_and_copies_afresh_with_FlushTarget()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        IDatabase src = source.Db();
        src.StringSet("a", "1");
        await using (var first = new SyncHarness(Options(source, target, RedisSync.SyncMode.FullAndIncremental)))
        {
            await first.WaitCaughtUpAsync(source);
            await first.StopAsync();
        }
        src.StringIncrement("n", 5);

        await using (var resumed = new SyncHarness(Options(source, target, RedisSync.SyncMode.FullAndIncremental)))
        {
            await resumed.WaitCaughtUpAsync(source);
            RedisSync.SyncStatus status = resumed.Session.GetStatus();
            Assert.Equal(0, status.FullResyncs);
            Assert.Equal(1, status.PartialResyncs);
            await resumed.StopAsync();
        }
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
        target.Db().StringSet("stray", "x");

        await using (var fresh = new SyncHarness(Options(source, target, RedisSync.SyncMode.FullAndIncremental, flush: true)))
        {
            await fresh.WaitCaughtUpAsync(source);
            Assert.Equal(1, fresh.Session.GetStatus().FullResyncs);
        }
        Assert.Equal(2, SyncHarness.Stat(source, "sync_full"));
        Assert.False(target.Db().KeyExists("stray"));
        Assert.Equal(5, (long)target.Db().StringGet("n"));
    }

    [Fact]
    public async Task Incremental_without_a_checkpoint_fails_before_the_source_is_asked_for_anything()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("a", "1");
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunAsync(Options(source, target, RedisSync.SyncMode.Incremental)));
        Assert.Equal(SyncErrorIds.NoCheckpoint, e.ErrorId);
        Assert.Contains("-Mode Full or FullAndIncremental", e.Message);
        Assert.Equal(0, SyncHarness.Stat(source, "sync_full"));
        Assert.Equal(0, SyncHarness.Stat(source, "sync_partial_err"));
        Assert.False(target.Db().KeyExists(ReservedKeys.Lease("modes")));
    }

    [Fact]
    public async Task FlushTarget_with_Incremental_is_refused_as_an_invalid_option()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunAsync(Options(source, target, RedisSync.SyncMode.Incremental, flush: true)));
        Assert.Equal(SyncErrorIds.InvalidOptions, e.ErrorId);
        Assert.Contains("-FlushTarget", e.Message);
    }

    [Fact]
    public async Task A_resumed_stream_writes_to_the_database_it_was_in_although_the_source_does_not_repeat_SELECT()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        IDatabase db3 = source.Db(3);
        source.Db(0).StringSet("zero", "0");
        await using (var first = new SyncHarness(Options(source, target, RedisSync.SyncMode.FullAndIncremental)))
        {
            await first.WaitCaughtUpAsync(source);
            db3.StringSet("before", "1"); // the stream now carries SELECT 3
            await first.WaitCaughtUpAsync(source);
            await first.StopAsync();
        }
        // The source's replication stream stays in db 3: no SELECT precedes these in its backlog.
        for (int i = 0; i < 10; i++) db3.StringIncrement("after");

        await using var resumed = new SyncHarness(Options(source, target, RedisSync.SyncMode.FullAndIncremental));
        await resumed.WaitCaughtUpAsync(source);
        Assert.Equal(1, resumed.Session.GetStatus().PartialResyncs);
        Assert.Equal(10, (long)target.Db(3).StringGet("after"));
        Assert.False(target.Db(0).KeyExists("after"));
        SyncHarness.AssertSame(source, target);
    }

    [Fact]
    public async Task A_Full_copy_continued_later_does_not_apply_the_copied_writes_again()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        // A replica from the start: the source's backlog then holds its whole history, from offset 1.
        using RedisServer replica = RedisServer.Start("--replicaof", "127.0.0.1", source.Port.ToString());
        await SyncHarness.WaitUntilAsync(() => source.Cli("INFO", "replication").Contains("state=online"), "the replica to be online");
        for (int i = 0; i < 50; i++) source.Db().StringIncrement("n");
        // A Full copy ends with the snapshot: its checkpoint is the snapshot's offset, with no stream after it.
        await RunAsync(Options(source, target, RedisSync.SyncMode.Full, name: "quiet"));
        Assert.Equal(50, (long)target.Db().StringGet("n"));
        for (int i = 0; i < 5; i++) source.Db().StringIncrement("n");
        await using var resumed = new SyncHarness(Options(source, target, RedisSync.SyncMode.FullAndIncremental, name: "quiet"));
        await resumed.WaitCaughtUpAsync(source);
        Assert.Equal(1, resumed.Session.GetStatus().PartialResyncs);
        Assert.Equal(55, (long)target.Db().StringGet("n"));
    }
}
