using System;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>A source behind Sentinel: the master it names, followed through failovers without a new full copy.</summary>
public sealed class SentinelSourceTests
{
    private static SyncOptions Options(RedisSentinels set, RedisServer target, string name = "sentinel") => new SyncOptions
    {
        Name = name,
        Sentinels = set.Endpoints.Select(RedisEndpoint.Parse).ToList(),
        MasterName = RedisSentinels.MasterName,
        Target = RedisEndpoint.Parse(target.Endpoint),
        ReconnectTimeout = TimeSpan.FromSeconds(60),
    };

    private static RedisServer Current(RedisSentinels set) => set.CurrentMasterPort() == set.Master.Port ? set.Master : set.Replica;

    private static Task ReplicaCaughtUpAsync(RedisSentinels set) =>
        SyncHarness.WaitUntilAsync(() => set.Replica.Cli("INFO", "replication").Contains("slave_repl_offset:" + SyncHarness.MasterOffset(set.Master) + "\r"),
            "the replica to have every write");

    private static async Task WaitAppliedAsync(SyncHarness sync, RedisSentinels set)
    {
        await SyncHarness.WaitUntilAsync(() =>
        {
            RedisSync.SyncStatus status = sync.Session.GetStatus();
            return status.Phase == RedisSync.SyncPhase.Streaming && status.AppliedOffset >= SyncHarness.MasterOffset(Current(set));
        }, "the sync to apply what the current master has");
    }

    [Fact]
    public async Task A_Sentinel_failover_is_followed_with_a_partial_resync_and_no_write_is_lost_or_doubled()
    {
        using RedisSentinels set = RedisSentinels.Start();
        using RedisServer target = RedisServer.Start();
        for (int i = 0; i < 100; i++) set.Master.Db().StringSet("before:" + i, i);
        await using var sync = new SyncHarness(Options(set, target));
        await WaitAppliedAsync(sync, set);
        for (int i = 0; i < 500; i++) set.Master.Db().StringIncrement("counter");
        // Replication is asynchronous: a replica promoted before it has every write loses them (and the
        // sync, which has them, then needs a new full copy). Here the replica has them all.
        await ReplicaCaughtUpAsync(set);
        set.Failover();
        RedisServer promoted = Current(set);
        Assert.Equal(set.Replica.Port, promoted.Port);
        for (int i = 0; i < 500; i++) promoted.Db().StringIncrement("counter");
        await WaitAppliedAsync(sync, set);

        Assert.Equal(1000, (long)target.Db().StringGet("counter"));
        SyncHarness.AssertSame(promoted, target);
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        Assert.True(status.FullResyncs == 1, promoted.Cli("INFO", "replication").Replace("\r\n", " ") + " OLD " + set.Master.Cli("INFO", "replication").Replace("\r\n", " ") + $" full {status.FullResyncs}, old master sync_full {SyncHarness.Stat(set.Master, "sync_full")}, new {SyncHarness.Stat(promoted, "sync_full")}, partial_err {SyncHarness.Stat(set.Master, "sync_partial_err")}/{SyncHarness.Stat(promoted, "sync_partial_err")}: " + string.Join(" | ", sync.Warnings.Select(w => w.ErrorId + ": " + w.Message)));
        Assert.True(status.PartialResyncs >= 1, $"partial resyncs: {status.PartialResyncs}");
        Assert.Equal(0, SyncHarness.Stat(promoted, "sync_full"));
        Assert.Contains($"port {promoted.Port}", status.Source.Replace(":", " port "));
    }

