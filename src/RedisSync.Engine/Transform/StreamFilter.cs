using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Transform;

/// <summary>What the stream filter did with a command.</summary>
internal enum StreamVerdict
{
    /// <summary>Apply it as it is (database arguments still mapped by the caller).</summary>
    Forward,
    /// <summary>Leave it out: it touches only keys, databases or commands the filter leaves out.</summary>
    Drop,
    /// <summary>
    /// The filter wrote what the target needs instead (the kept part, or the command that keeps the meaning),
    /// perhaps in another database: the caller selects the stream's database again.
    /// </summary>
    Written,
}

/// <summary>
/// The live stream through a <see cref="KeyFilter"/>, keeping the meaning at the boundary between kept
/// and dropped keys (the truth table in Start-RedisSync's help): a multi-key command is split, a key
/// renamed or moved out of what is kept is deleted on the target, a member moved in is added, and what
/// cannot be known from the command alone (a value renamed in from a dropped key, a key's type after a
/// restart) is read from the source on a link of its own.
/// </summary>
internal sealed class StreamFilter
{
    /// <summary>The id of the warnings for writes whose effect the target cannot get from the stream alone.</summary>
    public const string FilterBoundary = "FilterBoundary";

    private readonly KeyFilter _filter;
    private readonly KeyRename? _rename;
    private readonly ICommandSink _sink;
    private readonly Func<int, int> _mapDb;
    private readonly int _targetDatabases;
    private readonly Action<SyncWarning>? _warn;
    private readonly List<int> _keys = new List<int>();
    private readonly List<bool> _kept = new List<bool>();
    private readonly PooledBuffer _scratch = new PooledBuffer(256);
    private readonly HashSet<string> _warned = new HashSet<string>(StringComparer.Ordinal);
    private readonly IKeyFlush? _flush;
    private readonly ISourceLookup? _source;
    private readonly KeyIds _known = new KeyIds();
    private readonly HashSet<int> _emptied = new HashSet<int>();
    private readonly List<bool> _windowed = new List<bool>();

    /// <summary>Per source database: keys whose value was read from the source, and the stream offset that read holds everything up to.</summary>
    private readonly Dictionary<int, Dictionary<string, long>> _windows = new Dictionary<int, Dictionary<string, long>>();
    private int _windowCount;
    private bool _typesUnknown;
    private bool _sourceGone; // the command's first key was looked up and is gone from the source by now
    private readonly List<(int Db, byte[] Key)> _uncommittedKeys = new List<(int, byte[])>();
    private bool _inTransaction;

    /// <param name="filter">What is copied (<see cref="KeyFilter.Everything"/> for renames alone).</param>
    /// <param name="rename">The key renames, or null.</param>
    /// <param name="sink">Where the commands go.</param>
    /// <param name="mapDb">Source database → target database.</param>
    /// <param name="targetDatabases">How many databases the target has.</param>
    /// <param name="warn">Where the warnings go.</param>
    /// <param name="flush">What deletes the keys the sync owns at a FLUSHDB or FLUSHALL (null: the flush is forwarded as it is).</param>
    /// <param name="source">What reads a key's type from the source when the stream does not know it (null: none).</param>
    public StreamFilter(KeyFilter filter, KeyRename? rename, ICommandSink sink, Func<int, int> mapDb, int targetDatabases, Action<SyncWarning>? warn, IKeyFlush? flush = null,
        ISourceLookup? source = null)
    {
        _flush = flush;
        _source = source;
        _filter = filter;
        _rename = rename;
        _sink = sink;
        _mapDb = mapDb;
        _targetDatabases = targetDatabases;
        _warn = warn;
    }

    /// <summary>Commands left out by the filter.</summary>
    public long Filtered { get; private set; }

    /// <summary>
    /// Whether the stream is inside a source transaction: no commit point falls there, so the keys its commands
    /// write are remembered, and a FLUSHDB in it also deletes what was written before it (in the batch not sent yet).
    /// </summary>
    public bool InTransaction
    {
        get => _inTransaction;
        set => _inTransaction = value;
    }

    /// <summary>A commit point was given: what came before it is sent before any later flush's deletions.</summary>
    public void Committed() => _uncommittedKeys.Clear();

