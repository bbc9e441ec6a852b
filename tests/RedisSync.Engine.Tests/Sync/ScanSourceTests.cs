using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>
/// Sources that refuse replication (PSYNC and SYNC renamed away, as managed services and proxies do),
/// read by SCAN + DUMP and keyspace events: the copy converges under writes, after a lost event link,
/// with big keys in bounded memory, and continues after a stop.
/// </summary>
[RunsLong(225)]
public sealed class ScanSourceTests
{
    internal static RedisServer ManagedSource(bool events = true) => events
        ? RedisServer.Start("--rename-command", "PSYNC", "", "--rename-command", "SYNC", "", "--notify-keyspace-events", "KA")
        : RedisServer.Start("--rename-command", "PSYNC", "", "--rename-command", "SYNC", "");

    internal static SyncOptions Options(RedisServer source, RedisServer target, string name, RedisSync.SyncMode mode = RedisSync.SyncMode.FullAndIncremental,
        RedisSync.SourceMode sourceMode = RedisSync.SourceMode.Auto, bool enableEvents = false, int scanCount = 1000, int changedKeysLimit = 100_000,
        TimeSpan? verifyInterval = null, long? maxReadRate = null, TimeSpan? stopVerifyTimeout = null, RedisSync.Engine.Transform.SyncFilter? filter = null) =>
        new SyncOptions
        {
            Name = name,
            Source = RedisEndpoint.Parse(source.Endpoint),
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = mode,
            SourceMode = sourceMode,
            EnableKeyspaceEvents = enableEvents,
            ScanCount = scanCount,
            ChangedKeysLimit = changedKeysLimit,
            ScanVerifyInterval = verifyInterval ?? TimeSpan.FromMinutes(15),
            ReconnectTimeout = TimeSpan.FromSeconds(60),
            MaxReadRate = maxReadRate,
            ScanStopVerifyTimeout = stopVerifyTimeout ?? TimeSpan.FromSeconds(60),
            Filter = filter,
        };

    /// <summary>Keys of every type, some with TTLs, in two databases.</summary>
    private static void Load(RedisServer source, int keys)
    {
        IDatabase db = source.Db();
        var batch = new List<Task>();
        for (int i = 0; i < keys; i++)
        {
            batch.Add(db.StringSetAsync($"s:{i}", $"value-{i}"));
            if (i % 10 == 0) batch.Add(db.KeyExpireAsync($"s:{i}", TimeSpan.FromHours(1)));
            if (i % 50 == 0)
            {
                batch.Add(db.HashSetAsync($"h:{i}", new[] { new HashEntry("a", i), new HashEntry("b", "x") }));
                batch.Add(db.ListRightPushAsync($"l:{i}", new RedisValue[] { "1", "2", "3" }));
                batch.Add(db.SetAddAsync($"set:{i}", new RedisValue[] { "m1", "m2" }));
                batch.Add(db.SortedSetAddAsync($"z:{i}", new[] { new SortedSetEntry("m", 1.5), new SortedSetEntry("n", -0.1) }));
                batch.Add(db.StreamAddAsync($"x:{i}", "f", "v"));
            }
        }
        batch.Add(source.Db(3).StringSetAsync("other-db", "3"));
        Task.WaitAll(batch.ToArray());
    }

    private static bool Same(RedisServer source, RedisServer target)
    {
        List<string> expected = Listing.Render(source);
        List<string> actual = Listing.Render(target);
        return expected.SequenceEqual(actual);
    }

