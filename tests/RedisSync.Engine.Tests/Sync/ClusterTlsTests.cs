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

/// <summary>
/// Clusters that speak TLS only (clients with mutual TLS, the cluster bus, replication), as managed
/// cluster services do: a cluster source (a replica link per master, each node reached with the sync's
/// TLS settings, its certificate checked against the test CA) and a cluster target (a writer per master).
/// </summary>
public sealed class ClusterTlsTests
{
    private static readonly TestCertificates Certificates = TestCertificates.Shared;

    /// <summary>The address of a node with the test CA trusted and the client certificate shown: the other nodes are reached with the same settings.</summary>
    private static RedisEndpoint Endpoint(RedisServer node) =>
        RedisEndpoint.Parse($"rediss://127.0.0.1:{node.Port}").WithTls(false, new TlsOptions
        {
            CertificateAuthorityPath = Certificates.CaPath,
            ClientCertificatePath = Certificates.ClientCertificate,
            ClientKeyPath = Certificates.ClientKey,
        });

    private static async Task LoadAsync(IDatabase db, int round, int count)
    {
        var pending = new List<Task>();
        for (int i = 0; i < count; i++)
        {
            pending.Add(db.StringSetAsync($"s:{round}:{i}", i));
            pending.Add(db.StringIncrementAsync("counter:" + (i % 17)));
            pending.Add(db.HashSetAsync("h:" + (i % 31), "f" + i, round));
            pending.Add(db.ListRightPushAsync("l:" + (i % 13), i));
        }
        await Task.WhenAll(pending);
    }

    private static void AssertSameContents(IEnumerable<RedisServer> source, IEnumerable<RedisServer> target)
    {
        List<string> expected = ClusterSourceTests.Contents(source);
        List<string> actual = ClusterSourceTests.Contents(target);
        Assert.True(expected.Count > 100, $"only {expected.Count} keys on the source");
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task A_tls_source_is_copied_into_a_tls_cluster_and_followed_exactly_once()
    {
        using RedisServer source = RedisServer.StartTls("server", "yes", "--repl-diskless-sync-delay", "0");
        using RedisCluster target = RedisCluster.StartTls(3);
        await LoadAsync(source.Db(), 0, 400);
        var options = new SyncOptions
        {
            Name = "tls-cluster-target",
            Source = Endpoint(source),
            Target = Endpoint(target.Nodes[0]),
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };
        await using var sync = new SyncHarness(options);
        await sync.WaitCaughtUpAsync(source);
        await LoadAsync(source.Db(), 1, 400);
        source.Db().KeyRename("s:1:7", "renamed:7");
        await sync.WaitCaughtUpAsync(source);

        AssertSameContents(new[] { source }, target.Masters());
        Assert.Equal(800, Enumerable.Range(0, 17).Sum(i => (long)target.Db().StringGet("counter:" + i)));
        IReadOnlyList<RedisSync.TargetNodeStatus> nodes = sync.Session.GetStatus().TargetNodes;
        Assert.Equal(3, nodes.Count);
        Assert.All(nodes, n => Assert.True(n.AcknowledgedCommands > 0, $"{n.Address} acknowledged nothing"));
    }

    [Fact]
    public async Task A_tls_cluster_is_copied_from_every_master_and_followed_exactly_once()
    {
        using RedisCluster source = RedisCluster.StartTls(3);
        using RedisServer target = RedisServer.StartTls("server", "yes");
        await LoadAsync(source.Db(), 0, 400);
        var options = new SyncOptions
        {
            Name = "tls-cluster-source",
            Source = Endpoint(source.Nodes[0]),
            Target = Endpoint(target),
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };
        await using var sync = new SyncHarness(options);
        await SyncHarness.WaitUntilAsync(() => Caught(sync, source), "every shard to apply what its master has", TimeSpan.FromSeconds(60));
        await LoadAsync(source.Db(), 1, 400);
        await SyncHarness.WaitUntilAsync(() => Caught(sync, source), "every shard to apply the writes after the copy", TimeSpan.FromSeconds(60));

        AssertSameContents(source.Masters(), new[] { target });
        Assert.Equal(800, Enumerable.Range(0, 17).Sum(i => (long)target.Db().StringGet("counter:" + i)));
        Assert.Equal(3, sync.Session.GetStatus().Shards.Count);
    }

    private static bool Caught(SyncHarness sync, RedisCluster cluster)
    {
        if (sync.Run.IsCompleted) sync.Run.GetAwaiter().GetResult();
        RedisSync.SyncStatus status = sync.Session.GetStatus();
        if (status.Phase != RedisSync.SyncPhase.Streaming || status.Shards.Count != cluster.Masters().Count) return false;
        foreach (RedisServer master in cluster.Masters())
        {
            long offset = SyncHarness.MasterOffset(master);
            if (!status.Shards.Any(s => s.Source.Contains(":" + master.Port + ")") && s.AppliedOffset >= offset)) return false;
        }
        return true;
    }
}
