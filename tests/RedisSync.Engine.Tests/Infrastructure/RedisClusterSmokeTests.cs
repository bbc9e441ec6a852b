using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using StackExchange.Redis;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>A live cluster works: the infrastructure the cluster tests stand on.</summary>
public sealed class RedisClusterSmokeTests
{
    [Xunit.Fact]
    public void A_three_master_cluster_with_replicas_starts_serves_keys_and_fails_over()
    {
        using RedisCluster cluster = RedisCluster.Start(masters: 3, replicasPerMaster: 1);
        Xunit.Assert.Equal(3, cluster.Masters().Count);
        Xunit.Assert.Equal(3, cluster.Replicas().Count);
        IDatabase db = cluster.Db();
        for (int i = 0; i < 300; i++) db.StringSet("k" + i, i);
        Xunit.Assert.Equal(300, cluster.Keys().Count);
        RedisServer owner = cluster.MasterOf("k1");
        RedisServer replica = cluster.Replicas().First(r => r.Cli("ROLE").Contains(owner.Port.ToString()));
        cluster.Failover(replica);
        Xunit.Assert.Equal(replica.Port, cluster.MasterOf("k1").Port);
        Xunit.Assert.Equal(1, (int)cluster.Db().StringGet("k1"));
    }
}