    private static async Task WaitSameAsync(RedisServer source, RedisServer target, SyncHarness sync, TimeSpan? timeout = null)
    {
        try
        {
            await SyncHarness.WaitUntilAsync(() =>
            {
                if (sync.Run.IsFaulted) sync.Run.GetAwaiter().GetResult();
                return Same(source, target);
            }, "the target to hold what the source holds", timeout ?? TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException ex)
        {
            // What differs and what the sync did, so a failure says more than that it timed out.
            RedisSync.SyncStatus status = sync.Session.GetStatus();
            List<string> expected = Listing.Render(source), actual = Listing.Render(target);
            string differences = string.Join("\n", expected.Except(actual).Take(5).Select(l => "source only: " + l)
                .Concat(actual.Except(expected).Take(5).Select(l => "target only: " + l)));
            throw new TimeoutException($"{ex.Message}. Phase {status.Phase}, keys scanned {status.KeysScanned}, events {status.KeyspaceEvents}, rescans {status.Rescans}, " +
                $"repairs {status.Repairs}; warnings: {string.Join(" | ", sync.Warnings.Select(w => w.ErrorId).Distinct())}\n{differences}", ex);
        }
        SyncHarness.AssertSame(source, target);
    }

    /// <summary>SET, DEL, EXPIRE, RENAME, HINCRBY and a FLUSHDB on the source, at full speed, for <paramref name="duration"/>.</summary>
    private static async Task WorkloadAsync(RedisServer source, TimeSpan duration, Func<int, Task>? midway = null)
    {
        using ConnectionMultiplexer mux = ConnectionMultiplexer.Connect($"{source.Endpoint},allowAdmin=true,abortConnect=false,syncTimeout=30000");
        IDatabase db = mux.GetDatabase(0);
        IDatabase db3 = mux.GetDatabase(3);
        var random = new Random(11);
        DateTime until = DateTime.UtcNow + duration;
        int round = 0;
        bool flushed = false;
        while (DateTime.UtcNow < until)
        {
            round++;
            var pending = new List<Task>();
            for (int i = 0; i < 100; i++)
            {
                int k = random.Next(2000);
                switch (random.Next(6))
                {
                    case 0: pending.Add(db.StringSetAsync($"s:{k}", $"v{round}-{i}")); break;
                    case 1: pending.Add(db.KeyDeleteAsync($"s:{k}")); break;
                    case 2: pending.Add(db.KeyExpireAsync($"s:{k}", TimeSpan.FromMinutes(30 + random.Next(30)))); break;
                    case 3: pending.Add(db.KeyRenameAsync($"s:{k}", $"renamed:{k}", When.Always).ContinueWith(t => _ = t.Exception, TaskScheduler.Default)); break;
                    case 4: pending.Add(db.HashIncrementAsync($"h:{k % 40 * 50}", "counter", 1)); break;
                    default: pending.Add(db3.StringSetAsync($"db3:{k}", round)); break;
                }
            }
            await Task.WhenAll(pending);
            if (!flushed && DateTime.UtcNow > until - TimeSpan.FromTicks(duration.Ticks / 2))
            {
                await db3.ExecuteAsync("FLUSHDB");
                flushed = true;
            }
            if (midway != null) await midway(round);
        }
    }

    [Fact]
    public async Task A_source_that_refuses_psync_is_read_by_scan_and_follows_a_mixed_workload()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 3000);
        await using var sync = new SyncHarness(Options(source, target, "scan-live"));
        await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming);
        Assert.Contains(sync.Warnings, w => w.ErrorId == SyncErrorIds.SwitchedToScan);
        await WorkloadAsync(source, TimeSpan.FromSeconds(8));
        await WaitSameAsync(source, target, sync);

        RedisSync.SyncStatus status = sync.Session.GetStatus();
        Assert.Equal(RedisSync.SourceMode.Scan, status.SourceMode);
        Assert.True(status.KeysScanned >= 3000, $"scanned {status.KeysScanned}");
        Assert.True(status.KeyspaceEvents > 1000, $"events {status.KeyspaceEvents}");
        // The FLUSHDB published no event per key: it was noticed and a rescan followed.
        Assert.True(status.Rescans >= 1, $"rescans {status.Rescans}");
        Assert.Contains(sync.Warnings, w => w.ErrorId == SyncErrorIds.KeyspaceEventsLost && w.Message.Contains("FLUSHDB or FLUSHALL ran on the source"));
        Assert.StartsWith("scan-", status.ReplicationId);
        RedisSync.SyncStatus stopped = await sync.StopAsync();
        Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
    }

    [Fact]
    public async Task Psync_mode_still_stops_at_a_source_that_refuses_replication()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k", "v");
        var session = new SyncSession(Options(source, target, "psync-only", sourceMode: RedisSync.SourceMode.Psync));
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.ReplicationRefused, error.ErrorId);
        Assert.Equal(0L, (long)target.Db().Execute("DBSIZE"));
    }

    [Fact]
    public async Task A_scan_sync_refuses_a_source_without_keyspace_events_naming_the_setting()
    {
        using RedisServer source = ManagedSource(events: false);
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k", "v");
        var session = new SyncSession(Options(source, target, "no-events", sourceMode: RedisSync.SourceMode.Scan));
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.KeyspaceEventsOff, error.ErrorId);
        Assert.Contains("notify-keyspace-events", error.Message);
        Assert.Contains("-EnableKeyspaceEvents", error.Message);
        Assert.Equal(0L, (long)target.Db().Execute("DBSIZE"));
    }

    [Fact]
    public async Task EnableKeyspaceEvents_turns_them_on_and_the_sync_follows_changes()
    {
        using RedisServer source = ManagedSource(events: false);
        using RedisServer target = RedisServer.Start();
        Load(source, 200);
        await using var sync = new SyncHarness(Options(source, target, "enable-events", sourceMode: RedisSync.SourceMode.Scan, enableEvents: true));
        await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming);
        Assert.Contains("K", source.Cli("CONFIG", "GET", "notify-keyspace-events"));
        Assert.Contains(sync.Warnings, w => w.ErrorId == SyncErrorIds.KeyspaceEventsEnabled);
        source.Db().StringSet("later", "1");
        source.Db().KeyDelete("s:5");
        await WaitSameAsync(source, target, sync);
    }

    [Fact]
    public async Task The_event_link_killed_midway_is_reported_and_a_rescan_converges()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 2000);
        await using var sync = new SyncHarness(Options(source, target, "pubsub-kill"));
        await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming);
        int kills = 0;
        await WorkloadAsync(source, TimeSpan.FromSeconds(6), round =>
        {
            if (round % 20 == 0 && kills < 3)
            {
                source.Cli("CLIENT", "KILL", "TYPE", "pubsub");
                kills++;
            }
            return Task.CompletedTask;
        });
        await WaitSameAsync(source, target, sync);
        Assert.True(kills >= 1);
        Assert.Contains(sync.Warnings, w => w.ErrorId == SyncErrorIds.KeyspaceEventsLost && w.Message.Contains("keyspace events broke"));
        Assert.True(sync.Session.GetStatus().Rescans >= 1);
    }

    [Fact]
    public async Task A_full_scan_copy_ends_completed_and_equal_even_without_keyspace_events()
    {
        using RedisServer source = ManagedSource(events: false);
        using RedisServer target = RedisServer.Start();
        Load(source, 1000);
        var session = new SyncSession(Options(source, target, "full-scan", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan, scanCount: 100));
        var warnings = new List<SyncWarning>();
        session.Warning += w => { lock (warnings) warnings.Add(w); };
        RedisSync.SyncStatus status = await session.RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, status.Phase);
        Assert.Contains(warnings, w => w.ErrorId == SyncErrorIds.KeyspaceEventsOff);
        SyncHarness.AssertSame(source, target);
        Assert.Equal(0, status.Repairs);
    }

    [Fact]
    public async Task A_stopped_scan_continues_from_its_cursor_and_a_restarted_source_is_scanned_again()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 20_000);
        var first = new SyncHarness(Options(source, target, "resume", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan, scanCount: 50));
        await SyncHarness.WaitUntilAsync(() => first.Session.GetStatus().KeysScanned >= 3000, "part of the scan");
        RedisSync.SyncStatus stopped = await first.StopAsync();
        await first.DisposeAsync();
        Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
        string checkpoint = target.Db().StringGet(Checkpoint.Key("resume"))!;
        Assert.Contains(" scan=0/", checkpoint);
        Assert.DoesNotContain(" scan=0/0 ", checkpoint);

        var second = new SyncSession(Options(source, target, "resume", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan, scanCount: 50));
        RedisSync.SyncStatus done = await second.RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
        long total = 20_000 + 20_000 / 50 * 5 + 1;
        Assert.True(done.KeysScanned < total - 2000, $"the second run scanned {done.KeysScanned} of {total} keys: it began again");
        SyncHarness.AssertSame(source, target);
        second.Dispose();

        // Stopped midway again, then the source restarts (another run_id): the next run scans everything again.
        var third = new SyncHarness(Options(source, target, "resume", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan, scanCount: 50));
        await SyncHarness.WaitUntilAsync(() => third.Session.GetStatus().KeysScanned >= 3000, "part of the third scan");
        await third.StopAsync();
        await third.DisposeAsync();
        source.Save();
        source.Restart();
        var fourth = new SyncSession(Options(source, target, "resume", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan, scanCount: 50));
        var warnings = new List<SyncWarning>();
        fourth.Warning += w => { lock (warnings) warnings.Add(w); };
        RedisSync.SyncStatus again = await fourth.RunAsync();
        Assert.Contains(warnings, w => w.ErrorId == SyncErrorIds.ScanRestarted);
        Assert.True(again.KeysScanned >= total - 1, $"after the restart {again.KeysScanned} of {total} keys were scanned");
        SyncHarness.AssertSame(source, target);
        fourth.Dispose();
    }

    [Fact]
    public async Task A_full_queue_of_changed_keys_is_reported_and_a_rescan_converges()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 1000);
        await using var sync = new SyncHarness(Options(source, target, "queue-full", changedKeysLimit: 20));
        await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming);
        await WorkloadAsync(source, TimeSpan.FromSeconds(2));
        // Rescans follow one another while the queue overflows; on a loaded machine the last one ends late.
        await WaitSameAsync(source, target, sync, TimeSpan.FromSeconds(180));
        Assert.Contains(sync.Warnings, w => w.ErrorId == SyncErrorIds.KeyspaceEventsLost && w.Message.Contains("queue of changed keys is full"));
        Assert.True(sync.Session.GetStatus().Rescans >= 1);
    }

    [Fact]
    public async Task A_live_scan_sync_that_is_stopped_runs_a_last_verify_pass_and_leaves_the_target_as_the_source()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 500);
        await using var sync = new SyncHarness(Options(source, target, "stop-verify"));
        await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming);
        await WaitSameAsync(source, target, sync);
        long rescans = sync.Session.GetStatus().Rescans;
        // Changed behind the sync's back (no event on the source), and no periodic pass for 15 minutes: only the stop's pass sees it.
        target.Db().StringSet("s:7", "drifted");
        target.Db().KeyDelete("h:50");
        RedisSync.SyncStatus stopped = await sync.StopAsync();
        Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
        Assert.Equal(rescans + 1, stopped.Rescans);
        Assert.True(stopped.Repairs >= 2, $"{stopped.Repairs} keys repaired");
        Assert.DoesNotContain(sync.Warnings, w => w.ErrorId == SyncErrorIds.StopVerifyUnfinished);
        SyncHarness.AssertSame(source, target);
    }

    [Fact]
    public async Task A_stop_whose_last_verify_pass_does_not_end_in_time_says_so()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 5_000);
        await using var sync = new SyncHarness(Options(source, target, "stop-verify-late", maxReadRate: 1000, stopVerifyTimeout: TimeSpan.FromMilliseconds(1)));
        await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming, TimeSpan.FromSeconds(120));
        RedisSync.SyncStatus stopped = await sync.StopAsync();
        Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
        Assert.Contains(sync.Warnings, w => w.ErrorId == SyncErrorIds.StopVerifyUnfinished);
    }

    [Fact]
    public async Task MaxReadRate_holds_the_scan_to_that_many_keys_a_second_within_10_percent_and_the_status_says_held_back()
    {
        const long rate = 2000;
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 12_000);
        await using var sync = new SyncHarness(Options(source, target, "read-limited", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan, scanCount: 100, maxReadRate: rate));
        await SyncHarness.WaitUntilAsync(() => sync.Session.GetStatus().KeysScanned >= 1000, "the scan to be under way", TimeSpan.FromSeconds(60));
        long first = Calls(source, "dump");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        bool heldBack = false;
        await SyncHarness.WaitUntilAsync(() =>
        {
            heldBack |= sync.Session.GetStatus().HeldBack;
            return Calls(source, "dump") - first >= 3 * rate;
        }, "three seconds' worth of keys read", TimeSpan.FromSeconds(60));
        double measured = (Calls(source, "dump") - first) / clock.Elapsed.TotalSeconds;
        Assert.InRange(measured, rate * 0.9, rate * 1.1);
        Assert.True(heldBack, "the status said the sync was held back");
        Assert.True(sync.Session.GetStatus().KeysScanned < 12_000, "the limit, not the source, set the pace");
    }

    [Fact]
    public async Task A_filtered_sync_whose_source_refuses_psync_stops_with_ScanFilterUnsupported_and_copies_no_key()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 100);
        var session = new SyncSession(Options(source, target, "filtered-scan", filter: new RedisSync.Engine.Transform.SyncFilter { Key = new[] { "s:*" } }));
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.ScanFilterUnsupported, error.ErrorId);
        Assert.Contains("-Key 's:*'", error.Message);
        Assert.Empty((RedisResult[])target.Db().Execute("KEYS", "s:*")!);
    }

    [Fact]
    public async Task Payloads_newer_than_the_target_loads_are_read_by_type_in_chunks_instead_of_restored()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 500);
        // Redis 7.0 dumps RDB 10 payloads; a target that loads RDB 9 at most (Redis 6.2) cannot RESTORE them.
        SyncOptions options = Options(source, target, "older-target", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan);
        var session = new SyncSession(new SyncOptions
        {
            Name = options.Name, Source = options.Source, Target = options.Target, Mode = options.Mode, SourceMode = options.SourceMode,
            ReconnectTimeout = options.ReconnectTimeout, TargetRdbVersionLimit = 9,
        });
        RedisSync.SyncStatus status = await session.RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, status.Phase);
        Assert.Equal(0, Calls(target, "restore"));
        Assert.True(Calls(source, "dump") > 0, "the payloads were asked for and their version read");
        SyncHarness.AssertSame(source, target);
    }

    /// <summary>Calls of one command on a server so far (INFO commandstats).</summary>
    private static long Calls(RedisServer server, string command)
    {
        string stats = server.Cli("INFO", "commandstats");
        System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(stats, "cmdstat_" + command + @":calls=(\d+)");
        return m.Success ? long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
    }

    [Fact]
    public async Task A_live_scan_sync_repairs_drift_by_its_periodic_verify_pass()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 500);
        await using var sync = new SyncHarness(Options(source, target, "periodic", verifyInterval: TimeSpan.FromSeconds(1)));
        await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming);
        await WaitSameAsync(source, target, sync);
        // Changed behind the sync's back (no event on the source): only a verify pass can see it.
        target.Db().StringSet("s:7", "drifted");
        target.Db().KeyDelete("h:50");
        await WaitSameAsync(source, target, sync);
        Assert.True(sync.Session.GetStatus().Repairs >= 2);
    }

    [Fact]
    public async Task A_scan_sync_killed_with_sigkill_continues_from_its_checkpointed_cursor()
    {
        using RedisServer source = ManagedSource();
        using RedisServer target = RedisServer.Start();
        Load(source, 40_000);
        long total = 40_000 + 40_000 / 50 * 5 + 1;
        using (HostProcess first = HostProcess.Start(source, target, "scan-killed"))
        {
            await SyncHarness.WaitUntilAsync(() =>
            {
                string? value = target.Db().StringGet(Checkpoint.Key("scan-killed"));
                return value != null && value.Contains(" scan=0/") && !value.Contains(" scan=0/0 ") && (long)target.Db().Execute("DBSIZE") > 10_000;
            }, "part of the scan checkpointed", TimeSpan.FromSeconds(120));
            first.Kill();
        }
        source.Db().StringSet("written:while:down", "1");
        using HostProcess second = HostProcess.Start(source, target, "scan-killed");
        await second.WaitForAsync("phase Streaming");
        string line = second.Output.Split('\n').First(l => l.StartsWith("phase Streaming", StringComparison.Ordinal));
        long scanned = long.Parse(line.Substring(line.IndexOf("scanned=", StringComparison.Ordinal) + 8).Split(' ')[0].Trim());
        Assert.True(scanned < total - 5_000, $"the second run scanned {scanned} of {total} keys: it began again");
        await SyncHarness.WaitUntilAsync(() => Same(source, target), "the target to hold what the source holds", TimeSpan.FromSeconds(120));
        second.Terminate();
    }

    [Fact]
    public async Task A_source_that_refuses_dump_is_read_by_type_in_chunks()
    {
        using RedisServer source = RedisServer.Start("--rename-command", "PSYNC", "", "--rename-command", "SYNC", "", "--rename-command", "DUMP", "", "--notify-keyspace-events", "KA");
        using RedisServer target = RedisServer.Start();
        Load(source, 2000);
        source.Db().Execute("XGROUP", "CREATE", "x:0", "g", "0");
        source.Db().Execute("XREADGROUP", "GROUP", "g", "alice", "COUNT", "1", "STREAMS", "x:0", ">");
        var session = new SyncSession(Options(source, target, "no-dump", RedisSync.SyncMode.Full));
        var warnings = new List<SyncWarning>();
        session.Warning += w => { lock (warnings) warnings.Add(w); };
        RedisSync.SyncStatus status = await session.RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, status.Phase);
        Assert.Contains(warnings, w => w.ErrorId == SyncErrorIds.SwitchedToScan);
        Assert.Contains(warnings, w => w.ErrorId == SyncErrorIds.DumpRefused);
        SyncHarness.AssertSame(source, target);
    }

    [Fact]
    public async Task A_scan_whose_source_links_are_killed_midway_reconnects_and_continues_from_its_cursor()
    {
        using RedisServer source = ManagedSource(events: false);
        using RedisServer target = RedisServer.Start();
        Load(source, 20000);
        await using var sync = new SyncHarness(Options(source, target, "scan-killed", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan, scanCount: 50));
        await SyncHarness.WaitUntilAsync(() => sync.Session.GetStatus().KeysScanned > 2000 || sync.Run.IsCompleted, "the scan to be under way");
        Assert.False(sync.Run.IsCompleted, "the scan ended before its links could be killed");
        long scannedBefore = sync.Session.GetStatus().KeysScanned;
        // Every plain connection of the source: the scan's SCAN, DUMP and control links.
        source.Cli("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
        RedisSync.SyncStatus status = await sync.Run;

        Assert.Equal(RedisSync.SyncPhase.Completed, status.Phase);
        Assert.True(status.RetriedErrors >= 1, $"retried errors: {status.RetriedErrors}");
        SyncHarness.AssertSame(source, target);
        // It went on from its cursor: the scan after the reconnect read only what was left (22,001 keys
        // in all; SCAN may return a few twice), not everything again.
        long keys = source.Db().Execute("DBSIZE").ToString() is string n ? long.Parse(n) : 0;
        keys += 1; // other-db, in database 3
        Assert.True(status.KeysScanned <= keys - scannedBefore + 500, $"scanned {status.KeysScanned} keys after the reconnect; {scannedBefore} of {keys} before the links were killed");
    }
}

