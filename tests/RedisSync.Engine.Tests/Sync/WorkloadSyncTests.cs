using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>
/// 20 s of a mixed workload at full speed while the sync runs, with the faults a real sync meets:
/// the source dropping its replica, the target restarting, the sync process killed. At the end
/// source and target are identical and every INCR counter is exact.
/// </summary>
[RunsLong(80)]
public sealed class WorkloadSyncTests
{
    private static readonly TimeSpan Duration = TimeSpan.FromSeconds(20);

    private static RedisServer Source() =>
        RedisServer.Start("--repl-backlog-size", "256mb", "--repl-diskless-sync-delay", "0");

    [Fact]
    public async Task Mixed_workload_is_followed_exactly_while_the_source_drops_the_replica_link()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        var workload = new Workload(source);
        await using var sync = new SyncHarness(SyncHarness.Options(source, target));
        using var cts = new CancellationTokenSource();
        Task load = workload.RunAsync(Duration, cts.Token);
        int kills = 0;
        var clock = Stopwatch.StartNew();
        while (!load.IsCompleted)
        {
            // Between kills the sync streams again and the workload makes progress.
            long ops = workload.Operations;
            await SyncHarness.WaitUntilAsync(() => load.IsCompleted || (sync.Session.Phase == RedisSync.SyncPhase.Streaming && workload.Operations >= ops + 20_000),
                "the sync to stream again under load");
            if (load.IsCompleted) break;
            source.Cli("CLIENT", "KILL", "TYPE", "replica");
            kills++;
        }
        await load;
        await FinishAsync(source, target, sync, workload);

        Assert.True(kills >= 4, $"only {kills} kills in {clock.Elapsed}");
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
        Assert.True(SyncHarness.Stat(source, "sync_partial_ok") >= kills - 1, $"partial resyncs: {SyncHarness.Stat(source, "sync_partial_ok")} after {kills} kills");
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        Assert.Equal(1, status.FullResyncs);
        Assert.True(status.PartialResyncs >= kills - 1);
        Assert.True(workload.Operations > 50_000, $"the workload ran only {workload.Operations} operations");
    }

    [Fact]
    public async Task Target_restart_mid_workload_loses_nothing_and_applies_nothing_twice()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start("--appendonly", "yes");
        var workload = new Workload(source);
        await using var sync = new SyncHarness(SyncHarness.Options(source, target));
        using var cts = new CancellationTokenSource();
        Task load = workload.RunAsync(Duration, cts.Token);
        await SyncHarness.WaitUntilAsync(() => sync.Session.Phase == RedisSync.SyncPhase.Streaming && workload.Operations >= 30_000, "the sync to stream under load");
        target.Stop();
        long ops = workload.Operations;
        // The source goes on while the target is down: its writes wait in the sync.
        await SyncHarness.WaitUntilAsync(() => load.IsCompleted || workload.Operations >= ops + 30_000, "writes while the target is down");
        target.Restart();
        await load;
        await FinishAsync(source, target, sync, workload);
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
        Assert.True(sync.Session.WriterStatistics!.Reconnects >= 1, "the writer did not reconnect to the restarted target");
    }

    [Fact]
    public async Task Sync_process_killed_and_started_again_resumes_with_a_partial_resync()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        var workload = new Workload(source);
        using var cts = new CancellationTokenSource();
        Task load = workload.RunAsync(Duration, cts.Token);
        using (HostProcess first = HostProcess.Start(source, target, "killed"))
        {
            await first.WaitForAsync("phase Streaming");
            long ops = workload.Operations;
            await SyncHarness.WaitUntilAsync(() => load.IsCompleted || workload.Operations >= ops + 30_000, "the workload to go on while the sync streams");
            first.Kill();
        }
        using HostProcess second = HostProcess.Start(source, target, "killed");
        await load;
        await second.WaitForAsync("phase Streaming");
        await SyncHarness.WaitNoVolatileKeysAsync(source);
        await WaitCheckpointCaughtUpAsync(source, target, "killed");
        AssertFinal(source, target, workload);
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
        Assert.True(SyncHarness.Stat(source, "sync_partial_ok") >= 1);
        Assert.Contains("partial=1", second.Output);
        second.Terminate();
    }

    internal static async Task FinishAsync(RedisServer source, RedisServer target, SyncHarness sync, Workload workload)
    {
        await SyncHarness.WaitNoVolatileKeysAsync(source);
        await sync.WaitCaughtUpAsync(source, TimeSpan.FromSeconds(120));
        AssertFinal(source, target, workload);
    }

    private static void AssertFinal(RedisServer source, RedisServer target, Workload workload)
    {
        SyncHarness.AssertSame(source, target, withEntriesRead: false);
        for (int i = 0; i < Workload.Counters; i++)
        {
            RedisValue value = target.Db().StringGet("wl:counter:" + i);
            Assert.Equal(workload.Increments(i), value.IsNull ? 0 : (long)value);
        }
    }

    private static async Task WaitCheckpointCaughtUpAsync(RedisServer source, RedisServer target, string name)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await Task.Delay(100);
            long master = SyncHarness.MasterOffset(source);
            string? value = target.Db().StringGet("redissync:checkpoint:" + name);
            if (value != null)
            {
                var checkpoint = RedisSync.Engine.Sync.Checkpoint.Parse(name, value);
                if (checkpoint.Phase == RedisSync.Engine.Sync.CheckpointPhase.Streaming && checkpoint.Offset >= master) return;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException($"checkpoint {value} behind the source at {master}");
        }
    }
}
