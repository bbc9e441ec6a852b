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
/// The status of a sync that runs in another process (a scheduled task, another console), told by
/// what it leaves on the target: its checkpoint (phase, offset, replication id, time of the last
/// batch, source, start) and whether a run holds its lease.
/// </summary>
public static class SyncCheckpointStatus
{
    /// <summary>Reads the checkpoint of sync <paramref name="name"/> from <paramref name="target"/>; CheckpointNotFound when there is none.</summary>
    public static async Task<SyncStatus> ReadAsync(RedisEndpoint target, string name, CancellationToken cancellationToken)
    {
        if (target == null) throw new ArgumentNullException(nameof(target));
        if (string.IsNullOrWhiteSpace(name)) throw HostErrors.InvalidParameter("Name", "the name of the sync is required.");
        using RedisConnection connection = await RedisConnection.ConnectAsync(target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        Checkpoint? checkpoint = await Checkpoint.ReadAsync(connection, name, cancellationToken).ConfigureAwait(false);
        var shards = new List<Checkpoint>();
        if (checkpoint == null)
        {
            // A sync from a cluster source keeps a checkpoint per shard, listed in redissync:shards:<name>.
            RespValue ids = await connection.ExecuteOrThrowAsync(cancellationToken, "SMEMBERS", ReservedKeys.Shards(name)).ConfigureAwait(false);
            foreach (RespValue id in ids.Items)
            {
                RespValue value = await connection.ExecuteOrThrowAsync(cancellationToken, "GET", Checkpoint.Key(name) + ":" + id.AsString()).ConfigureAwait(false);
                if (!value.IsNull) shards.Add(Checkpoint.Parse(name, value.AsString() ?? string.Empty));
            }
        }
        else
        {
            shards.Add(checkpoint);
        }
        // A run holds the sync's lease while it runs (and a killed one for the lease's few seconds).
        RespValue lease = await connection.ExecuteOrThrowAsync(cancellationToken, "EXISTS", ReservedKeys.Lease(name)).ConfigureAwait(false);
        if (shards.Count == 0 && lease.Integer != 0)
        {
            // Started, but nothing committed yet (its first batch of the snapshot is still to come).
            return new SyncStatus { Name = name, Phase = SyncPhase.Connecting, Target = target.ToString(), Timestamp = DateTimeOffset.UtcNow, StartTime = DateTimeOffset.UtcNow, SnapshotBytesTotal = -1 };
        }
        if (shards.Count == 0)
        {
            throw new SyncException(HostErrorIds.CheckpointNotFound, SyncErrorKind.Stop,
                $"The target {target} holds no checkpoint of a sync named '{name}' (key {Checkpoint.Key(name)} in database 0): " +
                "no sync of that name has copied a live source to it, or its checkpoint was deleted.");
        }
        bool streaming = shards.All(c => c.Phase == CheckpointPhase.Streaming);
        SyncPhase phase = lease.Integer == 0 ? SyncPhase.Stopped : streaming ? SyncPhase.Streaming : SyncPhase.LoadingSnapshot;
        Checkpoint first = shards[0];
        long offset = shards.Sum(c => c.Offset);
        return new SyncStatus
        {
            Name = name,
            Phase = phase,
            Mode = first.Mode,
            Source = shards.Count > 1 ? $"{shards.Count} shards of a cluster" : first.Source,
            Target = target.ToString(),
            Timestamp = shards.Min(c => c.Time),
            StartTime = shards.Min(c => c.Started),
            ReplicationId = shards.Count == 1 ? first.ReplicationId : null,
            SourceOffset = offset,
            AppliedOffset = offset,
            LagBytes = null,
            LagMilliseconds = null,
            SnapshotBytesTotal = -1,
            Shards = shards.Select(c => new ShardStatus
            {
                Source = c.Source,
                Phase = lease.Integer == 0 ? SyncPhase.Stopped : c.Phase == CheckpointPhase.Streaming ? SyncPhase.Streaming : SyncPhase.LoadingSnapshot,
                ReplicationId = c.ReplicationId,
                SourceOffset = c.Offset,
                AppliedOffset = c.Offset,
            }).ToList(),
        };
    }
}
