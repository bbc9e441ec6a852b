using System;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

public sealed class CompareBasicsTests
{
    [Fact]
    public async Task Quick_compare_classifies_missing_extra_type_length_and_ttl()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db(), t = target.Db();
        foreach (IDatabase db in new[] { s, t })
        {
            db.StringSet("same", "v");
            db.ListRightPush("list", new RedisValue[] { "a", "b" });
        }
        s.StringSet("missing", "x");
        t.StringSet("extra", "y");
        s.StringSet("type", "x");
        t.SetAdd("type", "x");
        s.HashSet("hash", new[] { new HashEntry("f", "1"), new HashEntry("g", "2") });
        t.HashSet("hash", new[] { new HashEntry("f", "1") });
        s.StringSet("ttl", "v", TimeSpan.FromSeconds(100));
        t.StringSet("ttl", "v", TimeSpan.FromSeconds(50));

        var (keys, summary) = await CompareHarness.RunAsync(source, target, new CompareOptions { RecheckDelay = TimeSpan.FromMilliseconds(10) });

        var byKey = CompareHarness.ByKey(keys);
        Assert.Equal(5, keys.Count);
        Assert.Equal(KeyStatus.Missing, byKey["missing"].Status);
        Assert.Equal("string", byKey["missing"].SourceType);
        Assert.Null(byKey["missing"].TargetType);
        Assert.Equal(KeyStatus.Extra, byKey["extra"].Status);
        Assert.Equal(KeyStatus.Type, byKey["type"].Status);
        Assert.Equal("set", byKey["type"].TargetType);
        Assert.Equal(KeyStatus.Value, byKey["hash"].Status);
        Assert.Equal(KeyStatus.Ttl, byKey["ttl"].Status);
        Assert.InRange(byKey["ttl"].SourceTtl!.Value.TotalSeconds, 90, 100);
        Assert.InRange(byKey["ttl"].TargetTtl!.Value.TotalSeconds, 40, 50);
        Assert.Equal(2, summary.Ok);
        Assert.Equal(7, summary.KeysCompared);
        Assert.False(summary.IsEqual);
    }
}
