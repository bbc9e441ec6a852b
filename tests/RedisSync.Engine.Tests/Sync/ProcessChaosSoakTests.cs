using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;
using Xunit.Abstractions;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>
/// The whole soak: the sync runs in a process of its own (tests/RedisSync.SyncHost), through a relay
/// to each server, under a supervisor that starts it again whenever it ends, as a service manager or a
/// scheduled task would, while the mixed workload runs on the source and, in a seeded order, a link is
/// reset at a random byte, stalled (half-open), partitioned (new connections refused) then healed, or
/// capped in bandwidth, the sync process is killed (SIGKILL) or frozen (SIGSTOP) for a moment, the
/// target is killed (SIGKILL; it persists with an append-only file, fsync every second, so it may come
/// back without its last acknowledged writes) and started again, and the target is given a maxmemory
/// below what it holds (the copy stops with TargetOutOfMemory) and then its memory back. At the end the
/// target equals the source and every counter is exact. REDISSYNC_PROCESS_SOAK_SECONDS (default 40)
/// and REDISSYNC_SOAK_SEED make it longer or different.
/// </summary>
[RunsLong(50)]
public sealed class ProcessChaosSoakTests
{
    private const string Name = "process-chaos";

    /// <summary>The ends of a sync process that a fault explains; any other end fails the soak.</summary>
    private static readonly string[] ExpectedEnds = { SyncErrorIds.TargetOutOfMemory, SyncErrorIds.CheckpointInvalid, SyncErrorIds.TargetUnreachable };

    private readonly ITestOutputHelper _output;

