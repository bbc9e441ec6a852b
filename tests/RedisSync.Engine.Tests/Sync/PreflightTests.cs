using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>Mistakes a check can catch are caught before the source forks a snapshot: its sync_full stays where it was.</summary>
public sealed class PreflightTests
{
    private static async Task<SyncException> FailsBeforeTheSourceForksAsync(RedisServer source, SyncOptions options)
    {
        long before = SyncHarness.Stat(source, "sync_full");
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunModeTests.RunAsync(options));
        Assert.Equal(before, SyncHarness.Stat(source, "sync_full"));
        Assert.Equal(SyncErrorKind.Stop, e.Kind);
        return e;
    }

    [Fact]
    public async Task A_replica_as_the_target_fails_as_TargetReadOnly_naming_its_primary()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer primary = RedisServer.Start();
        using RedisServer target = RedisServer.Start("--replicaof", "127.0.0.1", primary.Port.ToString());
        source.Db().StringSet("a", "1");
        SyncException e = await FailsBeforeTheSourceForksAsync(source, RunModeTests.Options(source, target, RedisSync.SyncMode.FullAndIncremental));
        Assert.Equal(SyncErrorIds.TargetReadOnly, e.ErrorId);
        Assert.Contains($"is a replica of 127.0.0.1:{primary.Port}", e.Message);
        Assert.Contains("Nothing was asked of the source", e.Message);
    }

    [Fact]
    public async Task A_target_that_waits_for_replicas_fails_before_the_source_forks()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start("--min-replicas-to-write", "1");
        source.Db().StringSet("a", "1");
        SyncException e = await FailsBeforeTheSourceForksAsync(source, RunModeTests.Options(source, target, RedisSync.SyncMode.Full));
        Assert.Equal(SyncErrorIds.TargetReadOnly, e.ErrorId);
        Assert.Contains("min-replicas-to-write", e.Message);
    }

    [Fact]
    public async Task A_database_map_to_a_database_the_target_lacks_fails_naming_the_map()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("a", "1");
        SyncException e = await FailsBeforeTheSourceForksAsync(source,
            RunModeTests.Options(source, target, RedisSync.SyncMode.Full, map: new Dictionary<int, int> { [0] = 99 }));
        Assert.Equal(SyncErrorIds.TargetDatabaseMissing, e.ErrorId);
        Assert.Equal($"-DatabaseMap @{{ 0 = 99 }} sends the source's database 0 to database 99, but the target 127.0.0.1:{target.Port} has databases 0 to 15. " +
            "Map database 0 to one of them, for example -DatabaseMap @{ 0 = 0 } (database_map in a settings file). Nothing was written.", e.Message);
        Assert.Equal(0, (long)target.Db().Execute("DBSIZE"));
    }

    [Fact]
    public async Task A_source_database_beyond_the_targets_fails_before_the_source_forks()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start("--databases", "4");
        source.Db(0).StringSet("a", "1");
        source.Db(9).StringSet("b", "2");
        SyncException e = await FailsBeforeTheSourceForksAsync(source, RunModeTests.Options(source, target, RedisSync.SyncMode.Full));
        Assert.Equal(SyncErrorIds.TargetDatabaseMissing, e.ErrorId);
        Assert.StartsWith("The source's database 9 keeps its number (-DatabaseMap does not name it), but the target", e.Message);
        Assert.Contains("has databases 0 to 3", e.Message);
    }

    [Fact]
    public async Task A_source_that_wants_a_password_fails_as_SourceAuthFailed_with_a_hint()
    {
        using RedisServer source = RedisServer.Start("--requirepass", "s3cret-pass");
        using RedisServer target = RedisServer.Start();
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunModeTests.RunAsync(RunModeTests.Options(source, target, RedisSync.SyncMode.Full)));
        Assert.Equal(SyncErrorIds.SourceAuthFailed, e.ErrorId);
        Assert.Contains("requires a login", e.Message);
        Assert.Contains("-SourceCredential", e.Message);
        Assert.Equal("0", source.Cli("-a", "s3cret-pass", "--no-auth-warning", "INFO", "stats").Split('\n').First(l => l.StartsWith("sync_full:")).Substring(10).Trim());
        Assert.False(target.Db().KeyExists(ReservedKeys.Lease("modes")));
    }

    [Fact]
    public async Task A_wrong_source_password_fails_as_SourceAuthFailed_without_showing_it()
    {
        using RedisServer source = RedisServer.Start("--requirepass", "right-one");
        using RedisServer target = RedisServer.Start();
        SyncOptions options = RunModeTests.Options(source, target, RedisSync.SyncMode.Full);
        options = new SyncOptions { Name = options.Name, Target = options.Target, Mode = options.Mode, Source = RedisEndpoint.Parse($"redis://default:wrong-one@{source.Endpoint}") };
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunModeTests.RunAsync(options));
        Assert.Equal(SyncErrorIds.SourceAuthFailed, e.ErrorId);
        Assert.Contains("-SourceCredential", e.Message);
        Assert.DoesNotContain("wrong-one", e.Message);
    }

    [Fact]
    public async Task A_source_whose_data_may_not_fit_the_target_is_warned_about_before_the_copy()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start("--maxmemory", "3mb", "--maxmemory-policy", "allkeys-lru");
        source.Db().ScriptEvaluate("for i = 1, 20000 do redis.call('SET', 'k' .. i, string.rep('x', 200)) end");
        using var session = new SyncSession(RunModeTests.Options(source, target, RedisSync.SyncMode.Full));
        var warnings = new List<SyncWarning>();
        session.Warning += w => { lock (warnings) warnings.Add(w); };
        await session.RunAsync().WaitAsync(TimeSpan.FromSeconds(60));
        SyncWarning warning = Assert.Single(warnings, w => w.ErrorId == "TargetMayNotFit");
        Assert.Contains("maxmemory of 3.0 MB (policy allkeys-lru)", warning.Message);
    }

    [Fact]
    public async Task An_RDB_file_mapped_to_a_database_the_target_lacks_writes_nothing()
    {
        using RedisServer target = RedisServer.Start();
        target.Db(3).StringSet("planted", "before");
        var options = new SyncOptions
        {
            Name = "file",
            RdbPath = Fixtures.RdbPath("debian-redis-7.0.15"),
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = RedisSync.SyncMode.Full,
            DatabaseMap = new Dictionary<int, int> { [0] = 3, [1] = 99 },
        };
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => RunModeTests.RunAsync(options));
        Assert.Equal(SyncErrorIds.TargetDatabaseMissing, e.ErrorId);
        Assert.StartsWith("-DatabaseMap @{ 0 = 3; 1 = 99 } sends the source's database 1 to database 99", e.Message);
        for (int db = 0; db < 16; db++) Assert.Equal(db == 3 ? 1L : 0L, (long)target.Db(db).Execute("DBSIZE"));
    }
}
