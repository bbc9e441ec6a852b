using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

/// <summary>
/// Commands of the stream whose keys span slots of the target and that cannot be split without changing
/// what they do, applied with the same end result instead (each counted as a TargetCrossSlotRewritten warning):
/// <list type="bullet">
/// <item>RENAME / RENAMENX src dst: RESTORE dst (the target's own copy of src, read with DUMP and PTTL) REPLACE, then DEL src;</item>
/// <item>COPY src dst: the same RESTORE, src stays;</item>
/// <item>SMOVE src dst member: SADD dst member, then SREM src member;</item>
/// <item>LMOVE / RPOPLPUSH src dst: LPUSH or RPUSH dst of the element at src's end (read with LINDEX), then LPOP or RPOP src;</item>
/// <item>the *STORE commands (SINTERSTORE, SUNIONSTORE, SDIFFSTORE, ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE, PFMERGE,
/// BITOP, GEOSEARCHSTORE, and SORT, GEORADIUS and GEORADIUSBYMEMBER with STORE or STOREDIST): each input key in another slot than
/// the destination is restored under a temporary name in the destination's slot, the command runs there on those names, and the
/// temporary keys are deleted, in the destination's unit (a SORT with a BY pattern or GET, which read other keys, is refused);</item>
/// <item>LMPOP, BLMPOP, ZMPOP and BZMPOP need nothing: the source propagates them as LPOP, RPOP, ZPOPMIN or ZPOPMAX of the one key it popped;</item>
/// <item>MSETNX (the stream carries it only when it set every key): MSET split by slot.</item>
/// </list>
/// </summary>
/// <remarks>
/// A value read from the target is what the target holds after every write before the command: the batch so far is sealed
/// and the writer drained before the read (so a rewrite costs a round trip; it is for the rare command, not a stream of them).
/// A write earlier in the same source transaction to a key the rewrite reads is not applied yet (a transaction's writes commit
/// together): that case still stops the sync with TargetCrossSlot.
/// Exactly once: the destination's part goes with the command's commit point, like any write, in the destination's slot; the
/// part that removes the source's value (DEL, SREM, the pop) is sent only once the destination's part is acknowledged, as a
/// unit of its own at the same commit point in the source key's slot. A run that stops between the two finds, when it resumes,
/// the destination's slot past the command (its part is not sent again) and the source key still there (its part is sent).
/// </remarks>
internal sealed partial class ClusterTarget
{
    private static readonly HashSet<string> StoreCommands = new HashSet<string>(StringComparer.Ordinal)
    {
        "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZRANGESTORE", "PFMERGE", "BITOP", "GEOSEARCHSTORE",
        "SORT", "GEORADIUS", "GEORADIUSBYMEMBER",
    };

    /// <summary>Parts that remove a value from its source key, sent once the copy they follow is acknowledged (see the remarks).</summary>
    private readonly List<(int Slot, byte[] Command)> _deferred = new List<(int, byte[])>();

    /// <summary>The name <see cref="Add"/> is given for a deferred part (compared by reference: it is not applied again before itself).</summary>
    private static readonly string DeferredPart = new string("deferred".ToCharArray());

    private readonly Dictionary<string, RedisConnection> _readers = new Dictionary<string, RedisConnection>(StringComparer.Ordinal);
    private long _temporaryKeys;

    /// <summary>Whether <paramref name="name"/> spanning slots is applied by <see cref="RewriteCrossSlot"/> rather than refused.</summary>
    private static bool IsRewritable(string name) =>
        name == "RENAME" || name == "RENAMENX" || name == "COPY" || name == "SMOVE" || name == "LMOVE" || name == "RPOPLPUSH" || name == "MSETNX" || StoreCommands.Contains(name);

