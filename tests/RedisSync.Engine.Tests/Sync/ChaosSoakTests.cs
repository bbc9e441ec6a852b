using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Tests.Writers;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>
/// A seeded, bounded soak: a workload of counters, list pushes, strings, deletes and expiries on the
/// source while both links of the sync (source and target) are cut, reset at a random byte, stalled
/// (half-open), partitioned (cut, new connections refused, then healed), slowed and capped in
/// bandwidth, at random. At the end the target equals the source and every counter is
/// exact. REDISSYNC_SOAK_SECONDS (default 20) and REDISSYNC_SOAK_SEED make it longer or different.
/// </summary>
[RunsLong(42)]
public sealed class ChaosSoakTests
{
    private readonly ITestOutputHelper _output;

    public ChaosSoakTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_sync_through_cut_reset_stalled_and_slow_links_on_both_sides_loses_and_repeats_nothing()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("REDISSYNC_SOAK_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : 20261202;
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("REDISSYNC_SOAK_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : 20;
        var random = new Random(seed);
        // A backlog that holds a few seconds of the workload, so a link cut or stalled that long continues with a partial resync.
        using RedisServer source = RedisServer.Start("--repl-backlog-size", "256mb");
        using RedisServer target = RedisServer.Start();
        using var toSource = new TcpProxy(source.Port);
        using var toTarget = new TcpProxy(target.Port);
        for (int i = 0; i < 2000; i++) source.Db().StringSet("seed:" + i, new string('v', 50 + i % 200));
        var options = new SyncOptions
        {
            Name = "chaos",
            Source = RedisEndpoint.Parse("127.0.0.1:" + toSource.Port),
            Target = RedisEndpoint.Parse("127.0.0.1:" + toTarget.Port),
            ReconnectTimeout = TimeSpan.FromSeconds(120),
        };
        await using var sync = new SyncHarness(options);
        await sync.WaitCaughtUpAsync(source);

        var counters = new long[20];
        using var stop = new CancellationTokenSource();
        IDatabase db = source.Db();
        Task workload = Task.Run(async () =>
        {
            var rng = new Random(seed + 1);
            long i = 0;
            while (!stop.IsCancellationRequested)
            {
                var batch = new List<Task>();
                for (int j = 0; j < 50; j++, i++)
                {
                    int c = (int)(i % counters.Length);
                    batch.Add(db.StringIncrementAsync("counter:" + c));
                    counters[c]++;
                    batch.Add(db.ListRightPushAsync("list:" + (i % 10), i));
                    batch.Add(db.StringSetAsync("s:" + rng.Next(5000), i));
                    if (rng.Next(10) == 0) batch.Add(db.KeyDeleteAsync("s:" + rng.Next(5000)));
                    if (rng.Next(20) == 0) batch.Add(db.KeyExpireAsync("s:" + rng.Next(5000), TimeSpan.FromHours(1)));
                    if (rng.Next(50) == 0) batch.Add(db.HashIncrementAsync("h:" + rng.Next(10), "f" + rng.Next(5)));
                }
                await Task.WhenAll(batch);
            }
        });

        var faults = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            await Task.Delay(random.Next(150, 700));
            string fault;
            switch (random.Next(10))
            {
                case 0:
                    toSource.CutAll();
                    fault = "source link cut";
                    break;
                case 1:
                    toSource.ResetAfter(random.Next(1, 256 * 1024));
                    fault = "source link reset at a random byte";
                    break;
                case 2:
                    toTarget.CutAll();
                    fault = "target link cut";
                    break;
                case 3:
                    toTarget.ResetAfter(random.Next(1, 256 * 1024));
                    fault = "target link reset at a random byte";
                    break;
                case 4:
                    toSource.Stalled = true;
                    await Task.Delay(random.Next(300, 2000));
                    toSource.Stalled = false;
                    fault = "source link stalled (half-open)";
                    break;
                case 5:
                    toTarget.Stalled = true;
                    await Task.Delay(random.Next(300, 2000));
                    toTarget.Stalled = false;
                    fault = "target link stalled (half-open)";
                    break;
                case 7:
                    toSource.Partitioned = true;
                    await Task.Delay(random.Next(300, 2500));
                    toSource.Partitioned = false;
                    fault = "source partitioned (connections refused), then healed";
                    break;
                case 8:
                    toTarget.Partitioned = true;
                    await Task.Delay(random.Next(300, 2500));
                    toTarget.Partitioned = false;
                    fault = "target partitioned (connections refused), then healed";
                    break;
                case 9:
                    TcpProxy capped = random.Next(2) == 0 ? toSource : toTarget;
                    capped.BytesPerSecond = random.Next(256, 4096) * 1024;
                    await Task.Delay(random.Next(300, 1500));
                    capped.BytesPerSecond = 0;
                    fault = (capped == toSource ? "source" : "target") + " link capped to a few MB/s";
                    break;
                default:
                    toTarget.DelayMilliseconds = random.Next(2, 20);
                    await Task.Delay(random.Next(300, 1500));
                    toTarget.DelayMilliseconds = 0;
                    fault = "target link slowed";
                    break;
            }
            faults[fault] = faults.TryGetValue(fault, out int n) ? n + 1 : 1;
            if (sync.Run.IsCompleted) Assert.Fail("the sync ended during the soak: " + (sync.Run.IsFaulted ? sync.Run.Exception!.ToString() : (await sync.Run).LastError));
        }
        stop.Cancel();
        await workload;
        toSource.ResetAfter(long.MaxValue / 2);
        toTarget.ResetAfter(long.MaxValue / 2);

        await sync.WaitCaughtUpAsync(source, TimeSpan.FromSeconds(120));
        for (int c = 0; c < counters.Length; c++) Assert.Equal(counters[c], (long?)target.Db().StringGet("counter:" + c) ?? 0);
        SyncHarness.AssertSame(source, target);
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        _output.WriteLine($"seed {seed}, {seconds:0} s, {counters.Sum()} increments, {faults.Values.Sum()} faults survived: " +
            string.Join(", ", faults.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Value} × {f.Key}")) +
            $"; full resyncs {status.FullResyncs}, partial resyncs {status.PartialResyncs}, retried errors {status.RetriedErrors}");
        Assert.True(faults.Values.Sum() >= 5, "too few faults were injected");
        Assert.True(status.PartialResyncs >= 1, $"no partial resync after {faults.Values.Sum()} faults");
    }
}
