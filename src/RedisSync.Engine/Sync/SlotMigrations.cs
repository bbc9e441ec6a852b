using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Threading;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Keys that move between the shards of a cluster source while the sync runs. MIGRATE shows on the
/// old owner's stream as a DEL and on the new owner's as RESTORE-ASKING (in real time the RESTORE
/// comes first, then the DEL), and the two streams reach the target through different writers, in
/// any order. The old owner's writes to the key before the move must land before the moved value,
/// and its DEL must not delete the value that arrived. So a RESTORE-ASKING waits until the old
/// owner's stream has read the key's DEL and its writer has applied it (the DEL, and every write
/// before it, then lands first), and is applied as RESTORE … REPLACE. When no DEL comes within
/// <see cref="DeleteWait"/> (MIGRATE COPY, a lagging or lost shard), the RESTORE goes ahead and a
/// DEL of the key that another shard reads later, within <see cref="Horizon"/>, is dropped as the
/// migration's own. A waiting shard first sends its own batch, so shards waiting on each other
/// (slots moving both ways at once) both progress.
/// </summary>
internal sealed class SlotMigrations
{
    /// <summary>How long a pairing waits for its other half (the streams' lag differs by less).</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromSeconds(60);

    /// <summary>How long a RESTORE waits for the other shard's writer to apply the DEL read before it.</summary>
    public static readonly TimeSpan DeleteWait = TimeSpan.FromSeconds(10);

    private const int MaxEntries = 1_000_000;
    private readonly object _lock = new object();
    private readonly Dictionary<string, (string Shard, long Ticks)> _restored = new Dictionary<string, (string, long)>(StringComparer.Ordinal);
    private readonly Queue<(string Key, long Ticks)> _restoredOrder = new Queue<(string, long)>();
    private readonly Dictionary<string, (string Shard, long Offset, long Ticks)> _deleted = new Dictionary<string, (string, long, long)>(StringComparer.Ordinal);
    private readonly Queue<(string Key, long Ticks)> _deletedOrder = new Queue<(string, long)>();
    private readonly Dictionary<string, Func<long>> _applied = new Dictionary<string, Func<long>>(StringComparer.Ordinal);
    private long _dropped;
    private long _restores;
    private long _waits;
    private long _timeouts;

    /// <summary>Migration DELs dropped because the key had arrived on its new shard already.</summary>
    public long DeletesDropped
    {
        get
        {
            lock (_lock) return _dropped;
        }
    }

    /// <summary>Keys moved in by RESTORE-ASKING.</summary>
    public long KeysRestored
    {
        get
        {
            lock (_lock) return _restores;
        }
    }

    /// <summary>RESTOREs that waited for another shard's writer to apply the key's DEL first.</summary>
    public long RestoresDelayed
    {
        get
        {
            lock (_lock) return _waits;
        }
    }

    /// <summary>
    /// Before a RESTORE-ASKING of <paramref name="key"/> on <paramref name="shard"/> is applied: waits
    /// (bounded by <see cref="DeleteWait"/>) until another shard has read the key's DEL and its writer
    /// has applied it, so every write the old owner made to the key lands before the moved value.
    /// Returns false when no DEL came in time: the key is then remembered, and a DEL that comes
    /// later from another shard is dropped as the migration's own.
    /// </summary>
    public bool AwaitDelete(string shard, string key, Action flushOwn, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        bool flushed = false;
        while (true)
        {
            (string Shard, long Offset)? earlier = null;
            lock (_lock)
            {
                Expire();
                if (_deleted.TryGetValue(key, out var d) && d.Shard != shard)
                {
                    _deleted.Remove(key);
                    earlier = (d.Shard, d.Offset);
                    _restores++;
                }
                else if (clock.Elapsed >= DeleteWait || cancellationToken.IsCancellationRequested)
                {
                    _restores++;
                    _timeouts++;
                    Remember(_restored, _restoredOrder, key, (Shard: shard, Ticks: Stopwatch.GetTimestamp()), e => e.Ticks);
                    return false;
                }
            }
            if (!flushed)
            {
                // This shard's own batch goes out first, so two shards waiting on each other both progress.
                flushOwn();
                flushed = true;
            }
            if (earlier is { } del)
            {
                WaitApplied(del.Shard, del.Offset, cancellationToken);
                return true;
            }
            Thread.Sleep(1);
        }
    }

    /// <summary>RESTOREs applied without their DEL seen in time (<see cref="DeleteWait"/>): their DEL, if it comes, is dropped.</summary>
    public long DeletesLate
    {
        get
        {
            lock (_lock) return _timeouts;
        }
    }

    /// <summary>Whether a DEL of <paramref name="key"/> from <paramref name="shard"/> is a migration's own, to drop; otherwise it is remembered, with the offset after it.</summary>
    public bool IsMigrationDelete(string shard, string key, long offsetAfter)
    {
        lock (_lock)
        {
            Expire();
            if (_restored.TryGetValue(key, out var entry) && entry.Shard != shard)
            {
                _restored.Remove(key);
                _dropped++;
                return true;
            }
            Remember(_deleted, _deletedOrder, key, (Shard: shard, Offset: offsetAfter, Ticks: Stopwatch.GetTimestamp()), e => e.Ticks);
            return false;
        }
    }