    public ProcessChaosSoakTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task A_sync_through_faulty_links_whose_process_is_killed_and_whose_target_restarts_and_fills_up_loses_and_repeats_nothing()
    {
        int seed = int.TryParse(Environment.GetEnvironmentVariable("REDISSYNC_SOAK_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out int s) ? s : 20261203;
        double seconds = double.TryParse(Environment.GetEnvironmentVariable("REDISSYNC_PROCESS_SOAK_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : 40;
        var random = new Random(seed);
        using RedisServer source = RedisServer.Start("--repl-backlog-size", "256mb", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start("--appendonly", "yes", "--appendfsync", "everysec");
        var workload = new Workload(source);
        // The sync reaches both servers through relays, so the link faults of the other soak happen here too.
        using var toSource = new Writers.TcpProxy(source.Port);
        using var toTarget = new Writers.TcpProxy(target.Port);
        string sourceAddress = "127.0.0.1:" + toSource.Port, targetAddress = "127.0.0.1:" + toTarget.Port;
        using var cts = new CancellationTokenSource();
        Task load = workload.RunAsync(TimeSpan.FromSeconds(seconds + 5), cts.Token);

        var faults = new Dictionary<string, int>();
        var ends = new Dictionary<string, int>();
        var log = new List<string>();
        HostProcess host = HostProcess.Start(sourceAddress, targetAddress, Name, leaseSeconds: 2);
        bool memoryLow = false;
        bool killed = false;

        // Starts the sync again when it has ended (but not while the target is full: a supervisor that
        // restarts a sync stopped by TargetOutOfMemory into the same full target only fails again).
        void Supervise()
        {
            if (!host.HasExited || memoryLow) return;
            string output = host.Output;
            string end = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith("failed ", StringComparison.Ordinal) || l.StartsWith("ended ", StringComparison.Ordinal)) ?? "no last line";
            string id = killed ? "SIGKILL" : end.StartsWith("failed ", StringComparison.Ordinal) ? end.Substring(7).Split(':')[0] : end;
            if (killed) end = "killed (SIGKILL)";
            killed = false;
            log.Add($"{DateTime.UtcNow:HH:mm:ss.fff} the sync process ended: {end}");
            if (id != "SIGKILL" && !ExpectedEnds.Contains(id)) Assert.Fail($"the sync process ended in a way no fault explains: {end}\n{output}");
            // The lease's guard opens every batch, so a full target refuses it first: the message says what that batch is.
            if (id == SyncErrorIds.TargetOutOfMemory && end.Contains("copy of key \"redissync:", StringComparison.Ordinal)) Assert.Fail("the message names an internal key as a copied one: " + end);
            if (id != "SIGKILL") ends[id] = ends.TryGetValue(id, out int n) ? n + 1 : 1;
            host.Dispose();
            host = HostProcess.Start(sourceAddress, targetAddress, Name, leaseSeconds: 2);
        }

        try
        {
            await host.WaitForAsync("phase Streaming");
            // Each kind of fault in every round of four, in a seeded order.
            string[] kinds =
            {
                "sync process killed", "sync process frozen", "target killed", "target full",
                "source link reset at a random byte", "target link stalled (half-open)", "source partitioned, then healed", "target link capped to 1 MB/s",
            };
            var order = new List<string>();
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds)
            {
                if (order.Count == 0) order.AddRange(kinds.OrderBy(_ => random.Next()));
                string fault = order[0];
                order.RemoveAt(0);
                await WaitSupervisingAsync(TimeSpan.FromMilliseconds(random.Next(1000, 2500)), Supervise);
                log.Add($"{DateTime.UtcNow:HH:mm:ss.fff} {fault}");
                switch (fault)
                {
                    case "sync process killed":
                        if (!host.HasExited)
                        {
                            killed = true;
                            host.Kill();
                        }
                        break;
                    case "sync process frozen":
                        // Shorter than the lease: the process goes on as the holder when it thaws.
                        host.Pause();
                        await Task.Delay(random.Next(200, 1200));
                        host.Resume();
                        break;
                    case "target killed":
                        target.Kill();
                        await Task.Delay(random.Next(100, 1500));
                        target.Restart();
                        break;
                    case "source link reset at a random byte":
                        toSource.ResetAfter(random.Next(1, 256 * 1024));
                        break;
                    case "target link stalled (half-open)":
                        toTarget.Stalled = true;
                        await WaitSupervisingAsync(TimeSpan.FromMilliseconds(random.Next(300, 1500)), Supervise);
                        toTarget.Stalled = false;
                        break;
                    case "source partitioned, then healed":
                        toSource.Partitioned = true;
                        await WaitSupervisingAsync(TimeSpan.FromMilliseconds(random.Next(300, 2000)), Supervise);
                        toSource.Partitioned = false;
                        break;
                    case "target link capped to 1 MB/s":
                        toTarget.BytesPerSecond = 1024 * 1024;
                        await WaitSupervisingAsync(TimeSpan.FromMilliseconds(random.Next(300, 1500)), Supervise);
                        toTarget.BytesPerSecond = 0;
                        break;
                    default:
                        long used = long.Parse(Info(target, "used_memory"), CultureInfo.InvariantCulture);
                        target.Cli("CONFIG", "SET", "maxmemory", (used - 1024 * 1024).ToString(CultureInfo.InvariantCulture));
                        memoryLow = true;
                        var full = Stopwatch.StartNew();
                        while (!host.HasExited && full.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(20);
                        target.Cli("CONFIG", "SET", "maxmemory", "0");
                        memoryLow = false;
                        break;
                }
                faults[fault] = faults.TryGetValue(fault, out int n) ? n + 1 : 1;
            }
            cts.Cancel();
            await load;
            await SyncHarness.WaitNoVolatileKeysAsync(source);
            await WaitCaughtUpAsync(source, target, Supervise);

            SyncHarness.AssertSame(source, target, withEntriesRead: false);
            long increments = 0;
            for (int i = 0; i < Workload.Counters; i++)
            {
                RedisValue value = target.Db().StringGet("wl:counter:" + i);
                Assert.Equal(workload.Increments(i), value.IsNull ? 0 : (long)value);
                increments += workload.Increments(i);
            }
            _output.WriteLine($"seed {seed}, {seconds:0} s, {workload.Operations:N0} operations ({increments:N0} increments, exact), {faults.Values.Sum()} faults survived: " +
                string.Join(", ", faults.OrderBy(f => f.Key, StringComparer.Ordinal).Select(f => $"{f.Value} × {f.Key}")) +
                "; the sync process ended by itself: " + (ends.Count == 0 ? "never" : string.Join(", ", ends.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => $"{e.Value} × {e.Key}"))) +
                $"; source: {SyncHarness.Stat(source, "sync_full")} full and {SyncHarness.Stat(source, "sync_partial_ok")} partial resyncs");
            foreach (string line in log) _output.WriteLine(line);
            Assert.True(faults.Values.Sum() >= 4, "too few faults were injected");
            Assert.True(SyncHarness.Stat(source, "sync_partial_ok") >= 1, "no partial resync after the faults");
        }
        finally
        {
            if (!host.HasExited) _output.WriteLine(host.Output.Split('\n').Where(l => l.StartsWith("warning", StringComparison.Ordinal)).Take(20).Aggregate(string.Empty, (a, l) => a + l + "\n"));
            host.Dispose();
        }
    }

    private static async Task WaitSupervisingAsync(TimeSpan time, Action supervise)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < time)
        {
            supervise();
            await Task.Delay(20);
        }
    }

    /// <summary>Until the target's checkpoint has reached the source's offset, the sync being started again whenever it ends.</summary>
    private static async Task WaitCaughtUpAsync(RedisServer source, RedisServer target, Action supervise)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            supervise();
            long master = SyncHarness.MasterOffset(source);
            string? value = null;
            try
            {
                value = target.Db().StringGet("redissync:checkpoint:" + Name);
            }
            catch (RedisConnectionException)
            {
            }
            if (value != null)
            {
                var checkpoint = RedisSync.Engine.Sync.Checkpoint.Parse(Name, value);
                if (checkpoint.Phase == RedisSync.Engine.Sync.CheckpointPhase.Streaming && checkpoint.Offset >= master) return;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(120)) throw new TimeoutException($"checkpoint {value} behind the source at {master}");
            await Task.Delay(50);
        }
    }

    private static string Info(RedisServer server, string field)
    {
        foreach (string line in server.Cli("INFO", "memory").Split('\n'))
        {
            if (line.StartsWith(field + ":", StringComparison.Ordinal)) return line.Substring(field.Length + 1).Trim();
        }
        throw new InvalidOperationException($"INFO has no {field}");
    }
}
