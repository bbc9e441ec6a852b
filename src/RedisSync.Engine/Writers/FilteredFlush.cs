using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Writers;

/// <summary>
/// A FLUSHDB of a filtered sync on the target: the writer drained, then each master's database SCANned and
/// the keys the sync owns UNLINKed in bounded rounds, on a connection of its own, while the stream waits.
/// </summary>
/// <remarks>
/// Exactly once across a restart: the drain makes the target acknowledge every batch before the flush, and the
/// flush's own offset is committed only by the writer's next batch, after this returns (the deletions all
/// answered). A run that dies in between resumes before the flush and deletes again; that is harmless, because
/// the deletions are idempotent for what the sync owns: the second pass finds the same kept keys gone, and no
/// later write of the stream was applied in between (the writer's batches commit with their checkpoint).
/// </remarks>
internal sealed class FilteredFlush : IKeyFlush
{
    /// <summary>Keys per SCAN page, and at most per UNLINK.</summary>
    private const int Round = 500;

    private readonly ITarget _writer;
    private readonly RedisEndpoint _target;
    private readonly TimeSpan _reconnectTimeout;

    /// <param name="writer">The stream's writer, drained before the deletions.</param>
    /// <param name="target">The target as the user gave it (a node of a cluster: every master is flushed).</param>
    /// <param name="reconnectTimeout">How long a lost link to the target is tried again (the pass starts over: it is idempotent).</param>
    public FilteredFlush(ITarget writer, RedisEndpoint target, TimeSpan reconnectTimeout)
    {
        _writer = writer;
        _target = target;
        _reconnectTimeout = reconnectTimeout;
    }

    /// <summary>What stops a flush under way (the stream's cancellation).</summary>
    public CancellationToken Cancellation { get; set; }

    /// <inheritdoc/>
    public void DeleteOwned(int targetDb, string? match, bool needsType, Func<byte[], RedisType, bool> owns) =>
        DeleteOwnedAsync(targetDb, match, needsType, owns, Cancellation).GetAwaiter().GetResult();

    private async Task DeleteOwnedAsync(int targetDb, string? match, bool needsType, Func<byte[], RedisType, bool> owns, CancellationToken ct)
    {
        await _writer.DrainAsync(ct).ConfigureAwait(false);
        DateTime deadline = DateTime.UtcNow + _reconnectTimeout;
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            try
            {
                await DeleteOnMastersAsync(targetDb, match, needsType, owns, ct).ConfigureAwait(false);
                return;
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry && DateTime.UtcNow < deadline && !ct.IsCancellationRequested)
            {
                await Task.Delay(backoff, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }

    private async Task DeleteOnMastersAsync(int targetDb, string? match, bool needsType, Func<byte[], RedisType, bool> owns, CancellationToken ct)
    {
        bool cluster = _writer is ClusterTarget;
        IReadOnlyList<RedisEndpoint> masters = cluster ? await ClusterKeys.MastersAsync(_target, ct).ConfigureAwait(false) ?? new[] { _target } : new[] { _target };
        foreach (RedisEndpoint master in masters)
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(master, EndpointRole.Target, ct).ConfigureAwait(false);
            // The lease lives where the connection starts (the target's database as the user gave it); a cluster's
            // lease is on one master only, so its deletions are not fenced (its batches are, by the epoch in each slot's checkpoint: SlotFence).
            Fence? fence = !cluster && _writer.Lease is LeaseGuard lease ? new Fence(lease, master.Database ?? 0, targetDb) : null;
            if (!cluster) await connection.ExecuteOrThrowAsync(ct, "SELECT", targetDb).ConfigureAwait(false);
            await DeleteOnAsync(connection, match, needsType, owns, cluster, fence, ct).ConfigureAwait(false);
        }
    }

    private sealed record Fence(LeaseGuard Lease, int LeaseDb, int TargetDb);

    private async Task DeleteOnAsync(RedisConnection connection, string? match, bool needsType, Func<byte[], RedisType, bool> owns, bool cluster, Fence? fence, CancellationToken ct)
    {
        var owned = new List<byte[]>();
        string cursor = "0";
        do
        {
            RespValue page = match == null
                ? await connection.ExecuteOrThrowAsync(ct, "SCAN", cursor, "COUNT", Round).ConfigureAwait(false)
                : await connection.ExecuteOrThrowAsync(ct, "SCAN", cursor, "MATCH", match, "COUNT", Round).ConfigureAwait(false);
            if (page.Items.Length != 2)
            {
                throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop, $"SCAN on the target {connection.Endpoint} returned an invalid reply.") { Command = "SCAN" };
            }
            cursor = page.Items[0].AsString() ?? "0";
            var keys = new List<byte[]>();
            foreach (RespValue key in page.Items[1].Items)
            {
                if (key.Bytes != null && !ReservedKeys.IsReserved(key.Bytes)) keys.Add(key.Bytes);
            }
            IReadOnlyList<RedisType> types = needsType ? await TypesAsync(connection, keys, ct).ConfigureAwait(false) : Array.Empty<RedisType>();
            owned.Clear();
            for (int i = 0; i < keys.Count; i++)
            {
                RedisType type = needsType ? types[i] : RedisType.None;
                if (needsType && type == RedisType.None) continue; // gone meanwhile
                if (owns(keys[i], type)) owned.Add(keys[i]);
            }
            if (owned.Count == 0) continue;
            if (fence != null) await UnlinkFencedAsync(connection, owned, fence, ct).ConfigureAwait(false);
            else await UnlinkAsync(connection, owned, cluster, ct).ConfigureAwait(false);
        }
        while (cursor != "0");
    }

