using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

/// <summary>Compare and Repair with a Redis Cluster on either side: every master scanned, every key read and written on the master of its slot.</summary>
[RunsLong(55)]
public sealed class CompareClusterTests
{
    internal const int KeyCount = 3000;
    private static readonly string[] Types = { "string", "list", "set", "zset", "hash", "stream" };

    internal static string KeyName(int i) => $"k:{Types[i % Types.Length]}:{i}";

    /// <summary>
    /// The same keys of every type on any server (a cluster through its cluster-aware client); every 7th
    /// with a TTL. Keys go to Execute as RedisKey: the client routes a cluster's commands by them.
    /// </summary>
    internal static void Load(IDatabase db, long expireAt)
    {
        var pending = new List<Task>();
        for (int i = 0; i < KeyCount; i++)
        {
            string key = KeyName(i);
            switch (i % Types.Length)
            {
                case 0: pending.Add(db.StringSetAsync(key, "value-" + i)); break;
                case 1: pending.Add(db.ListRightPushAsync(key, new RedisValue[] { "a" + i, "b", "c" + i })); break;
                case 2: pending.Add(db.SetAddAsync(key, new RedisValue[] { "m1", "m2-" + i })); break;
                case 3: pending.Add(db.SortedSetAddAsync(key, new[] { new SortedSetEntry("a", 1.5), new SortedSetEntry("b", i * 0.1) })); break;
                case 4: pending.Add(db.HashSetAsync(key, new[] { new HashEntry("f1", "v" + i), new HashEntry("f2", "x") })); break;
                default: pending.Add(db.ExecuteAsync("XADD", (RedisKey)key, "1-1", "a", i.ToString())); break;
            }
            if (i % 7 == 3) pending.Add(db.ExecuteAsync("PEXPIREAT", (RedisKey)key, expireAt));
        }
        Task.WaitAll(pending.ToArray());
    }

    /// <summary>
    /// Plants differences of every kind on the target: 12 missing, 9 extra, 6 of type, 12 of value
    /// (half keeping the length, seen only by Full), 6 of TTL. Returns what a Full compare must report.
    /// </summary>
    internal static Dictionary<string, KeyStatus> Plant(IDatabase t)
    {
        var expected = new Dictionary<string, KeyStatus>();
        for (int n = 0; n < 12; n++)
        {
            string key = KeyName(n * 241 % KeyCount);
            t.KeyDelete(key);
            expected.Add(key, KeyStatus.Missing);
        }
        for (int n = 0; n < 9; n++)
        {
            string key = "extra:" + n;
            if (n % 3 == 0) t.StringSet(key, "x");
            else if (n % 3 == 1) t.HashSet(key, "f", "v");
            else t.ListRightPush(key, "x");
            expected.Add(key, KeyStatus.Extra);
        }
        for (int n = 0; n < 6; n++)
        {
            int i = 1000 + n * 7;
            string key = KeyName(i);
            t.KeyDelete(key);
            if (i % Types.Length != 0) t.StringSet(key, "s");
            else t.SetAdd(key, "s");
            expected.Add(key, KeyStatus.Type);
        }
        for (int n = 0; n < 12; n++)
        {
            int i = 2000 + n * 5; // every type twice
            string key = KeyName(i);
            bool keepLength = n < 6;
            switch (i % Types.Length)
            {
                case 0: if (keepLength) t.Execute("SETRANGE", (RedisKey)key, "0", "V"); else t.StringAppend(key, "!"); break;
                case 1: if (keepLength) t.ListSetByIndex(key, 1, "B"); else t.ListRightPush(key, "more"); break;
                case 2: if (keepLength) { t.SetRemove(key, "m1"); t.SetAdd(key, "m9"); } else t.SetAdd(key, "m9"); break;
                case 3: if (keepLength) t.SortedSetAdd(key, "a", 2.5); else t.SortedSetAdd(key, "c", 3); break;
                case 4: if (keepLength) t.HashSet(key, "f2", "y"); else t.HashSet(key, "f3", "z"); break;
                default: if (keepLength) { t.Execute("XDEL", (RedisKey)key, "1-1"); t.Execute("XADD", (RedisKey)key, "1-2", "a", "0"); } else t.Execute("XADD", (RedisKey)key, "2-0", "b", "1"); break;
            }
            expected.Add(key, KeyStatus.Value);
        }
        for (int n = 0; n < 6; n++)
        {
            int i = 2500 + n * 42; // i % 7 == 1: no TTL on the source
            string key = KeyName(i);
            t.KeyExpire(key, TimeSpan.FromSeconds(900));
            expected.Add(key, KeyStatus.Ttl);
        }
        return expected;
    }

