using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// Remove-RedisSyncCheckpoint's engine side: deletes a sync's reserved keys on the target (its
/// checkpoint, the checkpoint of every shard of a cluster source, its filter, its lease and a stop request, database 0; on a cluster target also
/// its per-slot checkpoints), so the next run of that name starts with a full copy.
/// A lease that is still held means a sync of that name runs somewhere: refused unless forced.
/// </summary>
public static class CheckpointRemoval
{
    private const int Attempts = 5;

    /// <summary>
    /// Deletes the keys of sync <paramref name="name"/>; returns how many existed (0 when the target
    /// held none). Checking the lease and deleting are one transaction (WATCH), so a sync that takes
    /// the lease meanwhile is not robbed of it.
    /// </summary>
    public static async Task<int> RemoveAsync(RedisEndpoint target, string name, bool force, CancellationToken cancellationToken)
    {
        if (target == null) throw new ArgumentNullException(nameof(target));
        if (string.IsNullOrWhiteSpace(name)) throw HostErrors.InvalidParameter("Name", "the name of the sync is required.");
        string checkpoint = ReservedKeys.Checkpoint(name);
        string lease = ReservedKeys.Lease(name);
        IReadOnlyList<RedisEndpoint>? masters = await ClusterKeys.MastersAsync(target, cancellationToken).ConfigureAwait(false);
        if (masters != null) return await RemoveFromClusterAsync(target, masters, name, force, cancellationToken).ConfigureAwait(false);
        using RedisConnection connection = await RedisConnection.ConnectAsync(target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        await connection.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        for (int attempt = 0; attempt < Attempts; attempt++)
        {
            await connection.ExecuteOrThrowAsync(cancellationToken, "WATCH", lease).ConfigureAwait(false);
            long leaseMs = (await connection.ExecuteOrThrowAsync(cancellationToken, "PTTL", lease).ConfigureAwait(false)).AsInt64();
            if (leaseMs != -2 && !force)
            {
                await connection.ExecuteOrThrowAsync(cancellationToken, "UNWATCH").ConfigureAwait(false);
                throw Held(target, name, lease, leaseMs);
            }
            // A cluster source has a checkpoint per shard, listed in the shards set (watched too).
            string shards = ReservedKeys.Shards(name);
            await connection.ExecuteOrThrowAsync(cancellationToken, "WATCH", shards).ConfigureAwait(false);
            RespValue ids = await connection.ExecuteOrThrowAsync(cancellationToken, "SMEMBERS", shards).ConfigureAwait(false);
            string[] shardIds = ids.Items.Select(i => i.AsString() ?? string.Empty).ToArray();
            var keys = new List<object> { "DEL", checkpoint };
            keys.AddRange(shardIds.Select(id => (object)ReservedKeys.Checkpoint(name, id)));
            // The shard tasks' leases (Start-RedisSync -Shard) are checked and removed with the sync's.
            var shardKeys = new List<object> { "DEL" };
            foreach (string id in shardIds)
            {
                string shardLease = ReservedKeys.Lease(name, id);
                await connection.ExecuteOrThrowAsync(cancellationToken, "WATCH", shardLease).ConfigureAwait(false);
                long shardMs = (await connection.ExecuteOrThrowAsync(cancellationToken, "PTTL", shardLease).ConfigureAwait(false)).AsInt64();
                if (shardMs != -2 && !force)
                {
                    await connection.ExecuteOrThrowAsync(cancellationToken, "UNWATCH").ConfigureAwait(false);
                    throw Held(target, name, shardLease, shardMs);
                }
                shardKeys.Add(shardLease);
                shardKeys.Add(ReservedKeys.Fence(name, id));
                shardKeys.Add(ReservedKeys.Stop(name, id));
            }
            await connection.ExecuteOrThrowAsync(cancellationToken, "MULTI").ConfigureAwait(false);
            await connection.ExecuteOrThrowAsync(cancellationToken, keys.ToArray()).ConfigureAwait(false);
            await connection.ExecuteOrThrowAsync(cancellationToken, "DEL", lease).ConfigureAwait(false);
            if (shardKeys.Count > 1) await connection.ExecuteOrThrowAsync(cancellationToken, shardKeys.ToArray()).ConfigureAwait(false);
            await connection.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Fence(name), shards, ReservedKeys.Stop(name)).ConfigureAwait(false);
            await connection.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Filter(name)).ConfigureAwait(false);
            RespValue done = await connection.ExecuteOrThrowAsync(cancellationToken, "EXEC").ConfigureAwait(false);
            if (done.IsNull) continue;
            return (int)(done.Items[0].AsInt64() + done.Items[1].AsInt64());
        }
        throw new SyncException(HostErrorIds.SyncAlreadyRunning, SyncErrorKind.Stop,
            $"The lease of sync '{name}' on the target {target} ({lease}) changed {Attempts} times while it was being removed: a sync of that name is starting or running. Stop it first (Stop-RedisSync -Name {name}).");
    }

    /// <summary>
    /// On a cluster the keys are in different slots: the lease is checked and deleted in one transaction on
    /// its master, then the checkpoint on its own, then the per-slot checkpoints of a cluster target on every master.
    /// </summary>
    private static async Task<int> RemoveFromClusterAsync(RedisEndpoint target, IReadOnlyList<RedisEndpoint> masters, string name, bool force, CancellationToken cancellationToken)
    {
        string lease = ReservedKeys.Lease(name);
        int removed = 0;
        IReadOnlyList<(string Id, Sync.Checkpoint Checkpoint)> shardCheckpoints = await SyncCheckpointStatus.ReadShardsAsync(target, name, cancellationToken).ConfigureAwait(false);
        foreach ((string id, Sync.Checkpoint _) in shardCheckpoints)
        {
            // A shard task's lease (Start-RedisSync -Shard): a running task keeps its checkpoint, unless -Force.
            string shardLease = ReservedKeys.Lease(name, id);
            using RedisConnection leaseNode = await ClusterKeys.ConnectForKeyAsync(target, shardLease, cancellationToken).ConfigureAwait(false);
            long shardMs = (await leaseNode.ExecuteOrThrowAsync(cancellationToken, "PTTL", shardLease).ConfigureAwait(false)).AsInt64();
            if (shardMs != -2 && !force) throw Held(target, name, shardLease, shardMs);
        }
        using (RedisConnection leaseNode = await ClusterKeys.ConnectForKeyAsync(target, lease, cancellationToken).ConfigureAwait(false))
        {
            for (int attempt = 0; ; attempt++)
            {
                if (attempt == Attempts)
                {
                    throw new SyncException(HostErrorIds.SyncAlreadyRunning, SyncErrorKind.Stop,
                        $"The lease of sync '{name}' on the target {target} ({lease}) changed {Attempts} times while it was being removed: a sync of that name is starting or running. Stop it first (Stop-RedisSync -Name {name}).");
                }
                await leaseNode.ExecuteOrThrowAsync(cancellationToken, "WATCH", lease).ConfigureAwait(false);
                long leaseMs = (await leaseNode.ExecuteOrThrowAsync(cancellationToken, "PTTL", lease).ConfigureAwait(false)).AsInt64();
                if (leaseMs != -2 && !force)
                {
                    await leaseNode.ExecuteOrThrowAsync(cancellationToken, "UNWATCH").ConfigureAwait(false);
                    throw Held(target, name, lease, leaseMs);
                }
                await leaseNode.ExecuteOrThrowAsync(cancellationToken, "MULTI").ConfigureAwait(false);
                await leaseNode.ExecuteOrThrowAsync(cancellationToken, "DEL", lease).ConfigureAwait(false);
                RespValue done = await leaseNode.ExecuteOrThrowAsync(cancellationToken, "EXEC").ConfigureAwait(false);
                if (done.IsNull) continue;
                removed += (int)done.Items[0].AsInt64();
                break;
            }
        }
        using (RedisConnection checkpointNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Checkpoint(name), cancellationToken).ConfigureAwait(false))
        {
            removed += (int)(await checkpointNode.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Checkpoint(name)).ConfigureAwait(false)).AsInt64();
        }
        using (RedisConnection filterNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Filter(name), cancellationToken).ConfigureAwait(false))
        {
            await filterNode.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Filter(name)).ConfigureAwait(false);
        }
        foreach ((string id, Sync.Checkpoint _) in shardCheckpoints)
        {
            using RedisConnection leaseNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Lease(name, id), cancellationToken).ConfigureAwait(false);
            await leaseNode.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Lease(name, id)).ConfigureAwait(false);
            using RedisConnection shardStopNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Stop(name, id), cancellationToken).ConfigureAwait(false);
            await shardStopNode.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Stop(name, id)).ConfigureAwait(false);
        }
        using (RedisConnection stopNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Stop(name), cancellationToken).ConfigureAwait(false))
        {
            await stopNode.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Stop(name)).ConfigureAwait(false);
        }
        // The epoch counters go with the per-slot checkpoints that carry their epochs.
        foreach (string? shard in shardCheckpoints.Select(c => (string?)c.Id).Prepend(null))
        {
            using RedisConnection epochNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Epoch(name, shard), cancellationToken).ConfigureAwait(false);
            await epochNode.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Epoch(name, shard)).ConfigureAwait(false);
        }
        await ClusterKeys.RemoveSlotCheckpointsAsync(masters, ReservedKeys.Checkpoint(name), cancellationToken).ConfigureAwait(false);
        // A cluster source's shards: each shard's checkpoint, its per-slot checkpoints, and the list of them.
        foreach ((string id, Sync.Checkpoint _) in shardCheckpoints)
        {
            string shard = ReservedKeys.Checkpoint(name, id);
            using (RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, shard, cancellationToken).ConfigureAwait(false))
            {
                removed += (int)(await node.ExecuteOrThrowAsync(cancellationToken, "DEL", shard).ConfigureAwait(false)).AsInt64();
            }
            await ClusterKeys.RemoveSlotCheckpointsAsync(masters, shard, cancellationToken).ConfigureAwait(false);
        }
        using (RedisConnection registry = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Shards(name), cancellationToken).ConfigureAwait(false))
        {
            await registry.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Shards(name)).ConfigureAwait(false);
        }
        return removed;
    }

    private static SyncException Held(RedisEndpoint target, string name, string lease, long leaseMs)
    {
        string expiry = leaseMs < 0
            ? "it has no expiry"
            : "it expires in " + Math.Ceiling(leaseMs / 1000.0).ToString(CultureInfo.InvariantCulture) + " s unless its holder renews it";
        return new SyncException(HostErrorIds.SyncAlreadyRunning, SyncErrorKind.Stop,
            $"A sync named '{name}' holds its lease on the target {target} ({lease}; {expiry}): it is running in some process. " +
            $"Stop it first (Stop-RedisSync -Name {name} where it runs), wait until the lease expires, or remove the keys anyway with -Force.");
    }
}
