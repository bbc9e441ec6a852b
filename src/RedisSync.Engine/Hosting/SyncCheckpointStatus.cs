using System;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Writers;
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
        // On a cluster the checkpoint and the lease are read from the masters that serve them.
        Checkpoint? checkpoint;
        using (RedisConnection connection = await ClusterKeys.ConnectForKeyAsync(target, Checkpoint.Key(name), cancellationToken).ConfigureAwait(false))
        {
            checkpoint = await Checkpoint.ReadAsync(connection, name, cancellationToken).ConfigureAwait(false);
        }
        if (checkpoint == null)
        {
            throw new SyncException(HostErrorIds.CheckpointNotFound, SyncErrorKind.Stop,
                $"The target {target} holds no checkpoint of a sync named '{name}' (key {Checkpoint.Key(name)} in database 0): " +
                "no sync of that name has copied a live source to it, or its checkpoint was deleted.");
        }
        // A run holds the sync's lease while it runs (and a killed one for the lease's few seconds).
        using RedisConnection leaseNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Lease(name), cancellationToken).ConfigureAwait(false);
        RespValue lease = await leaseNode.ExecuteOrThrowAsync(cancellationToken, "EXISTS", ReservedKeys.Lease(name)).ConfigureAwait(false);
        bool streaming = checkpoint.Phase == CheckpointPhase.Streaming;
        SyncPhase phase = lease.Integer == 0 ? SyncPhase.Stopped : streaming ? SyncPhase.Streaming : SyncPhase.LoadingSnapshot;
        return new SyncStatus
        {
            Name = name,
            Phase = phase,
            Mode = checkpoint.Mode,
            Source = checkpoint.Source,
            Target = target.ToString(),
            Timestamp = checkpoint.Time,
            StartTime = checkpoint.Started,
            ReplicationId = checkpoint.ReplicationId,
            SourceOffset = checkpoint.Offset,
            AppliedOffset = checkpoint.Offset,
            LagBytes = null,
            LagMilliseconds = null,
            SnapshotBytesTotal = -1,
        };
    }
}