/// <summary>The scan reader's memory bound, measured while no other test runs.</summary>
[Collection(nameof(HeapMeasuringTests))]
public sealed class ScanMemoryTests
{
    [Fact]
    public async Task A_big_hash_is_built_in_chunks_in_bounded_memory()
    {
        using RedisServer source = ScanSourceTests.ManagedSource();
        using RedisServer target = RedisServer.Start();
        // About 40 MB on the source: over the DUMP limit, so read by HSCAN in chunks and built under a temporary name.
        string filler = new string('v', 200);
        for (int i = 0; i < 200; i++)
        {
            source.Db().HashSet("big", Enumerable.Range(0, 1000).Select(j => new HashEntry($"f{i}-{j}", filler + j)).ToArray());
        }
        source.Db().KeyExpire("big", TimeSpan.FromHours(2));
        source.Db().StringSet("small", "1");
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var session = new SyncSession(ScanSourceTests.Options(source, target, "big-hash", RedisSync.SyncMode.Full, RedisSync.SourceMode.Scan));
        long peak = 0;
        // What the copy holds (live objects after a full collection), sampled while it runs.
        var sample = new Timer(_ => Interlocked.Exchange(ref peak, Math.Max(Interlocked.Read(ref peak), GC.GetTotalMemory(forceFullCollection: true) - before)), null, 0, 100);
        RedisSync.SyncStatus status = await session.RunAsync();
        await sample.DisposeAsync();
        // Read by HSCAN chunks (the verify pass scans it once more), not by one DUMP.
        Assert.Contains("cmdstat_dump:calls=1,", source.Cli("INFO", "commandstats"));
        Assert.Equal(RedisSync.SyncPhase.Completed, status.Phase);
        Assert.Equal(200_000L, (long)target.Db().Execute("HLEN", "big"));
        SyncHarness.AssertSame(source, target);
        Assert.True(peak < 30L * 1024 * 1024, $"the live heap grew by {peak / 1048576} MB while copying a 40 MB hash");
    }
}