    /// <summary>Whether the kept keys written now are remembered for a later flush (no commit point since).</summary>
    private bool RemembersWrites => FlushesOwnedKeys && (_inTransaction || _windowCount > 0);

    /// <summary>
    /// Whether the types of the keys that existed when the stream began are unknown: a stream continued from a
    /// checkpoint, whose snapshot (and what it dropped by -Type or -Where) was in another run. Such a key's type
    /// is then read from the source at its first command that does not say it. A new full copy makes them known.
    /// </summary>
    public bool TypesUnknown
    {
        get => _typesUnknown;
        set
        {
            _typesUnknown = value && _source != null && _filter.HasTypes;
            _known.Clear(-1);
            _emptied.Clear();
        }
    }

    /// <summary>Whether a flush deletes only the keys the sync owns (key, type or -Where filters, or renames), not the whole database.</summary>
    private bool FlushesOwnedKeys => _flush != null && (_filter.HasKeyPatterns || _filter.HasTypes || _rename != null);

    /// <summary>
    /// Whether commit points are held back: a value read from the source holds writes the stream has not reached
    /// yet, so the batch ends only past them (a run that stops before replays from before the read, and reads again).
    /// </summary>
    public bool HoldsCommit => _windowCount > 0;

    /// <summary>The stream reached <paramref name="offset"/>: the values read at or before it hold nothing the stream has not passed.</summary>
    public void Advance(long offset)
    {
        if (_windowCount == 0) return;
        foreach (Dictionary<string, long> keys in _windows.Values)
        {
            var done = new List<string>();
            foreach (KeyValuePair<string, long> window in keys)
            {
                if (window.Value <= offset) done.Add(window.Key);
            }
            foreach (string key in done) keys.Remove(key);
            _windowCount -= done.Count;
        }
    }

    /// <summary>The stream continues from elsewhere (a resync): values read meanwhile are read again when their command comes again.</summary>
    public void ForgetReads()
    {
        _windows.Clear();
        _windowCount = 0;
        _uncommittedKeys.Clear();
    }

    /// <summary>The values read in <paramref name="db"/> (−1: all) no longer stand for the stream ahead: the database was emptied.</summary>
    private void CloseWindows(int db)
    {
        if (db < 0)
        {
            _windows.Clear();
            _windowCount = 0;
        }
        else if (_windows.TryGetValue(db, out Dictionary<string, long>? keys))
        {
            _windowCount -= keys.Count;
            _windows.Remove(db);
        }
    }

    /// <summary>Decides about one command in source database <paramref name="db"/>; <paramref name="name"/> is its name in upper case.</summary>
    public StreamVerdict Apply(string name, IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        StreamVerdict verdict = Decide(name, args, db);
        if (verdict == StreamVerdict.Drop) Filtered++;
        if (verdict == StreamVerdict.Forward && _rename != null) return Renamed(name, args);
        return verdict;
    }

