using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

/// <summary>
/// RedisSync's own keys on a target that may be a cluster, for the hosts that read or remove them
/// outside a sync (Get-RedisSyncStatus, Remove-RedisSyncCheckpoint): the node that serves a key, and
/// every master.
/// </summary>
internal static class ClusterKeys
{
    /// <summary>A connection to the node that serves <paramref name="key"/>: <paramref name="target"/> itself unless it is a node of a cluster that serves it elsewhere.</summary>
    public static async Task<RedisConnection> ConnectForKeyAsync(RedisEndpoint target, string key, CancellationToken ct)
    {
        RedisConnection connection = await RedisConnection.ConnectAsync(target, EndpointRole.Target, ct).ConfigureAwait(false);
        try
        {
            IReadOnlyList<(int From, int To, RedisEndpoint Master)>? map = await SlotMapAsync(connection, target, ct).ConfigureAwait(false);
            if (map == null) return connection;
            int slot = ClusterSlots.Of(Encoding.UTF8.GetBytes(key));
            foreach ((int from, int to, RedisEndpoint master) in map)
            {
                if (slot < from || slot > to) continue;
                if (master.Host == target.Host && master.Port == target.Port) break;
                connection.Dispose();
                return await RedisConnection.ConnectAsync(master, EndpointRole.Target, ct).ConfigureAwait(false);
            }
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Every master of the cluster <paramref name="target"/> belongs to, or null when it is not a node of a cluster.</summary>
    public static async Task<IReadOnlyList<RedisEndpoint>?> MastersAsync(RedisEndpoint target, CancellationToken ct)
    {
        using RedisConnection connection = await RedisConnection.ConnectAsync(target, EndpointRole.Target, ct).ConfigureAwait(false);
        IReadOnlyList<(int From, int To, RedisEndpoint Master)>? map = await SlotMapAsync(connection, target, ct).ConfigureAwait(false);
        return map?.Select(r => r.Master).GroupBy(m => m.Host + ":" + m.Port).Select(g => g.First()).ToList();
    }

    /// <summary>Deletes the per-slot checkpoints of the checkpoint key <paramref name="checkpointKey"/> on every master (one key per slot it wrote); returns how many there were.</summary>
    public static async Task<int> RemoveSlotCheckpointsAsync(IEnumerable<RedisEndpoint> masters, string checkpointKey, CancellationToken ct)
    {
        int removed = 0;
        string pattern = checkpointKey + ":{*}";
        foreach (RedisEndpoint master in masters)
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(master, EndpointRole.Target, ct).ConfigureAwait(false);
            string cursor = "0";
            do
            {
                RespValue page = await connection.ExecuteOrThrowAsync(ct, "SCAN", cursor, "MATCH", pattern, "COUNT", 1000).ConfigureAwait(false);
                cursor = page.Items[0].AsString() ?? "0";
                // One DEL per key (each in its own slot), a page of them pipelined: a cluster target's sync stamps every slot.
                foreach (RespValue key in page.Items[1].Items) RespFormatter.WriteCommand(connection.Output, "DEL", key.Bytes!);
                await connection.Output.FlushAsync(ct).ConfigureAwait(false);
                foreach (RespValue _ in page.Items[1].Items)
                {
                    RespValue deleted = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                    if (!deleted.IsError) removed += (int)deleted.Integer;
                }
            }
            while (cursor != "0");
        }
        return removed;
    }

    /// <summary>The slot ranges of the cluster <paramref name="target"/> belongs to, each with its master, or null when it is not a node of a cluster.</summary>
    public static async Task<IReadOnlyList<(int From, int To, RedisEndpoint Master)>?> SlotRangesAsync(RedisEndpoint target, CancellationToken ct)
    {
        using RedisConnection connection = await RedisConnection.ConnectAsync(target, EndpointRole.Target, ct).ConfigureAwait(false);
        return await SlotMapAsync(connection, target, ct).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<(int From, int To, RedisEndpoint Master)>?> SlotMapAsync(RedisConnection connection, RedisEndpoint login, CancellationToken ct)
    {
        if (!await ClusterTarget.IsClusterAsync(connection, ct).ConfigureAwait(false)) return null;
        return (await SlotMap.ReadAsync(connection, login, ct).ConfigureAwait(false)).Ranges;
    }
}
