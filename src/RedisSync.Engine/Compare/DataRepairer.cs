using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>
/// Copies differing keys from the source to the target, one key per call (the engine of
/// Repair-RedisData, which asks ShouldProcess before each). A key is replaced by DUMP and
/// RESTORE … REPLACE when the target loads the payload's RDB version; otherwise, and for big values,
/// it is rebuilt with native commands in chunks under a temporary key that is renamed into place,
/// so readers never see half a value. TTLs are copied as absolute times where both servers allow.
/// Not thread-safe: one key at a time.
/// </summary>
public sealed class DataRepairer : IDisposable
{
    private static readonly byte[] Rpush = CommandText.Word("RPUSH");
    private static readonly byte[] Hset = CommandText.Word("HSET");
    private static readonly byte[] Sadd = CommandText.Word("SADD");
    private static readonly byte[] Zadd = CommandText.Word("ZADD");
    private static readonly byte[] Xadd = CommandText.Word("XADD");
    private static readonly byte[] Xclaim = CommandText.Word("XCLAIM");
    private static readonly byte[] Hpexpiretime = CommandText.Word("HPEXPIRETIME");
    private static readonly byte[] Hpexpireat = CommandText.Word("HPEXPIREAT");

    private readonly LinkSet _sources;
    private readonly LinkSet _targets;
    private readonly RepairOptions _options;
    private readonly bool _absoluteTtl;
    private readonly bool _fieldTtls;
    private readonly Dictionary<ServerLink, int> _selected = new Dictionary<ServerLink, int>();

    /// <summary>The links of the key being repaired: the masters of its slot when a side is a cluster.</summary>
    private ServerLink _source;
    private ServerLink _target;

    /// <summary>Times a key is repaired anew after MOVED or ASK (its slot moved meanwhile) before the redirect is an error.</summary>
    private const int MaxRedirects = 20;

    private DataRepairer(LinkSet sources, LinkSet targets, RepairOptions options)
    {
        _sources = sources;
        _targets = targets;
        _targets.Rename = options.KeyRename;
        _source = sources.Links[0];
        _target = targets.Links[0];
        ServerLink source = _source, target = _target;
        _options = options;
        // PEXPIRETIME (7.0) on the source, RESTORE … ABSTTL (5.0) on the target.
        _absoluteTtl = (source.Info.IsValkey || source.Info.Version.Major >= 7) && (target.Info.IsValkey || target.Info.Version.Major >= 5);
        _fieldTtls = source.Info.SupportsHashFieldTtl && target.Info.SupportsHashFieldTtl;
    }

