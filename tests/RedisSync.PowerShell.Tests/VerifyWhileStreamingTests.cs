using System;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.PowerShell.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>-Verify while streaming: a difference planted on the target is found and named; lag is not reported as one.</summary>
public sealed class VerifyWhileStreamingTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Verify_finds_a_difference_planted_during_streaming_and_does_not_count_lag_as_one()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        await PopulateAsync(source.Db(0));
        // The burst below makes the target lag while the keys are verified.
        using var run = new SyncRun(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "verify", Verify = 2000 }.Resolve(out _));
        var output = new RecordingOutput();
        run.Start();
        Assert.True(output.DrainUntil(run, () => run.GetStatus().Phase == SyncPhase.Streaming, Patience), "the sync streams");
        target.Db(0).StringSet("key:5", "planted on the target");

        await BurstAsync(source.Db(0));
        Assert.True(output.DrainUntil(run, () => target.Db(0).KeyExists("burst-done") && run.GetStatus().Mismatches >= 1, Patience), "the burst arrived and the mismatch was found");
        long verified = run.GetStatus().KeysVerified;
        Assert.True(output.DrainUntil(run, () => run.GetStatus().KeysVerified >= verified + 600, Patience), "two more passes over the keys");

        SyncStatus status = run.GetStatus();
        Assert.Equal(1, status.Mismatches);
        var warning = Assert.Single(output.Warnings, w => w.ErrorId == "VerifyMismatch");
        Assert.Contains("key:5", warning.Key);
        Assert.Equal("planted on the target", (string?)target.Db(0).StringGet("key:5"));
        run.Stop();
        run.RunToEnd(output);
    }

    [Fact]
    public async Task Verify_under_MaxWriteRate_finds_a_difference_planted_during_streaming()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        await PopulateAsync(source.Db(0));
        using var run = new SyncRun(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "verify-limited", Verify = 2000, MaxWriteRate = 1000 }.Resolve(out _));
        var output = new RecordingOutput();
        run.Start();
        Assert.True(output.DrainUntil(run, () => run.GetStatus().Phase == SyncPhase.Streaming, Patience), "the sync streams");
        target.Db(0).StringSet("key:5", "planted on the target");

        await BurstAsync(source.Db(0));
        Assert.True(output.DrainUntil(run, () => target.Db(0).KeyExists("burst-done"), Patience), "the burst arrived, at the limit's pace");
        Assert.True(output.DrainUntil(run, () => run.GetStatus().Mismatches >= 1, Patience), $"the mismatch was found: {run.GetStatus().KeysVerified} keys verified, applied {run.GetStatus().AppliedOffset}, received {run.GetStatus().SourceOffset}, the source at {source.Cli("INFO", "replication")}, checkpoint {target.Db(0).StringGet("redissync:checkpoint:verify-limited")}");
        Assert.Equal(1, run.GetStatus().Mismatches);
        Assert.Contains(output.Warnings, w => w.ErrorId == "VerifyMismatch" && w.Key!.Contains("key:5"));
        run.Stop();
        run.RunToEnd(output);
    }

    [Fact]
    public async Task RepairMismatches_copies_the_key_that_verification_found_different()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        await PopulateAsync(source.Db(0));
        using var run = new SyncRun(new SyncRequest { Source = source.Endpoint, Target = target.Endpoint, Name = "repair", Verify = 5000, RepairMismatches = true }.Resolve(out _));
        var output = new RecordingOutput();
        run.Start();
        Assert.True(output.DrainUntil(run, () => run.GetStatus().Phase == SyncPhase.Streaming, Patience), "the sync streams");
        target.Db(0).HashSet("hash:7", "f", "planted");

        Assert.True(output.DrainUntil(run, () => target.Db(0).HashGet("hash:7", "f") == "v7", Patience), "the key was repaired");
        Assert.Equal(1, run.GetStatus().Mismatches);
        Assert.Contains(output.Warnings, w => w.ErrorId == "VerifyMismatch" && w.Key!.Contains("hash:7") && w.Message.Contains("copied again"));
        run.Stop();
        run.RunToEnd(output);
    }

    private static async Task PopulateAsync(IDatabase db)
    {
        IBatch batch = db.CreateBatch();
        var writes = Enumerable.Range(0, 250).Select(i => batch.StringSetAsync("key:" + i, "value:" + i))
            .Concat(Enumerable.Range(0, 50).Select(i => batch.HashSetAsync("hash:" + i, "f", "v" + i))).ToArray();
        batch.Execute();
        await Task.WhenAll(writes);
    }

    /// <summary>6,000 writes to the verified keys (not key:5), then a marker.</summary>
    private static async Task BurstAsync(IDatabase db)
    {
        IBatch batch = db.CreateBatch();
        var writes = Enumerable.Range(0, 6000).Select(i => i % 250 == 5 ? batch.StringSetAsync("other:" + i, "x") : batch.StringSetAsync("key:" + (i % 250), "burst:" + i))
            .Append(batch.StringSetAsync("burst-done", "1")).ToArray();
        batch.Execute();
        await Task.WhenAll(writes);
    }
}