    [Fact]
    public async Task RedisSync_is_never_a_failover_candidate_and_a_lost_Sentinel_does_not_stop_it()
    {
        using RedisSentinels set = RedisSentinels.Start();
        using RedisServer target = RedisServer.Start();
        set.Master.Db().StringSet("a", "1");
        await using var sync = new SyncHarness(Options(set, target, "candidate"));
        await WaitAppliedAsync(sync, set);
        // The Sentinels see the sync as a replica that announces no port: they cannot reach it, mark it down,
        // and so never promote it (they learn of it from the master's INFO, every 10 seconds).
        await SyncHarness.WaitUntilAsync(() => set.Replicas().Contains("127.0.0.1:0"), "the Sentinels to list the sync's link", TimeSpan.FromSeconds(30));
        string[] fields = set.Replicas().Split('\n');
        int at = Array.IndexOf(fields, "127.0.0.1:0");
        string flags = fields[Array.IndexOf(fields, "flags", at) + 1];
        Assert.Contains("disconnected", flags);
        await ReplicaCaughtUpAsync(set);

        set.KillSentinel(0);
        set.Failover();
        Assert.Equal(set.Replica.Port, set.CurrentMasterPort());
        Current(set).Db().StringSet("b", "2");
        await WaitAppliedAsync(sync, set);
        Assert.Equal("2", (string?)target.Db().StringGet("b"));
        Assert.Equal(1, sync.Session.GetStatus().FullResyncs);
    }

    [Fact]
    public async Task An_unknown_master_name_fails_before_anything_is_copied()
    {
        using RedisSentinels set = RedisSentinels.Start(sentinels: 1);
        using RedisServer target = RedisServer.Start();
        var options = new SyncOptions
        {
            Name = "unknown",
            Sentinels = set.Endpoints.Select(RedisEndpoint.Parse).ToList(),
            MasterName = "no-such-master",
            Target = RedisEndpoint.Parse(target.Endpoint),
        };
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunModeTests.RunAsync(options));
        Assert.Equal(SyncErrorIds.SourceUnreachable, e.ErrorId);
        Assert.Contains("does not know a master named 'no-such-master'", e.Message);
        Assert.Equal(0, SyncHarness.Stat(set.Master, "sync_full") - 1);
    }
}

/// <summary>The Sentinel source as a scheduled task gives it: a settings file, and Start-RedisSync's request.</summary>
public sealed class SentinelSettingsTests
{
    [Fact]
    public async Task A_settings_file_with_a_sentinel_section_syncs_from_the_master_it_names()
    {
        using RedisSentinels set = RedisSentinels.Start(sentinels: 1, "--requirepass", "master-secret", "--masterauth", "master-secret");
        using RedisServer target = RedisServer.Start();
        set.Master.Client("master-secret").GetDatabase(0).StringSet("from-master", "1");
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "redissync-sentinel-file-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        System.IO.Directory.CreateDirectory(dir);
        try
        {
            string path = System.IO.Path.Combine(dir, "sync.toml");
            System.IO.File.WriteAllText(path,
                "name = \"from-sentinel\"\nmode = \"Full\"\n" +
                $"[sentinel]\naddresses = [\"127.0.0.1:1\", \"{set.Endpoints[0]}\"]\nmaster_name = \"{RedisSentinels.MasterName}\"\n" +
                "[source]\npassword = \"master-secret\"\n" +
                $"[target]\naddress = \"{target.Endpoint}\"\n");
            SyncSettings settings = SyncSettingsFile.Load(path);
            Assert.Equal(RedisSentinels.MasterName, settings.Options.MasterName);
            Assert.Equal(2, settings.Options.Sentinels!.Count);
            Assert.Null(settings.Options.Source);
            RedisSync.SyncStatus done = await RunModeTests.RunAsync(settings.Options);
            Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
            Assert.Equal("1", (string?)target.Db().StringGet("from-master"));
            Assert.DoesNotContain("master-secret", done.Source);
        }
        finally
        {
            System.IO.Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_sentinel_section_without_a_master_name_names_the_missing_setting()
    {
        string path = System.IO.Path.GetTempFileName();
        try
        {
            System.IO.File.WriteAllText(path, "[sentinel]\naddresses = [\"127.0.0.1:26379\"]\n[target]\naddress = \"127.0.0.1:1\"\n");
            SyncException e = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
            Assert.Equal(SyncErrorIds.InvalidConfig, e.ErrorId);
            Assert.Contains("\"sentinel.master_name\" is missing", e.Message);
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }
}