    /// <summary>Applies the command in <see cref="_args"/>, whose keys span slots, with the same end result; false when it cannot be here.</summary>
    private bool RewriteCrossSlot(string name, int count)
    {
        if (name == "MSETNX")
        {
            if (count < 3 || count % 2 == 0) return false;
            _argSpans[0] = AddLiteral("MSET");
            Split("MSET", 1, 2);
            Warn(name, 1, "applied as MSET split by slot (the source ran it only because none of the keys existed)");
            return true;
        }
        if (StoreCommands.Contains(name)) return RewriteStore(name, count);
        if (count < 3) return false;
        byte[] source = ArgSpan(1).ToArray();
        byte[] destination = ArgSpan(2).ToArray();
        int sourceSlot = ClusterSlots.Of(source);
        int destinationSlot = ClusterSlots.Of(destination);
        if (HasUncommitted(sourceSlot)) return false;
        switch (name)
        {
            case "RENAME":
            case "RENAMENX":
            case "COPY":
            {
                ReadyToRead();
                RespValue dump = Read(sourceSlot, "DUMP", source);
                RespValue ttl = Read(sourceSlot, "PTTL", source);
                if (dump.IsNull || dump.Bytes == null)
                {
                    // The target lacks the key the source had: nothing to move; the difference was there before.
                    Warn(name, 1, "skipped: the target has no key " + KeyText.Format(source) + " to take the value from (Compare-RedisData shows the difference, Repair-RedisData fixes it)");
                    return true;
                }
                long milliseconds = ttl.Integer > 0 ? ttl.Integer : 0;
                Add(destinationSlot, name, Format("RESTORE", destination, Encoding.ASCII.GetBytes(milliseconds.ToString(CultureInfo.InvariantCulture)), dump.Bytes, Encoding.ASCII.GetBytes("REPLACE")));
                if (name != "COPY") Defer(sourceSlot, Format("DEL", source));
                Warn(name, 1, name == "COPY"
                    ? $"applied as RESTORE of {KeyText.Format(destination)} from the target's copy of {KeyText.Format(source)} (slots {sourceSlot} and {destinationSlot})"
                    : $"applied as RESTORE of {KeyText.Format(destination)} from the target's copy of {KeyText.Format(source)}, then DEL {KeyText.Format(source)} once that was acknowledged (slots {sourceSlot} and {destinationSlot})");
                return true;
            }
            case "SMOVE":
            {
                if (count != 4) return false;
                byte[] member = ArgSpan(3).ToArray();
                Add(destinationSlot, name, Format("SADD", destination, member));
                Defer(sourceSlot, Format("SREM", source, member));
                Warn(name, 1, $"applied as SADD {KeyText.Format(destination)}, then SREM {KeyText.Format(source)} once that was acknowledged (slots {sourceSlot} and {destinationSlot})");
                return true;
            }
            default:
            {
                // LMOVE src dst LEFT|RIGHT LEFT|RIGHT; RPOPLPUSH src dst is LMOVE src dst RIGHT LEFT.
                bool fromLeft, toLeft;
                if (name == "RPOPLPUSH")
                {
                    if (count != 3) return false;
                    fromLeft = false;
                    toLeft = true;
                }
                else
                {
                    if (count != 5) return false;
                    string from = Encoding.ASCII.GetString(ArgSpan(3).ToArray()).ToUpperInvariant();
                    string to = Encoding.ASCII.GetString(ArgSpan(4).ToArray()).ToUpperInvariant();
                    if ((from != "LEFT" && from != "RIGHT") || (to != "LEFT" && to != "RIGHT")) return false;
                    fromLeft = from == "LEFT";
                    toLeft = to == "LEFT";
                }
                ReadyToRead();
                RespValue element = Read(sourceSlot, "LINDEX", source, fromLeft ? "0" : "-1");
                if (element.IsNull || element.Bytes == null)
                {
                    Warn(name, 1, "skipped: the target's list " + KeyText.Format(source) + " is empty or missing (Compare-RedisData shows the difference, Repair-RedisData fixes it)");
                    return true;
                }
                Add(destinationSlot, name, Format(toLeft ? "LPUSH" : "RPUSH", destination, element.Bytes));
                Defer(sourceSlot, Format(fromLeft ? "LPOP" : "RPOP", source));
                Warn(name, 1, $"applied as {(toLeft ? "LPUSH" : "RPUSH")} {KeyText.Format(destination)} of the element at the {(fromLeft ? "head" : "tail")} of {KeyText.Format(source)}, then {(fromLeft ? "LPOP" : "RPOP")} {KeyText.Format(source)} once that was acknowledged (slots {sourceSlot} and {destinationSlot})");
                return true;
            }
        }
    }

