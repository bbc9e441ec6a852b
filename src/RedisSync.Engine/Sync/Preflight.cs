using System;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>
/// The checks that run before the source is asked for a snapshot, so that a mistake a check can
/// catch never makes a production source fork: the target is a writable primary, every database the
/// copy writes to exists, the source lets this login replicate, and the data may fit the target.
/// </summary>
internal static class Preflight
{
    /// <summary>The target is a primary (a replica's writes are refused, or lost at its next sync).</summary>
    public static async Task CheckTargetAsync(RedisConnection target, CancellationToken cancellationToken)
    {
        RespValue reply = await target.ExecuteAsync(cancellationToken, "INFO", "replication").ConfigureAwait(false);
        if (reply.IsError) return; // INFO not allowed: the lease's write tells
        ServerInfo replication = ServerInfo.Parse(reply.AsString() ?? string.Empty);
        if (replication.Fields.TryGetValue("role", out string? role) && role == "slave")
        {
            replication.Fields.TryGetValue("master_host", out string? host);
            replication.Fields.TryGetValue("master_port", out string? port);
            throw new SyncException(SyncErrorIds.TargetReadOnly, SyncErrorKind.Stop,
                $"The target {target.Endpoint} is a replica of {host}:{port}: what RedisSync writes there would be refused or overwritten by its primary. " +
                "Point -Target at the primary, or make the target a primary (REPLICAOF NO ONE). Nothing was asked of the source.");
        }
    }

    /// <summary>
    /// Connects to the source as a replica would, before PSYNC: the login (a source that wants a password
    /// fails as SourceAuthFailed), its databases against the map, its memory against the target's limit.
    /// Returns the link, for the first PSYNC.
    /// </summary>
    public static async Task<ReplicaLink> CheckSourceAsync(SourceLocator source, DatabaseMap databases, RedisConnection target, bool targetEmptied,
        Action<SyncWarning> warn, CancellationToken cancellationToken)
    {
        ReplicaLink link;
        try
        {
            link = await ReplicaLink.ConnectAsync(await source.LocateAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
        {
            // Never reached: an error at once (a typo in the address), not a reconnect loop.
            throw new SyncException(ex.ErrorId, SyncErrorKind.Stop, ex.Message, ex);
        }
        try
        {
            databases.CheckAll(link.Databases.Keys);
            await CheckMemoryAsync(link.UsedMemory, target, targetEmptied, warn, cancellationToken).ConfigureAwait(false);
            return link;
        }
        catch
        {
            link.Dispose();
            throw;
        }
    }

    /// <summary>Warns when the source's data may not fit under the target's maxmemory (a full target stops the copy halfway).</summary>
    public static async Task CheckMemoryAsync(long? sourceBytes, RedisConnection target, bool targetEmptied, Action<SyncWarning> warn, CancellationToken cancellationToken)
    {
        if (sourceBytes is not long needed || needed <= 0) return;
        RespValue reply = await target.ExecuteAsync(cancellationToken, "INFO", "memory").ConfigureAwait(false);
        if (reply.IsError) return;
        ServerInfo memory = ServerInfo.Parse(reply.AsString() ?? string.Empty);
        long max = memory.Number("maxmemory") ?? 0;
        if (max <= 0) return;
        long used = targetEmptied ? 0 : memory.Number("used_memory_dataset") ?? 0;
        if (needed <= max - used) return;
        memory.Fields.TryGetValue("maxmemory_policy", out string? policy);
        warn(new SyncWarning("TargetMayNotFit", SyncErrorKind.Skip, null, null,
            string.Format(CultureInfo.InvariantCulture,
                "The source's data takes {0:0.0} MB, and the target {1} has {2:0.0} MB left under its maxmemory of {3:0.0} MB (policy {4}): the copy may stop when the target is full, or the target may evict keys. " +
                "Raise the target's maxmemory (CONFIG SET maxmemory) before going on.",
                needed / 1048576.0, target.Endpoint, Math.Max(0, max - used) / 1048576.0, max / 1048576.0, policy ?? "unknown")));
    }
}