    private StreamVerdict Decide(string name, IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        CommandSpec? spec = CommandKeys.Find(name);
        if (!_filter.KeepsCommand(name, spec)) return StreamVerdict.Drop;
        switch (name)
        {
            case "FLUSHDB":
                _filter.ForgetDatabase(db);
                KnowEmpty(db);
                if (!_filter.KeepsDatabase(db)) return StreamVerdict.Drop;
                if (!FlushesOwnedKeys)
                {
                    CloseWindows(db);
                    return StreamVerdict.Forward;
                }
                FlushOwned(db);
                return StreamVerdict.Written;
            case "FLUSHALL":
                return FlushAll(db);
            case "SWAPDB":
                return SwapDb(args, db);
            case "MOVE":
                return Move(args, db);
        }
        if (!_filter.KeepsDatabase(db))
        {
            if (name == "COPY" && DbOption(args) is int target && target != db && _filter.KeepsDatabase(target)) return CopyIn(args, target);
            return StreamVerdict.Drop;
        }
        if (spec == null || spec.Kind == KeySpecKind.None) return StreamVerdict.Forward;
        _keys.Clear();
        CommandKeys.KeyIndexes(spec, args, _keys);
        if (_keys.Count == 0) return StreamVerdict.Forward;

        RedisType type = spec.KeyType;
        if (name == "RESTORE" || name == "RESTORE-ASKING") type = PayloadType(args);
        bool generic = type == RedisType.None;
        _kept.Clear();
        _windowed.Clear();
        int keptCount = 0;
        // The value of a RENAME or COPY whose source is gone from the source by now is read from the source at its new name.
        bool goneMovesValue = name == "RENAME" || name == "RENAMENX" || name == "COPY";
        _sourceGone = false;
        foreach (int index in _keys)
        {
            ReadOnlySpan<byte> key = Span(args[index]);
            // A key whose value was read from the source at a later offset already holds this command's effect: left out, as a dropped key is.
            bool windowed = _windowCount > 0 && InWindow(db, key);
            bool kept = !windowed && _filter.KeepsName(key) && (generic ? KeepsUntyped(db, key, db, goneIsKept: !goneMovesValue || index != _keys[0]) : _filter.KeepsType(type) && _filter.KeepsWhere(db, key, type));
            _kept.Add(kept);
            _windowed.Add(windowed);
            if (kept) keptCount++;
        }
        if (RemembersWrites) RememberWritten(name, args, db);
        RememberTypes(name, args, db, type);
        if (keptCount == _keys.Count) return StreamVerdict.Forward;

        switch (name)
        {
            case "RENAME":
            case "RENAMENX":
                return Rename(args, db);
            case "COPY":
                return Copy(args, db);
            case "SMOVE":
                return SMove(args);
            case "LMOVE":
            case "BLMOVE":
            case "RPOPLPUSH":
            case "BRPOPLPUSH":
                return LMove(name, args, db);
        }
        if (keptCount == 0) return StreamVerdict.Drop;
        if (IsSplittable(name, spec)) return Split(args, spec);
        if (!_kept[0]) return StreamVerdict.Drop;
        Warn(name, $"{name} on {KeyText.Format(Span(args[_keys[0]]))} also reads keys the filter leaves out, which the target does not hold: " +
            "the target applies it with what it has, so its result may differ from the source's. Compare-RedisData finds such keys and Repair-RedisData copies them.", Span(args[_keys[0]]));
        return StreamVerdict.Forward;
    }

    /// <summary>Keys dropped for their type stay known through the commands that create, rename, move or delete them.</summary>
    private void RememberTypes(string name, IReadOnlyList<ReadOnlySequence<byte>> args, int db, RedisType type)
    {
        if (!_filter.HasTypes) return;
        if (type != RedisType.None)
        {
            for (int k = 0; k < _keys.Count; k++)
            {
                if (_windowed[k]) continue;
                ReadOnlySpan<byte> key = Span(args[_keys[k]]);
                if (_kept[k]) Known(db, key);
                else if (_filter.KeepsName(key)) _filter.RememberDropped(db, key);
            }
            return;
        }
        switch (name)
        {
            case "DEL":
            case "UNLINK":
                foreach (int index in _keys) Known(db, Span(args[index]));
                break;
            case "RENAME":
            case "RENAMENX":
            case "COPY":
                if (_keys.Count < 2) break;
                int targetDb = name == "COPY" ? DbOption(args) ?? db : db;
                bool dropped = _filter.WasDroppedForType(db, Span(args[_keys[0]]));
                if (name != "COPY") Known(db, Span(args[_keys[0]]));
                if (dropped) _filter.RememberDropped(targetDb, Span(args[_keys[1]]));
                else Known(targetDb, Span(args[_keys[1]]));
                break;
        }
    }