    /// <summary>A *STORE command: its inputs from other slots restored under temporary names in the destination's slot, run there, the temporary keys deleted.</summary>
    private bool RewriteStore(string name, int count)
    {
        var keys = new List<int>(KeyIndexes(name, count));
        int destinationIndex = name == "BITOP" ? 2 : 1;
        if (ClusterSlots.ShapeOf(name) == ClusterSlots.KeyShape.FirstAndStore)
        {
            // SORT and GEORADIUS(BYMEMBER) … STORE|STOREDIST dst (the last one counts, as for the source); a SORT that reads other
            // keys by a BY or GET pattern would read them from the destination's slot only, so it is not rewritten.
            destinationIndex = keys.Count > 1 ? keys[keys.Count - 1] : -1;
            if (destinationIndex < 0 || (name == "SORT" && SortReadsOtherKeys(count))) return false;
        }
        if (count <= destinationIndex) return false;
        int destinationSlot = ClusterSlots.Of(ArgSpan(destinationIndex));
        var inputs = new List<int>();
        foreach (int i in keys)
        {
            if (i == destinationIndex || ClusterSlots.Of(ArgSpan(i)) == destinationSlot) continue;
            if (HasUncommitted(ClusterSlots.Of(ArgSpan(i)))) return false;
            inputs.Add(i);
        }
        if (inputs.Count == 0) return false;
        ReadyToRead();
        string tag = ClusterSlots.Tag(destinationSlot);
        var renamed = new Dictionary<int, byte[]>();
        var temporary = new List<byte[]>();
        foreach (int i in inputs)
        {
            byte[] key = ArgSpan(i).ToArray();
            byte[] copy = Encoding.ASCII.GetBytes("{" + tag + "}redissync:tmp:" + _token + ":" + (++_temporaryKeys).ToString(CultureInfo.InvariantCulture));
            renamed[i] = copy;
            RespValue dump = Read(ClusterSlots.Of(key), "DUMP", key);
            // A missing input is an empty one, as for the source: the temporary key is simply not there.
            if (dump.IsNull || dump.Bytes == null) continue;
            Add(destinationSlot, name, Format("RESTORE", copy, Encoding.ASCII.GetBytes("0"), dump.Bytes, Encoding.ASCII.GetBytes("REPLACE")));
            temporary.Add(copy);
        }
        var args = new List<byte[]>(count);
        for (int i = 0; i < count; i++) args.Add(renamed.TryGetValue(i, out byte[]? t) ? t : ArgSpan(i).ToArray());
        Add(destinationSlot, name, Format(args.ToArray()));
        // Every temporary name, restored or not (DEL of a missing key is nothing).
        var delete = new List<byte[]> { Encoding.ASCII.GetBytes("DEL") };
        delete.AddRange(renamed.Values);
        Add(destinationSlot, name, Format(delete.ToArray()));
        Warn(name, destinationIndex, $"run in the slot of {KeyText.Format(ArgSpan(destinationIndex))} ({destinationSlot}) on copies of its {inputs.Count} input key(s) from other slots, read from the target and deleted after");
        return true;
    }

    /// <summary>Whether a SORT in <see cref="_args"/> has a BY pattern with a '*' (not the constant that skips sorting) or a GET (a cluster of Redis 7.0 refuses any).</summary>
    private bool SortReadsOtherKeys(int count)
    {
        for (int i = 2; i + 1 < count; i++)
        {
            string word = Encoding.ASCII.GetString(ArgSpan(i).ToArray()).ToUpperInvariant();
            ReadOnlySpan<byte> pattern = ArgSpan(i + 1);
            if (word == "BY" && pattern.IndexOf((byte)'*') >= 0) return true;
            if (word == "GET") return true;
            if (word == "BY" || word == "GET" || word == "STORE") i++;
            else if (word == "LIMIT") i += 2;
        }
        return false;
    }

    /// <summary>Whether <paramref name="slot"/> has writes of the current commit window not yet committed (a source transaction in progress).</summary>
    private bool HasUncommitted(int slot) => _open.TryGetValue(slot, out SlotUnit? unit) && unit.Commands > unit.CommitCommands;

    /// <summary>Seals what is committed and waits until the target acknowledged all of it, so that a read sees every write before the command.</summary>
    private void ReadyToRead()
    {
        ApplyDeferred();
        DrainAsync(_disposeCts.Token).GetAwaiter().GetResult();
    }

