using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine;
using RedisSync.Engine.CutOver;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.PowerShell.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>
/// The classes behind Wait-RedisSync and Complete-RedisSync against real servers: a cut-over under a
/// running workload, what it leaves on the target, and that the source is unpaused whatever happens.
/// </summary>
public sealed class CutOverTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Cut_over_under_a_workload_has_every_write_acknowledged_before_the_pause_on_the_target_and_unpauses()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 2000);
        using SyncRun run = StartStreaming(source, target, "cutover");
        using var workload = new Writers(source, 4);
        Assert.True(SpinWait.SpinUntil(() => workload.Acknowledged >= 400, Patience), "the workload wrote");

        CutOverReport report = await CutOverRun.RunAsync(run, run.Stop,
            new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);
        DateTime returned = DateTime.UtcNow;
        Assert.True(SpinWait.SpinUntil(() => workload.AcknowledgedAfter(returned) >= 4, Patience), "the writers were released");
        workload.Stop();

        Assert.Equal(CutOverVerdict.Passed, report.Verdict);
        Assert.Equal(0, report.Differences);
        Assert.True(report.KeysVerified >= 2000 + 400, $"keys verified: {report.KeysVerified}");
        Assert.True(report.SourcePaused);
        Assert.True(report.SyncStopped);
        Assert.True(report.CheckpointRemoved);
        Assert.True(report.LastOffset > 0);
        Assert.Equal(SyncPhase.Stopped, run.GetStatus().Phase);
        Assert.False(target.Db(0).KeyExists(Checkpoint.Key("cutover")), "the checkpoint was removed");
        Assert.False(target.Db(0).KeyExists(ReservedKeys.Lease("cutover")), "the lease was removed");

        IDatabase onTarget = target.Db(0);
        List<(string Key, long Value, DateTime Ack)> beforePause = workload.Writes.Where(w => w.Ack < report.StartTime.UtcDateTime).ToList();
        Assert.True(beforePause.Count >= 400);
        foreach ((string key, long value, DateTime _) in beforePause) Assert.Equal(value, (long)onTarget.StringGet(key));
        // The pause held: no write was acknowledged while it lasted (a margin for the two clocks' reads).
        DateTime pauseFrom = report.StartTime.UtcDateTime.AddMilliseconds(20), pauseTo = report.StartTime.UtcDateTime + report.PauseDuration - TimeSpan.FromMilliseconds(20);
        Assert.DoesNotContain(workload.Writes, w => w.Ack > pauseFrom && w.Ack < pauseTo);
        AssertUnpaused(source);
    }

    [Fact]
    public async Task Cut_over_that_finds_a_difference_leaves_the_sync_running_and_the_source_unpaused()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 500);
        using SyncRun run = StartStreaming(source, target, "differs");
        target.Db(0).StringSet("planted", "only on the target");
        using var workload = new Writers(source, 2);
        Assert.True(SpinWait.SpinUntil(() => workload.Acknowledged >= 100, Patience));

        CutOverReport report = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true }, CancellationToken.None);
        workload.Stop();

        Assert.Equal(CutOverVerdict.DifferencesFound, report.Verdict);
        Assert.Equal(1, report.Differences);
        Assert.Equal("0:planted Extra", Assert.Single(report.DifferentKeys));
        Assert.False(report.SyncStopped);
        Assert.True(run.IsRunning);
        Assert.Equal(SyncPhase.Streaming, run.GetStatus().Phase);
        Assert.True(target.Db(0).KeyExists(Checkpoint.Key("differs")), "the checkpoint stays");
        AssertUnpaused(source);
        source.Db(0).StringSet("after-the-cut-over", "streams on");
        Assert.True(SpinWait.SpinUntil(() => target.Db(0).KeyExists("after-the-cut-over"), Patience), "the sync goes on");
        run.Stop();
    }

    [Fact]
    public async Task Cut_over_of_a_filtered_sync_verifies_what_the_sync_copies_not_the_keys_it_leaves_out()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 500);
        for (int i = 0; i < 100; i++) source.Db(0).StringSet("left:" + i, "not copied");
        using (SyncRun run = StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "filtered", Key = new[] { "key:*" } }))
        {
            source.Db(0).StringSet("key:late", "streamed");
            source.Db(0).StringSet("left:late", "not copied either");

            CutOverReport report = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);

            Assert.Equal(CutOverVerdict.Passed, report.Verdict);
            Assert.Equal(0, report.Differences);
            Assert.Equal(501, report.KeysVerified);
            Assert.Equal("streamed", (string?)target.Db(0).StringGet("key:late"));
            Assert.False(target.Db(0).KeyExists("left:late"), "a key the filter leaves out stays out");
            AssertUnpaused(source);
        }
    }

    /// <summary>A -Where sync of this process: its own predicate decides what is verified (a sync of another process says NotVerified: the target does not keep the predicate).</summary>
    [Fact]
    public async Task Cut_over_of_a_where_sync_in_this_process_verifies_with_its_predicate_and_finds_a_planted_difference()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 300);
        for (int i = 0; i < 50; i++) source.Db(0).StringSet("left:" + i, "not copied");
        Func<RedisSync.KeyCandidate, bool> where = key => !key.Key.StartsWith("left:", StringComparison.Ordinal);
        using (SyncRun run = StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "where-cutover", Where = where }))
        {
            target.Db(0).StringSet("key:7", "changed on the target");
            CutOverReport failed = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.DifferencesFound, failed.Verdict);
            Assert.Equal(1, failed.Differences);
            Assert.Contains(failed.DifferentKeys, k => k.Contains("key:7", StringComparison.Ordinal));
            AssertUnpaused(source);

            target.Db(0).StringSet("key:7", (string?)source.Db(0).StringGet("key:7"));
            CutOverReport passed = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.Passed, passed.Verdict);
            Assert.Equal(0, passed.Differences);
            // The 300 keys and the one AssertUnpaused wrote after the first cut-over; no left:* key.
            Assert.Equal(301, passed.KeysVerified);
            AssertUnpaused(source);
        }
    }

    /// <summary>Through the target, a -Where sync is verified with the -Where given to the cut-over (the target keeps only that one was used).</summary>
    [Fact]
    public async Task Cut_over_through_the_target_of_a_where_sync_verifies_with_the_where_given_and_says_NotVerified_without_it()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 200);
        for (int i = 0; i < 40; i++) source.Db(0).StringSet("left:" + i, "not copied");
        Func<RedisSync.KeyCandidate, bool> where = key => !key.Key.StartsWith("left:", StringComparison.Ordinal);
        using (SyncRun run = StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "where-elsewhere", Where = where }))
        {
            var probe = SyncProbe.ForTarget("where-elsewhere", RedisEndpoint.Parse(target.Endpoint), null);
            target.Db(0).KeyDelete("key:9");

            CutOverReport unknown = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.NotVerified, unknown.Verdict);
            Assert.Contains("-Where", unknown.Note);
            Assert.True(unknown.SyncStopped);
            Assert.True(SpinWait.SpinUntil(() => !run.IsRunning, Patience), "a NotVerified cut-over stops the sync");
        }
        // A second sync into a target of its own: the first one's copy is on the first target.
        using RedisServer second = RedisServer.Start();
        using (SyncRun run = StartStreaming(new SyncRequest { Source = source.Endpoint, Target = second.Endpoint, Name = "where-elsewhere-2", Where = where }))
        {
            var probe = SyncProbe.ForTarget("where-elsewhere-2", RedisEndpoint.Parse(second.Endpoint), null);
            second.Db(0).KeyDelete("key:9");
            CutOverReport failed = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true, Where = where }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.DifferencesFound, failed.Verdict);
            Assert.Equal("0:key:9 Missing", Assert.Single(failed.DifferentKeys));
            Assert.True(run.IsRunning);

            second.Db(0).StringSet("key:9", "value:9");
            CutOverReport passed = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full, Where = where }, CancellationToken.None);
            Assert.True(passed.Verdict == CutOverVerdict.Passed, $"{passed.Verdict}: {passed.Note} {string.Join(", ", passed.DifferentKeys)}");
            Assert.Equal(200, passed.KeysVerified);
            AssertUnpaused(source);
        }
    }

    [Fact]
    public async Task Cut_over_passes_when_the_paused_source_sends_its_replicas_a_ping_and_fails_with_CutOverSourceWrote_when_a_write_lands()
    {
        // A master keeps PINGing its replicas while its clients' writes are paused: 14 bytes of offset, nothing written.
        using RedisServer source = RedisServer.Start("--repl-ping-replica-period", "1");
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 300);
        using (SyncRun run = StartStreaming(source, target, "pinged"))
        {
            long pausedAt = 0;
            CutOverReport report = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions
            {
                PauseSourceWrites = true,
                Verify = CutOverVerify.Full,
                OnStep = step =>
                {
                    if (step == CutOverStep.Paused) pausedAt = MasterOffset(source);
                    if (step == CutOverStep.Verified) Assert.True(SpinWait.SpinUntil(() => MasterOffset(source) > pausedAt, Patience), "the paused master sent a PING");
                },
            }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.Passed, report.Verdict);
            Assert.True(report.SyncStopped);
            Assert.Equal(300, report.KeysVerified);
            Assert.Equal("300", target.Cli("DBSIZE").Trim());
        }

        // A write that lands during the cut-over (the pause lifted by another client) is not taken for a PING.
        target.Cli("FLUSHALL");
        using (SyncRun run = StartStreaming(source, target, "written"))
        {
            var error = await Assert.ThrowsAsync<SyncException>(() => CutOverRun.RunAsync(run, run.Stop, new CutOverOptions
            {
                PauseSourceWrites = true,
                OnStep = step =>
                {
                    if (step != CutOverStep.Verified) return;
                    source.Cli("CLIENT", "UNPAUSE");
                    source.Db(0).StringSet("during", "the cut-over");
                },
            }, CancellationToken.None));
            Assert.Equal(HostErrorIds.CutOverSourceWrote, error.ErrorId);
            Assert.Contains("during the cut-over of sync 'written'", error.Message);
            Assert.NotEqual(SyncPhase.Stopped, run.GetStatus().Phase);
            AssertUnpaused(source);
        }
    }

    [Fact]
    public async Task Cut_over_whose_sync_dies_midway_fails_and_unpauses_the_source()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 200);
        var resolved = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "dies" }.Resolve(out _);
        var options = new SyncOptions { Name = resolved.Name, Source = resolved.Source, Target = resolved.Target, ReconnectTimeout = TimeSpan.FromSeconds(1) };
        using var run = new SyncRun(options);
        run.Start();
        Assert.True(SpinWait.SpinUntil(() => run.GetStatus().Phase == SyncPhase.Streaming, Patience));
        using var workload = new Writers(source, 2);
        Assert.True(SpinWait.SpinUntil(() => workload.Acknowledged >= 50, Patience));

        var error = await Assert.ThrowsAnyAsync<SyncException>(() => CutOverRun.RunAsync(run, run.Stop,
            new CutOverOptions { PauseSourceWrites = true, OnStep = step => { if (step == CutOverStep.Paused) target.Kill(); } }, CancellationToken.None));
        workload.Stop();

        Assert.Contains(error.ErrorId, new[] { HostErrorIds.CutOverSyncEnded, SyncErrorIds.TargetUnreachable, SyncErrorIds.TargetLinkLost });
        AssertUnpaused(source);
    }

    [Fact]
    public async Task Cut_over_of_a_sync_in_another_process_goes_through_the_target_stops_that_sync_and_has_every_write_acknowledged_before_the_pause()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 1000);
        using HostProcess host = HostProcess.Start(source, target, "elsewhere");
        await host.WaitForAsync("phase Streaming");
        using var workload = new Writers(source, 4);
        Assert.True(SpinWait.SpinUntil(() => workload.Acknowledged >= 300, Patience), "the workload wrote");

        var probe = SyncProbe.ForTarget("elsewhere", RedisEndpoint.Parse(target.Endpoint), null);
        CutOverReport report = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true }, CancellationToken.None);
        DateTime returned = DateTime.UtcNow;
        Assert.True(SpinWait.SpinUntil(() => workload.AcknowledgedAfter(returned) >= 4, Patience), "the writers were released");
        workload.Stop();

        Assert.True(report.Verdict == CutOverVerdict.Passed, $"{report.Verdict}: {string.Join(", ", report.DifferentKeys)}");
        Assert.Equal(0, report.Differences);
        Assert.True(report.KeysVerified >= 1000 + 300, $"keys verified: {report.KeysVerified}");
        Assert.True(report.SyncStopped);
        Assert.True(report.CheckpointRemoved);
        Assert.Equal(0, host.WaitForExit(Patience));
        Assert.Contains("ended Stopped", host.Output);
        foreach (string key in new[] { Checkpoint.Key("elsewhere"), ReservedKeys.Lease("elsewhere"), ReservedKeys.Stop("elsewhere") })
        {
            Assert.False(target.Db(0).KeyExists(key), $"{key} was removed");
        }
        // Each key holds at least the last value acknowledged before the pause (a writer's values only grow).
        IDatabase onTarget = target.Db(0);
        var lastBeforePause = workload.Writes.Where(w => w.Ack < report.StartTime.UtcDateTime).GroupBy(w => w.Key).Select(g => (Key: g.Key, Value: g.Max(w => w.Value))).ToList();
        Assert.True(lastBeforePause.Count >= 300);
        foreach ((string key, long value) in lastBeforePause)
        {
            RedisValue held = onTarget.StringGet(key);
            Assert.True(held.HasValue && (long)held >= value, $"{key}: the target holds '{held}', the source acknowledged {value} before the pause");
        }
        AssertUnpaused(source);
    }

    [Fact]
    public async Task Cut_over_of_a_sync_in_another_process_that_finds_a_difference_leaves_that_sync_running_and_the_source_unpaused()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 300);
        using HostProcess host = HostProcess.Start(source, target, "elsewhere-differs");
        await host.WaitForAsync("phase Streaming");
        target.Db(0).StringSet("planted", "only on the target");
        using var workload = new Writers(source, 2);
        Assert.True(SpinWait.SpinUntil(() => workload.Acknowledged >= 100, Patience));

        var probe = SyncProbe.ForTarget("elsewhere-differs", RedisEndpoint.Parse(target.Endpoint), null);
        CutOverReport report = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true }, CancellationToken.None);
        workload.Stop();

        Assert.Equal(CutOverVerdict.DifferencesFound, report.Verdict);
        Assert.Equal("0:planted Extra", Assert.Single(report.DifferentKeys));
        Assert.False(report.SyncStopped);
        AssertUnpaused(source);
        source.Db(0).StringSet("after-the-cut-over", "streams on");
        Assert.True(SpinWait.SpinUntil(() => target.Db(0).KeyExists("after-the-cut-over"), Patience), "the sync in the other process goes on");
        Assert.False(host.HasExited, host.Output);
        Assert.True(target.Db(0).KeyExists(ReservedKeys.Lease("elsewhere-differs")), "its lease is held");
        Assert.False(target.Db(0).KeyExists(ReservedKeys.Stop("elsewhere-differs")), "it was not asked to stop");
        host.Terminate();
        Assert.Contains("ended Stopped", host.Output);
    }

    [Fact]
    public async Task Wait_CaughtUp_returns_once_the_target_applied_what_the_source_had_when_it_began_in_process_and_from_the_target()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        using SyncRun run = StartStreaming(source, target, "wait");
        Populate(source.Db(0), 3000);
        long sourceOffset = MasterOffset(source);

        SyncStatus status = await SyncWait.WaitAsync(SyncProbe.ForRun(run), new SyncWaitCondition { CaughtUp = true, Timeout = Patience }, CancellationToken.None);

        Assert.True(status.AppliedOffset >= sourceOffset, $"applied {status.AppliedOffset}, the source had {sourceOffset}");
        Assert.Equal("value:2999", (string?)target.Db(0).StringGet("key:2999"));
        Assert.True(SpinWait.SpinUntil(() => run.GetStatus() is { LagBytes: 0, CatchUpSeconds: 0.0 }, Patience), "caught up, the status says 0 s to catch up");

        source.Db(0).StringSet("later", "x");
        long later = MasterOffset(source);
        var probe = SyncProbe.ForTarget("wait", RedisEndpoint.Parse(target.Endpoint), null);
        SyncStatus remote = await SyncWait.WaitAsync(probe, new SyncWaitCondition { CaughtUp = true, LagBelowMilliseconds = 10_000, Timeout = Patience }, CancellationToken.None);
        Assert.True(remote.AppliedOffset >= later);
        Assert.Single(remote.Shards);
        Assert.Equal("x", (string?)target.Db(0).StringGet("later"));

        SyncStatus lagging = await SyncWait.WaitAsync(SyncProbe.ForRun(run), new SyncWaitCondition { LagBelowMilliseconds = 1000, Timeout = Patience }, CancellationToken.None);
        Assert.True(lagging.LagMilliseconds < 1000);
        run.Stop();
    }

    [Fact]
    public async Task Wait_times_out_with_WaitTimedOut_while_the_target_holds_writes_back_and_WaitSyncEnded_once_stopped()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        using SyncRun run = StartStreaming(source, target, "stuck");
        target.Cli("CLIENT", "PAUSE", "5000", "WRITE");
        source.Db(0).StringSet("held-back", "x");

        var timedOut = await Assert.ThrowsAsync<SyncWaitException>(() => SyncWait.WaitAsync(SyncProbe.ForRun(run),
            new SyncWaitCondition { CaughtUp = true, Timeout = TimeSpan.FromMilliseconds(500) }, CancellationToken.None));
        Assert.Equal(HostErrorIds.WaitTimedOut, timedOut.ErrorId);
        Assert.Equal(SyncPhase.Streaming, timedOut.Status.Phase);
        target.Cli("CLIENT", "UNPAUSE");

        run.Stop();
        Assert.True(run.Ended.WaitOne(Patience));
        var ended = await Assert.ThrowsAsync<SyncWaitException>(() => SyncWait.WaitAsync(SyncProbe.ForRun(run), new SyncWaitCondition { CaughtUp = true }, CancellationToken.None));
        Assert.Equal(HostErrorIds.WaitSyncEnded, ended.ErrorId);
    }

    [Fact]
    public async Task Cut_over_of_a_cluster_source_compares_every_master_finds_a_planted_difference_and_passes_once_it_is_gone()
    {
        using RedisCluster source = RedisCluster.Start(3);
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(), 1500);
        using (SyncRun run = StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "cluster-cutover" }))
        {
            for (int i = 0; i < 30; i++) source.Db().StringSet("late:" + i, i);
            target.Db(0).StringSet("planted", "only on the target");

            CutOverReport failed = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.DifferencesFound, failed.Verdict);
            Assert.Null(failed.Note);
            Assert.Equal(1, failed.Differences);
            Assert.Equal("0:planted Extra", Assert.Single(failed.DifferentKeys));
            Assert.Equal(1500 + 30 + 1, failed.KeysVerified);
            Assert.Equal(3, failed.SourceOffsets.Count);
            Assert.True(run.IsRunning);
            foreach (RedisServer master in source.Masters()) AssertUnpaused(master);

            target.Db(0).KeyDelete("planted");
            CutOverReport passed = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Quick }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.Passed, passed.Verdict);
            Assert.Null(passed.Note);
            Assert.Equal(0, passed.Differences);
            Assert.Equal(1500 + 30 + 1, passed.KeysVerified); // with the key AssertUnpaused wrote
            Assert.True(passed.SyncStopped);
            foreach (RedisServer master in source.Masters()) AssertUnpaused(master);
        }
    }

    [Fact]
    public async Task Cut_over_through_the_target_of_a_sync_run_as_shard_tasks_stops_every_task_and_removes_their_keys()
    {
        using RedisCluster source = RedisCluster.Start(3);
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(), 1500);
        // One task per master, as Start-RedisSync -Shard (or -Session) runs them, each under its own lease.
        var tasks = source.Masters()
            .Select(master => StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "tasks-cutover", Shard = master.Cli("CLUSTER", "MYID").Trim() }))
            .ToList();
        try
        {
            for (int i = 0; i < 30; i++) source.Db().StringSet("late:" + i, i);

            var probe = SyncProbe.ForTarget("tasks-cutover", RedisEndpoint.Parse(target.Endpoint), RedisEndpoint.Parse(source.Endpoint));
            CutOverReport report = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);

            Assert.True(report.Verdict == CutOverVerdict.Passed, $"{report.Verdict}: {report.Note} {string.Join(", ", report.DifferentKeys)}");
            Assert.Equal(0, report.Differences);
            Assert.Equal(1500 + 30, report.KeysVerified);
            Assert.Equal(3, report.SourceOffsets.Count);
            Assert.True(report.SyncStopped);
            Assert.True(report.CheckpointRemoved);
            foreach (SyncRun task in tasks)
            {
                Assert.True(task.Ended.WaitOne(Patience), $"shard task {task.Options.Shard} ended");
                Assert.Equal(SyncPhase.Stopped, task.GetStatus().Phase);
            }
            // A write to a key each master serves returns at once: none is left paused.
            foreach (RedisServer master in source.Masters())
            {
                string key = master.Cli("RANDOMKEY").Trim();
                var clock = Stopwatch.StartNew();
                Assert.Equal("OK", master.Cli("SET", key, "after the cut-over").Trim());
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a write to {key} on {master.Endpoint} took {clock.Elapsed}");
            }
            // Every task's checkpoint, lease, fence and stop request went with the sync.
            RedisResult left = target.Db(0).Execute("KEYS", ReservedKeys.Prefix + "*");
            Assert.Empty((RedisResult[])left!);
        }
        finally
        {
            foreach (SyncRun task in tasks) task.Dispose();
        }
    }

    [Fact]
    public async Task Cut_over_of_a_sync_with_a_database_map_compares_each_source_database_with_the_one_it_maps_to()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 300);
        Populate(source.Db(1), 200);
        var map = new System.Collections.Hashtable { [0] = 2, [1] = 3 };
        using (SyncRun run = StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "mapped", DatabaseMap = map }))
        {
            source.Db(1).StringSet("late", "streamed");
            // A difference in database 3 (where database 1 goes); a key of database 0, where no source database goes, is not the sync's.
            target.Db(3).StringSet("key:7", "changed on the target");
            target.Db(0).StringSet("not-the-syncs", "x");

            CutOverReport failed = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);
            Assert.Null(failed.Note);
            Assert.Equal(CutOverVerdict.DifferencesFound, failed.Verdict);
            Assert.Equal("1:key:7 Value", Assert.Single(failed.DifferentKeys));
            Assert.Equal(300 + 201, failed.KeysVerified);
            Assert.True(run.IsRunning);
            AssertUnpaused(source);

            target.Db(3).StringSet("key:7", "value:7");
            CutOverReport passed = await CutOverRun.RunAsync(run, run.Stop, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);
            Assert.Equal(CutOverVerdict.Passed, passed.Verdict);
            Assert.Null(passed.Note);
            Assert.Equal(300 + 201 + 1, passed.KeysVerified); // with the key AssertUnpaused wrote
            Assert.True(passed.SyncStopped);
            Assert.Equal("streamed", (string?)target.Db(3).StringGet("late"));
            AssertUnpaused(source);
        }
    }

    [Fact]
    public async Task Cut_over_through_the_target_of_a_sync_with_a_database_map_uses_the_map_the_sync_recorded_there()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 200);
        Populate(source.Db(1), 100);
        using (SyncRun run = StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "mapped-elsewhere", DatabaseMap = new System.Collections.Hashtable { [0] = 4, [1] = 0 } }))
        {
            target.Db(4).KeyDelete("key:3");
            // Only the target is known: the cut-over goes through it as it would from another process.
            var probe = SyncProbe.ForTarget("mapped-elsewhere", RedisEndpoint.Parse(target.Endpoint), null);

            CutOverReport failed = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true }, CancellationToken.None);
            Assert.Null(failed.Note);
            Assert.Equal(CutOverVerdict.DifferencesFound, failed.Verdict);
            Assert.Equal("0:key:3 Missing", Assert.Single(failed.DifferentKeys));
            Assert.Equal(300, failed.KeysVerified);
            Assert.True(run.IsRunning);

            target.Db(4).StringSet("key:3", "value:3");
            CutOverReport passed = await CutOverRun.RunAsync(probe, new CutOverOptions { PauseSourceWrites = true, Verify = CutOverVerify.Full }, CancellationToken.None);
            Assert.True(passed.Verdict == CutOverVerdict.Passed, $"{passed.Verdict}: {passed.Note} {string.Join(", ", passed.DifferentKeys)}");
            Assert.Equal(300, passed.KeysVerified);
            Assert.True(passed.SyncStopped);
            Assert.True(SpinWait.SpinUntil(() => run.GetStatus().Phase == SyncPhase.Stopped, Patience), "the sync stopped");
            AssertUnpaused(source);
        }
    }

    private static SyncRun StartStreaming(RedisServer source, RedisServer target, string name) =>
        StartStreaming(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = name });

    /// <summary>Starts the sync <paramref name="request"/> asks for and waits until it streams.</summary>
    private static SyncRun StartStreaming(SyncRequest request)
    {
        var run = new SyncRun(request.Resolve(out _));
        run.Start();
        Assert.True(SpinWait.SpinUntil(() => run.GetStatus().Phase == SyncPhase.Streaming, Patience), "the sync streams");
        return run;
    }

    private static long MasterOffset(RedisServer server)
    {
        string info = server.Cli("INFO", "replication");
        string line = info.Split('\n').First(l => l.StartsWith("master_repl_offset:", StringComparison.Ordinal));
        return long.Parse(line.Substring("master_repl_offset:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A write on the source returns at once (a paused source would hold it).</summary>
    private static void AssertUnpaused(RedisServer source)
    {
        var clock = Stopwatch.StartNew();
        source.Db(0).StringSet("unpaused-check", "1");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"a write took {clock.Elapsed}");
    }

    private static void Populate(IDatabase db, int count)
    {
        var batch = db.CreateBatch();
        var tasks = new List<Task>();
        for (int i = 0; i < count; i++) tasks.Add(batch.StringSetAsync("key:" + i, "value:" + i));
        batch.Execute();
        Task.WaitAll(tasks.ToArray());
    }

    /// <summary>Writers that each SET their own keys one after the other and note when each was acknowledged.</summary>
    private sealed class Writers : IDisposable
    {
        private readonly ConnectionMultiplexer _mux;
        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private readonly ConcurrentBag<(string Key, long Value, DateTime Ack)> _writes = new();
        private readonly Task[] _tasks;

        public Writers(RedisServer source, int count)
        {
            _mux = ConnectionMultiplexer.Connect($"{source.Endpoint},syncTimeout=60000,asyncTimeout=60000,abortConnect=false");
            _tasks = Enumerable.Range(0, count).Select(id => Task.Run(() => WriteAsync(id))).ToArray();
        }

        public long Acknowledged => _writes.Count;

        public IReadOnlyCollection<(string Key, long Value, DateTime Ack)> Writes => _writes;

        public int AcknowledgedAfter(DateTime time) => _writes.Count(w => w.Ack > time);

        private async Task WriteAsync(int id)
        {
            IDatabase db = _mux.GetDatabase(0);
            for (long seq = 0; !_stop.IsCancellationRequested; seq++)
            {
                string key = $"w:{id}:{seq % 300}";
                await db.StringSetAsync(key, seq);
                _writes.Add((key, seq, DateTime.UtcNow));
            }
        }

        public void Stop()
        {
            _stop.Cancel();
            Task.WaitAll(_tasks);
        }

        public void Dispose()
        {
            if (!_stop.IsCancellationRequested) Stop();
            _mux.Dispose();
        }
    }
}