    /// <summary>Waits (bounded by <see cref="DeleteWait"/>) until <paramref name="shard"/>'s writer has applied its stream up to <paramref name="offset"/>.</summary>
    public void WaitApplied(string shard, long offset, CancellationToken cancellationToken = default)
    {
        Func<long>? applied;
        lock (_lock)
        {
            _applied.TryGetValue(shard, out applied);
            _waits++;
        }
        if (applied == null) return;
        var clock = Stopwatch.StartNew();
        var spin = new SpinWait();
        while (applied() < offset && clock.Elapsed < DeleteWait && !cancellationToken.IsCancellationRequested)
        {
            if (spin.NextSpinWillYield) Thread.Sleep(1); else spin.SpinOnce();
        }
    }

    private static void Remember<T>(Dictionary<string, T> keys, Queue<(string Key, long Ticks)> order, string key, T value, Func<T, long> ticksOf)
    {
        keys[key] = value;
        long ticks = ticksOf(value);
        order.Enqueue((key, ticks));
        while (keys.Count > MaxEntries && order.Count > 0)
        {
            (string old, long t) = order.Dequeue();
            if (keys.TryGetValue(old, out T? e) && ticksOf(e!) == t) keys.Remove(old);
        }
    }

    private void Expire()
    {
        long limit = Stopwatch.GetTimestamp() - (long)(Horizon.TotalSeconds * Stopwatch.Frequency);
        while (_restoredOrder.Count > 0 && _restoredOrder.Peek().Ticks < limit)
        {
            (string key, long ticks) = _restoredOrder.Dequeue();
            if (_restored.TryGetValue(key, out var e) && e.Ticks == ticks) _restored.Remove(key);
        }
        while (_deletedOrder.Count > 0 && _deletedOrder.Peek().Ticks < limit)
        {
            (string key, long ticks) = _deletedOrder.Dequeue();
            if (_deleted.TryGetValue(key, out var e) && e.Ticks == ticks) _deleted.Remove(key);
        }
    }

    /// <summary>The ledger between one shard's stream and its transform; <paramref name="applied"/> is the offset the shard's writer has applied.</summary>
    public IReplicationHandler Wrap(string shard, IReplicationHandler inner, Func<long> applied)
    {
        lock (_lock) _applied[shard] = applied;
        return new Handler(this, shard, inner);
    }

    /// <summary>Rewrites RESTORE-ASKING, drops migration DELs (a multi-key DEL keeps its other keys), hands the rest on.</summary>
    private sealed class Handler : IReplicationHandler
    {
        private static readonly ReadOnlySequence<byte> Ping = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n"));
        private readonly SlotMigrations _ledger;
        private readonly string _shard;
        private readonly IReplicationHandler _inner;
        private readonly List<ReadOnlySequence<byte>> _args = new List<ReadOnlySequence<byte>>();
        private readonly PooledBuffer _frame = new PooledBuffer(256);

        public Handler(SlotMigrations ledger, string shard, IReplicationHandler inner)
        {
            _ledger = ledger;
            _shard = shard;
            _inner = inner;
        }

        public void OnIdle() => _inner.OnIdle();

        public void OnCommand(IReadOnlyList<ReadOnlySequence<byte>> args, in ReadOnlySequence<byte> frame, long offsetAfter)
        {
            string name = args.Count > 0 && args[0].Length <= 16 ? Encoding.ASCII.GetString(args[0].ToArray()).ToUpperInvariant() : string.Empty;
            if (name == "RESTORE-ASKING" && args.Count >= 4)
            {
                _ledger.AwaitDelete(_shard, Key(args[1]), _inner.OnIdle);
                var rewritten = new List<ReadOnlySequence<byte>> { new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("RESTORE")) };
                bool replace = false;
                for (int i = 1; i < args.Count; i++)
                {
                    rewritten.Add(args[i]);
                    if (i > 3 && Encoding.ASCII.GetString(args[i].ToArray()).Equals("REPLACE", StringComparison.OrdinalIgnoreCase)) replace = true;
                }
                if (!replace) rewritten.Add(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("REPLACE")));
                Forward(rewritten, offsetAfter);
                return;
            }
            if ((name == "DEL" || name == "UNLINK") && args.Count >= 2)
            {
                _args.Clear();
                _args.Add(args[0]);
                for (int i = 1; i < args.Count; i++)
                {
                    if (!_ledger.IsMigrationDelete(_shard, Key(args[i]), offsetAfter)) _args.Add(args[i]);
                }
                if (_args.Count == args.Count)
                {
                    _inner.OnCommand(args, frame, offsetAfter);
                    return;
                }
                if (_args.Count == 1)
                {
                    _inner.OnCommand(new[] { Ping.Slice(8, 4) }, Ping, offsetAfter); // dropped whole: only its offset counts
                    return;
                }
                Forward(_args, offsetAfter);
                return;
            }
            _inner.OnCommand(args, frame, offsetAfter);
        }

        private void Forward(IReadOnlyList<ReadOnlySequence<byte>> args, long offsetAfter)
        {
            _frame.Clear();
            RespFormatter.WriteArrayHeader(_frame, args.Count);
            foreach (ReadOnlySequence<byte> arg in args) RespFormatter.WriteBulk(_frame, arg);
            var frame = new ReadOnlySequence<byte>(_frame.WrittenMemory);
            // The transform reads the arguments again from the new frame.
            var parsed = new List<ReadOnlySequence<byte>>();
            ReadOnlySequence<byte> rest = frame;
            RespParser.TryReadCommand(ref rest, parsed, out ReadOnlySequence<byte> whole);
            _inner.OnCommand(parsed, whole, offsetAfter);
        }

        private static string Key(in ReadOnlySequence<byte> arg) => Encoding.UTF8.GetString(arg.ToArray());
    }
}
