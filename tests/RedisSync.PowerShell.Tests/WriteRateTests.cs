using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>-MaxWriteRate as the target sees it: the commands it executes per second (INFO commandstats).</summary>
public sealed class WriteRateTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MaxWriteRate_holds_the_target_to_that_many_commands_a_second_within_10_percent_and_the_status_says_held_back()
    {
        const long rate = 4000;
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        using var run = new SyncRun(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "limited", MaxWriteRate = rate }.Resolve(out _));
        run.Start();
        Assert.True(SpinWait.SpinUntil(() => run.GetStatus().Phase == SyncPhase.Streaming, Patience), "the sync streams");

        // A backlog of 10 s at the limit.
        IBatch batch = source.Db(0).CreateBatch();
        var writes = Enumerable.Range(0, 40_000).Select(i => batch.StringSetAsync("k:" + i, "v")).ToArray();
        batch.Execute();
        await Task.WhenAll(writes);
        Assert.True(SpinWait.SpinUntil(() => target.Db(0).KeyExists("k:2000"), Patience), "the backlog is being applied");

        long first = TargetCommands(target);
        var clock = Stopwatch.StartNew();
        bool heldBack = false;
        Assert.True(SpinWait.SpinUntil(() =>
        {
            heldBack |= run.GetStatus().HeldBack;
            return TargetCommands(target) - first >= 3 * rate;
        }, Patience));
        double measured = (TargetCommands(target) - first) / clock.Elapsed.TotalSeconds;

        Assert.InRange(measured, rate * 0.9, rate * 1.1);
        Assert.True(heldBack, "the status said the sync was held back");
        Assert.False(target.Db(0).KeyExists("k:39999"), "the backlog was not yet applied: the limit, not the source, set the pace");
        run.Stop();
    }

    /// <summary>Commands the target executed, but not the ones this test's reads cost.</summary>
    private static long TargetCommands(RedisServer target)
    {
        string stats = target.Cli("INFO", "commandstats");
        return Regex.Matches(stats, @"cmdstat_([a-z|]+):calls=(\d+)")
            .Where(m => m.Groups[1].Value is not ("info" or "exists" or "ping" or "client|setname" or "cluster|nodes" or "config|get" or "echo"))
            .Sum(m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
    }
}
