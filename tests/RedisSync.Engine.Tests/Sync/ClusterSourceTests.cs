using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>A cluster as the source: a replica link per master, failovers followed without a new full copy.</summary>
[RunsLong(130)]
public sealed class ClusterSourceTests
{
    /// <summary>Every key of a cluster's masters or of a standalone server, with its type, value and whether it expires.</summary>
    internal static List<string> Contents(IEnumerable<RedisServer> servers)
    {
        var lines = new List<string>();
        foreach (RedisServer server in servers)
        {
            IDatabase db = server.Db();
            foreach (RedisKey key in server.Client().GetServer(server.Endpoint).Keys(0, "*", 1000))
            {
                string name = key.ToString();
                if (name.StartsWith(ReservedKeys.Prefix, StringComparison.Ordinal)) continue;
                string type = (string)db.Execute("TYPE", name)!;
                string value = type switch
                {
                    "string" => (string?)db.StringGet(key) ?? "",
                    "hash" => string.Join(",", db.HashGetAll(key).Select(e => e.Name + "=" + e.Value).OrderBy(x => x, StringComparer.Ordinal)),
                    "list" => string.Join(",", db.ListRange(key).Select(v => v.ToString())),
                    "set" => string.Join(",", db.SetMembers(key).Select(v => v.ToString()).OrderBy(x => x, StringComparer.Ordinal)),
                    "zset" => string.Join(",", db.SortedSetRangeByRankWithScores(key).Select(e => e.Element + ":" + e.Score.ToString("R"))),
                    _ => "?",
                };
                long ttl = (long)db.Execute("PTTL", name);
                lines.Add($"{name} {type} {(ttl >= 0 ? "expires" : "persistent")} {value}");
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static SyncOptions Options(RedisCluster cluster, RedisServer target, string name = "cluster-source", RedisSync.SyncMode mode = RedisSync.SyncMode.FullAndIncremental) => new SyncOptions
    {
        Name = name,
        Source = RedisEndpoint.Parse(cluster.Endpoint),
        Target = RedisEndpoint.Parse(target.Endpoint),
        Mode = mode,
        ReconnectTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Writes to keys all over the slots: strings, counters, hashes, lists; counts the increments.</summary>
    private static async Task<long> LoadAsync(RedisCluster cluster, int round, int count)
    {
        IDatabase db = cluster.Db();
        var pending = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            pending.Add(db.StringSetAsync($"s:{round}:{i}", i));
            pending.Add(db.StringIncrementAsync("counter:" + (i % 17)));
            pending.Add(db.HashSetAsync("h:" + (i % 31), "f" + i, round));
            pending.Add(db.ListRightPushAsync("l:" + (i % 13), i));
        }
        await Task.WhenAll(pending);
        return count;
    }

    private static async Task WaitCaughtUpAsync(SyncHarness sync, RedisCluster cluster)
    {
        try
        {
            await CaughtUpAsync(sync, cluster);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + ": " + Describe(sync, cluster), ex);
        }
    }

    private static async Task CaughtUpAsync(SyncHarness sync, RedisCluster cluster)
    {
        await SyncHarness.WaitUntilAsync(() =>
        {
            RedisSync.SyncStatus status = sync.Session.GetStatus();
            if (status.Phase != RedisSync.SyncPhase.Streaming || status.Shards.Count != cluster.Masters().Count) return false;
            foreach (RedisServer master in cluster.Masters())
            {
                long offset = SyncHarness.MasterOffset(master);
                if (!status.Shards.Any(s => s.Source.Contains(":" + master.Port + ")") && s.AppliedOffset >= offset)) return false;
            }
            return true;
        }, "every shard to apply what its master has", TimeSpan.FromSeconds(30));
    }

    private static string Describe(SyncHarness sync, RedisCluster cluster)
    {
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        return $"{status.Phase} last {status.LastErrorId}: {status.LastError} | " + string.Join(" | ", status.Shards.Select(s => $"{s.Source} {s.Phase} applied {s.AppliedOffset} got {s.SourceOffset}"))
            + " | " + (sync.Run.Exception?.ToString() ?? "") + " | masters " + string.Join(",", cluster.Masters().Select(m => m.Port + "@" + SyncHarness.MasterOffset(m)));
    }

    private static long Counters(RedisServer target) => Enumerable.Range(0, 17).Sum(i => (long?)target.Db().StringGet("counter:" + i) ?? 0);

    [Fact]
    public async Task A_cluster_source_is_copied_by_a_link_per_master_and_a_failover_is_followed_with_a_partial_resync()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3, replicasPerMaster: 1);
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 300);
        await using var sync = new SyncHarness(Options(cluster, target));
        await WaitCaughtUpAsync(sync, cluster);
        Assert.Equal(3, sync.Session.GetStatus().Shards.Count);
        increments += await LoadAsync(cluster, 1, 300);

