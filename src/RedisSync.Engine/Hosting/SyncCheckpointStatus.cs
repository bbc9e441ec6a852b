using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

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
        // On a cluster target the checkpoint, the lease and the filter are read from the masters that serve them.
        using RedisConnection connection = await ClusterKeys.ConnectForKeyAsync(target, Checkpoint.Key(name), cancellationToken).ConfigureAwait(false);
        using RedisConnection leaseNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Lease(name), cancellationToken).ConfigureAwait(false);
        Checkpoint? checkpoint = await Checkpoint.ReadAsync(connection, name, cancellationToken).ConfigureAwait(false);
        IReadOnlyList<(string Id, Checkpoint Checkpoint)> shards = checkpoint == null
            ? await ReadShardsAsync(target, name, cancellationToken).ConfigureAwait(false)
            : Array.Empty<(string, Checkpoint)>();
        if (checkpoint == null && shards.Count == 0)
        {
            RespValue held = await leaseNode.ExecuteOrThrowAsync(cancellationToken, "EXISTS", ReservedKeys.Lease(name)).ConfigureAwait(false);
            if (held.Integer != 0)
            {
                // Started, but nothing committed yet (its first batch of the snapshot is still to come).
                return new SyncStatus { Name = name, Phase = SyncPhase.Connecting, Target = target.ToString(), Timestamp = DateTimeOffset.UtcNow, StartTime = DateTimeOffset.UtcNow, SnapshotBytesTotal = -1 };
            }
            throw new SyncException(HostErrorIds.CheckpointNotFound, SyncErrorKind.Stop,
                $"The target {target} holds no checkpoint of a sync named '{name}' (key {Checkpoint.Key(name)} in database 0, nor a checkpoint per shard listed in {ReservedKeys.Shards(name)}): " +
                "no sync of that name has copied a live source to it, or its checkpoint was deleted.");
        }
        // A run holds the sync's lease while it runs (and a killed one for the lease's few seconds).
        RespValue lease = await leaseNode.ExecuteOrThrowAsync(cancellationToken, "EXISTS", ReservedKeys.Lease(name)).ConfigureAwait(false);
        bool running = lease.Integer != 0;
        using RedisConnection filterNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Filter(name), cancellationToken).ConfigureAwait(false);
        SyncFilter? filter = await FilterRecord.ReadAsync(filterNode, name, cancellationToken).ConfigureAwait(false);
        var renames = await FilterRecord.ReadRenamesAsync(filterNode, name, cancellationToken).ConfigureAwait(false);
        if (checkpoint != null)
        {
            SyncPhase phase = PhaseOf(checkpoint, running);
            return new SyncStatus
            {
                Name = name,
                Phase = phase,
                Mode = checkpoint.Mode,
                Source = checkpoint.Source,
                Target = target.ToString(),
                Filter = SyncSession.Describe(filter, renames),
                Timestamp = checkpoint.Time,
                StartTime = checkpoint.Started,
                ReplicationId = checkpoint.ReplicationId,
                SourceOffset = checkpoint.Offset,
                AppliedOffset = checkpoint.Offset,
                LagBytes = null,
                LagMilliseconds = null,
                SnapshotBytesTotal = -1,
                Shards = new[] { Row(checkpoint.Source, checkpoint, phase) },
                TargetNodes = await ReadTargetNodesAsync(target, new[] { Checkpoint.Key(name) }, cancellationToken).ConfigureAwait(false),
            };
        }
        // A cluster source: a checkpoint per shard of the source, each committed with its shard's data; a shard
        // runs while the whole sync's lease is held, or its own (a shard task, Start-RedisSync -Shard).
        var rows = new List<ShardStatus>();
        foreach ((string id, Checkpoint shardCheckpoint) in shards)
        {
            bool shardRuns = running;
            if (!shardRuns)
            {
                using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Lease(name, id), cancellationToken).ConfigureAwait(false);
                shardRuns = (await node.ExecuteOrThrowAsync(cancellationToken, "EXISTS", ReservedKeys.Lease(name, id)).ConfigureAwait(false)).Integer != 0;
            }
            rows.Add(Row("shard " + id, shardCheckpoint, PhaseOf(shardCheckpoint, shardRuns)));
        }
        Checkpoint firstShard = shards[0].Checkpoint;
        return new SyncStatus
        {
            Name = name,
            Phase = rows.All(r => r.Phase == SyncPhase.Stopped) ? SyncPhase.Stopped
                : rows.Any(r => r.Phase == SyncPhase.LoadingSnapshot) ? SyncPhase.LoadingSnapshot : SyncPhase.Streaming,
            Mode = firstShard.Mode,
            Source = $"{shards.Count} shards of a source cluster",
            Target = target.ToString(),
            Filter = SyncSession.Describe(filter, renames),
            Timestamp = shards.Max(s => s.Checkpoint.Time),
            StartTime = shards.Min(s => s.Checkpoint.Started),
            ReplicationId = null,
            SourceOffset = shards.Sum(s => s.Checkpoint.Offset),
            AppliedOffset = shards.Sum(s => s.Checkpoint.Offset),
            LagBytes = null,
            LagMilliseconds = null,
            SnapshotBytesTotal = -1,
            Shards = rows.ToArray(),
            TargetNodes = await ReadTargetNodesAsync(target, shards.Select(s => ReservedKeys.Checkpoint(name, s.Id)).ToList(), cancellationToken).ConfigureAwait(false),
        };
    }

    /// <summary>
    /// A cluster target's masters as the target tells them: the slots each serves, and the newest stream offset its slots'
    /// checkpoints record (summed over a cluster source's shards, like the status's offsets); the run's counters stay 0.
    /// Empty when the target is not a cluster.
    /// </summary>
    private static async Task<TargetNodeStatus[]> ReadTargetNodesAsync(RedisEndpoint target, IReadOnlyList<string> checkpointKeys, CancellationToken cancellationToken)
    {
        IReadOnlyList<(int From, int To, RedisEndpoint Master)>? ranges = await ClusterKeys.SlotRangesAsync(target, cancellationToken).ConfigureAwait(false);
        if (ranges == null) return Array.Empty<TargetNodeStatus>();
        var rows = new List<TargetNodeStatus>();
        foreach (IGrouping<string, (int From, int To, RedisEndpoint Master)> master in ranges.GroupBy(r => r.Master.ToString()).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int[] slots = master.SelectMany(r => Enumerable.Range(r.From, r.To - r.From + 1)).ToArray();
            using RedisConnection connection = await RedisConnection.ConnectAsync(master.First().Master, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
            long? offset = null;
            foreach (string key in checkpointKeys)
            {
                // Each slot's checkpoint on the master that serves the slot, pipelined.
                foreach (int s in slots) RespFormatter.WriteCommand(connection.Output, "GET", key + ":{" + ClusterSlots.Tag(s) + "}");
                await connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                long newest = -1;
                foreach (int _ in slots)
                {
                    RespValue value = await connection.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                    if (!value.IsError && !value.IsNull) newest = Math.Max(newest, SlotFence.OffsetOf(value.AsString()));
                }
                if (newest >= 0) offset = (offset ?? 0) + newest;
            }
            rows.Add(new TargetNodeStatus { Address = master.Key, Slots = slots.Length, AcknowledgedOffset = offset });
        }
        return rows.ToArray();
    }

    /// <summary>The checkpoints of a cluster source's shards (listed in <c>redissync:shards:&lt;name&gt;</c>), by shard id.</summary>
    internal static async Task<IReadOnlyList<(string Id, Checkpoint Checkpoint)>> ReadShardsAsync(RedisEndpoint target, string name, CancellationToken cancellationToken)
    {
        RespValue ids;
        // Each key is read where it is served (on a cluster target, the masters of their slots).
        using (RedisConnection registry = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Shards(name), cancellationToken).ConfigureAwait(false))
        {
            ids = await registry.ExecuteOrThrowAsync(cancellationToken, "SMEMBERS", ReservedKeys.Shards(name)).ConfigureAwait(false);
        }
        var found = new List<(string, Checkpoint)>();
        foreach (string id in ids.Items.Select(i => i.AsString() ?? string.Empty).OrderBy(i => i, StringComparer.Ordinal))
        {
            string key = ReservedKeys.Checkpoint(name, id);
            using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, key, cancellationToken).ConfigureAwait(false);
            RespValue value = await node.ExecuteOrThrowAsync(cancellationToken, "GET", key).ConfigureAwait(false);
            if (!value.IsNull) found.Add((id, Checkpoint.Parse(name, value.AsString() ?? string.Empty)));
        }
        return found;
    }

    private static SyncPhase PhaseOf(Checkpoint checkpoint, bool running) =>
        !running ? SyncPhase.Stopped : checkpoint.Phase == CheckpointPhase.Streaming ? SyncPhase.Streaming : SyncPhase.LoadingSnapshot;

    private static ShardStatus Row(string source, Checkpoint checkpoint, SyncPhase phase) => new ShardStatus
    {
        Source = source,
        Phase = phase,
        ReplicationId = checkpoint.ReplicationId,
        SourceOffset = checkpoint.Offset,
        AppliedOffset = checkpoint.Offset,
    };
}