    /// <summary>
    /// Whether a key that a command without a type names is kept: not when it was dropped for its type; on a
    /// stream continued from a checkpoint, a key not seen since is looked up on the source first (in
    /// <paramref name="db"/>, or in <paramref name="elsewhere"/> when it is no longer there: MOVE).
    /// </summary>
    /// <remarks>
    /// The type read is the key's type now, which may be later than the command's: a key whose type changed since
    /// was deleted or overwritten since, by a command that comes later in the stream and is judged in its turn
    /// (a key gone now is taken as kept when <paramref name="goneIsKept"/>, as it was before this lookup: a DEL or
    /// EXPIRE does nothing on the target unless the target holds the key; the source of a RENAME or COPY gone now
    /// is taken as left out, so that the value is read from the source at its new name).
    /// </remarks>
    private bool KeepsUntyped(int db, ReadOnlySpan<byte> key, int elsewhere, bool goneIsKept = true)
    {
        if (_filter.WasDroppedForType(db, key)) return false;
        if (!_typesUnknown || _emptied.Contains(db) || _known.Contains(db, key)) return true;
        byte[] name = key.ToArray();
        RedisType type = _source!.TypeOf(db, name);
        if (type == RedisType.None && elsewhere != db) type = _source.TypeOf(elsewhere, name);
        if (type == RedisType.None && !goneIsKept)
        {
            _sourceGone = true;
            return false;
        }
        bool kept = type == RedisType.None || (_filter.KeepsType(type) && _filter.KeepsWhere(db, name, type));
        if (kept) Known(db, name);
        else _filter.RememberDropped(db, name);
        return kept;
    }

    /// <summary>A key whose type the stream now knows (kept, or gone): not dropped for its type, and not looked up again.</summary>
    private void Known(int db, ReadOnlySpan<byte> key)
    {
        _filter.Forget(db, key);
        if (!_typesUnknown) return;
        if (_known.Count >= 1_000_000) _known.Clear(-1); // bounded: a key forgotten is looked up again
        _known.Add(db, key);
    }

    /// <summary>After a FLUSHDB every key of the database is known: gone.</summary>
    private void KnowEmpty(int db)
    {
        if (!_typesUnknown) return;
        _known.Clear(db);
        _emptied.Add(db);
    }

    /// <summary>RENAME from a kept key to a dropped one deletes it on the target; into a kept key from a dropped one, the stale key goes too.</summary>
    private StreamVerdict Rename(IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        if (_kept[0] || _sourceGone)
        {
            // Kept, or of a type unknown and gone from the source by now (a restart): the target's copy, if any, goes.
            Write("DEL", args[_keys[0]]);
            if (_kept[0]) return StreamVerdict.Written;
        }
        ReadOnlySpan<byte> to = Span(args[_keys[1]]);
        if (!_filter.KeepsName(to)) return _sourceGone ? StreamVerdict.Written : StreamVerdict.Drop;
        if (_filter.WasDroppedForType(db, to))
        {
            Write("DEL", args[_keys[1]]);
            return StreamVerdict.Written;
        }
        return CopyFromSource("RENAME", args[_keys[0]], args[_keys[1]], db);
    }

    private StreamVerdict Copy(IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        if (_kept[0]) return StreamVerdict.Drop;
        int targetDb = DbOption(args) ?? db;
        if (!_filter.KeepsDatabase(targetDb) || !_filter.KeepsName(Span(args[_keys[1]]))) return StreamVerdict.Drop;
        return CopyIn(args, targetDb);
    }

    /// <summary>COPY from a dropped key (or database) into a kept one: the target's stale copy goes, and the user is told.</summary>
    private StreamVerdict CopyIn(IReadOnlyList<ReadOnlySequence<byte>> args, int targetDb)
    {
        if (args.Count < 3) return StreamVerdict.Drop;
        ReadOnlySequence<byte> to = args[2];
        if (_filter.WasDroppedForType(targetDb, Span(to)))
        {
            _sink.SelectDb(_mapDb(targetDb));
            Write("DEL", to);
            return StreamVerdict.Written;
        }
        return CopyFromSource("COPY", args[1], to, targetDb);
    }

    private StreamVerdict Move(IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        if (args.Count != 3 || !TryInt(args[2], out int to)) return _filter.KeepsDatabase(db) ? StreamVerdict.Forward : StreamVerdict.Drop;
        ReadOnlySpan<byte> key = Span(args[1]);
        bool named = _filter.KeepsName(key);
        bool droppedType = named && !KeepsUntyped(db, key, to);
        if (droppedType)
        {
            Known(db, key);
            _filter.RememberDropped(to, key);
        }
        else if (named)
        {
            Known(db, key);
            Known(to, key);
        }
        bool fromKept = _filter.KeepsDatabase(db) && named && !droppedType;
        bool toKept = _filter.KeepsDatabase(to) && named && !droppedType;
        if (toKept && RemembersWrites) _uncommittedKeys.Add((to, key.ToArray()));
        // A key whose value was read from the source later than this MOVE: the target's copy is of a later moment, so its new database reads its own.
        if (fromKept && InWindow(db, key)) return toKept ? CopyFromSource("MOVE", args[1], args[1], to) : StreamVerdict.Drop;
        if (fromKept && toKept) return StreamVerdict.Forward;
        if (fromKept)
        {
            Write("DEL", args[1]);
            return StreamVerdict.Written;
        }
        return toKept ? CopyFromSource("MOVE", args[1], args[1], to) : StreamVerdict.Drop;
    }