        RedisServer owner = cluster.MasterOf("counter:1");
        RedisServer replica = cluster.Replicas().First(r => r.Cli("ROLE").Contains("\n" + owner.Port + "\n"));
        // The replica has every write before it is promoted (CLUSTER FAILOVER waits for that).
        cluster.Failover(replica);
        increments += await LoadAsync(cluster, 2, 300);
        await WaitCaughtUpAsync(sync, cluster);

        Assert.Equal(increments, Counters(target));
        Assert.Equal(Contents(cluster.Masters()), Contents(new[] { target }));
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        Assert.Equal(3, status.FullResyncs);
        Assert.True(status.PartialResyncs >= 1, $"partial resyncs: {status.PartialResyncs}");
        // The demoted master resyncs from the promoted one too (a full sync, at times, that Redis itself
        // makes), so the promoted master's sync_full does not tell: the shard's own counters do.
        RedisSync.ShardStatus shard = status.Shards.Single(s => s.Source.Contains(":" + replica.Port + ")"));
        Assert.Equal(1, shard.FullResyncs);
        Assert.True(shard.PartialResyncs >= 1, $"partial resyncs of the shard: {shard.PartialResyncs}");
    }

    [Fact]
    public async Task A_filtered_flushall_on_one_master_of_the_source_deletes_only_that_masters_kept_keys()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        IDatabase db = cluster.Db();
        for (int i = 0; i < 60; i++) db.StringSet("k:" + i, i);
        target.Db().StringSet("own", "target's own");
        SyncOptions options = Options(cluster, target, "cluster-flush");
        await using var sync = new SyncHarness(new SyncOptions
        {
            Name = options.Name, Source = options.Source, Target = options.Target, ReconnectTimeout = options.ReconnectTimeout,
            Filter = new RedisSync.Engine.Transform.SyncFilter { Key = new[] { "k:*" } },
        });
        await WaitCaughtUpAsync(sync, cluster);
        RedisServer flushed = cluster.MasterOf("k:0");
        flushed.Cli("FLUSHALL");
        await WaitCaughtUpAsync(sync, cluster);
        var expected = Enumerable.Range(0, 60).Select(i => "k:" + i).Where(k => cluster.MasterOf(k).Port != flushed.Port).OrderBy(k => k, StringComparer.Ordinal);
        Assert.Equal(expected, target.Db().Multiplexer.GetServer(target.Endpoint).Keys(pattern: "k:*").Select(k => (string)k!).OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal("target's own", (string?)target.Db().StringGet("own"));
    }

    [Fact]
    public async Task A_stopped_cluster_sync_resumes_every_shard_from_its_checkpoint_after_a_failover()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3, replicasPerMaster: 1);
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 200);
        await using (var first = new SyncHarness(Options(cluster, target, "resume")))
        {
            await WaitCaughtUpAsync(first, cluster);
            Assert.Equal(increments, Counters(target));
            await first.StopAsync();
        }
        Assert.Equal(increments, Counters(target));
        string before = string.Join(" | ", ((RedisResult[])target.Db().Execute("KEYS", "redissync:checkpoint:*")!).Select(k => (string)target.Db().StringGet((string)k!)!));
        increments += await LoadAsync(cluster, 1, 200);
        await using (var again = new SyncHarness(Options(cluster, target, "resume")))
        {
            await WaitCaughtUpAsync(again, cluster);
            Assert.True(increments == Counters(target), Describe(again, cluster) + " full/partial " + string.Join(",", again.Session.GetStatus().Shards.Select(x => x.FullResyncs + "/" + x.PartialResyncs)) + " || " + before + " || " + string.Join(" | ", again.Warnings.Select(w => w.Message)));
            await again.StopAsync();
        }
        RedisServer master = cluster.Masters()[0];
        RedisServer replica = cluster.Replicas().First(r => r.Cli("ROLE").Contains("\n" + master.Port + "\n"));
        cluster.Failover(replica);
        increments += await LoadAsync(cluster, 2, 200);

        await using var resumed = new SyncHarness(Options(cluster, target, "resume"));
        await WaitCaughtUpAsync(resumed, cluster);
        RedisSync.SyncStatus status = resumed.Session.GetStatus();
        // No new copy: every shard continued (a shard that met the topology before every node agreed
        // on it may continue twice).
        Assert.Equal(0, status.FullResyncs);
        Assert.True(status.PartialResyncs >= 3, $"partial resyncs: {status.PartialResyncs}");
        Assert.All(status.Shards, shard => Assert.True(shard.PartialResyncs >= 1, shard.Source + " did not continue"));
        Assert.True(increments == Counters(target), string.Join(" | ", ((RedisResult[])target.Db().Execute("KEYS", "redissync:checkpoint:*")!).Select(k => (string)k! + "=" + (string?)target.Db().StringGet((string)k!)))
            + " || " + Describe(resumed, cluster) + " || " + string.Join(" ", Enumerable.Range(0, 17).Select(i => (long?)target.Db().StringGet("counter:" + i) + "/" + (long?)cluster.Db().StringGet("counter:" + i))));
        Assert.Equal(Contents(cluster.Masters()), Contents(new[] { target }));
    }

    [Fact]
    public async Task Slots_resharded_on_the_source_while_syncing_lose_and_resurrect_no_key()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 500);
        await using var sync = new SyncHarness(Options(cluster, target, "reshard"));
        await WaitCaughtUpAsync(sync, cluster);
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        using var stop = new CancellationTokenSource();
        int round = 1;
        Task load = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Interlocked.Add(ref increments, await LoadAsync(cluster, round++, 50));
                }
                catch (RedisException)
                {
                    // A write that met a slot on its move is retried by the next round; the counters below count only what succeeded.
                }
            }
        });
        cluster.Reshard(masters[0], masters[1], 600);
        stop.Cancel();
        await load;
        await WaitCaughtUpAsync(sync, cluster);

        Assert.Equal(Contents(cluster.Masters()), Contents(new[] { target }));
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        Assert.Equal(3, status.FullResyncs);
    }

    [Fact]
    public async Task A_cluster_syncs_status_is_read_from_its_shard_checkpoints_and_removed_with_them()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        await LoadAsync(cluster, 0, 100);
        var endpoint = RedisEndpoint.Parse(target.Endpoint);
        long[] caughtUp;
        await using (var sync = new SyncHarness(Options(cluster, target, "rows")))
        {
            await WaitCaughtUpAsync(sync, cluster);
            caughtUp = cluster.Masters().Select(SyncHarness.MasterOffset).OrderBy(o => o).ToArray();
            RedisSync.SyncStatus running = await SyncCheckpointStatus.ReadAsync(endpoint, "rows", default);
            Assert.Equal(RedisSync.SyncPhase.Streaming, running.Phase);
            Assert.Equal(3, running.Shards.Count);
            await sync.StopAsync();
        }
        RedisSync.SyncStatus stopped = await SyncCheckpointStatus.ReadAsync(endpoint, "rows", default);
        Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
        Assert.Equal(3, stopped.Shards.Count);
        Assert.All(stopped.Shards, row => Assert.Equal(RedisSync.SyncPhase.Stopped, row.Phase));
        // Each shard's checkpoint holds at least what its master had when the sync had caught up (a
        // master's PINGs to its replicas may add a few bytes later), and the total is their sum.
        long[] applied = stopped.Shards.Select(r => r.AppliedOffset).OrderBy(o => o).ToArray();
        Assert.All(caughtUp.Zip(applied), pair => Assert.True(pair.Second >= pair.First, $"{pair.Second} < {pair.First}"));
        Assert.Equal(applied.Sum(), stopped.AppliedOffset);

        Assert.Equal(3, await CheckpointRemoval.RemoveAsync(endpoint, "rows", force: false, default));
        Assert.Empty((RedisResult[])target.Db().Execute("KEYS", "redissync:*")!);
        var gone = await Assert.ThrowsAsync<SyncException>(() => SyncCheckpointStatus.ReadAsync(endpoint, "rows", default));
        Assert.Equal("CheckpointNotFound", gone.ErrorId);
    }

    /// <summary>Makes every write so far reach the replicas of its master (WAIT), so that a killed master loses none.</summary>
    private static void WaitReplicated(RedisCluster cluster)
    {
        foreach (RedisServer master in cluster.Masters()) master.Cli("WAIT", "1", "10000");
    }

    [Fact]
    public async Task A_master_killed_while_streaming_is_followed_to_its_promoted_replica_without_a_new_copy()
    {
        // A node timeout long enough that only the master the test kills fails over on a loaded machine.
        using RedisCluster cluster = RedisCluster.Start(3, 1, "--cluster-node-timeout", "6000");
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 300);
        await using var sync = new SyncHarness(Options(cluster, target, "killed"));
        await WaitCaughtUpAsync(sync, cluster);
        increments += await LoadAsync(cluster, 1, 300);
        WaitReplicated(cluster);

        RedisServer owner = cluster.MasterOf("counter:3");
        RedisServer replica = cluster.Replicas().First(r => r.Cli("ROLE").Contains("\n" + owner.Port + "\n"));
        cluster.KillMaster(owner);
        Assert.StartsWith("master", replica.Cli("ROLE"));
        increments += await LoadAsync(cluster, 2, 300);
        await WaitCaughtUpAsync(sync, cluster);

        Assert.Equal(increments, Counters(target));
        Assert.Equal(Contents(cluster.Masters()), Contents(new[] { target }));
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        Assert.Equal(3, status.FullResyncs);
        Assert.True(status.PartialResyncs >= 1, $"partial resyncs: {status.PartialResyncs}");
        Assert.Equal(0, SyncHarness.Stat(replica, "sync_full"));
        Assert.True(SyncHarness.Stat(replica, "sync_partial_ok") >= 1);
    }

    [Fact]
    public async Task A_master_killed_during_its_snapshot_is_copied_again_from_its_promoted_replica_and_only_that_shard()
    {
        // A longer node timeout than the other tests': a master busy with a slow snapshot on a loaded
        // machine must not be failed over before the test kills it.
        using RedisCluster cluster = RedisCluster.Start(3, 1, "--cluster-node-timeout", "6000");
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 1500);
        // Values big enough that the snapshot reaches the target in several pieces, while it is made.
        await Task.WhenAll(Enumerable.Range(0, 1500).Select(i => cluster.Db().StringSetAsync($"pad:{i}", new string('p', 100))));
        RedisServer owner = cluster.MasterOf("counter:5");
        cluster.WaitAgreedMaster(owner);
        RedisServer replica = cluster.Replicas().First(r => r.Cli("ROLE").Contains("\n" + owner.Port + "\n"));
        // The owner's snapshot takes seconds (a delay per key), so it is killed in the middle of it.
        owner.Cli("CONFIG", "SET", "rdb-key-save-delay", "3000");
        var seen = new HashSet<string>();
        await using var sync = new SyncHarness(Options(cluster, target, "killed-snapshot"));
        try
        {
            await SyncHarness.WaitUntilAsync(() =>
            {
                RedisSync.SyncStatus now = sync.Session.GetStatus();
                foreach (var row in now.Shards) seen.Add(row.Source + "=" + row.Phase + "@" + row.AppliedOffset);
                return now.Shards.Any(s => s.Source.Contains(":" + owner.Port + ")") && s.Phase == RedisSync.SyncPhase.LoadingSnapshot);
            }, "the owner's snapshot to be loading", TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException(ex.Message + ": " + Describe(sync, cluster) + " owner " + owner.Port + " seen " + string.Join(" ; ", seen)
                + " | the owner's ROLE " + owner.Cli("ROLE").Replace('\n', ' ') + " | the replica's ROLE " + replica.Cli("ROLE").Replace('\n', ' ')
                + " | warnings " + string.Join(" | ", sync.Warnings.Select(w => w.ErrorId + ": " + w.Message)), ex);
        }
        // Deleted while the copy runs: a new copy of the shard must not leave them on the target.
        IDatabase db = cluster.Db();
        for (int i = 0; i < 200; i++) await db.KeyDeleteAsync($"s:0:{i}");
        increments += await LoadAsync(cluster, 1, 100);
        WaitReplicated(cluster);
        cluster.KillMaster(owner);
        increments += await LoadAsync(cluster, 2, 100);
        await WaitCaughtUpAsync(sync, cluster);

        Assert.Equal(increments, Counters(target));
        Assert.Equal(Contents(cluster.Masters()), Contents(new[] { target }));
        Assert.True(SyncHarness.Stat(replica, "sync_full") == 1, Describe(sync, cluster) + " replica " + replica.Port + " full/partial " + string.Join(",", sync.Session.GetStatus().Shards.Select(x => x.FullResyncs + "/" + x.PartialResyncs))
            + " warnings " + string.Join(" | ", sync.Warnings.Select(w => w.ErrorId + ": " + w.Message)));
        // Only that shard was copied again: the others made their one copy (their masters' sync_full also
        // counts their own replicas' resyncs, which Redis makes as it sees fit, so the sync's counters tell).
        RedisSync.SyncStatus copied = sync.Session.GetStatus();
        Assert.Equal(4, copied.FullResyncs);
        Assert.All(copied.Shards.Where(r => !r.Source.Contains(":" + replica.Port + ")")), r => Assert.Equal(1, r.FullResyncs));
        Assert.Equal(2, copied.Shards.Single(r => r.Source.Contains(":" + replica.Port + ")")).FullResyncs);
        Assert.Contains(sync.Warnings, w => w.ErrorId == "ShardRecopied");
    }

    [Fact]
    public async Task A_cluster_source_into_a_cluster_target_of_another_shard_count_follows_a_source_failover_and_is_removed_whole()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3, replicasPerMaster: 1);
        using RedisCluster targetCluster = RedisCluster.Start(masters: 4); // redis-cli makes no cluster of fewer than 3 masters
        long increments = await LoadAsync(cluster, 0, 300);
        var options = new SyncOptions
        {
            Name = "cluster-to-cluster",
            Source = RedisEndpoint.Parse(cluster.Endpoint),
            Target = RedisEndpoint.Parse(targetCluster.Endpoint),
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };
        long TargetCounters() => Enumerable.Range(0, 17).Sum(i => (long?)targetCluster.Db().StringGet("counter:" + i) ?? 0);
        await using (var sync = new SyncHarness(options))
        {
            await WaitCaughtUpAsync(sync, cluster);
            increments += await LoadAsync(cluster, 1, 300);
            RedisServer owner = cluster.MasterOf("counter:2");
            RedisServer replica = cluster.Replicas().First(r => r.Cli("ROLE").Contains("\n" + owner.Port + "\n"));
            cluster.Failover(replica);
            increments += await LoadAsync(cluster, 2, 300);
            await WaitCaughtUpAsync(sync, cluster);

            Assert.Equal(increments, TargetCounters());
            Assert.Equal(Contents(cluster.Masters()), Contents(targetCluster.Masters()));
            RedisSync.SyncStatus status = sync.Session.GetStatus();
            Assert.Equal(3, status.FullResyncs);
            Assert.True(status.PartialResyncs >= 1, $"partial resyncs: {status.PartialResyncs}");
            await sync.StopAsync();
        }

        var target = RedisEndpoint.Parse(targetCluster.Endpoint);
        RedisSync.SyncStatus stopped = await SyncCheckpointStatus.ReadAsync(target, "cluster-to-cluster", default);
        Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
        Assert.Equal(3, stopped.Shards.Count);
        await CheckpointRemoval.RemoveAsync(target, "cluster-to-cluster", force: false, default);
        foreach (RedisServer master in targetCluster.Masters())
        {
            Assert.Empty(master.Client().GetServer(master.Endpoint).Keys(0, "redissync:*"));
        }
    }
}
