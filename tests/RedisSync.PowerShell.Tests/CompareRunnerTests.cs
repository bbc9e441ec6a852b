using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>The classes behind Compare-RedisData and Repair-RedisData, against real servers.</summary>
public sealed class CompareRunnerTests
{
    [Fact]
    public async System.Threading.Tasks.Task Compare_streams_each_difference_on_the_draining_thread_then_repair_makes_the_servers_equal()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        for (int i = 0; i < 50; i++)
        {
            source.Db(0).StringSet("same:" + i, "v");
            target.Db(0).StringSet("same:" + i, "v");
        }
        source.Db(0).StringSet("missing", "m");
        source.Db(0).StringSet("changed", "new");
        target.Db(0).StringSet("changed", "old!");
        target.Db(0).StringSet("extra", "x");
        var request = new CompareRequest { Source = source.Endpoint, Target = target.Endpoint, Mode = CompareMode.Full, Database = new[] { 0 } };
        var output = new Recorder();

        CompareSummary summary;
        var (sourceEndpoint, targetEndpoint) = request.ResolveServers();
        using (var runner = new CompareRunner(sourceEndpoint, targetEndpoint, request.ResolveOptions()))
        {
            runner.Start();
            summary = runner.RunToEnd(output);
        }

        Assert.Equal(new[] { Environment.CurrentManagedThreadId }, output.Threads.ToArray());
        Assert.Equal(new[] { "changed:Value", "extra:Extra", "missing:Missing" },
            output.Differences.Select(d => d.Key + ":" + d.Status).OrderBy(s => s).ToArray());
        Assert.All(output.Differences, d => Assert.Equal((source.Endpoint, target.Endpoint), (d.Source, d.Target)));
        Assert.Equal((1, 1, 1, 50), (summary.Missing, summary.Extra, summary.Value, summary.Ok));
        Assert.False(summary.IsEqual);
        Assert.True(output.Progress.Last().Completed);
        Assert.Equal(100, output.Progress.Last().PercentComplete);

        using (DataRepairer repairer = await DataRepairer.ConnectAsync(sourceEndpoint, targetEndpoint, new RepairOptions { RemoveExtra = true }))
        {
            foreach (KeyDifference difference in output.Differences) await repairer.RepairAsync(difference);
        }
        Assert.Equal("new", (string?)target.Db(0).StringGet("changed"));
        Assert.Equal("m", (string?)target.Db(0).StringGet("missing"));
        Assert.False(target.Db(0).KeyExists("extra"));

