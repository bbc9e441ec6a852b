using System;
using System.Diagnostics;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>How the sync logs in to the source and waits for a source that cannot serve it yet.</summary>
public sealed class SourceAccessTests
{
    [Fact]
    public async Task An_acl_user_with_replication_rights_can_be_the_sync_login()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Cli("ACL", "SETUSER", "replicator", "on", ">s3cret!", "+psync", "+replconf", "+ping", "+info", "+select");
        source.Db().StringSet("k", "v");
        var options = new SyncOptions
        {
            Name = "acl",
            Source = RedisEndpoint.Parse($"redis://replicator:s3cret%21@{source.Endpoint}"),
            Target = RedisEndpoint.Parse(target.Endpoint),
        };
        Assert.DoesNotContain("s3cret", options.Source!.ToString());
        await using var sync = new SyncHarness(options);
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("v", (string?)target.Db().StringGet("k"));
        Assert.Contains("replicator@", sync.Session.GetStatus().Source);
    }

    [Fact]
    public async Task A_source_whose_own_master_is_away_is_asked_again_then_given_up_with_a_clear_error()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        using RedisServer gone = RedisServer.Start();
        int port = gone.Port;
        gone.Kill();
        source.Cli("REPLICAOF", "127.0.0.1", port.ToString());
        var session = new SyncSession(new SyncOptions
        {
            Name = "nomasterlink",
            Source = RedisEndpoint.Parse(source.Endpoint),
            Target = RedisEndpoint.Parse(target.Endpoint),
            ReconnectTimeout = TimeSpan.FromSeconds(2),
        });
        var clock = Stopwatch.StartNew();
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.SourceLoading, error.ErrorId);
        Assert.Contains("NOMASTERLINK", error.Message);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.5), "the source should have been asked again for a while");
    }
}
