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

/// <summary>Modes, options, resumption and errors of a live sync, as a user meets them.</summary>
[RunsLong(45)]
public sealed class SyncBehaviourTests
{
    [Fact]
    public async Task Full_copy_with_big_keys_while_writers_change_the_source_ends_identical()
    {
        using RedisServer source = RedisServer.Start("--repl-backlog-size", "256mb", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT >/dev/null 2>&1");
        IDatabase src = source.Db();
        src.ScriptEvaluate("for i = 1, 300000 do redis.call('HSET', KEYS[1], 'f' .. i, 'v' .. i) end", new RedisKey[] { "big:hash" });
        src.ScriptEvaluate("for i = 1, 200000, 1000 do local t = {} for j = i, i + 999 do t[#t + 1] = 'e' .. j end redis.call('RPUSH', KEYS[1], unpack(t)) end", new RedisKey[] { "big:list" });
        src.ScriptEvaluate("for i = 1, 100000 do redis.call('ZADD', KEYS[1], i / 7, 'm' .. i) end", new RedisKey[] { "big:zset" });
        src.ScriptEvaluate("for i = 1, 100000 do redis.call('SADD', KEYS[1], 'm' .. i) end", new RedisKey[] { "big:set" });
        src.ScriptEvaluate("for i = 1, 20000 do redis.call('XADD', KEYS[1], '*', 'n', i) end", new RedisKey[] { "big:stream" });
        src.StringSet("big:string", new string('s', 30 * 1024 * 1024));
        var workload = new Workload(source);
        Task load = workload.RunAsync(TimeSpan.FromSeconds(8), CancellationToken.None);
        await using var sync = new SyncHarness(SyncHarness.Options(source, target));
        await load;
        await SyncHarness.WaitNoVolatileKeysAsync(source);
        await sync.WaitCaughtUpAsync(source, TimeSpan.FromSeconds(120));
        SyncHarness.AssertSame(source, target, withEntriesRead: false);
        Assert.Equal(1, sync.Session.GetStatus().FullResyncs);
    }

    [Fact]
    public async Task A_big_key_streams_in_batches_that_stay_within_the_in_flight_window()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Db().ScriptEvaluate("for i = 1, 1000000 do redis.call('HSET', KEYS[1], 'field:' .. i, 'a value of some length ' .. i) end", new RedisKey[] { "big:hash" });
        await using var sync = new SyncHarness(SyncHarness.Options(source, target, "bounded"));
        await sync.WaitCaughtUpAsync(source, TimeSpan.FromSeconds(120));
        Assert.Equal(1_000_000, target.Db().HashLength("big:hash"));
        var stats = sync.Session.WriterStatistics!;
        // ~45 MB of HSETs for one key: checkpointed batches end inside the key, so none exceeds the window.
        Assert.True(stats.PeakInFlightBytes <= 16L * 1024 * 1024, $"peak in flight {stats.PeakInFlightBytes:N0} bytes");
        Assert.True(stats.BatchesSent > 100, $"only {stats.BatchesSent} batches");
    }

    [Fact]
    public async Task Full_mode_copies_the_snapshot_and_completes_with_a_checkpoint_to_continue_from()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT >/dev/null 2>&1");
        var options = SyncHarness.Options(source, target, "full", RedisSync.SyncMode.Full);
        RedisSync.SyncStatus done = await new SyncSession(options).RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
        SyncHarness.AssertSame(source, target);
        Assert.True(done.SnapshotBytesReceived > 0);