        using var again = new CompareRunner(sourceEndpoint, targetEndpoint, request.ResolveOptions());
        again.Start();
        Assert.True(again.RunToEnd(new Recorder()).IsEqual);
    }

    [Fact]
    public void A_compare_with_an_unreachable_target_fails_with_its_error_id()
    {
        using RedisServer source = RedisServer.Start();
        var request = new CompareRequest { Source = source.Endpoint, Target = "127.0.0.1:1" };
        var (sourceEndpoint, targetEndpoint) = request.ResolveServers();
        using var runner = new CompareRunner(sourceEndpoint, targetEndpoint, request.ResolveOptions());
        runner.Start();

        var error = Assert.Throws<SyncException>(() => runner.RunToEnd(new Recorder()));

        Assert.Equal(SyncErrorIds.TargetUnreachable, error.ErrorId);
        Assert.Equal(HostErrorCategory.ConnectionError, HostErrors.CategoryOf(error.ErrorId));
    }

    [Fact]
    public void Compare_parameters_are_checked_and_named()
    {
        var options = new CompareRequest { Source = "a:1", Target = "b:2", Database = new[] { 3, 1, 3 }, KeyPattern = "user:*", TtlTolerance = TimeSpan.FromSeconds(2), IncludeEqual = true }.ResolveOptions();
        Assert.Equal(new[] { 1, 3 }, options.Databases);
        Assert.Equal("user:*", options.Pattern);
        Assert.Equal(TimeSpan.FromSeconds(2), options.TtlTolerance);
        Assert.Equal(CompareMode.Quick, options.Mode);
        Assert.True(options.IncludeEqual);

        var negative = Assert.Throws<SyncException>(() => new CompareRequest { Database = new[] { -1 } }.ResolveOptions());
        Assert.StartsWith("-Database: ", negative.Message);
        var target = Assert.Throws<SyncException>(() => new CompareRequest { Source = "a:1", Target = "redis://u:pw@:1" }.ResolveServers());
        Assert.Equal(SyncErrorIds.InvalidEndpoint, target.ErrorId);
        Assert.StartsWith("-Target: ", target.Message);
        Assert.DoesNotContain("pw", target.Message.Replace("-Target", ""));
    }

    [Fact]
    public void A_compare_over_tls_without_the_certificate_check_warns_once_per_server_on_the_draining_thread()
    {
        using RedisServer source = RedisServer.StartTls("wrong-host");
        using RedisServer target = RedisServer.StartTls("expired");
        for (int i = 0; i < 20; i++) source.Db(0).StringSet("k:" + i, "v");
        var request = new CompareRequest
        {
            Source = "localhost:" + source.Port,
            Target = "localhost:" + target.Port,
            Tls = new TlsRequest { Tls = true, SkipCertificateCheck = true },
        };
        var (sourceEndpoint, targetEndpoint) = request.ResolveServers();
        var output = new Recorder();

        using (var runner = new CompareRunner(sourceEndpoint, targetEndpoint, request.ResolveOptions()))
        {
            runner.Start();
            Assert.Equal(20, runner.RunToEnd(output).Missing);
        }

        Assert.Equal(new[] { Environment.CurrentManagedThreadId }, output.Threads.ToArray());
        Assert.Equal(2, output.Warnings.Count);
        Assert.Contains(output.Warnings, w => w.Message.Contains($"source localhost:{source.Port} is not checked", StringComparison.Ordinal) && w.Message.Contains("DNS:wrong.example", StringComparison.Ordinal));
        Assert.Contains(output.Warnings, w => w.Message.Contains($"target localhost:{target.Port} is not checked", StringComparison.Ordinal) && w.Message.Contains("expired on", StringComparison.Ordinal));
        Assert.All(output.Differences, d => Assert.Equal(($"rediss://localhost:{source.Port}", $"rediss://localhost:{target.Port}"), (d.Source, d.Target)));
    }

    private sealed class Recorder : ICompareOutput
    {
        public List<KeyDifference> Differences { get; } = new();
        public List<SyncProgress> Progress { get; } = new();
        public List<SyncWarning> Warnings { get; } = new();
        public HashSet<int> Threads { get; } = new();

        public void WriteWarning(SyncWarning warning)
        {
            Threads.Add(Environment.CurrentManagedThreadId);
            Warnings.Add(warning);
        }

        public void WriteDifference(KeyDifference difference)
        {
            Threads.Add(Environment.CurrentManagedThreadId);
            Differences.Add(difference);
        }

        public void WriteProgress(SyncProgress progress)
        {
            Threads.Add(Environment.CurrentManagedThreadId);
            Progress.Add(progress);
        }
    }
}

/// <summary>The addresses a difference carries: enough to connect again, never the password.</summary>
public sealed class CompareAddressTests
{
    [Theory]
    [InlineData("10.0.0.5:6379", "10.0.0.5:6379")]
    [InlineData("redis://10.0.0.5:6379/3", "10.0.0.5:6379")]
    [InlineData("redis://:secret@10.0.0.5:6379", "10.0.0.5:6379")]
    [InlineData("redis://replicator:secret@10.0.0.5:6379", "redis://replicator@10.0.0.5:6379")]
    [InlineData("rediss://replicator:secret@cache.example.net:6380", "rediss://replicator@cache.example.net:6380")]
    public void A_difference_names_its_server_without_the_password(string given, string carried)
    {
        string address = CompareRunner.Address(Engine.Net.RedisEndpoint.Parse(given));

        Assert.Equal(carried, address);
        Assert.Equal(carried, CompareRunner.Address(Engine.Net.RedisEndpoint.Parse(address)));
    }
}

