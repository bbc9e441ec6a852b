using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.PowerShell.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>
/// The class behind Start-RedisSync -Wait and the sync job, against real servers: what lands on the
/// target, what the host is told and on which thread, stopping, the status file.
/// </summary>
public sealed class SyncRunTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public void Rdb_file_copies_every_key_with_its_ttl_and_reports_on_the_draining_thread_only()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 500);
        source.Db(3).StringSet("in-db-3", "x");
        string dump = source.Save();
        var options = new SyncRequest { RdbPath = dump, Target = target.Endpoint, Name = "rdb", DatabaseMap = new System.Collections.Hashtable { [3] = 5 } }.Resolve(out _);
        using var run = new SyncRun(options);
        var output = new RecordingOutput();

        run.Start();
        SyncStatus final = run.RunToEnd(output);

        Assert.Equal(SyncPhase.Completed, final.Phase);
        Assert.Equal(SyncMode.Full, final.Mode);
        AssertCopied(target.Db(0), 500);
        Assert.Equal("x", (string?)target.Db(5).StringGet("in-db-3"));
        Assert.Equal(new[] { Environment.CurrentManagedThreadId }, output.Threads.ToArray());
        Assert.Equal(SyncPhase.Connecting, output.Phases().First());
        Assert.Contains(SyncPhase.LoadingSnapshot, output.Phases());
        Assert.Equal(SyncPhase.Completed, output.Phases().Last());
        Assert.True(output.Progress.Last().Completed, "the last progress record removes the bar");
        Assert.Equal(final.KeysWritten, run.GetStatus().KeysWritten);
    }

    [Fact]
    public void Full_sync_from_a_live_source_ends_by_itself_as_Completed()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 2000);
        var options = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "full", Mode = SyncMode.Full }.Resolve(out _);
        using var run = new SyncRun(options);
        var output = new RecordingOutput();

        run.Start();
        SyncStatus final = run.RunToEnd(output);

        Assert.Equal(SyncPhase.Completed, final.Phase);
        Assert.Equal(1, final.FullResyncs);
        AssertCopied(target.Db(0), 2000);
        Assert.Equal(new[] { SyncPhase.Connecting, SyncPhase.WaitingForSnapshot, SyncPhase.LoadingSnapshot, SyncPhase.Completed },
            output.Phases().ToArray());
        Assert.False(run.IsRunning);
    }

    [Fact]
    public void FullAndIncremental_streams_later_writes_until_stopped_from_another_thread_like_ctrl_c()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 100);
        var options = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "live" }.Resolve(out _);
        using var run = new SyncRun(options);
        var output = new RecordingOutput();
        run.Start();

        Assert.True(output.DrainUntil(run, () => run.GetStatus().Phase == SyncPhase.Streaming, Patience), "the sync reached Streaming");
        source.Db(0).StringSet("written-later", "yes");
        source.Db(0).HashSet("hash-later", "f", "v");
        Assert.True(output.DrainUntil(run, () => target.Db(0).KeyExists("hash-later"), Patience), "a later write reached the target");

        var stopper = new Thread(run.Stop);
        stopper.Start();
        SyncStatus final = run.RunToEnd(output);
        stopper.Join();

        Assert.Equal(SyncPhase.Stopped, final.Phase);
        Assert.Equal("yes", (string?)target.Db(0).StringGet("written-later"));
        Assert.Equal(SyncPhase.Stopped, output.Phases().Last());
        Assert.Equal(new[] { Environment.CurrentManagedThreadId }, output.Threads.ToArray());
        Assert.True(target.Db(0).KeyExists(Checkpoint.Key("live")), "the checkpoint was recorded");
        Assert.True(final.AppliedOffset > 0);
    }

    [Fact]
    public void A_stopped_sync_resumes_from_its_checkpoint_in_Incremental_mode()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 50);
        var first = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "resume" }.Resolve(out _);
        using (var run = new SyncRun(first))
        {
            var output = new RecordingOutput();
            run.Start();
            Assert.True(output.DrainUntil(run, () => run.GetStatus().Phase == SyncPhase.Streaming, Patience));
            run.Stop();
            Assert.Equal(SyncPhase.Stopped, run.RunToEnd(output).Phase);
        }
        source.Db(0).StringSet("while-stopped", "kept");

        var again = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "resume", Mode = SyncMode.Incremental }.Resolve(out _);
        using var resumed = new SyncRun(again);
        var resumedOutput = new RecordingOutput();
        resumed.Start();
        Assert.True(resumedOutput.DrainUntil(resumed, () => target.Db(0).KeyExists("while-stopped"), Patience), "the write made while stopped arrived");
        resumed.Stop();
        SyncStatus final = resumed.RunToEnd(resumedOutput);

        Assert.Equal(SyncPhase.Stopped, final.Phase);
        Assert.Equal(0, final.FullResyncs);
        Assert.Equal(1, final.PartialResyncs);
        AssertCopied(target.Db(0), 50);
    }

    [Fact]
    public void A_job_stream_has_a_status_per_phase_change_and_one_every_status_interval()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 10);
        var options = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "cadence" }.Resolve(out _);
        Assert.Equal(TimeSpan.FromSeconds(5), options.StatusInterval);
        using var run = new SyncRun(options);
        var output = new RecordingOutput();
        run.Start();

        Assert.True(output.DrainUntil(run, () => output.Statuses.Count(s => s.Reason == StatusReason.Interval) >= 2, TimeSpan.FromSeconds(30)),
            "two interval statuses within 30 s");
        run.Stop();
        run.RunToEnd(output);

        Assert.Equal(new[] { SyncPhase.Connecting, SyncPhase.WaitingForSnapshot, SyncPhase.LoadingSnapshot, SyncPhase.Streaming, SyncPhase.Stopped },
            output.Phases().ToArray());
        var timestamps = output.Statuses.Select(s => s.Status.Timestamp).ToList();
        var intervals = output.Statuses.Where(s => s.Reason == StatusReason.Interval).ToList();
        Assert.All(intervals, s => Assert.Equal(SyncPhase.Streaming, s.Status.Phase));
        for (int i = 1; i < timestamps.Count; i++)
        {
            if (output.Statuses[i].Reason == StatusReason.Interval)
            {
                Assert.True(timestamps[i] - timestamps[i - 1] >= TimeSpan.FromSeconds(5), $"status {i} came {timestamps[i] - timestamps[i - 1]} after the one before");
            }
        }
        Assert.Contains(output.Progress, p => p.StatusDescription.StartsWith("Streaming: lag ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refused_login_fails_with_its_error_id_and_no_password_anywhere()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start("--requirepass", "right-one");
        string dir = Paths.TempDirectory();
        try
        {
            string statusPath = Path.Combine(dir, "status.json");
            var options = new SyncRequest
            {
                Source = source.Endpoint,
                Target = "redis://default:wrong-one@" + target.Endpoint,
                Name = "auth",
                StatusPath = statusPath,
            }.Resolve(out string? status);
            using var run = new SyncRun(options, status);
            var output = new RecordingOutput();

            run.Start();
            var error = Assert.Throws<SyncException>(() => run.RunToEnd(output));

            Assert.Equal(SyncErrorIds.TargetAuthFailed, error.ErrorId);
            Assert.Equal(HostErrorCategory.AuthenticationError, HostErrors.CategoryOf(error.ErrorId));
            Assert.Equal(SyncPhase.Failed, run.GetStatus().Phase);
            Assert.Equal(SyncPhase.Failed, output.Phases().Last());
            string file = File.ReadAllText(statusPath);
            foreach (string text in new[] { error.Message, error.ToString(), file, string.Join("\n", output.Statuses.Select(s => s.Status.LastError)) })
            {
                Assert.DoesNotContain("wrong-one", text);
            }
            Assert.Equal("Failed", JsonDocument.Parse(file).RootElement.GetProperty("Phase").GetString());
            Assert.Equal(SyncErrorIds.TargetAuthFailed, JsonDocument.Parse(file).RootElement.GetProperty("LastErrorId").GetString());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void The_status_file_holds_the_final_status_as_json()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 300);
        string dir = Paths.TempDirectory();
        try
        {
            string statusPath = Path.Combine(dir, "nested", "status.json");
            var options = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "file", Mode = SyncMode.Full, StatusPath = statusPath }.Resolve(out string? status);
            using var run = new SyncRun(options, status);

            run.Start();
            SyncStatus final = run.RunToEnd(new RecordingOutput());

            using JsonDocument json = JsonDocument.Parse(File.ReadAllText(statusPath));
            JsonElement root = json.RootElement;
            Assert.Equal("file", root.GetProperty("Name").GetString());
            Assert.Equal("Completed", root.GetProperty("Phase").GetString());
            Assert.Equal("Full", root.GetProperty("Mode").GetString());
            Assert.Equal(source.Endpoint, root.GetProperty("Source").GetString());
            Assert.Equal(final.KeysWritten, root.GetProperty("KeysWritten").GetInt64());
            Assert.True(root.GetProperty("KeysWritten").GetInt64() >= 300);
            Assert.Equal(final.ReplicationId, root.GetProperty("ReplicationId").GetString());
            Assert.Equal(final.Timestamp, root.GetProperty("Timestamp").GetDateTimeOffset());
            Assert.False(File.Exists(statusPath + ".tmp"));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_status_file_that_cannot_be_written_fails_before_anything_connects()
    {
        using RedisServer target = RedisServer.Start();
        string dir = Paths.TempDirectory();
        try
        {
            string blocker = Path.Combine(dir, "a-file");
            File.WriteAllText(blocker, "");
            var options = new SyncRequest { Source = "127.0.0.1:1", Target = target.Endpoint, Name = "nostatus" }.Resolve(out _);
            using var run = new SyncRun(options, Path.Combine(blocker, "status.json"));

            var error = Assert.Throws<SyncException>(run.Start);

            Assert.Equal(HostErrorIds.StatusFileFailed, error.ErrorId);
            Assert.False(run.IsRunning);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_second_sync_with_the_name_of_a_running_one_is_refused()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        var registry = new SyncRegistry();
        var options = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "twice" }.Resolve(out _);
        using var first = new SyncRun(options);
        using var second = new SyncRun(options);
        registry.Add(first);
        first.Start();

        var error = Assert.Throws<SyncException>(() => registry.Add(second));
        Assert.Equal(HostErrorIds.SyncAlreadyRunning, error.ErrorId);
        Assert.Same(first, registry.Find("TWICE"));

        first.Stop();
        first.RunToEnd(new RecordingOutput());
        registry.Add(second); // an ended run gives its name up
        Assert.Same(second, registry.Find("twice"));
        Assert.False(registry.Remove(first));
        Assert.True(registry.Remove(second));
        Assert.Empty(registry.List());
    }

    [Fact]
    public void Shard_tasks_of_one_sync_are_listed_side_by_side_and_each_shard_once()
    {
        var registry = new SyncRegistry();
        SyncOptions Task(string shard) => new SyncRequest { Source = "127.0.0.1:7000", Target = "127.0.0.1:6380", Name = "orders", Shard = shard }.Resolve(out _);
        using var first = new SyncRun(Task("0-5460"));
        using var second = new SyncRun(Task("5461-10922"));
        using var whole = new SyncRun(new SyncRequest { Source = "127.0.0.1:7000", Target = "127.0.0.1:6380", Name = "orders" }.Resolve(out _));
        registry.Add(first);
        registry.Add(second);
        registry.Add(whole);
        Assert.Equal(3, registry.List().Count(r => r.Name == "orders"));
        Assert.Same(whole, registry.Find("orders"));
        Assert.True(registry.Remove(second));
        Assert.Equal(new[] { "0-5460", null }, registry.List().Select(r => r.Options.Shard).OrderBy(s => s == null).ToArray());
    }

    [Fact]
    public async Task The_checkpoint_tells_the_status_of_a_sync_running_elsewhere()
    {
        using RedisServer source = StartSource();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 20);
        RedisEndpoint targetEndpoint = RedisEndpoint.Parse(target.Endpoint);
        var missing = await Assert.ThrowsAsync<SyncException>(() => SyncCheckpointStatus.ReadAsync(targetEndpoint, "elsewhere", CancellationToken.None));
        Assert.Equal(HostErrorIds.CheckpointNotFound, missing.ErrorId);

        var options = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "elsewhere" }.Resolve(out _);
        using var run = new SyncRun(options);
        var output = new RecordingOutput();
        run.Start();
        Assert.True(output.DrainUntil(run, () => run.GetStatus().Phase == SyncPhase.Streaming && run.GetStatus().AppliedOffset > 0, Patience));
        source.Db(0).StringSet("moves-the-offset", "1");
        Assert.True(output.DrainUntil(run, () => target.Db(0).KeyExists("moves-the-offset"), Patience));
        Assert.True(output.DrainUntil(run, () => run.GetStatus().LagBytes == 0, Patience));

        SyncStatus running = await SyncCheckpointStatus.ReadAsync(targetEndpoint, "elsewhere", CancellationToken.None);
        Assert.Equal(SyncPhase.Streaming, running.Phase);
        Assert.Equal(source.Endpoint, running.Source);
        Assert.Equal(target.Endpoint, running.Target);
        Assert.Equal(run.GetStatus().ReplicationId, running.ReplicationId);
        Assert.True(running.AppliedOffset > 0);
        Assert.True(DateTimeOffset.UtcNow - running.Timestamp < TimeSpan.FromMinutes(1));

        run.Stop();
        SyncStatus final = run.RunToEnd(output);
        SyncStatus stopped = await SyncCheckpointStatus.ReadAsync(targetEndpoint, "elsewhere", CancellationToken.None);
        Assert.Equal(SyncPhase.Stopped, stopped.Phase);
        Assert.Equal(final.AppliedOffset, stopped.AppliedOffset);
    }

    [Fact]
    public void Progress_shows_the_snapshot_as_a_percent_of_its_bytes_then_the_lag()
    {
        var loading = new SyncStatus
        {
            Name = "p", Phase = SyncPhase.LoadingSnapshot, Source = "a:1", Target = "b:2",
            SnapshotBytesReceived = 3 * 1024 * 1024, SnapshotBytesTotal = 4 * 1024 * 1024, SnapshotPercent = 75.0, KeysWritten = 1200,
        };
        var diskless = new SyncStatus { Name = "p", Phase = SyncPhase.LoadingSnapshot, SnapshotBytesReceived = 2048, SnapshotBytesTotal = -1 };
        var streaming = new SyncStatus { Name = "p", Phase = SyncPhase.Streaming, LagMilliseconds = 12, LagBytes = 340, AppliedOffset = 99 };

        SyncProgress bar = SyncProgress.From(loading, 7);
        Assert.Equal(7, bar.ActivityId);
        Assert.Equal("RedisSync 'p': a:1 to b:2", bar.Activity);
        Assert.Equal(75, bar.PercentComplete);
        Assert.Equal("Loading snapshot: 3.0 MiB of 4.0 MiB, 1,200 keys written (0 keys/s)", bar.StatusDescription);
        Assert.Equal(-1, SyncProgress.From(diskless, 7).PercentComplete);
        Assert.Equal(-1, SyncProgress.From(diskless, 7).SecondsRemaining);
        Assert.Equal("Streaming: lag 12 ms (340 bytes), 0 commands/s, offset 99", SyncProgress.From(streaming, 7).StatusDescription);
        Assert.False(SyncProgress.From(streaming, 7).Completed);
        Assert.True(SyncProgress.From(new SyncStatus { Phase = SyncPhase.Failed }, 7).Completed);
    }

    [Fact]
    public void A_diskless_snapshot_shows_percent_and_time_left_by_keys_against_the_source_s_key_count()
    {
        var diskless = new SyncStatus
        {
            Name = "p", Phase = SyncPhase.LoadingSnapshot, SnapshotBytesReceived = 5 * 1024 * 1024, SnapshotBytesTotal = -1,
            KeysWritten = 50_000, KeysPerSecond = 25_000.4,
        };

        SyncProgress bar = SyncProgress.From(diskless, 7, sourceKeys: 200_000);

        Assert.Equal(25, bar.PercentComplete);
        Assert.Equal(6, bar.SecondsRemaining);
        Assert.Equal("Loading snapshot: 50,000 of about 200,000 keys (25,000 keys/s), 5.0 MiB received", bar.StatusDescription);
        Assert.Equal(99, SyncProgress.From(new SyncStatus { Phase = SyncPhase.LoadingSnapshot, SnapshotBytesTotal = -1, KeysWritten = 210_000 }, 7, 200_000).PercentComplete);
    }

    /// <summary>
    /// A source that answers PSYNC at once (Redis 7.0's default diskless sync waits 5 s first:
    /// <see cref="Full_sync_from_a_source_with_default_replication_settings"/> covers that).
    /// </summary>
    private static RedisServer StartSource() => RedisServer.Start("--repl-diskless-sync", "no");

    [Fact]
    public void Full_sync_from_a_source_with_default_replication_settings()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        Populate(source.Db(0), 100);
        var options = new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "defaults", Mode = SyncMode.Full }.Resolve(out _);
        using var run = new SyncRun(options);

        run.Start();
        SyncStatus final = run.RunToEnd(new RecordingOutput());

        Assert.Equal(SyncPhase.Completed, final.Phase);
        AssertCopied(target.Db(0), 100);
    }

    private static void Populate(IDatabase db, int count)
    {
        var batch = db.CreateBatch();
        for (int i = 0; i < count; i++)
        {
            _ = batch.StringSetAsync("key:" + i, "value:" + i);
            if (i % 10 == 0) _ = batch.KeyExpireAsync("key:" + i, TimeSpan.FromHours(1));
        }
        _ = batch.ListRightPushAsync("list", new RedisValue[] { "a", "b", "c" });
        batch.Execute();
        db.Ping();
    }

    private static void AssertCopied(IDatabase db, int count)
    {
        for (int i = 0; i < count; i += 7)
        {
            Assert.Equal("value:" + i, (string?)db.StringGet("key:" + i));
        }
        TimeSpan? ttl = db.KeyTimeToLive("key:10");
        Assert.NotNull(ttl);
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(55), TimeSpan.FromHours(1));
        Assert.Null(db.KeyTimeToLive("key:11"));
        Assert.Equal(new RedisValue[] { "a", "b", "c" }, db.ListRange("list"));
    }
}
