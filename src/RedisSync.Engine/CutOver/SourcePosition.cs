using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;

namespace RedisSync.Engine.CutOver;

/// <summary>Where one master of the source is in its replication stream: what "caught up" is measured against.</summary>
internal readonly record struct SourcePosition(RedisEndpoint Master, string ReplicationId, long Offset)
{
    /// <summary>The masters of a source given by address: itself, or every master that serves slots when it is a cluster node.</summary>
    public static async Task<IReadOnlyList<RedisEndpoint>> MastersAsync(RedisEndpoint source, CancellationToken cancellationToken)
    {
        ServerInfo info;
        using (RedisConnection connection = await RedisConnection.ConnectAsync(source, EndpointRole.Source, cancellationToken).ConfigureAwait(false))
        {
            info = await connection.GetServerInfoAsync(cancellationToken).ConfigureAwait(false);
        }
        if (!info.IsCluster) return new[] { source };
        IReadOnlyList<ClusterNode> nodes = await ClusterNode.ReadAsync(new[] { source }, cancellationToken).ConfigureAwait(false);
        return nodes.Where(n => n.IsMaster && !n.Failed && n.Slots > 0).OrderBy(n => n.Port).Select(n => n.Endpoint(source)).ToList();
    }

    /// <summary>Reads each master's replication id and <c>master_repl_offset</c> (INFO replication).</summary>
    public static async Task<IReadOnlyList<SourcePosition>> ReadAsync(IReadOnlyList<RedisEndpoint> masters, CancellationToken cancellationToken)
    {
        var positions = new List<SourcePosition>(masters.Count);
        foreach (RedisEndpoint master in masters)
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(master, EndpointRole.Source, cancellationToken).ConfigureAwait(false);
            positions.Add(await ReadAsync(connection, master, cancellationToken).ConfigureAwait(false));
        }
        return positions;
    }

    /// <summary>Reads the position of the master <paramref name="connection"/> is connected to.</summary>
    public static async Task<SourcePosition> ReadAsync(RedisConnection connection, RedisEndpoint master, CancellationToken cancellationToken)
    {
        RespValue reply = await connection.ExecuteOrThrowAsync(cancellationToken, "INFO", "replication").ConfigureAwait(false);
        ServerInfo info = ServerInfo.Parse(reply.AsString() ?? string.Empty);
        info.Fields.TryGetValue("master_replid", out string? replid);
        info.Fields.TryGetValue("master_repl_offset", out string? offsetText);
        long offset = long.TryParse(offsetText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long o) ? o : 0;
        return new SourcePosition(master, replid ?? string.Empty, offset);
    }

    /// <summary>
    /// True when every position is applied: the shard of <paramref name="status"/> with the same replication id
    /// (or, for a source of one shard, that shard) has applied its offset.
    /// </summary>
    public static bool AllApplied(IReadOnlyList<SourcePosition> positions, SyncStatus status) =>
        positions.All(p => Applied(p, status) >= p.Offset);

    /// <summary>The offset applied of the shard that follows <paramref name="position"/>'s master, or -1 when none does.</summary>
    public static long Applied(SourcePosition position, SyncStatus status)
    {
        ShardStatus? shard = status.Shards.FirstOrDefault(s => s.ReplicationId == position.ReplicationId);
        if (shard == null && status.Shards.Count == 1 && status.Shards[0].ReplicationId == null) shard = status.Shards[0];
        return shard?.AppliedOffset ?? -1;
    }
}