    private StreamVerdict SMove(IReadOnlyList<ReadOnlySequence<byte>> args)
    {
        if (args.Count != 4) return _kept[0] ? StreamVerdict.Forward : StreamVerdict.Drop;
        if (_kept[0]) Write("SREM", args[1], args[3]);
        else if (_kept.Count > 1 && _kept[1]) Write("SADD", args[2], args[3]);
        else return StreamVerdict.Drop;
        return StreamVerdict.Written;
    }

    private StreamVerdict LMove(string name, IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        if (_kept[0])
        {
            bool left = (name == "LMOVE" || name == "BLMOVE") && args.Count > 3 && Upper(args[3]) == "LEFT";
            Write(left ? "LPOP" : "RPOP", args[1]);
            return StreamVerdict.Written;
        }
        if (_kept.Count < 2 || !_kept[1]) return StreamVerdict.Drop;
        return CopyFromSource(name, args[1], args[2], db);
    }

    private StreamVerdict FlushAll(int db)
    {
        _filter.ForgetDatabase(-1);
        _typesUnknown = false;
        _known.Clear(-1);
        bool owned = FlushesOwnedKeys;
        if (!_filter.HasDatabases && !owned)
        {
            CloseWindows(-1);
            return StreamVerdict.Forward;
        }
        var targets = new SortedDictionary<int, int>();
        for (int source = 0; source < Math.Max(_targetDatabases, 16); source++)
        {
            if (!_filter.KeepsDatabase(source)) continue;
            int target = MapOrNone(source);
            if (target >= 0 && !targets.ContainsKey(target)) targets.Add(target, source);
        }
        foreach (KeyValuePair<int, int> pair in targets)
        {
            if (owned)
            {
                FlushOwned(pair.Value);
                continue;
            }
            _sink.SelectDb(pair.Key);
            Write("FLUSHDB");
        }
        CloseWindows(-1);
        return StreamVerdict.Written;
    }

    /// <summary>
    /// A flush of source database <paramref name="db"/> under key filters: on the target, only the keys the sync
    /// owns there go (a target key is owned when it is what a kept source key becomes), the target's own stay.
    /// </summary>
    private void FlushOwned(int db)
    {
        bool needsType = _filter.HasTypes;
        // A shard of a cluster source flushes its own slots only: the other masters' keys are still on the source.
        IReadOnlyList<(int From, int To)>? slots = _source?.ShardSlots();
        _flush!.DeleteOwned(_mapDb(db), MatchPattern(), needsType, (key, type) => Owns(db, key, type, needsType, slots));
        // What was written since the last commit point (in a transaction, or while a value read from the source
        // holds commit points back) is still in the batch being built, after the deletions: it goes too.
        var written = new List<byte[]>();
        if (_windows.TryGetValue(db, out Dictionary<string, long>? read))
        {
            foreach (string id in read.Keys) written.Add(Convert.FromBase64String(id));
            CloseWindows(db);
        }
        _uncommittedKeys.RemoveAll(entry =>
        {
            if (entry.Db != db) return false;
            written.Add(entry.Key);
            return true;
        });
        if (written.Count == 0) return;
        _sink.SelectDb(_mapDb(db));
        for (int start = 0; start < written.Count; start += 500)
        {
            _sink.BeginCommand();
            _sink.Arg("UNLINK"u8);
            for (int i = start; i < Math.Min(written.Count, start + 500); i++) _sink.Arg(_rename?.Rename(written[i]) ?? written[i]);
            _sink.EndCommand();
        }
    }

