using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Readies the target for a full copy: flushes it when the run was asked to (or when a later copy
/// replaces data the sync owns), else tells whether it holds user keys, and chooses what a key that
/// exists already means. The flush goes through the writer, after what it has in flight, with the
/// lease and the checkpoint written again in the same batch.
/// </summary>
internal sealed class TargetPreparation
{
    private readonly SyncOptions _options;
    private readonly ITarget _writer;
    private readonly System.Action<SyncWarning> _warn;
    private readonly bool _resumesOwnData;
    private readonly bool _shared;
    private readonly bool _flushedForAll;

    /// <param name="options">The run's options (FlushTarget, OnConflict).</param>
    /// <param name="writer">The target's writer.</param>
    /// <param name="checkpoint">The checkpoint of this sync from this source, if the target holds one.</param>
    /// <param name="warn">Where warnings go.</param>
    /// <param name="flushedForAll">
    /// Null for a sync of one shard. Else the target is shared by the shards of a cluster source, so no
    /// shard flushes it; true when the run flushed it for all of them before they began.
    /// </param>
    /// <param name="overOwnCopy">
    /// The target holds keys an earlier copy of this shard wrote (its checkpoint is there, of a copy that ended or was cut
    /// off mid-snapshot), though <paramref name="checkpoint"/> is not one to continue from.
    /// </param>
    public TargetPreparation(SyncOptions options, ITarget writer, Checkpoint? checkpoint, System.Action<SyncWarning> warn, bool? flushedForAll = null, bool overOwnCopy = false)
    {
        _shared = flushedForAll != null;
        _flushedForAll = flushedForAll == true;
        _options = options;
        _writer = writer;
        _warn = warn;
        _resumesOwnData = checkpoint != null || overOwnCopy;
        OwnsTarget = checkpoint?.OwnsTarget ?? false;
    }

    /// <summary>The target held no user keys, or was flushed, when this sync began: it holds only what the sync wrote.</summary>
    public bool OwnsTarget { get; private set; }

    /// <summary>
    /// Before copy <paramref name="copy"/> of the run (1 for the first): flushes or counts, and returns
    /// whether the target is empty (the copy then skips its existence guards) and the conflict policy.
    /// </summary>
    /// <param name="copy">The copy's number in this run, 1 for the first.</param>
    /// <param name="transactional">Whether the writer commits in batches with the checkpoint.</param>
    /// <param name="cancellationToken">Ends the preparation.</param>
    /// <param name="source">The shard's source, which names the slots a new copy of one shard of a cluster replaces; null for one source.</param>
    public async Task<(bool Empty, ConflictPolicy Policy)> PrepareAsync(int copy, bool transactional, CancellationToken cancellationToken, SourceLocator? source = null)
    {
        bool first = copy == 1;
        // A later copy, or a first one over an interrupted copy of the same sync, overwrites what the sync wrote before.
        bool overSyncData = !first || _resumesOwnData;
        bool flush = first ? _options.FlushTarget || (_resumesOwnData && OwnsTarget && _options.Mode != RedisSync.SyncMode.Full) : OwnsTarget;
        _writer.DiscardUncommitted();
        if (_shared)
        {
            // Other shards write the same target: never flush it under them.
            await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
            if (first && _flushedForAll)
            {
                OwnsTarget = true;
                return (true, ConflictPolicy.Replace);
            }
            IReadOnlyList<(int From, int To)>? slots = await ShardSlotsAsync(source, cancellationToken).ConfigureAwait(false);
            // A key's slot on the target is its slot on the source unless the sync renames keys.
            bool slotsKept = _options.KeyRename == null;
            if (!first || _resumesOwnData)
            {
                if (slots != null)
                {
                    // The new copy replaces this shard's slots only: their keys go first, the other shards' stay.
                    // No other shard writes these slots, so the copy then writes them without existence guards.
                    await DeleteSlotsAsync(slots, cancellationToken).ConfigureAwait(false);
                    return (slotsKept, ConflictPolicy.Replace);
                }
                _warn(new SyncWarning("TargetNotFlushed", SyncErrorKind.Skip, null, null,
                    $"A new full copy of one shard is written over the target {_options.Target}, which the other shards share, so it is not flushed: " +
                    "keys of this shard deleted on the source since its earlier copy may remain there."));
                return (false, ConflictPolicy.Replace);
            }
            if (slots != null && slotsKept)
            {
                // The other shards write other slots: this copy meets existing keys only if its own slots hold some now.
                return (!await HoldsUserKeysAsync(slots, cancellationToken).ConfigureAwait(false), _options.OnConflict);
            }
            flush = false;
        }
        if (flush)
        {
            _writer.FlushAll();
            KeepFilterRecord();
            if (transactional) _writer.CommitPoint(new CommitPosition(0, InSnapshot: true, copy));
            await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
            OwnsTarget = true;
            return (true, ConflictPolicy.Replace);
        }
        await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
        long userKeys = await CountUserKeysAsync(cancellationToken).ConfigureAwait(false);
        if (first && !_resumesOwnData && userKeys == 0) OwnsTarget = true;
        if (overSyncData && userKeys > 0)
        {
            _warn(new SyncWarning("TargetNotFlushed", SyncErrorKind.Skip, null, null,
                $"A new full copy is written over the {userKeys} keys the target {_options.Target} holds, replacing those it copies again, without flushing the target: " +
                "keys deleted on the source since an earlier copy may remain there. Start the sync with -FlushTarget to avoid this."));
        }
        return (userKeys == 0, overSyncData ? ConflictPolicy.Replace : _options.OnConflict);
    }

    /// <summary>The slots the shard's master serves now; null for one source, or when they cannot be read now.</summary>
    private static async Task<IReadOnlyList<(int From, int To)>?> ShardSlotsAsync(SourceLocator? source, CancellationToken cancellationToken)
    {
        if (source == null) return null;
        try
        {
            IReadOnlyList<(int From, int To)>? slots = await source.SlotsAsync(cancellationToken).ConfigureAwait(false);
            return slots != null && slots.Count > 0 ? slots : null;
        }
        catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
        {
            return null;
        }
    }

    /// <summary>
    /// Whether the target holds a user key in one of <paramref name="slots"/> (in the database that the source's
    /// database 0 maps to). On a server that is not a cluster, it scans at most <see cref="ScanLimit"/> keys and
    /// answers yes when it did not finish.
    /// </summary>
    private async Task<bool> HoldsUserKeysAsync(IReadOnlyList<(int From, int To)> slots, CancellationToken cancellationToken)
    {
        if (_writer is ClusterTarget cluster) return await cluster.HoldsUserKeysAsync(slots, cancellationToken).ConfigureAwait(false);
        using RedisConnection control = await ConnectToShardDatabaseAsync(cancellationToken).ConfigureAwait(false);
        string cursor = "0";
        long scanned = 0;
        do
        {
            if (scanned >= ScanLimit) return true;
            RespValue page = await control.ExecuteOrThrowAsync(cancellationToken, "SCAN", cursor, "COUNT", 1000).ConfigureAwait(false);
            cursor = page.Items[0].AsString() ?? "0";
            foreach (RespValue item in page.Items[1].Items)
            {
                byte[] key = item.Bytes ?? Array.Empty<byte>();
                if (!ReservedKeys.IsReserved(key) && InSlots(key, slots)) return true;
            }
            scanned += page.Items[1].Items.Length;
        }
        while (cursor != "0");
        return false;
    }

    /// <summary>How many keys the check of a shard's slots on a target that is not a cluster reads at most.</summary>
    internal const long ScanLimit = 200_000;

    private static bool InSlots(byte[] key, IReadOnlyList<(int From, int To)> slots)
    {
        int slot = ClusterSlots.Of(key);
        return slots.Any(r => slot >= r.From && slot <= r.To);
    }

    /// <summary>A connection of its own to the target, in the database that the source's database 0 maps to.</summary>
    private async Task<RedisConnection> ConnectToShardDatabaseAsync(CancellationToken cancellationToken)
    {
        RedisConnection control = await RedisConnection.ConnectAsync(_options.Target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        int db = _options.DatabaseMap != null && _options.DatabaseMap.TryGetValue(0, out int mapped) ? mapped : 0;
        if (db != 0 || _writer.DatabaseCount > 1) await control.ExecuteOrThrowAsync(cancellationToken, "SELECT", db).ConfigureAwait(false);
        return control;
    }

    /// <summary>
    /// Deletes the target's keys whose hash slot is in <paramref name="slots"/> (in the database that
    /// the source's database 0 maps to; RedisSync's own keys kept), before a new copy of one shard.
    /// </summary>
    private async Task DeleteSlotsAsync(IReadOnlyList<(int From, int To)> slots, CancellationToken cancellationToken)
    {
        if (_writer is ClusterTarget cluster)
        {
            // A key's slot depends on its name only: the shard's slots are the same slots on the target's masters.
            long removed = await cluster.DeleteSlotsAsync(slots, cancellationToken).ConfigureAwait(false);
            WarnRecopied(slots, removed);
            return;
        }
        using RedisConnection control = await ConnectToShardDatabaseAsync(cancellationToken).ConfigureAwait(false);
        string cursor = "0";
        long deleted = 0;
        do
        {
            RespValue page = await control.ExecuteOrThrowAsync(cancellationToken, "SCAN", cursor, "COUNT", 1000).ConfigureAwait(false);
            cursor = page.Items[0].AsString() ?? "0";
            var del = new List<object> { "UNLINK" };
            foreach (RespValue item in page.Items[1].Items)
            {
                byte[] key = item.Bytes ?? Array.Empty<byte>();
                if (!ReservedKeys.IsReserved(key) && InSlots(key, slots)) del.Add(key);
            }
            if (del.Count > 1) deleted += (await control.ExecuteOrThrowAsync(cancellationToken, del.ToArray()).ConfigureAwait(false)).Integer;
        }
        while (cursor != "0");
        WarnRecopied(slots, deleted);
    }

    private void WarnRecopied(IReadOnlyList<(int From, int To)> slots, long deleted) =>
        _warn(new SyncWarning("ShardRecopied", SyncErrorKind.Retry, null, null,
            $"A new full copy of one shard of the source replaces its {slots.Sum(r => r.To - r.From + 1)} slots on the target {_options.Target}: " +
            $"their {deleted} keys were deleted first; the other shards' keys stay."));

    /// <summary>Keys in the target's databases, RedisSync's own keys (checkpoint, lease) left out.</summary>
    private async Task<long> CountUserKeysAsync(CancellationToken cancellationToken)
    {
        if (_writer is ClusterTarget cluster) return await cluster.CountUserKeysAsync(cancellationToken).ConfigureAwait(false);
        // A connection of its own: the shards of a cluster source prepare the same target at the same time.
        using RedisConnection control = await RedisConnection.ConnectAsync(_options.Target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        RespValue info = await control.ExecuteOrThrowAsync(cancellationToken, "INFO", "keyspace").ConfigureAwait(false);
        long total = Keyspace.CountKeys(info.AsString() ?? string.Empty);
        await control.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        string name = _options.Name;
        RespValue own = await control.ExecuteOrThrowAsync(cancellationToken, "EXISTS", Checkpoint.Key(name), ReservedKeys.Lease(name), ReservedKeys.Fence(name), ReservedKeys.Filter(name)).ConfigureAwait(false);
        return total - own.Integer;
    }

    /// <summary>A flush deletes the sync's filter record too (<see cref="FilterRecord"/>): it is written again after it.</summary>
    private void KeepFilterRecord()
    {
        string? text = FilterRecord.Text(_options);
        if (text == null) return;
        _writer.SelectDb(0);
        _writer.BeginCommand();
        _writer.Arg("SET"u8);
        _writer.Arg(System.Text.Encoding.UTF8.GetBytes(ReservedKeys.Filter(_options.Name)));
        _writer.Arg(System.Text.Encoding.UTF8.GetBytes(text));
        _writer.EndCommand();
    }
}