    private static async Task<IReadOnlyList<RedisType>> TypesAsync(RedisConnection connection, List<byte[]> keys, CancellationToken ct)
    {
        foreach (byte[] key in keys) RespFormatter.WriteCommand(connection.Output, "TYPE", key);
        await connection.Output.FlushAsync(ct).ConfigureAwait(false);
        var types = new RedisType[keys.Count];
        for (int i = 0; i < keys.Count; i++)
        {
            RespValue reply = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
            types[i] = reply.IsError ? RedisType.None : KeyFilter.TypeNamed(reply.AsString());
        }
        return types;
    }

    /// <summary>
    /// One UNLINK of the page's keys, only while the sync's lease is still this run's: WATCH the lease, read it,
    /// then UNLINK in MULTI; a renewal in between (the writer's heartbeat) aborts the EXEC, and the round is tried again.
    /// </summary>
    private async Task UnlinkFencedAsync(RedisConnection connection, List<byte[]> keys, Fence fence, CancellationToken ct)
    {
        var unlink = new object[keys.Count + 1];
        unlink[0] = "UNLINK";
        for (int i = 0; i < keys.Count; i++) unlink[i + 1] = keys[i];
        while (true)
        {
            if (fence.LeaseDb != fence.TargetDb) await connection.ExecuteOrThrowAsync(ct, "SELECT", fence.LeaseDb).ConfigureAwait(false);
            await connection.ExecuteOrThrowAsync(ct, "WATCH", fence.Lease.Key).ConfigureAwait(false);
            RespValue holder = await connection.ExecuteOrThrowAsync(ct, "GET", fence.Lease.Key).ConfigureAwait(false);
            if (fence.LeaseDb != fence.TargetDb) await connection.ExecuteOrThrowAsync(ct, "SELECT", fence.TargetDb).ConfigureAwait(false);
            if (holder.IsNull || !holder.Bytes!.AsSpan().SequenceEqual(fence.Lease.Value))
            {
                await connection.ExecuteAsync(ct, "UNWATCH").ConfigureAwait(false);
                throw new SyncException(SyncErrorIds.LeaseLost, SyncErrorKind.Stop,
                    $"The sync's lease on the target {connection.Endpoint} is no longer this run's (another run took it, or it expired): the deletions of a filtered FLUSHDB or FLUSHALL stopped. " +
                    "The run that holds the lease applies the flush again from its checkpoint.");
            }
            await connection.ExecuteOrThrowAsync(ct, "MULTI").ConfigureAwait(false);
            await connection.ExecuteOrThrowAsync(ct, unlink).ConfigureAwait(false);
            RespValue exec = await connection.ExecuteOrThrowAsync(ct, "EXEC").ConfigureAwait(false);
            if (exec.IsNull) continue;
            if (exec.Items.Length != 1 || exec.Items[0].IsError)
            {
                throw new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                    $"UNLINK on the target {connection.Endpoint}, deleting the keys a filtered FLUSHDB or FLUSHALL of the source removes, failed: {exec}") { Command = "UNLINK" };
            }
            return;
        }
    }

    /// <summary>One UNLINK of the page's keys; on a cluster node one per key (its keys are of many slots).</summary>
    private async Task UnlinkAsync(RedisConnection connection, List<byte[]> keys, bool cluster, CancellationToken ct)
    {
        int commands;
        if (cluster)
        {
            foreach (byte[] key in keys) RespFormatter.WriteCommand(connection.Output, "UNLINK", key);
            commands = keys.Count;
        }
        else
        {
            var args = new object[keys.Count + 1];
            args[0] = "UNLINK";
            for (int i = 0; i < keys.Count; i++) args[i + 1] = keys[i];
            RespFormatter.WriteCommand(connection.Output, args);
            commands = 1;
        }
        await connection.Output.FlushAsync(ct).ConfigureAwait(false);
        for (int i = 0; i < commands; i++)
        {
            RespValue reply = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
            if (reply.IsError)
            {
                throw new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                    $"UNLINK on the target {connection.Endpoint}, deleting the keys a filtered FLUSHDB or FLUSHALL of the source removes, failed: {reply.AsString()}") { Command = "UNLINK" };
            }
        }
    }
}