    private bool Owns(int db, byte[] targetKey, RedisType type, bool needsType, IReadOnlyList<(int From, int To)>? slots)
    {
        if (_rename == null) return OwnsSource(db, targetKey, type, needsType, slots);
        foreach (byte[] source in _rename.SourcesOf(targetKey))
        {
            if (OwnsSource(db, source, type, needsType, slots)) return true;
        }
        return false;
    }

    private bool OwnsSource(int db, byte[] key, RedisType type, bool needsType, IReadOnlyList<(int From, int To)>? slots) =>
        _filter.KeepsName(key) && (!needsType || (_filter.KeepsType(type) && _filter.KeepsWhere(db, key, type))) && (slots == null || InSlots(slots, key));

    private static bool InSlots(IReadOnlyList<(int From, int To)> slots, byte[] key)
    {
        int slot = Writers.ClusterSlots.Of(key);
        foreach ((int from, int to) in slots)
        {
            if (slot >= from && slot <= to) return true;
        }
        return false;
    }

    /// <summary>The SCAN MATCH glob that every owned target key matches (one -Key pattern, as renamed), or null.</summary>
    private string? MatchPattern()
    {
        SyncFilter given = _filter.Filter;
        if (given.Key.Count != 1 || given.KeyRegex.Count > 0) return null;
        if (_rename == null) return given.Key[0];
        var pattern = new KeyPattern(given.Key[0]);
        if (!pattern.IsPrefix) return null;
        byte[]? prefix = _rename.RenamedPrefix(pattern.Prefix.Span);
        if (prefix == null) return null;
        string text = System.Text.Encoding.UTF8.GetString(prefix);
        return System.Text.Encoding.UTF8.GetBytes(text).AsSpan().SequenceEqual(prefix) ? KeyPattern.ForPrefix(text) : null;
    }

    /// <summary>The kept keys a command inside a transaction writes (COPY … DB n: its destination in database n).</summary>
    private void RememberWritten(string name, IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        for (int k = 0; k < _keys.Count; k++)
        {
            if (!_kept[k]) continue;
            int keyDb = name == "COPY" && k == 1 ? DbOption(args) ?? db : db;
            _uncommittedKeys.Add((keyDb, Span(args[_keys[k]]).ToArray()));
        }
    }

    private StreamVerdict SwapDb(IReadOnlyList<ReadOnlySequence<byte>> args, int db)
    {
        if (args.Count != 3 || !TryInt(args[1], out int a) || !TryInt(args[2], out int b)) return StreamVerdict.Forward;
        _filter.SwapDatabases(a, b);
        _known.Swap(a, b);
        _windows.TryGetValue(a, out Dictionary<string, long>? readA);
        _windows.TryGetValue(b, out Dictionary<string, long>? readB);
        _windows.Remove(a);
        _windows.Remove(b);
        if (readA != null) _windows[b] = readA;
        if (readB != null) _windows[a] = readB;
        bool emptiedA = _emptied.Remove(a), emptiedB = _emptied.Remove(b);
        if (emptiedA) _emptied.Add(b);
        if (emptiedB) _emptied.Add(a);
        bool ka = _filter.KeepsDatabase(a), kb = _filter.KeepsDatabase(b);
        if (ka && kb) return StreamVerdict.Forward;
        if (!ka && !kb) return StreamVerdict.Drop;
        int kept = ka ? a : b, other = ka ? b : a;
        CloseWindows(kept);
        _sink.SelectDb(_mapDb(kept));
        Write("FLUSHDB");
        Warn("SWAPDB", $"SWAPDB {a} {b}: database {kept} now holds what database {other} held, which the filter leaves out; " +
            $"the target's database {_mapDb(kept)} was emptied instead. Copy database {other} with a sync of its own if it is needed.", default);
        return StreamVerdict.Written;
    }

    private int MapOrNone(int db)
    {
        try
        {
            return _mapDb(db);
        }
        catch (SyncException)
        {
            return -1;
        }
    }

    private static bool IsSplittable(string name, CommandSpec spec) =>
        spec.Kind == KeySpecKind.Range && spec.Last == -1 && (spec.Step == 2 || name == "DEL" || name == "UNLINK" || name == "EXISTS" || name == "TOUCH");