        // Writes made meanwhile are picked up by an Incremental run from the checkpoint (a partial resync).
        source.Db().StringSet("later", "1");
        source.Db(15).KeyDelete("db15:str");
        await using var incremental = new SyncHarness(SyncHarness.Options(source, target, "full", RedisSync.SyncMode.Incremental));
        await incremental.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);
        Assert.Equal(0, incremental.Session.GetStatus().FullResyncs);
        Assert.Equal(1, incremental.Session.GetStatus().PartialResyncs);
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
    }

    [Fact]
    public async Task Stopped_sync_started_again_with_the_same_name_continues_where_it_stopped()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        for (int i = 0; i < 1000; i++) source.Db().StringIncrement("counter");
        await using (var first = new SyncHarness(SyncHarness.Options(source, target, "resume")))
        {
            await first.WaitCaughtUpAsync(source);
            RedisSync.SyncStatus stopped = await first.StopAsync();
            Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
        }
        for (int i = 0; i < 500; i++) source.Db().StringIncrement("counter");
        await using var second = new SyncHarness(SyncHarness.Options(source, target, "resume"));
        await second.WaitCaughtUpAsync(source);
        Assert.Equal(1500, (long)target.Db().StringGet("counter"));
        Assert.Equal(0, second.Session.GetStatus().FullResyncs);
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
        Assert.Equal(1, SyncHarness.Stat(source, "sync_partial_ok"));
    }

    [Fact]
    public async Task A_backlog_that_no_longer_covers_the_checkpoint_means_a_new_full_copy_and_says_so()
    {
        using RedisServer source = RedisServer.Start("--repl-backlog-size", "16kb", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("deleted-later", "x");
        await using (var first = new SyncHarness(SyncHarness.Options(source, target, "backlog")))
        {
            await first.WaitCaughtUpAsync(source);
            await first.StopAsync();
        }
        for (int i = 0; i < 2000; i++) source.Db().StringSet("k" + (i % 50), new string('x', 100));
        source.Db().KeyDelete("deleted-later");

        // Incremental only: a clear error, nothing copied.
        var incremental = new SyncSession(SyncHarness.Options(source, target, "backlog", RedisSync.SyncMode.Incremental));
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => incremental.RunAsync());
        Assert.Equal(SyncErrorIds.BacklogExceeded, error.ErrorId);
        Assert.Equal(RedisSync.SyncPhase.Failed, incremental.Phase);

        // FullAndIncremental: a new full copy that replaces the target's data (the sync owns it: it was empty).
        await using var again = new SyncHarness(SyncHarness.Options(source, target, "backlog"));
        await again.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);
        Assert.False(target.Db().KeyExists("deleted-later"));
        Assert.Contains(again.Warnings, w => w.ErrorId == "FullResyncRequired");
        Assert.Equal(1, again.Session.GetStatus().FullResyncs);
    }

    [Fact]
    public async Task Database_map_sends_each_source_database_to_its_target_database()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Db(0).StringSet("in0", "a");
        source.Db(1).StringSet("in1", "b");
        SyncOptions options = SyncHarness.Options(source, target, "map");
        options = new SyncOptions
        {
            Name = options.Name, Source = options.Source, Target = options.Target, Mode = options.Mode,
            DatabaseMap = new Dictionary<int, int> { [0] = 5, [1] = 6 },
        };
        await using var sync = new SyncHarness(options);
        await sync.WaitCaughtUpAsync(source);
        source.Db(0).StringSet("later0", "c");
        source.Db(0).Execute("MOVE", "in0", "1");
        source.Db(1).Execute("COPY", "in1", "copied", "DB", "0");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("c", (string?)target.Db(5).StringGet("later0"));
        Assert.Equal("a", (string?)target.Db(6).StringGet("in0"));
        Assert.Equal("b", (string?)target.Db(6).StringGet("in1"));
        Assert.Equal("b", (string?)target.Db(5).StringGet("copied"));
        Assert.False(target.Db(0).KeyExists("later0"));
        Assert.False(target.Db(5).KeyExists("in0"));
    }

    [Fact]
    public async Task Flush_target_empties_the_target_first_and_a_conflict_stops_otherwise()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("shared", "from-source");
        target.Db().StringSet("shared", "on-target");
        target.Db().StringSet("stale", "x");

        // Default policy: a key that exists on the target stops the copy, naming it; the target keeps its value.
        var refused = new SyncSession(SyncHarness.Options(source, target, "conflict", RedisSync.SyncMode.Full));
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => refused.RunAsync());
        Assert.Equal(SyncErrorIds.TargetBusyKey, error.ErrorId);
        Assert.Contains("shared", error.Message);
        Assert.Equal("on-target", (string?)target.Db().StringGet("shared"));

        SyncOptions o = SyncHarness.Options(source, target, "flush", RedisSync.SyncMode.Full);
        var flushed = new SyncSession(new SyncOptions { Name = o.Name, Source = o.Source, Target = o.Target, Mode = o.Mode, FlushTarget = true });
        await flushed.RunAsync();
        Assert.Equal("from-source", (string?)target.Db().StringGet("shared"));
        Assert.False(target.Db().KeyExists("stale"));
    }

    [Fact]
    public async Task A_full_target_stops_the_sync_with_an_error_naming_the_key_and_command()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start("--maxmemory", "3mb", "--maxmemory-policy", "noeviction");
        for (int i = 0; i < 2000; i++) source.Db().StringSet("k" + i, new string('x', 4000));
        var session = new SyncSession(SyncHarness.Options(source, target, "full-target"));
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.TargetOutOfMemory, error.ErrorId);
        Assert.Contains("out of memory", error.Message);
        Assert.Contains("\"k", error.Message);
        Assert.Equal(RedisSync.SyncPhase.Failed, session.GetStatus().Phase);
        Assert.Equal(SyncErrorIds.TargetOutOfMemory, session.GetStatus().LastErrorId);
    }

    [Fact]
    public async Task Wrong_password_is_a_clear_error_and_nothing_is_written()
    {
        using RedisServer source = RedisServer.Start("--requirepass", "right-secret");
        using RedisServer target = RedisServer.Start();
        SyncOptions o = SyncHarness.Options(source, target);
        var session = new SyncSession(new SyncOptions
        {
            Name = "auth", Target = o.Target,
            Source = RedisEndpoint.Parse(source.Endpoint).WithCredential(null, "wrong-secret"),
        });
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.SourceAuthFailed, error.ErrorId);
        Assert.DoesNotContain("wrong-secret", error.Message);
        Assert.Equal(RedisSync.SyncPhase.Failed, session.GetStatus().Phase);
        Assert.DoesNotContain("wrong-secret", session.GetStatus().LastError);
        Assert.Equal(0L, (long)target.Db().Execute("DBSIZE"));
    }

    [Fact]
    public async Task A_source_with_psync_renamed_does_not_allow_replication_and_says_so()
    {
        using RedisServer source = RedisServer.Start("--rename-command", "PSYNC", "\"\"");
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("k", "v");
        SyncOptions options = SyncHarness.Options(source, target);
        var session = new SyncSession(new SyncOptions { Name = options.Name, Source = options.Source, Target = options.Target, SourceMode = RedisSync.SourceMode.Psync });
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.ReplicationRefused, error.ErrorId);
        Assert.Contains("does not allow replication", error.Message);
        Assert.Equal(0L, (long)target.Db().Execute("DBSIZE"));
    }

    [Fact]
    public async Task An_unreachable_source_fails_at_once_with_a_stable_error()
    {
        using RedisServer target = RedisServer.Start();
        using RedisServer gone = RedisServer.Start();
        string address = gone.Endpoint;
        gone.Kill();
        var session = new SyncSession(new SyncOptions
        {
            Name = "unreachable",
            Source = RedisEndpoint.Parse(address),
            Target = RedisEndpoint.Parse(target.Endpoint),
        });
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.SourceUnreachable, error.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, error.Kind);
        Assert.Contains(address, error.Message);
        Assert.Equal(0L, (long)target.Db().Execute("DBSIZE"));
    }

    [Fact]
    public async Task Status_reports_phases_offsets_lag_and_counts()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        for (int i = 0; i < 5000; i++) source.Db().StringSet("k" + i, "v");
        await using var sync = new SyncHarness(SyncHarness.Options(source, target, "status"));
        await sync.WaitCaughtUpAsync(source);
        RedisSync.SyncStatus s = sync.Session.GetStatus();
        Assert.Equal("status", s.Name);
        Assert.Equal(RedisSync.SyncPhase.Streaming, s.Phase);
        Assert.Equal(SyncHarness.MasterOffset(source), s.AppliedOffset);
        Assert.Equal(0, s.LagBytes);
        Assert.Equal(0, s.LagMilliseconds);
        Assert.Equal(5000, s.KeysWritten);
        Assert.Equal(100.0, s.SnapshotPercent);
        Assert.Equal(s.SnapshotBytesTotal, s.SnapshotBytesReceived);
        Assert.NotNull(s.ReplicationId);
        Assert.Equal(new[] { RedisSync.SyncPhase.WaitingForSnapshot, RedisSync.SyncPhase.LoadingSnapshot, RedisSync.SyncPhase.Streaming },
            sync.Phases.ToArray());
        // The source sees the sync as a replica that acknowledges what was applied.
        await SyncHarness.WaitUntilAsync(() => source.Cli("INFO", "replication").Contains($"offset={SyncHarness.MasterOffset(source)},"), "the source to see the applied offset acknowledged");
    }
}