    /// <summary>One command on the master that serves <paramref name="slot"/> (a connection of its own, beside the writer's), following MOVED.</summary>
    private RespValue Read(int slot, string command, params object[] args)
    {
        var all = new object[args.Length + 1];
        all[0] = command;
        Array.Copy(args, 0, all, 1, args.Length);
        for (int attempt = 1; ; attempt++)
        {
            NodeLink? owner;
            lock (_gate) owner = _owners[slot];
            if (owner == null)
            {
                throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop, $"No master of the target cluster {_login} serves slot {slot}.");
            }
            string address = owner.Endpoint.ToString();
            if (!_readers.TryGetValue(address, out RedisConnection? connection))
            {
                connection = RedisConnection.ConnectAsync(owner.Endpoint, EndpointRole.Target, _disposeCts.Token).GetAwaiter().GetResult();
                _readers[address] = connection;
            }
            RespValue reply;
            try
            {
                reply = connection.ExecuteAsync(_disposeCts.Token, all).GetAwaiter().GetResult();
            }
            catch (Exception ex) when (attempt < 3 && (ex is System.IO.IOException || ex is System.Net.Sockets.SocketException || (ex is SyncException s && s.Kind == SyncErrorKind.Retry)))
            {
                connection.Dispose();
                _readers.Remove(address);
                RefreshAsync(_disposeCts.Token).GetAwaiter().GetResult();
                continue;
            }
            if (!reply.IsError) return reply;
            string text = reply.AsString() ?? string.Empty;
            if (attempt < 3 && (text.StartsWith("MOVED", StringComparison.Ordinal) || text.StartsWith("TRYAGAIN", StringComparison.Ordinal) || text.StartsWith("CLUSTERDOWN", StringComparison.Ordinal)))
            {
                Thread.Sleep(100 * attempt);
                RefreshAsync(_disposeCts.Token).GetAwaiter().GetResult();
                continue;
            }
            throw new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                $"The target {address} refused {command} {KeyText.Format((byte[])args[0])} ({text}), which RedisSync runs to apply a command of the source whose keys span slots of the cluster.");
        }
    }

    private void Defer(int slot, byte[] command)
    {
        _deferred.Add((slot, command));
        // Without a checkpoint there is no commit point to wait for: after the acknowledgement, at once.
        if (!_transactional) ApplyDeferred();
    }

    /// <summary>
    /// The deferred parts, after the writes before them were acknowledged. Called at the commit point of the command that made
    /// them (they are then committed at that same position, in a unit of their own), or before a later write of the same commit
    /// window reaches their slot (they then keep their place in that slot's order, but go with the window's commit).
    /// </summary>
    private void ApplyDeferred(int? beforeSlot = null)
    {
        if (_deferred.Count == 0) return;
        if (beforeSlot is int slot)
        {
            bool any = false;
            foreach ((int s, byte[] _) in _deferred) any |= s == slot;
            if (!any) return;
            (int, byte[])[] pending = _deferred.ToArray();
            _deferred.Clear();
            foreach ((int s, byte[] command) in pending) Add(s, DeferredPart, command);
            return;
        }
        (int, byte[])[] parts = _deferred.ToArray();
        _deferred.Clear();
        Seal();
        DrainAsync(_disposeCts.Token).GetAwaiter().GetResult();
        foreach ((int s, byte[] command) in parts) Add(s, DeferredPart, command);
    }

    private void Warn(string name, int keyIndex, string what)
    {
        string key = KeyText.Format(ArgSpan(keyIndex));
        string message = $"The source ran {name} on keys in different slots of the target cluster {_login}: {what}. " +
            "The result is the same; the parts on different masters are not applied at the same instant.";
        Statistics.Error(new SyncException(SyncErrorIds.TargetCrossSlotRewritten, SyncErrorKind.Skip, message) { Command = name, Key = key });
        Warning?.Invoke(new SyncWarning(SyncErrorIds.TargetCrossSlotRewritten, SyncErrorKind.Skip, key, name, message));
    }

    private (int Start, int Length) AddLiteral(string text)
    {
        int start = _args.Length;
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        _args.Write(bytes);
        return (start, bytes.Length);
    }

    private static byte[] Format(string command, params byte[][] args)
    {
        var all = new byte[args.Length + 1][];
        all[0] = Encoding.ASCII.GetBytes(command);
        Array.Copy(args, 0, all, 1, args.Length);
        return Format(all);
    }

    private static byte[] Format(byte[][] args)
    {
        var bytes = new PooledBuffer(256);
        RespFormatter.WriteArrayHeader(bytes, args.Length);
        foreach (byte[] arg in args) RespFormatter.WriteBulk(bytes, arg);
        byte[] result = bytes.WrittenSpan.ToArray();
        bytes.Dispose();
        return result;
    }

    private void DisposeReaders()
    {
        foreach (RedisConnection connection in _readers.Values) connection.Dispose();
        _readers.Clear();
    }
}
