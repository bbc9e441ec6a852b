using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>Start-RedisSync -Shard: the shards of one sync of a cluster source as tasks of their own, each under its own lease.</summary>
[RunsLong(60)]
public sealed class ShardTaskTests
{
    private static SyncOptions Options(RedisCluster cluster, RedisServer target, string name, string shard) => new SyncOptions
    {
        Name = name,
        Shard = shard,
        Source = RedisEndpoint.Parse(cluster.Endpoint),
        Target = RedisEndpoint.Parse(target.Endpoint),
        ReconnectTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>A master's own line of CLUSTER NODES: its id and its slot ranges as -Shard takes them (0-5460).</summary>
    private static (string Id, string Slots) Own(RedisServer master)
    {
        string line = master.Cli("CLUSTER", "NODES").Split('\n').First(l => l.Contains("myself"));
        string[] f = line.Trim().Split(' ');
        return (f[0], string.Join(",", f.Skip(8).Where(r => !r.StartsWith("[", StringComparison.Ordinal))));
    }

    /// <summary>Strings (some with a TTL), counters, hashes and lists over every slot; returns the increments made.</summary>
    private static async Task<long> LoadAsync(RedisCluster cluster, int round, int count)
    {
        IDatabase db = cluster.Db();
        var pending = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            pending.Add(db.StringSetAsync($"s:{round}:{i}", i));
            pending.Add(db.StringSetAsync($"t:{round}:{i}", i, TimeSpan.FromHours(1 + i % 5)));
            pending.Add(db.StringIncrementAsync("counter:" + (i % 17)));
            pending.Add(db.HashSetAsync("h:" + (i % 31), "f" + i, round));
            pending.Add(db.ListRightPushAsync("l:" + (i % 13), i));
        }
        for (int i = 0; i < 31; i += 3) pending.Add(db.KeyExpireAsync("h:" + i, TimeSpan.FromHours(2)));
        await Task.WhenAll(pending);
        return count;
    }

    private static long Counters(RedisServer target) => Enumerable.Range(0, 17).Sum(i => (long?)target.Db().StringGet("counter:" + i) ?? 0);

    /// <summary>Every key with its absolute expiry (PEXPIRETIME, -1 for none), so the TTLs are compared exactly.</summary>
    private static List<string> Expiries(IEnumerable<RedisServer> servers)
    {
        var lines = new List<string>();
        foreach (RedisServer server in servers)
        {
            foreach (RedisKey key in server.Client().GetServer(server.Endpoint).Keys(0, "*", 1000))
            {
                if (key.ToString().StartsWith(ReservedKeys.Prefix, StringComparison.Ordinal)) continue;
                lines.Add(key.ToString() + " " + (long)server.Db().Execute("PEXPIRETIME", key.ToString()));
            }
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Waits until the task streams and has applied all its master has.</summary>
    private static async Task CaughtUpAsync(SyncHarness task, RedisServer master)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (task.Run.IsCompleted) await task.Run;
            RedisSync.SyncStatus status = task.Session.GetStatus();
            long offset = SyncHarness.MasterOffset(master);
            if (status.Phase == RedisSync.SyncPhase.Streaming && status.Shards.Count == 1 && status.Shards[0].AppliedOffset >= offset) return;
            if (clock.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new TimeoutException($"shard {status.Shard} of {master.Port}: {status.Phase} applied {status.AppliedOffset} of {offset}, {status.LastErrorId}: {status.LastError}");
            }
            await Task.Delay(50);
        }
    }

    private static void AssertSameAsSource(RedisCluster cluster, RedisServer target)
    {
        Assert.Equal(ClusterSourceTests.Contents(cluster.Masters()), ClusterSourceTests.Contents(new[] { target }));
        Assert.Equal(Expiries(cluster.Masters()), Expiries(new[] { target }));
    }

