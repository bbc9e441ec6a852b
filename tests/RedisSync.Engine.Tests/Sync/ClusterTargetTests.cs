using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Writers;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>A Redis Cluster as the target: slot routing, split multi-key commands, exactly once per slot through stops, failovers and reshards.</summary>
[RunsLong(205)]
public sealed class ClusterTargetTests
{
    private static SyncOptions Options(RedisServer source, RedisCluster target, string name = "cluster-target", RedisSync.SyncMode mode = RedisSync.SyncMode.FullAndIncremental) => new SyncOptions
    {
        Name = name,
        Source = RedisEndpoint.Parse(source.Endpoint),
        Target = RedisEndpoint.Parse(target.Endpoint),
        Mode = mode,
        ReconnectTimeout = TimeSpan.FromSeconds(60),
    };

    /// <summary>Waits until the sync streams and the target acknowledged everything the source wrote so far.</summary>
    private static async Task WaitAppliedAsync(SyncHarness sync, RedisServer source, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (sync.Run.IsCompleted) await sync.Run;
            long master = SyncHarness.MasterOffset(source);
            RedisSync.SyncStatus status = sync.Session.GetStatus();
            if (status.Phase == RedisSync.SyncPhase.Streaming && status.AppliedOffset >= master) return;
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(90)))
            {
                throw new TimeoutException($"not caught up: phase {status.Phase}, applied {status.AppliedOffset}, source at {master}, last error {status.LastError}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>Strings, hashes, lists, sets, sorted sets (some with a TTL) on keys all over the slots.</summary>
    private static void Load(RedisServer source, int count)
    {
        IDatabase db = source.Db();
        var batch = db.CreateBatch();
        var pending = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            pending.Add(batch.StringSetAsync("s:" + i, "v" + i));
            if (i % 5 == 0) pending.Add(batch.KeyExpireAsync("s:" + i, TimeSpan.FromHours(1)));
            pending.Add(batch.HashSetAsync("h:" + (i % 41), "f" + i, i));
            pending.Add(batch.ListRightPushAsync("l:" + (i % 23), i));
            pending.Add(batch.SetAddAsync("set:" + (i % 19), i));
            pending.Add(batch.SortedSetAddAsync("z:" + (i % 17), "m" + i, i / 3.0));
        }
        batch.Execute();
        Task.WaitAll(pending.ToArray());
    }

    /// <summary>INCRs over counters in every slot range and LPUSHes, exactly <paramref name="count"/> of each.</summary>
    private static async Task IncrementAsync(RedisServer source, int count, int start = 0)
    {
        IDatabase db = source.Db();
        var pending = new List<Task>();
        for (int i = start; i < start + count; i++)
        {
            pending.Add(db.StringIncrementAsync("counter:" + (i % 29)));
            pending.Add(db.ListLeftPushAsync("pushed:" + (i % 7), i));
            if (pending.Count >= 2000)
            {
                await Task.WhenAll(pending);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending);
    }

    /// <summary>The nodes that, by their own account, are masters and serve slots (a demoted master may still be listed as one by others for a moment).</summary>
    private static IReadOnlyList<RedisServer> ServingMasters(RedisCluster target) =>
        target.Nodes.Where(n => n.Pid != 0).Where(n =>
        {
            string self = n.Cli("CLUSTER", "NODES").Split('\n').First(l => l.Contains("myself"));
            string[] f = self.Trim().Split(' ');
            return f[2].Contains("master") && f.Length > 8;
        }).ToList();

    private static void AssertSameContents(RedisServer source, RedisCluster target)
    {
        List<string> expected = ClusterSourceTests.Contents(new[] { source });
        List<string> actual = ClusterSourceTests.Contents(ServingMasters(target));
        List<string> missing = expected.Except(actual).Take(5).ToList();
        List<string> extra = actual.Except(expected).Take(5).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0 && expected.Count == actual.Count,
            $"{expected.Count} keys on the source, {actual.Count} on the target; missing or different: {string.Join(" | ", missing)}; extra or different: {string.Join(" | ", extra)}");
        AssertCompareFindsNoDifference(source, target);
    }

    /// <summary>What Compare-RedisData reports, run by its engine over every master of the target (reached through one that serves, a killed one may be the first): no difference, every key compared.</summary>
    private static void AssertCompareFindsNoDifference(RedisServer source, RedisCluster target)
    {
        var differences = new List<RedisSync.KeyDifference>();
        var comparer = new RedisSync.Engine.Compare.DataComparer(RedisEndpoint.Parse(source.Endpoint), RedisEndpoint.Parse(ServingMasters(target)[0].Endpoint),
            new RedisSync.Engine.Compare.CompareOptions { Mode = RedisSync.Engine.Compare.CompareMode.Full });
        RedisSync.CompareSummary summary = comparer.RunAsync(d => { lock (differences) differences.Add(d); }).GetAwaiter().GetResult();
        Assert.True(summary.IsEqual, "Compare-RedisData found differences: " +
            string.Join(" | ", differences.Take(5).Select(d => $"{d.Key}: {d.Status}")));
        Assert.Equal((long)source.Db().Execute("DBSIZE"), summary.KeysCompared);
    }

    private static void AssertCounters(RedisCluster target, int increments)
    {
        IDatabase db = target.Db();
        long sum = Enumerable.Range(0, 29).Sum(i => (long)db.StringGet("counter:" + i));
        long pushed = Enumerable.Range(0, 7).Sum(i => db.ListLength("pushed:" + i));
        Assert.Equal(increments, sum);
        Assert.Equal(increments, pushed);
    }

    [Fact]
    public async Task Standalone_source_is_copied_into_a_cluster_and_streamed_writes_land_exactly_once()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        Load(source, 600);
        // Keys too big for one command are built under a temporary name in their own slot, then renamed into place.
        source.Db().StringSet("big:text", new string('x', 1_000_000));
        source.Db().ScriptEvaluate("for i = 1, 100000 do redis.call('HSET', KEYS[1], 'field:' .. i, 'value-' .. i) end", new RedisKey[] { "big:hash" });
        await using var sync = new SyncHarness(Options(source, target));
        await WaitAppliedAsync(sync, source);
        await IncrementAsync(source, 3000);
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        AssertCounters(target, 3000);
        // Every master got its share: the keys are spread over the slots.
        foreach (RedisServer master in target.Masters()) Assert.True(master.Client().GetServer(master.Endpoint).DatabaseSize() > 100, master.Endpoint);
        // The status has a row per master: its slots, and the commands it acknowledged.
        IReadOnlyList<RedisSync.TargetNodeStatus> nodes = sync.Session.GetStatus().TargetNodes;
        Assert.Equal(target.Masters().Select(m => m.Endpoint).OrderBy(e => e, StringComparer.Ordinal), nodes.Select(n => n.Address));
        Assert.Equal(16384, nodes.Sum(n => n.Slots));
        Assert.All(nodes, n => Assert.True(n.AcknowledgedCommands > 100, $"{n.Address} acknowledged {n.AcknowledgedCommands} commands"));
        Assert.All(nodes, n => Assert.Equal(0, n.InFlightCommands));
        RedisSync.SyncStatus status = await sync.StopAsync();
        Assert.Equal(RedisSync.SyncPhase.Stopped, status.Phase);
    }

    [Fact]
    public async Task A_frozen_run_resumed_after_another_took_its_lease_is_fenced_on_every_slot_and_the_counters_stay_exact()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisCluster target = RedisCluster.Start(3);
        Load(source, 100);
        using HostProcess frozen = HostProcess.Start(source, target.Nodes[0], "fenced", leaseSeconds: 2);
        await frozen.WaitForAsync("phase Streaming");
        await IncrementAsync(source, 290);
        IDatabase db = target.Db();
        await SyncHarness.WaitUntilAsync(() => Enumerable.Range(0, 7).Sum(i => db.ListLength("pushed:" + i)) == 290, "the first increments on the target");

        // Frozen as a paused VM would be: its sockets stay open, the source's writes queue in them, its lease runs out.
        frozen.Pause();
        await IncrementAsync(source, 1160, 290);
        await SyncHarness.WaitUntilAsync(() => !db.KeyExists(ReservedKeys.Lease("fenced")), "the frozen run's lease to expire", TimeSpan.FromSeconds(30));
        SyncOptions plain = Options(source, target, "fenced");
        var options = new SyncOptions { Name = plain.Name, Source = plain.Source, Target = plain.Target, Mode = plain.Mode, ReconnectTimeout = plain.ReconnectTimeout, LeaseTime = TimeSpan.FromSeconds(2) };
        await using var successor = new SyncHarness(options);
        await WaitAppliedAsync(successor, source);
        AssertCounters(target, 1450);
        // Every slot carries the successor's epoch, those it has not written yet too, so the frozen run can write none of them.
        long epoch = (long)db.StringGet(ReservedKeys.Epoch("fenced", null));
        List<string> slotKeys = target.Keys().Where(k => k.StartsWith(ReservedKeys.Checkpoint("fenced") + ":{", StringComparison.Ordinal)).ToList();
        Assert.Equal(16384, slotKeys.Count);
        Assert.All(slotKeys.Take(500), k => Assert.EndsWith(" " + epoch, (string?)db.StringGet(k)));

        frozen.Resume();
        Assert.Equal(1, frozen.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("failed LeaseLost", frozen.Output);
        await IncrementAsync(source, 290, 1450);
        await WaitAppliedAsync(successor, source);
        AssertSameContents(source, target);
        AssertCounters(target, 1740);
        Assert.Equal(RedisSync.SyncPhase.Streaming, successor.Session.Phase);
        Assert.DoesNotContain(successor.Warnings, w => w.ErrorId == "LeaseNotFenced");
    }

    [Fact]
    public async Task A_flushall_replayed_on_a_fenced_cluster_target_stamps_every_slot_again_and_the_stream_goes_on_exactly_once()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        Load(source, 100);
        await using var sync = new SyncHarness(Options(source, target, "reflushed"));
        await WaitAppliedAsync(sync, source);
        await IncrementAsync(source, 290);
        await WaitAppliedAsync(sync, source);
        source.Db().Execute("FLUSHALL");
        await IncrementAsync(source, 580, 290);
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        AssertCounters(target, 580);
        // The flush took the stamps with it: every slot carries the run's epoch again, and the run still holds its lease.
        IDatabase db = target.Db();
        long epoch = (long)db.StringGet(ReservedKeys.Epoch("reflushed", null));
        List<string> slotKeys = target.Keys().Where(k => k.StartsWith(ReservedKeys.Checkpoint("reflushed") + ":{", StringComparison.Ordinal)).ToList();
        Assert.Equal(16384, slotKeys.Count);
        Assert.All(slotKeys.Take(300), k => Assert.EndsWith(" " + epoch, (string?)db.StringGet(k)));
        Assert.True(db.KeyExists(ReservedKeys.Lease("reflushed")));
        Assert.Equal(RedisSync.SyncPhase.Streaming, sync.Session.Phase);
        Assert.DoesNotContain(sync.Warnings, w => w.ErrorId == SyncErrorIds.LeaseLost);
    }

    [Fact]
    public async Task Mset_and_del_across_slots_are_split_by_slot()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        source.Db().StringSet("old:1", "x");
        await using var sync = new SyncHarness(Options(source, target));
        await WaitAppliedAsync(sync, source);
        IDatabase db = source.Db();
        var pairs = Enumerable.Range(0, 50).Select(i => new KeyValuePair<RedisKey, RedisValue>("m:" + i, "v" + i)).ToArray();
        db.StringSet(pairs);
        db.KeyDelete(Enumerable.Range(0, 50).Where(i => i % 3 == 0).Select(i => (RedisKey)("m:" + i)).Append("old:1").ToArray());
        db.Execute("UNLINK", "m:1", "m:2", "m:4");
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        Assert.Equal(50 - 17 - 3, target.Keys().Count(k => k.StartsWith("m:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_source_transaction_whose_keys_span_slots_is_applied_slot_by_slot_with_a_counted_warning()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        await using var sync = new SyncHarness(Options(source, target, "split"));
        await WaitAppliedAsync(sync, source);
        long skipped = sync.Session.GetStatus().SkippedErrors;
        IDatabase db = source.Db();
        string[] keys = { "tx:a", "tx:b", "tx:c" };
        Assert.Equal(3, keys.Select(k => ClusterSlots.Of(System.Text.Encoding.UTF8.GetBytes(k))).Distinct().Count());
        // Keys of one hash tag: one slot, so the transaction stays whole and nothing is said.
        ITransaction whole = db.CreateTransaction();
        _ = whole.StringSetAsync("{t}a", "1");
        _ = whole.StringIncrementAsync("{t}b");
        Assert.True(await whole.ExecuteAsync());
        ITransaction split = db.CreateTransaction();
        _ = split.StringSetAsync(keys[0], "1");
        _ = split.StringIncrementAsync(keys[1]);
        _ = split.ListLeftPushAsync(keys[2], "x");
        Assert.True(await split.ExecuteAsync());
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        SyncWarning warning = Assert.Single(sync.Warnings, w => w.ErrorId == SyncErrorIds.TargetTransactionSplit);
        Assert.Contains("wrote 3 commands to keys in 3 slots", warning.Message, StringComparison.Ordinal);
        Assert.Equal(skipped + 1, sync.Session.GetStatus().SkippedErrors);
        Assert.Equal(SyncErrorIds.TargetTransactionSplit, sync.Session.GetStatus().LastErrorId);
    }

    [Fact]
    public async Task Flushdb_under_a_key_filter_deletes_the_kept_keys_on_every_master_and_leaves_the_targets_own()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        for (int i = 0; i < 30; i++)
        {
            source.Db().StringSet("k:" + i, "v");
            target.Db().StringSet("own:" + i, "target's own");
        }
        await using var sync = new SyncHarness(new SyncOptions
        {
            Name = "cluster-flush", Source = RedisEndpoint.Parse(source.Endpoint), Target = RedisEndpoint.Parse(target.Endpoint),
            ReconnectTimeout = TimeSpan.FromSeconds(60), Filter = new RedisSync.Engine.Transform.SyncFilter { Key = new[] { "k:*" } },
        });
        await WaitAppliedAsync(sync, source);
        Assert.Equal(30, target.Keys().Count(k => k.StartsWith("k:", StringComparison.Ordinal)));
        source.Db().Execute("FLUSHDB");
        source.Db().StringSet("k:after", "1");
        await WaitAppliedAsync(sync, source);
        Assert.Equal(new[] { "k:after" }, target.Keys().Where(k => k.StartsWith("k:", StringComparison.Ordinal)).ToArray());
        Assert.Equal(30, target.Keys().Count(k => k.StartsWith("own:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_command_that_cannot_be_applied_across_slots_stops_the_sync_naming_it()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        await using var sync = new SyncHarness(Options(source, target));
        await WaitAppliedAsync(sync, source);
        Assert.NotEqual(ClusterSlots.Of("from-here"u8), ClusterSlots.Of("to-there"u8));
        source.Db().ListRightPush("from-here", new RedisValue[] { 3, 1, 2 });
        // A SORT BY another key's value reads keys of other slots: it is not rewritten.
        source.Db().Execute("SORT", "from-here", "BY", "weight_*", "STORE", "to-there");
        var error = await Assert.ThrowsAsync<SyncException>(() => sync.Run);
        Assert.Equal(SyncErrorIds.TargetCrossSlot, error.ErrorId);
        Assert.Contains("SORT", error.Message);
        Assert.Contains("from-here", error.Message);
    }

    [Fact]
    public async Task Sort_and_georadius_with_store_across_slots_are_rewritten_and_lmpop_lands_as_the_pop_it_was()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        await using var sync = new SyncHarness(Options(source, target));
        await WaitAppliedAsync(sync, source);
        IDatabase db = source.Db();
        string[] keys = { "sort:src", "sort:dst", "sort:alpha", "geo:points", "geo:near", "geo:dist", "lmpop:0", "lmpop:1" };
        Assert.Equal(keys.Length, keys.Select(k => ClusterSlots.Of(System.Text.Encoding.UTF8.GetBytes(k))).Distinct().Count());
        db.ListRightPush("sort:src", new RedisValue[] { 3, 1, 2, 10 });
        db.Execute("SORT", "sort:src", "DESC", "LIMIT", "0", "3", "STORE", "sort:dst");
        db.Execute("SORT", "sort:src", "BY", "nosort", "ALPHA", "STORE", "sort:alpha");
        db.GeoAdd("geo:points", new[] { new GeoEntry(13.361389, 38.115556, "Palermo"), new GeoEntry(15.087269, 37.502669, "Catania") });
        db.Execute("GEORADIUS", "geo:points", "15", "37", "200", "km", "STORE", "geo:near");
        db.Execute("GEORADIUSBYMEMBER", "geo:points", "Palermo", "300", "km", "STOREDIST", "geo:dist");
        db.ListRightPush("lmpop:1", new RedisValue[] { "a", "b", "c" });
        db.Execute("LMPOP", "2", "lmpop:0", "lmpop:1", "LEFT", "COUNT", "2");
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        IDatabase cluster = target.Db();
        Assert.Equal(new RedisValue[] { "10", "3", "2" }, cluster.ListRange("sort:dst"));
        Assert.Equal(2, cluster.SortedSetLength("geo:dist"));
        Assert.Equal(new RedisValue[] { "c" }, cluster.ListRange("lmpop:1"));
        string[] rewritten = sync.Warnings.Where(w => w.ErrorId == SyncErrorIds.TargetCrossSlotRewritten).Select(w => w.Command!).ToArray();
        Assert.Equal(new[] { "SORT", "SORT", "GEORADIUS", "GEORADIUSBYMEMBER" }, rewritten);
        Assert.Equal(RedisSync.SyncPhase.Streaming, sync.Session.Phase);
    }

    /// <summary>
    /// The commands a cluster cannot run across slots, from the stream: each applied by others with the same end
    /// result (RENAME as RESTORE then DEL, SMOVE as SADD then SREM, a *STORE on temporary copies of its inputs, …),
    /// each with a TargetCrossSlotRewritten warning, and the sync goes on.
    /// </summary>
    [Fact]
    public async Task Commands_whose_keys_span_slots_are_rewritten_with_the_same_result_and_a_warning()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        await using var sync = new SyncHarness(Options(source, target));
        await WaitAppliedAsync(sync, source);
        IDatabase db = source.Db();
        string[] keys = { "rename:a", "rename:b", "copy:a", "copy:b", "smove:a", "smove:b", "lmove:a", "lmove:b", "rpl:a", "rpl:b", "sinter:dst", "set:1", "set:2", "zunion:dst", "z:1", "z:2", "bitop:dst", "bits:1", "bits:2", "pf:dst", "pf:1", "msetnx:1", "msetnx:2", "zr:dst", "geo:dst", "geo:src" };
        Assert.True(keys.Select(k => ClusterSlots.Of(System.Text.Encoding.UTF8.GetBytes(k))).Distinct().Count() >= 20, "the keys should be spread over the slots");

        db.StringSet("rename:a", "moved", TimeSpan.FromHours(2));
        db.KeyRename("rename:a", "rename:b");
        db.HashSet("copy:a", "f", "v");
        db.Execute("COPY", "copy:a", "copy:b");
        db.SetAdd("smove:a", new RedisValue[] { "x", "y" });
        db.SetMove("smove:a", "smove:b", "x");
        db.ListRightPush("lmove:a", new RedisValue[] { "1", "2", "3" });
        db.Execute("LMOVE", "lmove:a", "lmove:b", "LEFT", "RIGHT");
        db.Execute("LMOVE", "lmove:a", "lmove:b", "RIGHT", "LEFT");
        db.ListRightPush("rpl:a", new RedisValue[] { "p", "q" });
        db.ListRightPopLeftPush("rpl:a", "rpl:b");
        db.SetAdd("set:1", new RedisValue[] { "a", "b", "c" });
        db.SetAdd("set:2", new RedisValue[] { "b", "c", "d" });
        db.SetCombineAndStore(SetOperation.Intersect, "sinter:dst", "set:1", "set:2");
        db.SortedSetAdd("z:1", new[] { new SortedSetEntry("m", 1), new SortedSetEntry("n", 2) });
        db.SortedSetAdd("z:2", new[] { new SortedSetEntry("n", 5) });
        db.Execute("ZUNIONSTORE", "zunion:dst", "2", "z:1", "z:2", "WEIGHTS", "1", "2");
        db.StringSet("bits:1", "ab");
        db.StringSet("bits:2", "cd");
        db.StringBitOperation(Bitwise.Xor, "bitop:dst", "bits:1", "bits:2");
        db.HyperLogLogAdd("pf:1", new RedisValue[] { "u", "v", "w" });
        db.HyperLogLogMerge("pf:dst", new RedisKey[] { "pf:1" });
        db.Execute("ZRANGESTORE", "zr:dst", "z:1", "0", "-1");
        db.GeoAdd("geo:src", 13.361389, 38.115556, "Palermo");
        db.Execute("GEOSEARCHSTORE", "geo:dst", "geo:src", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC");
        Assert.True((bool)db.Execute("MSETNX", "msetnx:1", "one", "msetnx:2", "two"));
        // A write after each: the stream goes on past the rewrites.
        await IncrementAsync(source, 500);
        await WaitAppliedAsync(sync, source);

        AssertSameContents(source, target);
        AssertCounters(target, 500);
        // The TTL came along with the renamed value.
        TimeSpan? ttl = target.Db().KeyTimeToLive("rename:b");
        Assert.True(ttl > TimeSpan.FromMinutes(119) && ttl <= TimeSpan.FromHours(2), $"rename:b has TTL {ttl}");
        // No temporary key is left behind.
        Assert.DoesNotContain(target.Keys(), k => k.Contains("redissync:tmp:", StringComparison.Ordinal));
        string[] rewritten = sync.Warnings.Where(w => w.ErrorId == SyncErrorIds.TargetCrossSlotRewritten).Select(w => w.Command!).ToArray();
        Assert.Equal(new[] { "BITOP", "COPY", "GEOSEARCHSTORE", "LMOVE", "LMOVE", "MSETNX", "PFMERGE", "RENAME", "RPOPLPUSH", "SINTERSTORE", "SMOVE", "ZRANGESTORE", "ZUNIONSTORE" },
            rewritten.OrderBy(c => c, StringComparer.Ordinal).ToArray());
        Assert.Contains(sync.Warnings, w => w.Command == "RENAME" && w.Message.Contains("RESTORE of \"rename:b\"", StringComparison.Ordinal) && w.Message.Contains("DEL \"rename:a\"", StringComparison.Ordinal));
        Assert.Equal(RedisSync.SyncPhase.Streaming, sync.Session.Phase);
    }

    /// <summary>RENAMEs across slots in a stream stopped and resumed: each part (the RESTORE, the DEL) lands once, and the counters beside them are exact.</summary>
    [Fact]
    public async Task A_rewritten_rename_across_slots_resumes_exactly_once()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        await using (var first = new SyncHarness(Options(source, target, "rename-resume")))
        {
            await WaitAppliedAsync(first, source);
            for (int i = 0; i < 50; i++)
            {
                source.Db().StringSet("r:" + i, "v" + i);
                source.Db().KeyRename("r:" + i, "moved:" + i);
                source.Db().StringIncrement("counter:" + (i % 29));
                source.Db().ListLeftPush("pushed:" + (i % 7), i);
            }
            await first.StopAsync();
        }
        for (int i = 50; i < 100; i++)
        {
            source.Db().StringSet("r:" + i, "v" + i);
            source.Db().KeyRename("r:" + i, "moved:" + i);
            source.Db().StringIncrement("counter:" + (i % 29));
            source.Db().ListLeftPush("pushed:" + (i % 7), i);
        }
        await using var second = new SyncHarness(Options(source, target, "rename-resume"));
        await WaitAppliedAsync(second, source);
        AssertSameContents(source, target);
        AssertCounters(target, 100);
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
    }

    /// <summary>Before a new copy of one shard of a cluster source: that shard's slots are emptied on the target's masters, the other slots and RedisSync's own keys stay.</summary>
    [Fact]
    public async Task A_shards_slots_are_emptied_on_the_masters_that_serve_them_and_nothing_else()
    {
        using RedisCluster target = RedisCluster.Start(3);
        IDatabase db = target.Db();
        for (int i = 0; i < 600; i++) db.StringSet("k:" + i, i);
        string tag = ClusterSlots.Tag(100);
        db.StringSet("redissync:checkpoint:recopy:{" + tag + "}", "o 1 t:1");
        db.StringSet("{" + tag + "}user-key", "goes");
        (int From, int To)[] shard = { (0, 5000), (12000, 12100) };
        bool InShard(string key) => shard.Any(r => ClusterSlots.Of(System.Text.Encoding.UTF8.GetBytes(key)) >= r.From && ClusterSlots.Of(System.Text.Encoding.UTF8.GetBytes(key)) <= r.To);
        int expected = Enumerable.Range(0, 600).Count(i => InShard("k:" + i)) + 1;
        Assert.InRange(expected, 100, 400);

        using ClusterTarget writer = await ClusterTarget.ConnectAsync(RedisEndpoint.Parse(target.Endpoint), new TargetWriterOptions(), CancellationToken.None);
        long deleted = await writer.DeleteSlotsAsync(shard, CancellationToken.None);

        Assert.Equal(expected, deleted);
        IReadOnlyList<string> left = target.Keys();
        Assert.DoesNotContain(left, k => !k.StartsWith("redissync:", StringComparison.Ordinal) && InShard(k));
        Assert.Equal(600 - (expected - 1), left.Count(k => k.StartsWith("k:", StringComparison.Ordinal)));
        Assert.Contains("redissync:checkpoint:recopy:{" + tag + "}", left);
    }

    [Fact]
    public async Task A_source_database_other_than_0_is_refused_before_anything_is_written()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        source.Db(0).StringSet("zero", "0");
        source.Db(2).StringSet("two", "2");
        await using var sync = new SyncHarness(Options(source, target));
        var error = await Assert.ThrowsAsync<SyncException>(() => sync.Run);
        Assert.Equal(SyncErrorIds.TargetDatabaseMissing, error.ErrorId);
        Assert.Contains("-DatabaseMap @{ 2 = 0 }", error.Message);
        Assert.DoesNotContain(target.Keys(), k => !k.StartsWith(ReservedKeys.Prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_stopped_sync_resumes_and_applies_nothing_twice()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        Load(source, 200);
        await using (var first = new SyncHarness(Options(source, target)))
        {
            await WaitAppliedAsync(first, source);
            Task load = IncrementAsync(source, 3000);
            await SyncHarness.WaitUntilAsync(() => first.Session.GetStatus().CommandsWritten > 1000, "some increments applied");
            RedisSync.SyncStatus stopped = await first.StopAsync();
            Assert.Equal(RedisSync.SyncPhase.Stopped, stopped.Phase);
            await load;
        }
        await IncrementAsync(source, 1000, 3000);
        await using var second = new SyncHarness(Options(source, target, mode: RedisSync.SyncMode.Incremental));
        await WaitAppliedAsync(second, source);
        AssertSameContents(source, target);
        AssertCounters(target, 4000);
        Assert.Equal(0, second.Session.GetStatus().FullResyncs);
    }

    /// <summary>INCRs and LPUSHes (as <see cref="IncrementAsync"/>) until <paramref name="stop"/> is cancelled; returns how many of each.</summary>
    private static async Task<int> KeepIncrementingAsync(RedisServer source, CancellationToken stop)
    {
        int done = 0;
        while (!stop.IsCancellationRequested)
        {
            await IncrementAsync(source, 290, done);
            done += 290;
        }
        return done;
    }

    /// <summary>Streams increments while <paramref name="fault"/> happens to the target, then checks that every one landed once.</summary>
    private static async Task SurvivesAsync(RedisCluster target, Action<SyncHarness> fault, string name)
    {
        using RedisServer source = RedisServer.Start();
        Load(source, 200);
        await using var sync = new SyncHarness(Options(source, target, name));
        await WaitAppliedAsync(sync, source);
        using var stop = new CancellationTokenSource();
        Task<int> load = Task.Run(() => KeepIncrementingAsync(source, stop.Token));
        await SyncHarness.WaitUntilAsync(() => sync.Session.GetStatus().CommandsWritten > 3000, "increments flowing");
        await Task.Run(() => fault(sync));
        long after = sync.Session.GetStatus().CommandsWritten;
        await SyncHarness.WaitUntilAsync(() => sync.Session.GetStatus().CommandsWritten > after + 2000 || sync.Run.IsCompleted, "increments flowing after the fault", TimeSpan.FromSeconds(90));
        stop.Cancel();
        int increments = await load;
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        AssertCounters(target, increments);
        Assert.Equal(RedisSync.SyncPhase.Streaming, sync.Session.Phase);
        // The fault hit writes in flight: some units were redirected or sent again, and none ran twice (the counters above).
        Assert.True(sync.Session.WriterStatistics!.BatchesResent > 0, "no unit was sent again: the fault did not meet the stream");
    }

    [Fact]
    public async Task A_target_master_killed_mid_stream_is_followed_to_its_promoted_replica_without_loss_or_duplicates()
    {
        using RedisCluster target = RedisCluster.Start(3, 1);
        // The master that holds the lease and counter writes: the lease is renewed on its replica once promoted.
        await SurvivesAsync(target, _ => target.KillMaster(target.MasterOf(ReservedKeys.Lease("killed-master"))), "killed-master");
    }

    [Fact]
    public async Task A_manual_failover_of_a_target_master_mid_stream_loses_and_duplicates_nothing()
    {
        using RedisCluster target = RedisCluster.Start(3, 1);
        await SurvivesAsync(target, _ =>
        {
            RedisServer master = target.MasterOf("counter:0");
            string id = master.Cli("CLUSTER", "MYID").Trim();
            RedisServer replica = target.Replicas().First(r => r.Cli("CLUSTER", "NODES").Split('\n').Any(l => l.Contains("myself") && l.Contains(id)));
            target.Failover(replica);
        }, "manual-failover");
    }

    [Fact]
    public async Task A_reshard_of_the_target_mid_stream_loses_and_duplicates_nothing()
    {
        using RedisCluster target = RedisCluster.Start(3);
        await SurvivesAsync(target, sync =>
        {
            IReadOnlyList<RedisServer> masters = target.Masters();
            target.Reshard(masters[0], masters[1], 2000);
        }, "reshard");
    }

    [Fact]
    public async Task Status_and_checkpoint_removal_find_the_checkpoints_on_whichever_masters_hold_them()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        Load(source, 100);
        IReadOnlyList<RedisSync.TargetNodeStatus> live;
        await using (var sync = new SyncHarness(Options(source, target, "status")))
        {
            await WaitAppliedAsync(sync, source);
            await IncrementAsync(source, 500);
            await WaitAppliedAsync(sync, source);
            live = sync.Session.GetStatus().TargetNodes;
            await sync.StopAsync();
        }
        long offset = SyncHarness.MasterOffset(source);
        // Asked through a node that does not hold the checkpoint key.
        RedisServer other = target.Masters().First(m => m.Port != target.MasterOf(ReservedKeys.Checkpoint("status")).Port);
        RedisSync.SyncStatus status = await RedisSync.Engine.Hosting.SyncCheckpointStatus.ReadAsync(RedisEndpoint.Parse(other.Endpoint), "status", CancellationToken.None);
        Assert.Equal(RedisSync.SyncPhase.Stopped, status.Phase);
        Assert.Equal(offset, status.AppliedOffset);
        // A row per master, read from the target: its slots, and the newest offset its slots' checkpoints record, as the run saw them.
        Assert.Equal(target.Masters().Select(m => m.Endpoint).OrderBy(e => e, StringComparer.Ordinal), status.TargetNodes.Select(n => n.Address));
        Assert.Equal(16384, status.TargetNodes.Sum(n => n.Slots));
        Assert.Equal(live.Select(n => (n.Address, n.Slots, n.AcknowledgedOffset)), status.TargetNodes.Select(n => (n.Address, n.Slots, n.AcknowledgedOffset)));
        Assert.All(status.TargetNodes, n => Assert.InRange(n.AcknowledgedOffset ?? -1, 1, offset));
        Assert.Contains(target.Keys(), k => k.StartsWith(ReservedKeys.Checkpoint("status") + ":{", StringComparison.Ordinal));

        int removed = await RedisSync.Engine.Hosting.CheckpointRemoval.RemoveAsync(RedisEndpoint.Parse(other.Endpoint), "status", force: false, CancellationToken.None);
        Assert.Equal(1, removed);
        Assert.DoesNotContain(target.Keys(), k => k.StartsWith(ReservedKeys.Prefix, StringComparison.Ordinal) && k.Contains("status"));
    }

    [Fact]
    public async Task A_node_added_to_the_target_and_given_slots_mid_stream_loses_and_duplicates_nothing()
    {
        using RedisCluster target = RedisCluster.Start(3);
        await SurvivesAsync(target, _ =>
        {
            RedisServer added = target.AddMaster(0);
            IReadOnlyList<RedisServer> masters = target.Masters();
            // redis-cli refuses to reshard until every node agrees on the new one: try again while they settle, for 3 minutes at most.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    target.Reshard(masters.First(m => m.Port != added.Port), added, 1500);
                    break;
                }
                catch (InvalidOperationException) when (clock.Elapsed < TimeSpan.FromMinutes(3))
                {
                    target.WaitHealthy();
                    Thread.Sleep(250);
                }
            }
        }, "added-node");
    }

    [Fact]
    public async Task A_sync_killed_during_a_reshard_of_the_target_resumes_with_exact_counters()
    {
        using RedisServer source = RedisServer.Start("--repl-backlog-size", "64mb");
        using RedisCluster target = RedisCluster.Start(3);
        Load(source, 200);
        using var stop = new CancellationTokenSource();
        Task<int> load;
        using (HostProcess host = HostProcess.Start(source, target.Nodes[0], "killed-sync"))
        {
            await host.WaitForAsync("phase Streaming");
            load = Task.Run(() => KeepIncrementingAsync(source, stop.Token));
            IDatabase db = target.Db();
            await SyncHarness.WaitUntilAsync(() => (long)db.StringGet("counter:0") > 50, "increments reaching the target");
            IReadOnlyList<RedisServer> masters = target.Masters();
            int before = SlotsOf(masters[1]);
            Task reshard = Task.Run(() => target.Reshard(masters[0], masters[1], 2000));
            await SyncHarness.WaitUntilAsync(() => SlotsOf(masters[1]) > before + 100 || reshard.IsCompleted, "the reshard under way");
            host.Kill();
            await reshard;
        }
        stop.Cancel();
        int increments = await load;
        await using var sync = new SyncHarness(Options(source, target, "killed-sync"));
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        AssertCounters(target, increments);
        Assert.Equal(0, sync.Session.GetStatus().FullResyncs);
    }

    private static int SlotsOf(RedisServer master)
    {
        string self = master.Cli("CLUSTER", "NODES").Split('\n').First(l => l.Contains("myself"));
        int slots = 0;
        foreach (string range in self.Trim().Split(' ').Skip(8))
        {
            if (range.StartsWith("[", StringComparison.Ordinal)) continue;
            string[] ends = range.Split('-');
            slots += ends.Length == 2 ? int.Parse(ends[1]) - int.Parse(ends[0]) + 1 : 1;
        }
        return slots;
    }

    [Fact]
    public async Task FlushTarget_empties_every_master_of_the_cluster_before_the_copy()
    {
        using RedisServer source = RedisServer.Start();
        using RedisCluster target = RedisCluster.Start(3);
        IDatabase db = target.Db();
        for (int i = 0; i < 300; i++) db.StringSet("stale:" + i, i);
        Load(source, 100);
        SyncOptions plain = Options(source, target, "flushed");
        var options = new SyncOptions { Name = plain.Name, Source = plain.Source, Target = plain.Target, Mode = plain.Mode, ReconnectTimeout = plain.ReconnectTimeout, FlushTarget = true };
        await using var sync = new SyncHarness(options);
        await WaitAppliedAsync(sync, source);
        await IncrementAsync(source, 500);
        await WaitAppliedAsync(sync, source);
        AssertSameContents(source, target);
        AssertCounters(target, 500);
    }
}