    /// <summary>The command again with only its kept keys (and, for MSET, their values).</summary>
    private StreamVerdict Split(IReadOnlyList<ReadOnlySequence<byte>> args, CommandSpec spec)
    {
        _sink.BeginCommand();
        int k = 0;
        for (int i = 0; i < args.Count; i++)
        {
            if (k < _keys.Count && _keys[k] == i)
            {
                if (_kept[k])
                {
                    KeyArg(args[i]);
                    if (spec.KeyValuePairs && i + 1 < args.Count) Arg(args[i + 1]);
                }
                if (spec.KeyValuePairs) i++;
                k++;
            }
            else
            {
                Arg(args[i]);
            }
        }
        _sink.EndCommand();
        return StreamVerdict.Written;
    }

    /// <summary>
    /// A value renamed, copied or moved into the filter from a key (or database) it leaves out: not in the stream, so
    /// read from the source (DUMP and PTTL, with the source's offset, on the second link) and RESTOREd REPLACE on
    /// the target in the stream's order (in source database <paramref name="db"/>).
    /// </summary>
    /// <remarks>
    /// The value read is the key's value now, which may hold writes the stream has not reached yet; applied again
    /// on it, writes that are not idempotent (INCR, RPUSH, APPEND) would count twice, so the result would not
    /// converge. It does because the read also gives the source's offset: until the stream passes it, the key is
    /// left out of every command (as a dropped key is: a multi-key command is split, a RENAME or LMOVE out of it
    /// reads its destination from the source in turn), since the value holds their effect already; past it, the
    /// key is kept as before. No commit point falls inside that window (<see cref="HoldsCommit"/>), so a run that
    /// stops there replays from before the read and reads again.
    /// </remarks>
    private StreamVerdict CopyFromSource(string command, in ReadOnlySequence<byte> from, in ReadOnlySequence<byte> to, int db)
    {
        int sourceDb = db;
        _sink.SelectDb(_mapDb(db));
        byte[] key = Span(to).ToArray();
        if (InWindow(sourceDb, key)) return StreamVerdict.Drop; // read already, at a later offset
        if (_source == null)
        {
            Write("DEL", to);
            NotCopied(command, from, to);
            return StreamVerdict.Written;
        }
        SourceValue value = _source.Dump(sourceDb, key);
        if (value.Payload == null)
        {
            Write("DEL", to);
        }
        else
        {
            RedisType type = ((RdbType)value.Payload[0]).ToRedisType();
            if (!_filter.KeepsType(type) || !_filter.KeepsWhere(sourceDb, key, type))
            {
                _filter.RememberDropped(sourceDb, key);
                Write("DEL", to);
                return StreamVerdict.Written;
            }
            if (!value.TargetLoads)
            {
                Write("DEL", to);
                NotCopied(command, from, to);
                return StreamVerdict.Written;
            }
            _sink.BeginCommand();
            _sink.Arg("RESTORE"u8);
            KeyArg(to);
            _sink.Arg(value.ExpireAtMs);
            _sink.Arg(value.Payload);
            _sink.Arg("REPLACE"u8);
            if (value.ExpireAtMs > 0) _sink.Arg("ABSTTL"u8);
            _sink.EndCommand();
        }
        OpenWindow(sourceDb, key, value.Offset);
        return StreamVerdict.Written;
    }

    private bool InWindow(int db, ReadOnlySpan<byte> key) =>
        _windowCount > 0 && _windows.TryGetValue(db, out Dictionary<string, long>? keys) && keys.ContainsKey(Convert.ToBase64String(key.ToArray()));

    private void OpenWindow(int db, byte[] key, long offset)
    {
        if (!_windows.TryGetValue(db, out Dictionary<string, long>? keys)) _windows[db] = keys = new Dictionary<string, long>(StringComparer.Ordinal);
        string id = Convert.ToBase64String(key);
        if (!keys.ContainsKey(id)) _windowCount++;
        keys[id] = offset;
    }

    private void NotCopied(string command, in ReadOnlySequence<byte> from, in ReadOnlySequence<byte> to)
    {
        string key = KeyText.Format(Span(to));
        Warn(command + key, $"{command} {KeyText.Format(Span(from))} → {key}: the key comes from one the filter leaves out, so its value is not in the stream; " +
            $"the target's {key} was deleted. Repair-RedisData copies it from the source (Compare-RedisData -Key <it> | Repair-RedisData).", Span(to));
    }

