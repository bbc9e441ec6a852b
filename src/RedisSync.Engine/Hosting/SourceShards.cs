using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// Start-RedisSync -Session: the shard tasks a sync of a live source splits into, one per master of a
/// cluster source (named by its slots, as -Shard takes them and as the target keeps their leases and
/// checkpoints), or none for a source that is not a cluster (the sync is then one task).
/// </summary>
public static class SourceShards
{
    /// <summary>
    /// Reads the source's CLUSTER NODES (nothing else is asked of it: no snapshot is forked) and returns
    /// each master's slots in slot order; an empty list when the source is not a cluster.
    /// </summary>
    public static async Task<IReadOnlyList<string>> ListAsync(SyncOptions options, CancellationToken cancellationToken)
    {
        if (options == null) throw new ArgumentNullException(nameof(options));
        RedisEndpoint source = options.Source
            ?? throw HostErrors.InvalidParameter("Session", "shard tasks over sessions read a live source (-Source, or -Sentinel with -MasterName); an RDB file is copied in one process.");
        RespValue reply;
        using (RedisConnection connection = await RedisConnection.ConnectAsync(source, EndpointRole.Source, cancellationToken, TimeSpan.FromSeconds(5)).ConfigureAwait(false))
        {
            reply = await connection.ExecuteAsync(cancellationToken, "CLUSTER", "NODES").ConfigureAwait(false);
        }
        if (reply.IsError) return Array.Empty<string>();
        return ClusterNode.ServingMasters(ClusterNode.Parse(reply.AsString() ?? string.Empty, source.Host)).Select(ShardSelection.IdentityOf).ToList();
    }
}
