using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

public sealed class CompareClassificationTests
{
    private const int KeyCount = 100_000;
    private static readonly string[] Types = { "string", "list", "set", "zset", "hash", "stream" };

    private static string KeyName(int i) => $"k:{Types[i % Types.Length]}:{i}";

    /// <summary>The same 100,000 keys of every type for both servers; every 7th with a TTL, every 60th stream with a consumer group and pending entries.</summary>
    private static IEnumerable<object[]> BaseData(long expireAt)
    {
        for (int i = 0; i < KeyCount; i++)
        {
            string key = KeyName(i);
            switch (i % Types.Length)
            {
                case 0: yield return new object[] { "SET", key, "value-" + i }; break;
                case 1: yield return new object[] { "RPUSH", key, "a" + i, "b", "c" + i, "d" }; break;
                case 2: yield return new object[] { "SADD", key, "m1", "m2-" + i, "m3" }; break;
                case 3: yield return new object[] { "ZADD", key, "1.5", "a", (i * 0.1).ToString("R", System.Globalization.CultureInfo.InvariantCulture), "b", "-inf", "c" }; break;
                case 4: yield return new object[] { "HSET", key, "f1", "v" + i, "f2", "x", "f3", "" }; break;
                default:
                    yield return new object[] { "XADD", key, "1-1", "a", "1" };
                    yield return new object[] { "XADD", key, "2-" + i, "b", "2", "c", i.ToString() };
                    yield return new object[] { "XADD", key, "3-0", "d", "4" };
                    if (i % 60 == 5)
                    {
                        yield return new object[] { "XGROUP", "CREATE", key, "g1", "0" };
                        yield return new object[] { "XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", key, ">" };
                        yield return new object[] { "XGROUP", "CREATECONSUMER", key, "g1", "bob" };
                    }
                    break;
            }
            if (i % 7 == 3) yield return new object[] { "PEXPIREAT", key, expireAt };
        }
    }

    [Fact]
    public async Task Full_compare_counts_and_classifies_every_difference_exactly()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        long expireAt = DateTimeOffset.UtcNow.AddHours(2).ToUnixTimeMilliseconds();
        DataLoader.Pipe(source, BaseData(expireAt));
        DataLoader.Pipe(target, BaseData(expireAt));
        IDatabase t = target.Db();
        var expected = new Dictionary<string, KeyStatus>();

        // 100 missing: deleted on the target, every type.
        for (int n = 0; n < 100; n++)
        {
            string key = KeyName(n * 997 % KeyCount);
            if (expected.ContainsKey(key)) throw new InvalidOperationException("test data overlaps");
            t.KeyDelete(key);
            expected[key] = KeyStatus.Missing;
        }
        // 50 extra: only on the target, every type, one with a binary name; RedisSync's own keys do not count.
        for (int n = 0; n < 50; n++)
        {
            string key = "extra:" + n;
            switch (n % 5)
            {
                case 0: t.StringSet(key, "x"); break;
                case 1: t.ListRightPush(key, "x"); break;
                case 2: t.SetAdd(key, "x"); break;
                case 3: t.SortedSetAdd(key, "x", 1); break;
                default: t.HashSet(key, "f", "v"); break;
            }
            expected[key] = KeyStatus.Extra;
        }
        byte[] binary = { 0xff, 0x00, (byte)'b', (byte)'i', (byte)'n' };
        t.KeyRename("extra:0", binary);
        expected.Remove("extra:0");
        expected["\"\\xff\\x00bin\""] = KeyStatus.Extra;
        t.StringSet("redissync:checkpoint:job1", "state");
        t.StringSet("redissync:tmp:abc", "partial");