    private void Warn(string once, string message, ReadOnlySpan<byte> key)
    {
        if (_warn == null || _warned.Count > 1000 || !_warned.Add(once)) return;
        _warn(new SyncWarning(FilterBoundary, SyncErrorKind.Skip, key.IsEmpty ? null : KeyText.Format(key), null, message));
    }

    /// <summary>A command of the filter's own: its first argument is a key (renamed), the others are not.</summary>
    private void Write(string command, params ReadOnlySequence<byte>[] args)
    {
        _sink.BeginCommand();
        _sink.Arg(System.Text.Encoding.ASCII.GetBytes(command));
        for (int i = 0; i < args.Length; i++)
        {
            if (i == 0) KeyArg(args[i]);
            else Arg(args[i]);
        }
        _sink.EndCommand();
    }

    /// <summary>The command with each key argument renamed (and the database arguments of MOVE and COPY mapped), or Forward when no key changes.</summary>
    private StreamVerdict Renamed(string name, IReadOnlyList<ReadOnlySequence<byte>> args)
    {
        CommandSpec? spec = CommandKeys.Find(name);
        if (spec == null || spec.Kind == KeySpecKind.None) return StreamVerdict.Forward;
        _keys.Clear();
        CommandKeys.KeyIndexes(spec, args, _keys);
        if (!_keys.Any(i => _rename!.Rename(Span(args[i])) != null)) return StreamVerdict.Forward;
        int dbArg = name == "MOVE" ? 2 : name == "COPY" ? DbIndex(args) : -1;
        _sink.BeginCommand();
        for (int i = 0; i < args.Count; i++)
        {
            if (_keys.Contains(i)) KeyArg(args[i]);
            else if (i == dbArg && TryInt(args[i], out int db)) _sink.Arg(_mapDb(db));
            else Arg(args[i]);
        }
        _sink.EndCommand();
        return StreamVerdict.Written;
    }

    private void KeyArg(in ReadOnlySequence<byte> key)
    {
        byte[]? renamed = _rename?.Rename(Span(key));
        if (renamed != null) _sink.Arg(renamed);
        else Arg(key);
    }

    private static int DbIndex(IReadOnlyList<ReadOnlySequence<byte>> args)
    {
        for (int i = 3; i + 1 < args.Count; i++)
        {
            if (Upper(args[i]) == "DB") return i + 1;
        }
        return -1;
    }

    private void Arg(in ReadOnlySequence<byte> arg)
    {
        if (arg.IsSingleSegment) _sink.Arg(arg.First.Span);
        else _sink.Arg(arg.ToArray());
    }

    private ReadOnlySpan<byte> Span(in ReadOnlySequence<byte> arg)
    {
        if (arg.IsSingleSegment) return arg.First.Span;
        _scratch.Clear();
        foreach (ReadOnlyMemory<byte> piece in arg) _scratch.Write(piece.Span);
        return _scratch.WrittenSpan;
    }

    private static RedisType PayloadType(IReadOnlyList<ReadOnlySequence<byte>> args)
    {
        if (args.Count < 4 || args[3].Length == 0) return RedisType.None;
        byte first = args[3].First.Span[0];
        return ((RdbType)first).ToRedisType();
    }

    private static int? DbOption(IReadOnlyList<ReadOnlySequence<byte>> args)
    {
        for (int i = 3; i + 1 < args.Count; i++)
        {
            if (Upper(args[i]) == "DB" && TryInt(args[i + 1], out int db)) return db;
        }
        return null;
    }

    private static string Upper(in ReadOnlySequence<byte> arg) =>
        arg.Length > 32 ? string.Empty : System.Text.Encoding.ASCII.GetString(arg.ToArray()).ToUpperInvariant();

    private static bool TryInt(in ReadOnlySequence<byte> arg, out int value)
    {
        value = 0;
        return arg.Length is > 0 and <= 10 && System.Buffers.Text.Utf8Parser.TryParse(arg.ToArray(), out value, out int used) && used == arg.Length;
    }
}
