using System;
using System.Diagnostics;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>One sync per name across processes: the lease on the target, and what a run that lost it can still do (nothing).</summary>
public sealed class LeaseTests
{
    private static async Task IncrementsAsync(RedisServer source, string key, int count)
    {
        IDatabase db = source.Db();
        for (int i = 0; i < count; i++) await db.StringIncrementAsync(key);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60))) throw new TimeoutException("waited for " + what);
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task A_second_process_with_the_same_name_is_refused_naming_the_holder_and_counters_stay_exact()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        using HostProcess first = HostProcess.Start(source, target, "twice");
        await first.WaitForAsync("phase Streaming");
        Task load = IncrementsAsync(source, "counter", 1000);

        using HostProcess second = HostProcess.Start(source, target, "twice");
        Assert.Equal(1, second.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("failed SyncAlreadyRunning: Sync 'twice' is already running on host " + Environment.MachineName, second.Output);
        Assert.Contains("process " + first.Id + ", since ", second.Output);
        Assert.Contains("redissync:lease:twice", second.Output);

        await load;
        await WaitUntilAsync(() => (long?)target.Db().StringGet("counter") == 1000, "the 1,000 increments on the target");
        first.Terminate();
        Assert.Contains("ended Stopped", first.Output);
        Assert.Equal(1000, (long)target.Db().StringGet("counter"));
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
        // The stopped run gave its lease back.
        Assert.False(target.Db().KeyExists(ReservedKeys.Lease("twice")));
    }

    [Fact]
    public async Task A_paused_holder_loses_its_lease_and_commits_nothing_after_another_run_took_over()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        using HostProcess paused = HostProcess.Start(source, target, "paused", leaseSeconds: 2);
        await paused.WaitForAsync("phase Streaming");
        await IncrementsAsync(source, "counter", 100);
        await WaitUntilAsync(() => (long?)target.Db().StringGet("counter") == 100, "the first increments");

        paused.Pause();
        // While it is frozen, writes arrive in its socket; its lease runs out.
        await IncrementsAsync(source, "counter", 400);
        await WaitUntilAsync(() => !target.Db().KeyExists(ReservedKeys.Lease("paused")), "the frozen run's lease to expire", TimeSpan.FromSeconds(30));

        var options = new SyncOptions
        {
            Name = "paused",
            Source = RedisEndpoint.Parse(source.Endpoint),
            Target = RedisEndpoint.Parse(target.Endpoint),
            LeaseTime = TimeSpan.FromSeconds(2),
            ReconnectTimeout = TimeSpan.FromSeconds(30),
        };
        await using var successor = new SyncHarness(options);
        await successor.WaitCaughtUpAsync(source);
        Assert.Equal(500, (long)target.Db().StringGet("counter"));

        paused.Resume();
        Assert.Equal(1, paused.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("failed LeaseLost", paused.Output);
        await IncrementsAsync(source, "counter", 500);
        await successor.WaitCaughtUpAsync(source);
        Assert.Equal(1000, (long)target.Db().StringGet("counter"));
        Assert.Equal(RedisSync.SyncPhase.Streaming, successor.Session.Phase);
    }

    [Fact]
    public async Task A_lease_held_elsewhere_refuses_the_run_until_it_expires()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("a", "1");
        target.Db().StringSet(ReservedKeys.Lease("other"), "redissync-lease/1 token=abc host=far-away pid=4242 since=1700000000000", TimeSpan.FromSeconds(3));
        SyncOptions options = RunModeTests.Options(source, target, RedisSync.SyncMode.Full, name: "other");

        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunModeTests.RunAsync(options));
        Assert.Equal(SyncErrorIds.SyncAlreadyRunning, e.ErrorId);
        Assert.Contains("on host far-away, process 4242, since 2023-11-14 22:13:20Z", e.Message);
        Assert.Equal(0, SyncHarness.Stat(source, "sync_full"));

        await WaitUntilAsync(() => !target.Db().KeyExists(ReservedKeys.Lease("other")), "the lease to expire");
        Assert.Equal(RedisSync.SyncPhase.Completed, (await RunModeTests.RunAsync(options)).Phase);
        Assert.Equal("1", (string?)target.Db().StringGet("a"));
    }
}