    [Fact]
    public async Task Three_shard_tasks_of_one_sync_run_side_by_side_copy_every_key_with_its_ttl_and_a_second_task_of_a_shard_is_refused()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 300);
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        (string Id, string Slots)[] own = masters.Select(Own).ToArray();
        // Two tasks name their shard by its slots, one by its master's node id (its first 12 characters).
        var tasks = new[]
        {
            new SyncHarness(Options(cluster, target, "shards", own[0].Slots)),
            new SyncHarness(Options(cluster, target, "shards", own[1].Slots)),
            new SyncHarness(Options(cluster, target, "shards", own[2].Id.Substring(0, 12))),
        };
        try
        {
            for (int i = 0; i < 3; i++) await CaughtUpAsync(tasks[i], masters[i]);
            for (int i = 0; i < 3; i++)
            {
                RedisSync.SyncStatus status = tasks[i].Session.GetStatus();
                Assert.Equal(own[i].Slots, status.Shard);
                Assert.Contains($"shard {own[i].Slots} of the source cluster", status.Source);
                Assert.Contains(":" + masters[i].Port + ")", status.Source);
                Assert.True(target.Db().KeyExists(ReservedKeys.Lease("shards", own[i].Slots)));
                Assert.True(target.Db().KeyExists(ReservedKeys.Checkpoint("shards", own[i].Slots)));
            }
            Assert.False(target.Db().KeyExists(ReservedKeys.Lease("shards")));

            // A second task of the first shard, named by its master's node id, is refused: the shard's lease is held.
            await using (var second = new SyncHarness(Options(cluster, target, "shards", own[0].Id)))
            {
                var refused = await Assert.ThrowsAsync<SyncException>(() => second.Run);
                Assert.Equal(SyncErrorIds.SyncAlreadyRunning, refused.ErrorId);
                Assert.Contains($"Shard {own[0].Slots} of sync 'shards' is already running on host {Environment.MachineName}", refused.Message);
                Assert.Contains(ReservedKeys.Lease("shards", own[0].Slots), refused.Message);
            }
            // So is a whole run of the same sync, while its shards run as tasks.
            await using (var whole = new SyncHarness(new SyncOptions { Name = "shards", Source = RedisEndpoint.Parse(cluster.Endpoint), Target = RedisEndpoint.Parse(target.Endpoint) }))
            {
                var refused = await Assert.ThrowsAsync<SyncException>(() => whole.Run);
                Assert.Equal(SyncErrorIds.SyncAlreadyRunning, refused.ErrorId);
                Assert.Contains("Shard ", refused.Message);
            }

            increments += await LoadAsync(cluster, 1, 300);
            for (int i = 0; i < 3; i++) await CaughtUpAsync(tasks[i], masters[i]);
            Assert.Equal(increments, Counters(target));
            AssertSameAsSource(cluster, target);
            foreach (SyncHarness task in tasks)
            {
                RedisSync.SyncStatus status = task.Session.GetStatus();
                Assert.Equal(1, status.FullResyncs);
                Assert.True(task.Run.Status == TaskStatus.Running || task.Run.Status == TaskStatus.WaitingForActivation, status.LastError);
            }
            // The refused runs did not disturb the tasks' leases.
            for (int i = 0; i < 3; i++) Assert.True(target.Db().KeyExists(ReservedKeys.Lease("shards", own[i].Slots)));
            // Read from the target (Get-RedisSyncStatus -Target): a row per shard, running while its task holds its lease.
            var endpoint = RedisEndpoint.Parse(target.Endpoint);
            RedisSync.SyncStatus read = await SyncCheckpointStatus.ReadAsync(endpoint, "shards", default);
            Assert.Equal(RedisSync.SyncPhase.Streaming, read.Phase);
            Assert.Equal(own.Select(o => "shard " + o.Slots).OrderBy(x => x, StringComparer.Ordinal), read.Shards.Select(r => r.Source));
            Assert.All(read.Shards, r => Assert.Equal(RedisSync.SyncPhase.Streaming, r.Phase));
            // Remove-RedisSyncCheckpoint leaves a sync whose shard tasks run alone.
            var held = await Assert.ThrowsAsync<SyncException>(() => CheckpointRemoval.RemoveAsync(endpoint, "shards", force: false, default));
            Assert.Equal("SyncAlreadyRunning", held.ErrorId);
            Assert.Contains("redissync:lease:shards:", held.Message);
            Assert.True(target.Db().KeyExists(ReservedKeys.Checkpoint("shards", own[0].Slots)));
            await tasks[0].StopAsync();
            read = await SyncCheckpointStatus.ReadAsync(endpoint, "shards", default);
            Assert.Equal(RedisSync.SyncPhase.Streaming, read.Phase);
            Assert.Equal(RedisSync.SyncPhase.Stopped, read.Shards.Single(r => r.Source == "shard " + own[0].Slots).Phase);
            Assert.Equal(2, read.Shards.Count(r => r.Phase == RedisSync.SyncPhase.Streaming));
            foreach (SyncHarness task in tasks.Skip(1)) await task.StopAsync();
            for (int i = 0; i < 3; i++) Assert.False(target.Db().KeyExists(ReservedKeys.Lease("shards", own[i].Slots)));
            Assert.Equal(RedisSync.SyncPhase.Stopped, (await SyncCheckpointStatus.ReadAsync(endpoint, "shards", default)).Phase);
            Assert.Equal(3, await CheckpointRemoval.RemoveAsync(endpoint, "shards", force: false, default));
            Assert.Empty((RedisResult[])target.Db().Execute("KEYS", "redissync:*")!);
        }
        finally
        {
            foreach (SyncHarness task in tasks) await task.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_processes_racing_for_a_shard_one_is_refused_and_a_killed_task_is_continued_from_its_checkpoint_with_counters_exact()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 300);
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        (string Id, string Slots)[] own = masters.Select(Own).ToArray();
        await using var second = new SyncHarness(Options(cluster, target, "race", own[1].Slots));
        await using var third = new SyncHarness(Options(cluster, target, "race", own[2].Slots));

        // Two processes start the first shard's task at once, one naming it by its slots, one by its master's id.
        using HostProcess a = HostProcess.Start(cluster.Endpoint, target, "race", leaseSeconds: 3, shard: own[0].Slots);
        using HostProcess b = HostProcess.Start(cluster.Endpoint, target, "race", leaseSeconds: 3, shard: own[0].Id);
        await SyncHarness.WaitUntilAsync(() => a.HasExited || b.HasExited, "one of the racing processes to be refused", TimeSpan.FromSeconds(90));
        HostProcess loser = a.HasExited ? a : b, winner = a.HasExited ? b : a;
        Assert.Equal(1, loser.WaitForExit(TimeSpan.FromSeconds(10)));
        Assert.Contains($"failed SyncAlreadyRunning: Shard {own[0].Slots} of sync 'race' is already running on host {Environment.MachineName}, process {winner.Id}", loser.Output);
        await winner.WaitForAsync("phase Streaming");
        Assert.Contains("shard=" + own[0].Slots, winner.Output);
        Assert.False(winner.HasExited);
        await CaughtUpAsync(second, masters[1]);
        await CaughtUpAsync(third, masters[2]);

        // The winner is killed while the source takes writes: it has no chance to checkpoint or give its lease back.
        Task<long> load = LoadAsync(cluster, 1, 300);
        winner.Kill();
        increments += await load;
        increments += await LoadAsync(cluster, 2, 100);
        Assert.True(target.Db().KeyExists(ReservedKeys.Checkpoint("race", own[0].Slots)));

        // A new task of the shard takes over the dead holder's lease and continues from the checkpoint.
        await using var resumed = new SyncHarness(Options(cluster, target, "race", own[0].Slots));
        await CaughtUpAsync(resumed, masters[0]);
        await CaughtUpAsync(second, masters[1]);
        await CaughtUpAsync(third, masters[2]);
        RedisSync.SyncStatus status = resumed.Session.GetStatus();
        Assert.Equal(0, status.FullResyncs);
        Assert.Equal(1, status.PartialResyncs);
        Assert.Equal(own[0].Slots, status.Shard);
        Assert.Equal(increments, Counters(target));
        AssertSameAsSource(cluster, target);
        Assert.Equal(1, second.Session.GetStatus().FullResyncs);
        Assert.Equal(1, third.Session.GetStatus().FullResyncs);
    }

    /// <summary>The offset of a shard's checkpoint on the target (-1 when it has none).</summary>
    private static long CheckpointOffset(RedisServer target, string name, string shard)
    {
        string? value = target.Db().StringGet(ReservedKeys.Checkpoint(name, shard));
        string? offset = value?.Split(' ').FirstOrDefault(f => f.StartsWith("offset=", StringComparison.Ordinal));
        return offset == null ? -1 : long.Parse(offset.Substring("offset=".Length));
    }

    [Fact]
    public async Task A_frozen_shard_task_loses_its_lease_when_it_expires_a_new_task_continues_the_shard_and_the_frozen_one_commits_nothing_after()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 200);
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        (string Id, string Slots)[] own = masters.Select(Own).ToArray();
        await using var second = new SyncHarness(Options(cluster, target, "frozen", own[1].Slots));
        await using var third = new SyncHarness(Options(cluster, target, "frozen", own[2].Slots));
        using HostProcess frozen = HostProcess.Start(cluster.Endpoint, target, "frozen", leaseSeconds: 2, shard: own[0].Slots);
        await frozen.WaitForAsync("phase Streaming");
        await SyncHarness.WaitUntilAsync(() => CheckpointOffset(target, "frozen", own[0].Slots) >= SyncHarness.MasterOffset(masters[0]), "the first task to apply its shard");

        // Frozen as a paused VM would be: its sockets stay open, writes queue in them, its lease runs out.
        frozen.Pause();
        increments += await LoadAsync(cluster, 1, 200);
        await SyncHarness.WaitUntilAsync(() => !target.Db().KeyExists(ReservedKeys.Lease("frozen", own[0].Slots)), "the frozen task's lease to expire", TimeSpan.FromSeconds(30));
        Assert.True(target.Db().KeyExists(ReservedKeys.Lease("frozen", own[1].Slots)), "the other shards' leases live on");

        SyncOptions successorOptions = Options(cluster, target, "frozen", own[0].Id.Substring(0, 8));
        await using var successor = new SyncHarness(new SyncOptions
        {
            Name = successorOptions.Name, Shard = successorOptions.Shard, Source = successorOptions.Source, Target = successorOptions.Target,
            ReconnectTimeout = successorOptions.ReconnectTimeout, LeaseTime = TimeSpan.FromSeconds(2),
        });
        await CaughtUpAsync(successor, masters[0]);
        RedisSync.SyncStatus status = successor.Session.GetStatus();
        Assert.Equal(0, status.FullResyncs);
        Assert.Equal(1, status.PartialResyncs);

        frozen.Resume();
        Assert.Equal(1, frozen.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("failed LeaseLost", frozen.Output);
        increments += await LoadAsync(cluster, 2, 200);
        await CaughtUpAsync(successor, masters[0]);
        await CaughtUpAsync(second, masters[1]);
        await CaughtUpAsync(third, masters[2]);
        Assert.Equal(increments, Counters(target));
        AssertSameAsSource(cluster, target);
    }

    [Fact]
    public async Task A_sync_run_whole_then_as_shard_tasks_then_whole_again_continues_each_shard_from_its_checkpoint()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        long increments = await LoadAsync(cluster, 0, 200);
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        (string Id, string Slots)[] own = masters.Select(Own).ToArray();
        var whole = new SyncOptions { Name = "moved", Source = RedisEndpoint.Parse(cluster.Endpoint), Target = RedisEndpoint.Parse(target.Endpoint), ReconnectTimeout = TimeSpan.FromSeconds(60) };
        await using (var first = new SyncHarness(whole))
        {
            await SyncHarness.WaitUntilAsync(() => first.Session.GetStatus() is { Phase: RedisSync.SyncPhase.Streaming } s && s.Shards.Count == 3
                && masters.All(m => s.Shards.Any(r => r.Source.Contains(":" + m.Port + ")") && r.AppliedOffset >= SyncHarness.MasterOffset(m))), "the whole run to catch up");
            await first.StopAsync();
        }
        increments += await LoadAsync(cluster, 1, 200);

        // Each shard's checkpoint moves to its task's key (named by its slots), and the task continues from it.
        var tasks = own.Select(o => new SyncHarness(Options(cluster, target, "moved", o.Slots))).ToArray();
        try
        {
            for (int i = 0; i < 3; i++) await CaughtUpAsync(tasks[i], masters[i]);
            Assert.All(tasks, t => Assert.Equal(0, t.Session.GetStatus().FullResyncs));
            Assert.All(tasks, t => Assert.Equal(1, t.Session.GetStatus().PartialResyncs));
            Assert.Equal(own.Select(o => o.Slots).OrderBy(x => x, StringComparer.Ordinal),
                target.Db().SetMembers(ReservedKeys.Shards("moved")).Select(v => v.ToString()).OrderBy(x => x, StringComparer.Ordinal));
            foreach (SyncHarness task in tasks) await task.StopAsync();
        }
        finally
        {
            foreach (SyncHarness task in tasks) await task.DisposeAsync();
        }
        increments += await LoadAsync(cluster, 2, 200);

        await using var again = new SyncHarness(whole);
        await SyncHarness.WaitUntilAsync(() => again.Session.GetStatus() is { Phase: RedisSync.SyncPhase.Streaming } s && s.Shards.Count == 3
            && masters.All(m => s.Shards.Any(r => r.Source.Contains(":" + m.Port + ")") && r.AppliedOffset >= SyncHarness.MasterOffset(m))), "the whole run to catch up again");
        RedisSync.SyncStatus status = again.Session.GetStatus();
        Assert.Equal(0, status.FullResyncs);
        Assert.Equal(3, status.PartialResyncs);
        Assert.Null(status.Shard);
        Assert.Equal(increments, Counters(target));
        AssertSameAsSource(cluster, target);
    }

    [Fact]
    public async Task Three_shard_tasks_into_a_cluster_target_copy_everything_each_under_its_lease_on_the_master_that_serves_it()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisCluster targetCluster = RedisCluster.Start(masters: 3);
        long increments = await LoadAsync(cluster, 0, 200);
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        (string Id, string Slots)[] own = masters.Select(Own).ToArray();
        SyncOptions Into(string shard) => new SyncOptions
        {
            Name = "into-cluster", Shard = shard, Source = RedisEndpoint.Parse(cluster.Endpoint), Target = RedisEndpoint.Parse(targetCluster.Endpoint),
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };
        var tasks = own.Select(o => new SyncHarness(Into(o.Slots))).ToArray();
        try
        {
            for (int i = 0; i < 3; i++) await CaughtUpAsync(tasks[i], masters[i]);
            await using (var second = new SyncHarness(Into(own[1].Id)))
            {
                var refused = await Assert.ThrowsAsync<SyncException>(() => second.Run);
                Assert.Equal(SyncErrorIds.SyncAlreadyRunning, refused.ErrorId);
                Assert.Contains($"Shard {own[1].Slots} of sync 'into-cluster'", refused.Message);
            }
            increments += await LoadAsync(cluster, 1, 200);
            for (int i = 0; i < 3; i++) await CaughtUpAsync(tasks[i], masters[i]);
            Assert.Equal(increments, Enumerable.Range(0, 17).Sum(i => (long?)targetCluster.Db().StringGet("counter:" + i) ?? 0));
            Assert.Equal(ClusterSourceTests.Contents(cluster.Masters()), ClusterSourceTests.Contents(targetCluster.Masters()));
            Assert.Equal(Expiries(cluster.Masters()), Expiries(targetCluster.Masters()));
            for (int i = 0; i < 3; i++) Assert.True(targetCluster.Db().KeyExists(ReservedKeys.Lease("into-cluster", own[i].Slots)));
            foreach (SyncHarness task in tasks) await task.StopAsync();
            for (int i = 0; i < 3; i++) Assert.False(targetCluster.Db().KeyExists(ReservedKeys.Lease("into-cluster", own[i].Slots)));
        }
        finally
        {
            foreach (SyncHarness task in tasks) await task.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_shard_task_restarted_after_a_failover_by_its_old_masters_id_finds_the_same_shard_and_continues_it()
    {
        // A node timeout long enough that only the failover the test makes happens on a loaded machine.
        using RedisCluster cluster = RedisCluster.Start(3, 1, "--cluster-node-timeout", "6000");
        using RedisServer target = RedisServer.Start();
        await LoadAsync(cluster, 0, 200);
        RedisServer owner = cluster.Masters()[0];
        cluster.WaitAgreedMaster(owner);
        (string id, string slots) = Own(owner);
        await using (var first = new SyncHarness(Options(cluster, target, "failover", id)))
        {
            await CaughtUpAsync(first, owner);
            Assert.Equal(slots, first.Session.GetStatus().Shard);
            await first.StopAsync();
        }
        RedisServer replica = cluster.Replicas().First(r => r.Cli("ROLE").Contains("\n" + owner.Port + "\n"));
        cluster.Failover(replica);
        // Every node agrees on the masters (the old one demoted, not still listed as a master by some node for a moment).
        cluster.WaitAgreedMaster(replica);
        await LoadAsync(cluster, 1, 200);
        int firstSlot = int.Parse(slots.Split(',')[0].Split('-')[0]);
        Assert.Same(replica, cluster.MasterOfSlot(firstSlot));

        // The old master's id now names a replica: it still names its shard, whose slots (its identity) did not move.
        await using var again = new SyncHarness(Options(cluster, target, "failover", id));
        await CaughtUpAsync(again, replica);
        RedisSync.SyncStatus status = again.Session.GetStatus();
        Assert.Equal(slots, status.Shard);
        Assert.Contains(":" + replica.Port + ")", status.Source);
        Assert.Equal(0, status.FullResyncs);
        Assert.True(status.PartialResyncs >= 1, $"partial resyncs: {status.PartialResyncs}");
        Assert.Equal(new[] { slots }, target.Db().SetMembers(ReservedKeys.Shards("failover")).Select(v => v.ToString()));
        // The target holds that shard, exactly: its keys (counters included), values and expiry times.
        Assert.Equal(ClusterSourceTests.Contents(new[] { replica }), ClusterSourceTests.Contents(new[] { target }));
        Assert.Equal(Expiries(new[] { replica }), Expiries(new[] { target }));
    }

    [Fact]
    public async Task A_cluster_of_one_master_that_lists_itself_without_an_address_is_listed_as_one_shard_and_synced_as_its_shard_task()
    {
        // A node that no other node has met does not know its own address: CLUSTER NODES lists it as ":port@bus".
        using RedisServer node = RedisServer.Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", RedisServer.FreePort().ToString(), "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        Assert.Equal("OK", node.Cli("CLUSTER", "ADDSLOTSRANGE", "0", "16383").Trim());
        await SyncHarness.WaitUntilAsync(() => node.Cli("CLUSTER", "INFO").Contains("cluster_state:ok"), "the one-node cluster is ok");
        (string id, _) = Own(node);
        Assert.StartsWith(id + " :" + node.Port + "@", node.Cli("CLUSTER", "NODES").Trim());
        IDatabase db = node.Db();
        for (int i = 0; i < 500; i++)
        {
            if (i % 5 == 0) db.StringSet("key:" + i, "value:" + i, TimeSpan.FromHours(1));
            else db.StringSet("key:" + i, "value:" + i);
        }

        await using (var shard = new SyncHarness(new SyncOptions
        {
            Name = "one-shard", Shard = id.Substring(0, 8), Mode = RedisSync.SyncMode.Full,
            Source = RedisEndpoint.Parse(node.Endpoint), Target = RedisEndpoint.Parse(target.Endpoint),
        }))
        {
            RedisSync.SyncStatus status = await shard.Run;
            Assert.Equal(RedisSync.SyncPhase.Completed, status.Phase);
            Assert.Equal(500, status.KeysWritten);
        }
        for (int i = 0; i < 500; i++)
        {
            Assert.Equal("value:" + i, (string?)target.Db().StringGet("key:" + i));
            TimeSpan? ttl = target.Db().KeyTimeToLive("key:" + i);
            if (i % 5 == 0) Assert.True(ttl > TimeSpan.FromMinutes(59), $"key:{i} kept its TTL ({ttl})");
            else Assert.Null(ttl);
        }
        Assert.Equal(new[] { "0-16383" }, await SourceShards.ListAsync(new SyncOptions { Name = "list", Source = RedisEndpoint.Parse(node.Endpoint), Target = RedisEndpoint.Parse(target.Endpoint) }, default));
    }

    /// <summary>The EXISTS calls a server has run (INFO commandstats counts those of scripts too): a key written behind an existence guard makes one.</summary>
    private static long ExistsCalls(RedisServer server)
    {
        string line = server.Cli("INFO", "commandstats").Split('\n').FirstOrDefault(l => l.StartsWith("cmdstat_exists:", StringComparison.Ordinal)) ?? "calls=0,";
        return long.Parse(line.Substring(line.IndexOf("calls=", StringComparison.Ordinal) + 6).Split(',')[0]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_shard_copied_beside_other_shards_keys_writes_plainly_and_still_stops_at_a_key_of_its_own_slots(bool clusterTarget)
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisCluster? targetCluster = clusterTarget ? RedisCluster.Start(masters: 3) : null;
        using RedisServer? single = clusterTarget ? null : RedisServer.Start();
        IReadOnlyList<RedisServer> targets = targetCluster?.Masters() ?? new[] { single! };
        IDatabase target = targetCluster?.Db() ?? single!.Db();
        string targetEndpoint = targetCluster?.Endpoint ?? single!.Endpoint;
        RedisServer mine = cluster.Masters()[0];
        (string id, string ranges) = Own(mine);
        var served = ranges.Split(',').Select(r => r.Split('-')).Select(e => (From: int.Parse(e[0]), To: int.Parse(e[e.Length - 1]))).ToList();
        bool Mine(string key)
        {
            int slot = RedisSync.Engine.Writers.ClusterSlots.Of(System.Text.Encoding.UTF8.GetBytes(key));
            return served.Any(r => slot >= r.From && slot <= r.To);
        }
        IDatabase db = cluster.Db();
        var own = new List<string>();
        for (int i = 0; i < 3000; i++)
        {
            string key = "k:" + i;
            if (i % 3 == 0) db.HashSet(key, new[] { new HashEntry("a", i), new HashEntry("b", "x") });
            else if (i % 7 == 0) db.StringSet(key, "v" + i, TimeSpan.FromHours(1));
            else db.StringSet(key, "v" + i);
            if (Mine(key)) own.Add(key);
        }
        // The target holds keys of the other shards' slots (written by their tasks, or the user's): not this shard's.
        string other = Enumerable.Range(0, 100).Select(i => "other:" + i).First(k => !Mine(k));
        target.StringSet(other, "kept");
        foreach (RedisServer t in targets) t.Cli("CONFIG", "RESETSTAT");

        SyncOptions Task(string name) => new SyncOptions
        {
            Name = name, Shard = id, Mode = RedisSync.SyncMode.Full,
            Source = RedisEndpoint.Parse(cluster.Endpoint), Target = RedisEndpoint.Parse(targetEndpoint),
        };
        await using (var shard = new SyncHarness(Task("plain")))
        {
            RedisSync.SyncStatus status = await shard.Run;
            Assert.Equal(RedisSync.SyncPhase.Completed, status.Phase);
            Assert.Equal(own.Count, status.KeysWritten);
        }
        foreach (string key in own)
        {
            Assert.Equal(db.KeyType(key), target.KeyType(key));
            if (db.KeyType(key) == RedisType.Hash) Assert.Equal(db.HashGetAll(key).OrderBy(e => e.Name.ToString()).Select(e => e.ToString()), target.HashGetAll(key).OrderBy(e => e.Name.ToString()).Select(e => e.ToString()));
            else Assert.Equal((string?)db.StringGet(key), (string?)target.StringGet(key));
            Assert.Equal((long)db.Execute("PEXPIRETIME", key), (long)target.Execute("PEXPIRETIME", key));
        }
        Assert.Equal("kept", (string?)target.StringGet(other));
        // Its slots held nothing, so its keys went as plain commands, not each behind an existence guard.
        long guards = targets.Sum(ExistsCalls);
        Assert.True(guards < own.Count / 4, $"{guards} EXISTS for {own.Count} keys");

        // A key of its own slots on the target: a new sync of the shard stops there (-OnConflict Stop), and the key keeps its value.
        string busy = own[own.Count / 2];
        foreach (string key in own) target.KeyDelete(key);
        target.StringSet(busy, "target-value");
        await using (var again = new SyncHarness(Task("guarded")))
        {
            SyncException e = await Assert.ThrowsAsync<SyncException>(() => again.Run);
            Assert.Equal(SyncErrorIds.TargetBusyKey, e.ErrorId);
            Assert.Contains(busy, e.Message);
        }
        Assert.Equal("target-value", (string?)target.StringGet(busy));
    }

    [Fact]
    public async Task A_shard_that_names_no_master_or_several_is_refused_naming_it_before_the_source_forks()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3);
        using RedisServer target = RedisServer.Start();
        using RedisServer single = RedisServer.Start();
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        string[] ids = masters.Select(m => Own(m).Id).ToArray();
        string unknown = Enumerable.Range(0, 4096).Select(i => "abc" + i.ToString("x3")).First(p => !ids.Any(id => id.StartsWith(p, StringComparison.Ordinal)));

        async Task<SyncException> Refused(SyncOptions options)
        {
            await using var run = new SyncHarness(options);
            return await Assert.ThrowsAsync<SyncException>(() => run.Run);
        }

        SyncException none = await Refused(Options(cluster, target, "wrong", unknown));
        Assert.Equal(SyncErrorIds.ShardNotFound, none.ErrorId);
        Assert.Contains($"-Shard '{unknown}'", none.Message);
        Assert.All(ids, id => Assert.Contains(id, none.Message));

        SyncException several = await Refused(Options(cluster, target, "wrong", "0-16383"));
        Assert.Equal(SyncErrorIds.ShardAmbiguous, several.ErrorId);
        Assert.Contains("-Shard '0-16383' matches 3 masters", several.Message);

        SyncException invalid = await Refused(Options(cluster, target, "wrong", "0-99999"));
        Assert.Equal(SyncErrorIds.InvalidOptions, invalid.ErrorId);
        Assert.Contains("-Shard '0-99999'", invalid.Message);

        SyncException notCluster = await Refused(new SyncOptions { Name = "wrong", Shard = "0-100", Source = RedisEndpoint.Parse(single.Endpoint), Target = RedisEndpoint.Parse(target.Endpoint) });
        Assert.Equal(SyncErrorIds.ShardNotFound, notCluster.ErrorId);
        Assert.Contains("-Shard '0-100'", notCluster.Message);

        SyncException flush = await Refused(new SyncOptions
        {
            Name = "wrong", Shard = "0-100", FlushTarget = true, Source = RedisEndpoint.Parse(cluster.Endpoint), Target = RedisEndpoint.Parse(target.Endpoint),
        });
        Assert.Equal(SyncErrorIds.InvalidOptions, flush.ErrorId);
        Assert.Contains("-FlushTarget", flush.Message);

        // Nothing forked a snapshot, and nothing was written to the target.
        Assert.All(masters, m => Assert.Equal(0, SyncHarness.Stat(m, "sync_full")));
        Assert.Equal(0, SyncHarness.Stat(single, "sync_full"));
        Assert.Empty((RedisResult[])target.Db().Execute("KEYS", "*")!);
    }
}
