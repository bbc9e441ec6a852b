using System;
using System.Diagnostics;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

public sealed class CompareRecheckTests
{
    [Fact]
    public async Task A_difference_that_a_concurrent_writer_fixes_right_away_is_not_reported()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db(), t = target.Db();
        for (int i = 0; i < 1000; i++)
        {
            s.StringSet("k" + i, "v" + i);
            t.StringSet("k" + i, "v" + i);
        }
        s.StringSet("in-flight", "new value");
        t.StringSet("in-flight", "old");
        s.HashSet("late", "f", "v");
        t.StringSet("extra-in-flight", "deleted on the target soon");
        s.StringSet("broken", "a");
        t.StringSet("broken", "bb");

        var comparer = new DataComparer(CompareHarness.Endpoint(source), CompareHarness.Endpoint(target),
            new CompareOptions { Mode = CompareMode.Full, RecheckDelay = TimeSpan.FromSeconds(2) });
        var reported = new System.Collections.Generic.List<KeyDifference>();
        Task<CompareSummary> run = comparer.RunAsync(reported.Add);

        // The writer (a sync catching up) fixes three keys once the compare has seen them differ.
        var waited = Stopwatch.StartNew();
        while (comparer.Progress.Rechecking < 4)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "the compare never found the differences");
            Assert.False(run.IsCompleted, "the compare ended before its rechecks");
            await Task.Delay(10);
        }
        t.StringSet("in-flight", "new value");
        t.HashSet("late", "f", "v");
        t.KeyDelete("extra-in-flight");
        CompareSummary summary = await run;

        KeyDifference only = Assert.Single(reported);
        Assert.Equal("broken", only.Key);
        Assert.Equal(KeyStatus.Value, only.Status);
        Assert.Equal(1, summary.Value);
        Assert.Equal(0, summary.Missing);
        Assert.Equal(0, summary.Extra);
        Assert.Equal(1002, summary.Ok);
        Assert.Equal(0, comparer.Progress.Rechecking);
    }
}