    internal static async Task<(List<KeyDifference> Keys, CompareSummary Summary)> CompareAsync(string source, string target, CompareMode mode)
    {
        var keys = new List<KeyDifference>();
        var comparer = new DataComparer(RedisEndpoint.Parse(source), RedisEndpoint.Parse(target),
            new CompareOptions { Mode = mode, RecheckDelay = TimeSpan.FromMilliseconds(20), ScanCount = 200 });
        CompareSummary summary = await comparer.RunAsync(keys.Add);
        return (keys, summary);
    }

    private static void AssertExact(Dictionary<string, KeyStatus> expected, List<KeyDifference> keys, CompareSummary summary, CompareMode mode)
    {
        Dictionary<string, KeyStatus> want = mode == CompareMode.Full ? expected : expected.Where(p => p.Value != KeyStatus.Value || !KeepsLength(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(keys.Count, keys.Select(k => k.Key).Distinct().Count());
        Assert.Equal(want.OrderBy(p => p.Key), keys.ToDictionary(k => k.Key, k => k.Status).OrderBy(p => p.Key));
        Assert.Equal(12, summary.Missing);
        Assert.Equal(9, summary.Extra);
        Assert.Equal(6, summary.Type);
        Assert.Equal(mode == CompareMode.Full ? 12 : 6, summary.Value);
        Assert.Equal(6, summary.Ttl);
        Assert.Equal(KeyCount - 12 - 6 - (mode == CompareMode.Full ? 12 : 6) - 6, summary.Ok);
        Assert.Equal(KeyCount + 9, summary.KeysCompared);
        Assert.All(keys, k => Assert.False(string.IsNullOrEmpty(k.Detail)));
    }

    /// <summary>The value differences of <see cref="Plant"/> that keep the value's length (the first six).</summary>
    private static bool KeepsLength(string key) => Enumerable.Range(0, 6).Select(n => KeyName(2000 + n * 5)).Contains(key);

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public async Task Compare_with_a_cluster_on_either_side_finds_every_planted_difference_exactly(bool sourceIsCluster, bool targetIsCluster)
    {
        using var pair = new ServerPair(sourceIsCluster, targetIsCluster);
        Dictionary<string, KeyStatus> expected = pair.LoadAndPlant();
        // RedisSync's own keys on the target do not count.
        pair.Target.StringSet("redissync:checkpoint:job1", "state");
        string sourceAddress = pair.SourceAddress, targetAddress = pair.TargetAddress;
        foreach (CompareMode mode in new[] { CompareMode.Full, CompareMode.Quick })
        {
            var (keys, summary) = await CompareAsync(sourceAddress, targetAddress, mode);
            AssertExact(expected, keys, summary, mode);
        }
    }

    [Fact]
    public async Task Compare_during_a_reshard_of_the_target_follows_MOVED_and_reports_exactly_the_planted_differences()
    {
        using var pair = new ServerPair(sourceIsCluster: false, targetIsCluster: true);
        Dictionary<string, KeyStatus> expected = pair.LoadAndPlant();
        RedisCluster cluster = pair.TargetCluster!;
        IReadOnlyList<RedisServer> masters = cluster.Masters();

        using var stop = new CancellationTokenSource();
        Task reshard = Task.Run(() =>
        {
            // Slots go back and forth until the compares are done.
            for (int round = 0; !stop.IsCancellationRequested; round++)
            {
                cluster.Reshard(masters[round % 2], masters[(round + 1) % 2], 1500);
            }
        });
        try
        {
            for (int run = 0; run < 4; run++)
            {
                var (keys, summary) = await CompareAsync(pair.SourceAddress, pair.TargetAddress, CompareMode.Full);
                Assert.Equal(keys.Count, keys.Select(k => k.Key).Distinct().Count());
                Assert.Equal(expected.OrderBy(p => p.Key), keys.ToDictionary(k => k.Key, k => k.Status).OrderBy(p => p.Key));
                Assert.Equal(KeyCount - 12 - 6 - 12 - 6, summary.Ok);
            }
        }
        finally
        {
            stop.Cancel();
            await reshard;
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task Compare_with_slots_half_migrated_follows_ASK_with_ASKING_and_stays_exact(bool sourceIsCluster, bool targetIsCluster)
    {
        using var pair = new ServerPair(sourceIsCluster, targetIsCluster);
        Dictionary<string, KeyStatus> expected = pair.LoadAndPlant();
        RedisCluster cluster = (sourceIsCluster ? pair.SourceCluster : pair.TargetCluster)!;
        // An equal key, a key missing on the target and one whose value differs, each moved to another
        // master while its slot stays MIGRATING there and IMPORTING here: the old master answers ASK.
        foreach (string key in new[] { KeyName(1), KeyName(0), KeyName(2000) }) HalfMigrate(cluster, key);

        foreach (CompareMode mode in new[] { CompareMode.Full, CompareMode.Quick })
        {
            var (keys, summary) = await CompareAsync(pair.SourceAddress, pair.TargetAddress, mode);
            AssertExact(expected, keys, summary, mode);
        }
    }

    /// <summary>Moves <paramref name="key"/> to another master while its slot stays MIGRATING on the old one and IMPORTING on the new one.</summary>
    private static void HalfMigrate(RedisCluster cluster, string key)
    {
        RedisServer from = cluster.MasterOf(key);
        RedisServer to = cluster.Masters().First(m => m.Port != from.Port);
        string slot = from.Cli("CLUSTER", "KEYSLOT", key).Trim();
        to.Cli("CLUSTER", "SETSLOT", slot, "IMPORTING", from.Cli("CLUSTER", "MYID").Trim());
        from.Cli("CLUSTER", "SETSLOT", slot, "MIGRATING", to.Cli("CLUSTER", "MYID").Trim());
        if (from.Cli("EXISTS", key).Trim() == "1") Assert.Equal("OK", from.Cli("MIGRATE", "127.0.0.1", to.Port.ToString(), key, "0", "5000").Trim());
        Assert.StartsWith("ASK ", from.Cli("TYPE", key).Trim());
    }

    [Fact]
    public async Task Repair_into_slots_half_migrated_follows_ASK_with_ASKING()
    {
        using var pair = new ServerPair(sourceIsCluster: false, targetIsCluster: true);
        pair.LoadAndPlant();
        var (differences, _) = await CompareAsync(pair.SourceAddress, pair.TargetAddress, CompareMode.Full);
        // A key missing on the target, one whose value differs and one whose TTL differs, their slots half migrated.
        foreach (string key in new[] { KeyName(0), KeyName(2000), KeyName(2500) }) HalfMigrate(pair.TargetCluster!, key);

        using (DataRepairer repairer = await DataRepairer.ConnectAsync(RedisEndpoint.Parse(pair.SourceAddress), RedisEndpoint.Parse(pair.TargetAddress),
                   new RepairOptions { RemoveExtra = true }))
        {
            foreach (KeyDifference difference in differences) await repairer.RepairAsync(difference);
        }

        var (after, summary) = await CompareAsync(pair.SourceAddress, pair.TargetAddress, CompareMode.Full);
        Assert.Empty(after);
        Assert.Equal(KeyCount, summary.Ok);
    }

    [Theory]
    [InlineData(true, false, RepairMethod.Auto)]
    [InlineData(false, true, RepairMethod.Auto)]
    [InlineData(false, true, RepairMethod.Commands)]
    [InlineData(true, true, RepairMethod.Commands)]
    public async Task Repair_to_and_from_a_cluster_writes_each_key_on_the_master_of_its_slot_and_leaves_no_difference(bool sourceIsCluster, bool targetIsCluster, RepairMethod method)
    {
        using var pair = new ServerPair(sourceIsCluster, targetIsCluster);
        Dictionary<string, KeyStatus> expected = pair.LoadAndPlant();
        IDatabase target = pair.Target;
        string sourceAddress = pair.SourceAddress, targetAddress = pair.TargetAddress;
        var (differences, _) = await CompareAsync(sourceAddress, targetAddress, CompareMode.Full);
        Assert.Equal(expected.Count, differences.Count);

        var results = new List<RepairResult>();
        using (DataRepairer repairer = await DataRepairer.ConnectAsync(RedisEndpoint.Parse(sourceAddress), RedisEndpoint.Parse(targetAddress),
                   new RepairOptions { RemoveExtra = true, Method = method }))
        {
            foreach (KeyDifference difference in differences) results.Add(await repairer.RepairAsync(difference));
        }
        Assert.Equal(9, results.Count(r => r.Action == RepairAction.Removed));
        RepairAction copy = method == RepairMethod.Commands ? RepairAction.Rewritten : RepairAction.Restored;
        Assert.Equal(expected.Count - 9, results.Count(r => r.Action == copy));

        var (after, summary) = await CompareAsync(sourceAddress, targetAddress, CompareMode.Full);
        Assert.Empty(after);
        Assert.Equal(KeyCount, summary.Ok);
        // TTLs came along: a key with one on the source has it on the target, a planted one is gone.
        Assert.InRange(target.KeyTimeToLive(KeyName(3))!.Value.TotalMinutes, 100, 121);
        Assert.Null(target.KeyTimeToLive(KeyName(2500)));
        // No temporary key is left on any master.
        IEnumerable<IServer> servers = pair.TargetServers();
        Assert.All(servers.Where(s => !s.IsReplica), s => Assert.Empty(s.Keys(pattern: "redissync:*")));
    }

    [Fact]
    public async Task Repair_with_a_stale_slot_map_follows_MOVED_to_the_master_that_serves_the_slot_now()
    {
        using var pair = new ServerPair(sourceIsCluster: false, targetIsCluster: true);
        pair.LoadAndPlant();
        RedisCluster cluster = pair.TargetCluster!;
        var (differences, _) = await CompareAsync(pair.SourceAddress, pair.TargetAddress, CompareMode.Full);

        using DataRepairer repairer = await DataRepairer.ConnectAsync(RedisEndpoint.Parse(pair.SourceAddress), RedisEndpoint.Parse(pair.TargetAddress),
            new RepairOptions { RemoveExtra = true });
        // Every slot of one master moves after the repairer read the slot map.
        IReadOnlyList<RedisServer> masters = cluster.Masters();
        RedisServer moved = masters.First(m => differences.Any(d => cluster.MasterOf(d.Key).Port == m.Port));
        cluster.Reshard(moved, masters.First(m => m.Port != moved.Port), 16384);
        // A master left without slots becomes a replica (cluster-allow-replica-migration): it answers MOVED.
        Assert.DoesNotContain(cluster.Masters(), m => m.Port == moved.Port);
        foreach (KeyDifference difference in differences) await repairer.RepairAsync(difference);

        var (after, summary) = await CompareAsync(pair.SourceAddress, pair.TargetAddress, CompareMode.Full);
        Assert.Empty(after);
        Assert.Equal(KeyCount, summary.Ok);
    }

    /// <summary>A source and a target for one test, each a 3-master cluster or a single server.</summary>
    private sealed class ServerPair : IDisposable
    {
        private readonly RedisCluster? _sourceCluster, _targetCluster;
        private readonly RedisServer? _sourceServer, _targetServer;

        public ServerPair(bool sourceIsCluster, bool targetIsCluster)
        {
            try
            {
                if (sourceIsCluster) _sourceCluster = RedisCluster.Start(3);
                else _sourceServer = RedisServer.Start();
                if (targetIsCluster) _targetCluster = RedisCluster.Start(3);
                else _targetServer = RedisServer.Start();
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public RedisCluster? SourceCluster => _sourceCluster;

        public RedisCluster? TargetCluster => _targetCluster;

        public IDatabase Source => _sourceCluster?.Db() ?? _sourceServer!.Db();

        public IDatabase Target => _targetCluster?.Db() ?? _targetServer!.Db();

        public string SourceAddress => _sourceCluster?.Endpoint ?? _sourceServer!.Endpoint;

        public string TargetAddress => _targetCluster?.Endpoint ?? _targetServer!.Endpoint;

        /// <summary>The same keys on both, then the differences of <see cref="Plant"/> on the target.</summary>
        public Dictionary<string, KeyStatus> LoadAndPlant()
        {
            long expireAt = DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeMilliseconds();
            Load(Source, expireAt);
            Load(Target, expireAt);
            return Plant(Target);
        }

        /// <summary>The target's servers (every node of a cluster).</summary>
        public IEnumerable<IServer> TargetServers() =>
            _targetCluster != null ? _targetCluster.Client().GetServers() : new[] { _targetServer!.Client().GetServers()[0] };

        public void Dispose()
        {
            _sourceCluster?.Dispose();
            _sourceServer?.Dispose();
            _targetCluster?.Dispose();
            _targetServer?.Dispose();
        }
    }
}