    /// <summary>Connects to both servers, to every master of one that is a cluster (errors are <see cref="SyncException"/>s: unreachable, refused login).</summary>
    public static async Task<DataRepairer> ConnectAsync(RedisEndpoint source, RedisEndpoint target, RepairOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RepairOptions();
        options.Validate();
        LinkSet sources = await LinkSet.ConnectAsync(source, EndpointRole.Source, cancellationToken).ConfigureAwait(false);
        try
        {
            LinkSet targets = await LinkSet.ConnectAsync(target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
            return new DataRepairer(sources, targets, options);
        }
        catch
        {
            sources.Dispose();
            throw;
        }
    }

    /// <summary>
    /// What <see cref="RepairAsync(RedisSync.KeyDifference, CancellationToken)"/> would do to the target, for ShouldProcess; null when it would
    /// leave the key alone (an equal key, or an extra one without RemoveExtra).
    /// </summary>
    public string? PlannedAction(RedisSync.KeyDifference difference)
    {
        if (difference == null) throw new ArgumentNullException(nameof(difference));
        switch (difference.Status)
        {
            case RedisSync.KeyStatus.Ok: return null;
            case RedisSync.KeyStatus.Extra: return _options.RemoveExtra ? "Delete from the target" : null;
            default: return "Replace with the source's value";
        }
    }

    /// <summary>Makes the target's key equal to the source's (as the source holds it now) and says how.</summary>
    public Task<RedisSync.RepairResult> RepairAsync(RedisSync.KeyDifference difference, CancellationToken cancellationToken = default) =>
        RepairAsync(difference, difference?.Database ?? 0, cancellationToken);

    /// <summary>As <see cref="RepairAsync(RedisSync.KeyDifference, CancellationToken)"/>, into database <paramref name="targetDatabase"/> of the target (a sync's database map).</summary>
    internal async Task<RedisSync.RepairResult> RepairAsync(RedisSync.KeyDifference difference, int targetDatabase, CancellationToken cancellationToken)
    {
        if (difference == null) throw new ArgumentNullException(nameof(difference));
        string? askSource = null, askTarget = null;
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return await RepairKeyAsync(difference, targetDatabase, askSource, askTarget, cancellationToken).ConfigureAwait(false);
            }
            catch (RedirectedException redirect) when (attempt < MaxRedirects)
            {
                // New links (no reply of the abandoned attempt left on them) and the slot map read again;
                // after ASK the key is repaired on the node that imports its slot, with ASKING.
                if (redirect.Role == EndpointRole.Source) askSource = redirect.AskAddress;
                else askTarget = redirect.AskAddress;
                _selected.Clear();
                await _sources.ReconnectAsync(cancellationToken).ConfigureAwait(false);
                await _targets.ReconnectAsync(cancellationToken).ConfigureAwait(false);
                if (redirect.AskAddress == null) await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _source.Asking = false;
                _target.Asking = false;
            }
        }
    }

    private async Task<RedisSync.RepairResult> RepairKeyAsync(RedisSync.KeyDifference difference, int targetDatabase, string? askSource, string? askTarget, CancellationToken cancellationToken)
    {
        byte[] key = difference.KeyBytes;
        _source = askSource != null ? await _sources.LinkToAsync(askSource, cancellationToken).ConfigureAwait(false) : _sources.For(key);
        _target = askTarget != null ? await _targets.LinkToAsync(askTarget, cancellationToken).ConfigureAwait(false) : _targets.For(key);
        _source.Asking = askSource != null;
        _target.Asking = askTarget != null;
        RedisSync.RepairResult Result(RedisSync.RepairAction action, string detail) =>
            new RedisSync.RepairResult(difference.Database, difference.Key, key, difference.Status, action, detail);

        if (difference.Status == RedisSync.KeyStatus.Ok) return Result(RedisSync.RepairAction.Skipped, "equal on both sides");
        Transform.KeyFilter? filter = _options.KeyFilter;
        if (filter != null && (!filter.KeepsDatabase(difference.Database) || !filter.KeepsName(key)))
        {
            return Result(RedisSync.RepairAction.Skipped, $"left out by the filter ({filter.Filter})");
        }
        await SelectAsync(difference.Database, targetDatabase, cancellationToken).ConfigureAwait(false);

        (RedisType type, long length) = await ProbeAsync(key, cancellationToken).ConfigureAwait(false);
        RedisType seen = type == RedisType.None ? Transform.KeyFilter.TypeNamed(difference.TargetType) : type;
        if (filter != null && !filter.KeepsType(seen))
        {
            return Result(RedisSync.RepairAction.Skipped, $"left out by the filter ({filter.Filter})");
        }
        if (filter != null && filter.HasWhere && !filter.KeepsWhere(difference.Database, key, seen))
        {
            return Result(RedisSync.RepairAction.Skipped, "left out by -Where");
        }
        if (type == RedisType.None) return await RemoveAsync(key, Result, cancellationToken).ConfigureAwait(false);

        long size = await SizeAsync(key, type, length, cancellationToken).ConfigureAwait(false);
        bool big = size > _options.RestoreLimitBytes;
        string why;
        if (_options.Method == RepairMethod.Restore || (_options.Method == RepairMethod.Auto && !big))
        {
            (bool restored, bool gone, string? reason) = await TryRestoreAsync(key, cancellationToken).ConfigureAwait(false);
            if (gone) return await RemoveAsync(key, Result, cancellationToken).ConfigureAwait(false);
            if (restored) return Result(RedisSync.RepairAction.Restored, "replaced by RESTORE (DUMP of the source)");
            why = reason!;
        }
        else
        {
            why = _options.Method == RepairMethod.Commands ? "native commands were asked for" : $"a big value ({length} {KeyTypes.LengthWord(type)}, about {size / 1024} KB)";
        }
        if (type == RedisType.Module)
        {
            throw new SyncException(SyncErrorIds.TargetFeatureMissing, SyncErrorKind.Skip,
                $"Key {KeyText.Format(key)} holds a module type ({why}); only RESTORE can copy it.") { Key = KeyText.Format(key) };
        }
        bool copied = await RewriteAsync(key, type, cancellationToken).ConfigureAwait(false);
        if (!copied) return await RemoveAsync(key, Result, cancellationToken).ConfigureAwait(false);
        return Result(RedisSync.RepairAction.Rewritten, $"rebuilt with native commands in chunks of {_options.ChunkSize} ({why})");
    }

    /// <summary>The key's name on the target: renamed as -RenameKey says.</summary>
    private byte[] TargetName(byte[] key) => _options.KeyRename?.Rename(key) ?? key;

    private async Task<RedisSync.RepairResult> RemoveAsync(byte[] key, Func<RedisSync.RepairAction, string, RedisSync.RepairResult> result, CancellationToken cancellationToken)
    {
        if (!_options.RemoveExtra) return result(RedisSync.RepairAction.Skipped, "not in the source; RemoveExtra deletes such keys from the target");
        RespValue removed = await _target.ExecuteOrThrowAsync(cancellationToken, "DEL", TargetName(key)).ConfigureAwait(false);
        return removed.Integer > 0
            ? result(RedisSync.RepairAction.Removed, "deleted from the target: not in the source")
            : result(RedisSync.RepairAction.Skipped, "in neither server any more");
    }

    private async Task SelectAsync(int database, int targetDatabase, CancellationToken cancellationToken)
    {
        await SelectAsync(_source, database, cancellationToken).ConfigureAwait(false);
        await SelectAsync(_target, targetDatabase, cancellationToken).ConfigureAwait(false);
    }

    private async Task SelectAsync(ServerLink link, int database, CancellationToken cancellationToken)
    {
        if (_selected.TryGetValue(link, out int selected) && selected == database) return;
        await link.ExecuteOrThrowAsync(cancellationToken, "SELECT", database).ConfigureAwait(false);
        _selected[link] = database;
    }

    /// <summary>The source key's type and length now.</summary>
    private async Task<(RedisType Type, long Length)> ProbeAsync(byte[] key, CancellationToken cancellationToken)
    {
        RespValue typeReply = await _source.ExecuteOrThrowAsync(cancellationToken, "TYPE", key).ConfigureAwait(false);
        RedisType type = KeyTypes.Parse(new ReadOnlySequence<byte>(typeReply.Bytes ?? Array.Empty<byte>()), out _);
        if (type == RedisType.None || type == RedisType.Module) return (type, 0);
        RespValue length = await _source.ExecuteOrThrowAsync(cancellationToken, KeyTypes.LengthCommandName(type), key).ConfigureAwait(false);
        return (type, length.AsInt64());
    }

    /// <summary>
    /// The key's memory on the source (MEMORY USAGE, which samples big collections); where that
    /// command is refused, an estimate from the length.
    /// </summary>
    private async Task<long> SizeAsync(byte[] key, RedisType type, long length, CancellationToken cancellationToken)
    {
        RespValue usage = await _source.ExecuteAsync(cancellationToken, "MEMORY", "USAGE", key).ConfigureAwait(false);
        if (!usage.IsError && !usage.IsNull) return usage.AsInt64();
        return type == RedisType.String ? length : length * 64;
    }

    private async Task<(bool Restored, bool Gone, string? Reason)> TryRestoreAsync(byte[] key, CancellationToken cancellationToken)
    {
        _source.Begin(2, CommandText.Word("DUMP"));
        _source.Bulk(key);
        _source.Command(_absoluteTtl ? CommandText.Head(2, "PEXPIRETIME") : CommandText.Pttl, key);
        await _source.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _source.TakeAsync(2, cancellationToken).ConfigureAwait(false);
        Reply dump = _source.Replies.Taken[0];
        Reply ttl = _source.Replies.Taken[1];
        if (dump.IsError) throw _source.Failed("DUMP", dump.ErrorText, key);
        if (ttl.IsError) throw _source.Failed(_absoluteTtl ? "PEXPIRETIME" : "PTTL", ttl.ErrorText, key);
        if (dump.IsNull || ttl.Integer == -2)
        {
            _source.Replies.Release();
            return (false, true, null);
        }
        ReadOnlySequence<byte> payload = dump.Frame.Payload;
        int version = PayloadVersion(payload);
        if (version > _target.Info.RdbVersion)
        {
            _source.Replies.Release();
            string reason = $"the source's RDB version {version} is newer than the {_target.Info}'s {_target.Info.RdbVersion}";
            if (_options.Method == RepairMethod.Restore)
            {
                throw new SyncException(SyncErrorIds.TargetFeatureMissing, SyncErrorKind.Skip, $"Cannot RESTORE {KeyText.Format(key)}: {reason}.") { Key = KeyText.Format(key), Command = "RESTORE" };
            }
            return (false, false, reason);
        }
        long expiry = ttl.Integer;
        bool absolute = _absoluteTtl && expiry >= 0;
        _target.Begin(absolute ? 6 : 5, CommandText.Word("RESTORE"));
        _target.Bulk(TargetName(key));
        _target.Bulk(expiry >= 0 ? expiry : 0);
        _target.Bulk(payload);
        _target.Raw(CommandText.Word("REPLACE"));
        if (absolute) _target.Raw(CommandText.Word("ABSTTL"));
        _source.Replies.Release();
        await _target.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _target.TakeAsync(1, cancellationToken).ConfigureAwait(false);
        Reply restore = _target.Replies.Taken[0];
        string? error = restore.IsError ? restore.ErrorText : null;
        _target.Replies.Release();
        if (error == null) return (true, false, null);
        if (_options.Method == RepairMethod.Auto && error.IndexOf("payload version", StringComparison.OrdinalIgnoreCase) >= 0)
        {
            return (false, false, "the target refused the DUMP payload: " + error);
        }
        throw _target.Failed("RESTORE", error, key);
    }

    /// <summary>The RDB version in a DUMP payload's footer (2 bytes little-endian, then the 8-byte CRC64).</summary>
    internal static int PayloadVersion(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < 10) RespParser.ThrowProtocol("DUMP returned a payload shorter than its footer");
        Span<byte> footer = stackalloc byte[2];
        payload.Slice(payload.Length - 10, 2).CopyTo(footer);
        return footer[0] | (footer[1] << 8);
    }

    /// <summary>Rebuilds the key under a temporary name, sets its TTL and renames it into place; false when the source key went away meanwhile.</summary>
    private async Task<bool> RewriteAsync(byte[] key, RedisType type, CancellationToken cancellationToken)
    {
        // On a cluster the temporary key is hash-tagged into the key's slot, so RENAME can move it into place.
        string tag = _targets.IsCluster ? "{" + Writers.ClusterSlots.Tag(Writers.ClusterSlots.Of(TargetName(key))) + "}" : string.Empty;
        byte[] temp = Encoding.ASCII.GetBytes(ReservedKeys.TemporaryPrefix + tag + Guid.NewGuid().ToString("N"));
        try
        {
            switch (type)
            {
                case RedisType.String: await CopyStringAsync(key, temp, cancellationToken).ConfigureAwait(false); break;
                case RedisType.List: await CopyListAsync(key, temp, cancellationToken).ConfigureAwait(false); break;
                case RedisType.Stream: await CopyStreamAsync(key, temp, cancellationToken).ConfigureAwait(false); break;
                default: await CopyMembersAsync(key, temp, type, cancellationToken).ConfigureAwait(false); break;
            }
            RespValue ttl = await _source.ExecuteOrThrowAsync(cancellationToken, _absoluteTtl ? "PEXPIRETIME" : "PTTL", key).ConfigureAwait(false);
            long expiry = ttl.AsInt64();
            if (expiry == -2)
            {
                await _target.ExecuteOrThrowAsync(cancellationToken, "DEL", temp).ConfigureAwait(false);
                return false;
            }
            if (expiry >= 0) await _target.ExecuteOrThrowAsync(cancellationToken, _absoluteTtl ? "PEXPIREAT" : "PEXPIRE", temp, expiry).ConfigureAwait(false);
            RespValue renamed = await _target.ExecuteAsync(cancellationToken, "RENAME", temp, TargetName(key)).ConfigureAwait(false);
            if (renamed.IsError)
            {
                // An empty value (the source key emptied meanwhile) or a TTL already past: nothing was built.
                if ((renamed.AsString() ?? string.Empty).IndexOf("no such key", StringComparison.OrdinalIgnoreCase) >= 0) return false;
                throw _target.Failed("RENAME", renamed.AsString() ?? string.Empty, key);
            }
            return true;
        }
        catch
        {
            try
            {
                using var cleanup = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _target.ExecuteAsync(cleanup.Token, "DEL", temp).ConfigureAwait(false);
            }
            catch (SyncException)
            {
            }
            catch (OperationCanceledException)
            {
            }
            throw;
        }
    }

    private async Task CopyStringAsync(byte[] key, byte[] temp, CancellationToken cancellationToken)
    {
        long offset = 0;
        int chunk = _options.StringChunkBytes;
        while (true)
        {
            WriteRange(CommandText.Getrange, key, offset, offset + chunk - 1);
            Reply part = await ReadAsync("GETRANGE", key, cancellationToken).ConfigureAwait(false);
            long length = part.Frame.Payload.Length;
            if (offset > 0 && length == 0)
            {
                _source.Replies.Release();
                return;
            }
            _target.Begin(3, CommandText.Word(offset == 0 ? "SET" : "APPEND"));
            _target.Bulk(temp);
            _target.Bulk(part.Frame.Payload);
            _source.Replies.Release();
            await WriteAsync(1, offset == 0 ? "SET" : "APPEND", key, cancellationToken).ConfigureAwait(false);
            if (length < chunk) return;
            offset += length;
        }
    }

    private async Task CopyListAsync(byte[] key, byte[] temp, CancellationToken cancellationToken)
    {
        long start = 0;
        int chunk = _options.ChunkSize;
        while (true)
        {
            WriteRange(CommandText.Lrange, key, start, start + chunk - 1);
            Reply range = await ReadAsync("LRANGE", key, cancellationToken).ConfigureAwait(false);
            var elements = new FrameWalker(range.Raw);
            long n = elements.ReadArray();
            if (n > 0)
            {
                _target.Begin(2 + (int)n, Rpush);
                _target.Bulk(temp);
                for (long i = 0; i < n; i++) _target.Bulk(elements.ReadString());
            }
            _source.Replies.Release();
            if (n > 0) await WriteAsync(1, "RPUSH", key, cancellationToken).ConfigureAwait(false);
            if (n < chunk) return;
            start += n;
        }
    }

    /// <summary>Hashes, sets and sorted sets: HSCAN/SSCAN/ZSCAN chunks become HSET/SADD/ZADD (and hash-field TTLs HPEXPIREAT).</summary>
    private async Task CopyMembersAsync(byte[] key, byte[] temp, RedisType type, CancellationToken cancellationToken)
    {
        string scanName = type == RedisType.Hash ? "HSCAN" : type == RedisType.Set ? "SSCAN" : "ZSCAN";
        using var chunk = new PooledFrame();
        ulong cursor = 0;
        do
        {
            _source.Begin(5, type == RedisType.Hash ? CommandText.Hscan : type == RedisType.Set ? CommandText.Sscan : CommandText.Zscan);
            _source.Bulk(key);
            _source.Bulk(cursor);
            _source.Raw(CommandText.Count);
            _source.Bulk(_options.ChunkSize);
            Reply scan = await ReadAsync(scanName, key, cancellationToken).ConfigureAwait(false);
            chunk.Set(scan.Raw);
            _source.Replies.Release();

            var walker = new FrameWalker(chunk.Sequence);
            walker.ReadArray();
            if (!Bytes.TryParseUInt64(walker.ReadString(), out cursor)) RespParser.ThrowProtocol(scanName + " returned an invalid cursor");
            long n = walker.ReadArray();
            if (n == 0) continue;
            _target.Begin(2 + (int)n, type == RedisType.Hash ? Hset : type == RedisType.Set ? Sadd : Zadd);
            _target.Bulk(temp);
            for (long i = 0; i < n; i += type == RedisType.Set ? 1 : 2)
            {
                if (type == RedisType.ZSet)
                {
                    ReadOnlySequence<byte> member = walker.ReadString();
                    _target.Bulk(walker.ReadString());
                    _target.Bulk(member);
                }
                else
                {
                    _target.Bulk(walker.ReadString());
                    if (type == RedisType.Hash) _target.Bulk(walker.ReadString());
                }
            }
            int writes = 1;
            if (type == RedisType.Hash && _fieldTtls) writes += await CopyFieldTtlsAsync(key, temp, chunk.Sequence, n / 2, cancellationToken).ConfigureAwait(false);
            await WriteAsync(writes, type == RedisType.Hash ? "HSET" : type == RedisType.Set ? "SADD" : "ZADD", key, cancellationToken).ConfigureAwait(false);
        }
        while (cursor != 0);
    }

    /// <summary>Reads the chunk's field expiry times on the source and writes one HPEXPIREAT per expiring field; returns how many.</summary>
    private async Task<int> CopyFieldTtlsAsync(byte[] key, byte[] temp, ReadOnlySequence<byte> chunk, long fields, CancellationToken cancellationToken)
    {
        var names = new FrameWalker(chunk);
        names.ReadArray();
        names.Skip();
        names.ReadArray();
        _source.Begin(4 + (int)fields, Hpexpiretime);
        _source.Bulk(key);
        _source.Raw(CommandText.Fields);
        _source.Bulk(fields);
        for (long i = 0; i < fields; i++)
        {
            _source.Bulk(names.ReadString());
            names.Skip();
        }
        Reply times = await ReadAsync("HPEXPIRETIME", key, cancellationToken).ConfigureAwait(false);
        var expiry = new FrameWalker(times.Raw);
        expiry.ReadArray();
        names = new FrameWalker(chunk);
        names.ReadArray();
        names.Skip();
        names.ReadArray();
        int written = 0;
        for (long i = 0; i < fields; i++)
        {
            ReadOnlySequence<byte> field = names.ReadString();
            names.Skip();
            long at = expiry.ReadInteger();
            if (at < 0) continue;
            _target.Begin(6, Hpexpireat);
            _target.Bulk(temp);
            _target.Bulk(at);
            _target.Raw(CommandText.Fields);
            _target.Bulk(1);
            _target.Bulk(field);
            written++;
        }
        _source.Replies.Release();
        return written;
    }

    /// <summary>
    /// Streams: entries by XRANGE chunks into XADD with their ids, then XSETID (last id, entries
    /// added, max deleted id), the consumer groups (last delivered id, entries read), their
    /// consumers, and their pending entries (XCLAIM … FORCE with the idle time and delivery count).
    /// </summary>
    private async Task CopyStreamAsync(byte[] key, byte[] temp, CancellationToken cancellationToken)
    {
        RespValue info = await _source.ExecuteOrThrowAsync(cancellationToken, "XINFO", "STREAM", key).ConfigureAwait(false);
        bool metadata = _target.Info.SupportsStreamMetadata;
        byte[] start = { (byte)'-' };
        long added = 0;
        while (true)
        {
            _source.Begin(6, CommandText.Xrange);
            _source.Bulk(key);
            _source.Bulk(start);
            _source.Raw(CommandText.Plus);
            _source.Raw(CommandText.Count);
            _source.Bulk(_options.ChunkSize);
            Reply range = await ReadAsync("XRANGE", key, cancellationToken).ConfigureAwait(false);
            var entries = new FrameWalker(range.Raw);
            long n = entries.ReadArray();
            Rdb.StreamId last = default;
            for (long i = 0; i < n; i++)
            {
                entries.ReadArray();
                ReadOnlySequence<byte> id = entries.ReadString();
                last = StreamCheck.ParseId(id);
                long fields = entries.ReadArray();
                _target.Begin(3 + (int)fields, Xadd);
                _target.Bulk(temp);
                _target.Bulk(id);
                for (long f = 0; f < fields; f++) _target.Bulk(entries.ReadString());
            }
            _source.Replies.Release();
            if (n > 0) await WriteAsync((int)n, "XADD", key, cancellationToken).ConfigureAwait(false);
            added += n;
            if (n < _options.ChunkSize) break;
            start = Encoding.ASCII.GetBytes(StreamCheck.After(last).ToString());
        }
        if (added == 0)
        {
            // An empty stream: made by creating a group with MKSTREAM and dropping it again.
            await _target.ExecuteOrThrowAsync(cancellationToken, "XGROUP", "CREATE", temp, "redissync-empty", "0", "MKSTREAM").ConfigureAwait(false);
            await _target.ExecuteOrThrowAsync(cancellationToken, "XGROUP", "DESTROY", temp, "redissync-empty").ConfigureAwait(false);
        }
        var setId = new System.Collections.Generic.List<object> { "XSETID", temp, Field(info, "last-generated-id")!.Bytes! };
        RespValue? entriesAdded = Field(info, "entries-added");
        RespValue? maxDeleted = Field(info, "max-deleted-entry-id");
        if (metadata && entriesAdded != null && maxDeleted != null && !maxDeleted.IsNull)
        {
            setId.AddRange(new object[] { "ENTRIESADDED", entriesAdded.AsInt64(), "MAXDELETEDID", maxDeleted.Bytes! });
        }
        await _target.ExecuteOrThrowAsync(cancellationToken, setId.ToArray()).ConfigureAwait(false);

        RespValue groups = await _source.ExecuteOrThrowAsync(cancellationToken, "XINFO", "GROUPS", key).ConfigureAwait(false);
        foreach (RespValue group in groups.Items)
        {
            byte[] name = Field(group, "name")!.Bytes!;
            var create = new System.Collections.Generic.List<object> { "XGROUP", "CREATE", temp, name, Field(group, "last-delivered-id")!.Bytes! };
            RespValue? entriesRead = Field(group, "entries-read");
            if (metadata && entriesRead != null && !entriesRead.IsNull) create.AddRange(new object[] { "ENTRIESREAD", entriesRead.AsInt64() });
            await _target.ExecuteOrThrowAsync(cancellationToken, create.ToArray()).ConfigureAwait(false);
            RespValue consumers = await _source.ExecuteOrThrowAsync(cancellationToken, "XINFO", "CONSUMERS", key, name).ConfigureAwait(false);
            foreach (RespValue consumer in consumers.Items)
            {
                await _target.ExecuteOrThrowAsync(cancellationToken, "XGROUP", "CREATECONSUMER", temp, name, Field(consumer, "name")!.Bytes!).ConfigureAwait(false);
            }
            await CopyPendingAsync(key, temp, name, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task CopyPendingAsync(byte[] key, byte[] temp, byte[] group, CancellationToken cancellationToken)
    {
        byte[] start = { (byte)'-' };
        while (true)
        {
            _source.Begin(6, CommandText.Xpending);
            _source.Bulk(key);
            _source.Bulk(group);
            _source.Bulk(start);
            _source.Raw(CommandText.Plus);
            _source.Bulk(_options.ChunkSize);
            Reply pending = await ReadAsync("XPENDING", key, cancellationToken).ConfigureAwait(false);
            var entries = new FrameWalker(pending.Raw);
            long n = entries.ReadArray();
            Rdb.StreamId last = default;
            for (long i = 0; i < n; i++)
            {
                entries.ReadArray();
                ReadOnlySequence<byte> id = entries.ReadString();
                last = StreamCheck.ParseId(id);
                ReadOnlySequence<byte> consumer = entries.ReadString();
                long idle = entries.ReadInteger();
                long deliveries = entries.ReadInteger();
                _target.Begin(12, Xclaim);
                _target.Bulk(temp);
                _target.Bulk(group);
                _target.Bulk(consumer);
                _target.Bulk(0);
                _target.Bulk(id);
                _target.Raw(CommandText.Word("IDLE"));
                _target.Bulk(idle);
                _target.Raw(CommandText.Word("RETRYCOUNT"));
                _target.Bulk(deliveries);
                _target.Raw(CommandText.Word("FORCE"));
                _target.Raw(CommandText.Word("JUSTID"));
            }
            _source.Replies.Release();
            if (n > 0) await WriteAsync((int)n, "XCLAIM", key, cancellationToken).ConfigureAwait(false);
            if (n < _options.ChunkSize) return;
            start = Encoding.ASCII.GetBytes(StreamCheck.After(last).ToString());
        }
    }

    /// <summary>Writes GETRANGE or LRANGE on the source.</summary>
    private void WriteRange(byte[] command, byte[] key, long start, long stop)
    {
        _source.Begin(4, command);
        _source.Bulk(key);
        _source.Bulk(start);
        _source.Bulk(stop);
    }

    /// <summary>Flushes the source's command and takes its reply (held until released); an error reply throws.</summary>
    private async Task<Reply> ReadAsync(string command, byte[] key, CancellationToken cancellationToken)
    {
        await _source.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _source.TakeAsync(1, cancellationToken).ConfigureAwait(false);
        Reply reply = _source.Replies.Taken[0];
        if (reply.IsError) throw _source.Failed(command, reply.ErrorText, key);
        return reply;
    }

    /// <summary>Flushes the target's pending writes and checks their <paramref name="count"/> replies.</summary>
    private async Task WriteAsync(int count, string command, byte[] key, CancellationToken cancellationToken)
    {
        await _target.FlushAsync(cancellationToken).ConfigureAwait(false);
        await _target.TakeAsync(count, cancellationToken).ConfigureAwait(false);
        string? error = null;
        foreach (Reply reply in _target.Replies.Taken)
        {
            if (reply.IsError)
            {
                error = reply.ErrorText;
                break;
            }
        }
        _target.Replies.Release();
        if (error != null) throw _target.Failed(command, error, key);
    }

    /// <summary>A field of a flat name/value reply (XINFO), or null.</summary>
    private static RespValue? Field(RespValue flat, string name)
    {
        RespValue[] items = flat.Items;
        for (int i = 0; i + 1 < items.Length; i += 2)
        {
            if (string.Equals(items[i].AsString(), name, StringComparison.Ordinal)) return items[i + 1];
        }
        return null;
    }

    /// <summary>Closes the connections.</summary>
    public void Dispose()
    {
        _sources.Dispose();
        _targets.Dispose();
    }
}
