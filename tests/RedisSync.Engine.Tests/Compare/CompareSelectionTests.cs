using System;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

public sealed class CompareSelectionTests
{
    private static (RedisServer Source, RedisServer Target) Servers()
    {
        RedisServer source = RedisServer.Start();
        RedisServer target = RedisServer.Start();
        foreach (RedisServer server in new[] { source, target })
        {
            IDatabase db0 = server.Db(0);
            for (int i = 0; i < 50; i++)
            {
                db0.StringSet("user:" + i, "u" + i);
                db0.StringSet("order:" + i, "o" + i);
            }
            server.Db(2).StringSet("two", "2");
        }
        source.Db(0).StringSet("user:missing", "x");
        source.Db(0).StringSet("order:missing", "x");
        target.Db(5).StringSet("only-in-target-db5", "x");
        return (source, target);
    }

    [Fact]
    public async Task Every_database_with_keys_on_either_side_is_compared_by_default_and_equal_keys_on_request()
    {
        (RedisServer source, RedisServer target) = Servers();
        using (source)
        using (target)
        {
            var comparer = new DataComparer(CompareHarness.Endpoint(source), CompareHarness.Endpoint(target),
                new CompareOptions { IncludeEqual = true, RecheckDelay = TimeSpan.Zero });
            var keys = new System.Collections.Generic.List<KeyDifference>();
            CompareSummary summary = await comparer.RunAsync(keys.Add);

            Assert.Equal(104, summary.KeysCompared);
            Assert.Equal(101, summary.Ok);
            Assert.Equal(101, keys.Count(k => k.Status == KeyStatus.Ok));
            Assert.Equal(new[] { 0, 2, 5 }, keys.Select(k => k.Database).Distinct().OrderBy(d => d));
            KeyDifference extra = keys.Single(k => k.Status == KeyStatus.Extra);
            Assert.Equal(("only-in-target-db5", 5), (extra.Key, extra.Database));
            Assert.Equal(2, summary.Missing);
            CompareProgress progress = comparer.Progress;
            Assert.Equal(103, progress.SourceKeysTotal);
            Assert.Equal(102, progress.TargetKeysTotal);
            Assert.Equal(100, progress.PercentComplete);
        }
    }

    [Fact]
    public async Task A_pattern_and_a_database_list_narrow_the_compare()
    {
        (RedisServer source, RedisServer target) = Servers();
        using (source)
        using (target)
        {
            var (keys, summary) = await CompareHarness.RunAsync(source, target,
                new CompareOptions { Pattern = "user:*", Databases = new[] { 0, 5 }, RecheckDelay = TimeSpan.Zero });

            KeyDifference only = Assert.Single(keys);
            Assert.Equal(("user:missing", KeyStatus.Missing), (only.Key, only.Status));
            Assert.Equal(51, summary.KeysCompared);
        }
    }
}