        // 30 value differences that keep every length: only Full mode sees them.
        int[] valueKeys = Enumerable.Range(0, 30).Select(n => 50_000 + n * 101).ToArray();
        foreach (int i in valueKeys)
        {
            string key = KeyName(i);
            switch (i % Types.Length)
            {
                case 0: t.Execute("SETRANGE", key, "0", "V"); break;
                case 1: t.ListSetByIndex(key, 3, "D"); break;
                case 2: t.SetRemove(key, "m3"); t.SetAdd(key, "m4"); break;
                case 3: t.SortedSetAdd(key, "b", i * 0.1 + 1e-9); break;
                case 4: t.HashSet(key, "f3", "y"); break;
                default:
                    if (i / 6 % 2 == 0) t.Execute("XGROUP", "CREATE", key, "other", "0");
                    else t.Execute("XDEL", key, "3-0");
                    if (i / 6 % 2 != 0) t.Execute("XADD", key, "4-0", "d", "4");
                    break;
            }
            expected[KeyName(i)] = KeyStatus.Value;
        }
        // Streams with a group: a pending entry acknowledged on the target only.
        int[] groupStreams = Enumerable.Range(0, KeyCount).Where(i => i % 60 == 5 && !expected.ContainsKey(KeyName(i))).Take(2).ToArray();
        t.Execute("XACK", KeyName(groupStreams[0]), "g1", "1-1");
        t.Execute("XGROUP", "SETID", KeyName(groupStreams[1]), "g1", "1-1");
        expected[KeyName(groupStreams[0])] = KeyStatus.Value;
        expected[KeyName(groupStreams[1])] = KeyStatus.Value;
        // 20 type differences.
        for (int n = 0; n < 20; n++)
        {
            int i = 70_000 + n * 13;
            string key = KeyName(i);
            t.KeyDelete(key);
            if (i % Types.Length != 0) t.StringSet(key, "s");
            else t.HashSet(key, "f", "v");
            expected[key] = KeyStatus.Type;
        }
        // 10 TTL differences: a TTL on one side only, or far apart.
        for (int n = 0; n < 10; n++)
        {
            int i = 90_002 + n * 77; // i % 7 == 3: these keys have a TTL on the source
            string key = KeyName(i);
            if (n % 2 == 0) t.KeyExpire(key, TimeSpan.FromSeconds(500));
            else t.KeyPersist(key);
            expected[key] = KeyStatus.Ttl;
        }
        // A TTL within the tolerance is equal.
        t.Execute("PEXPIREAT", KeyName(3), expireAt - 40);

        var (keys, summary) = await CompareHarness.RunAsync(source, target, new CompareOptions { Mode = CompareMode.Full, RecheckDelay = TimeSpan.FromMilliseconds(20) });

        Assert.Equal(keys.Count, keys.Select(k => k.Key).Distinct().Count());
        Dictionary<string, KeyStatus> actual = keys.ToDictionary(k => k.Key, k => k.Status);
        Assert.Equal(expected.OrderBy(p => p.Key), actual.OrderBy(p => p.Key));
        Assert.Equal(100, summary.Missing);
        Assert.Equal(50, summary.Extra);
        Assert.Equal(32, summary.Value);
        Assert.Equal(20, summary.Type);
        Assert.Equal(10, summary.Ttl);
        Assert.Equal(KeyCount - 100 - 32 - 20 - 10, summary.Ok);
        Assert.Equal(KeyCount + 50, summary.KeysCompared);
        Assert.All(keys, k => Assert.False(string.IsNullOrEmpty(k.Detail)));
        KeyDifference binaryKey = keys.Single(k => k.Status == KeyStatus.Extra && k.KeyBytes.SequenceEqual(binary));
        Assert.Equal("string", binaryKey.TargetType);
        KeyDifference hashValue = keys.Single(k => k.Key == KeyName(valueKeys.First(i => i % 6 == 4)));
        Assert.Contains("\"f3\"", hashValue.Detail);
        KeyDifference typeKey = keys.First(k => k.Status == KeyStatus.Type);
        Assert.NotEqual(typeKey.SourceType, typeKey.TargetType);

        // Quick mode sees the same keys except the value differences that keep lengths.
        var (quickKeys, quick) = await CompareHarness.RunAsync(source, target, new CompareOptions { Mode = CompareMode.Quick, RecheckDelay = TimeSpan.FromMilliseconds(20) });
        Assert.Equal(expected.Where(p => p.Value != KeyStatus.Value).OrderBy(p => p.Key), quickKeys.ToDictionary(k => k.Key, k => k.Status).OrderBy(p => p.Key));
        Assert.Equal(0, quick.Value);
        Assert.Equal(KeyCount + 50, quick.KeysCompared);
    }
}
