using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Scan;

/// <summary>
/// The keys a scan sync must copy again (a keyspace event named them, or the verify pass found them
/// different), each once however often it changed, in the order first seen; bounded: an event that
/// finds it full is an overflow (the sync then rescans), a verify pass waits for room instead.
/// Thread-safe: the event link and the verify pass add, the scan's one producer takes.
/// </summary>
internal sealed class ChangedKeys
{
    private readonly int _limit;
    private readonly object _gate = new object();
    private readonly Queue<(int Db, byte[] Key)> _order = new Queue<(int, byte[])>();
    private readonly HashSet<(int Db, byte[] Key)> _pending = new HashSet<(int, byte[])>(new KeyComparer());
    private TaskCompletionSource<bool> _added = NewSignal();
    private TaskCompletionSource<bool> _taken = NewSignal();

    public ChangedKeys(int limit) => _limit = limit;

    /// <summary>Keys waiting now.</summary>
    public int Count
    {
        get
        {
            lock (_gate) return _order.Count;
        }
    }

    /// <summary>Adds a key unless it waits already; false when the queue is full (the key is not added).</summary>
    public bool TryAdd(int db, byte[] key) => TryAdd(db, key, _limit);

    private bool TryAdd(int db, byte[] key, int limit)
    {
        TaskCompletionSource<bool> added;
        lock (_gate)
        {
            if (_pending.Contains((db, key))) return true;
            if (_order.Count >= limit) return false;
            _pending.Add((db, key));
            _order.Enqueue((db, key));
            added = _added;
            _added = NewSignal();
        }
        added.TrySetResult(true);
        return true;
    }

    /// <summary>
    /// Adds a key, waiting while the queue is three quarters full: the last quarter is kept for the events, so
    /// that a verify pass does not itself make the events overflow (and another pass follow).
    /// </summary>
    public async Task AddAsync(int db, byte[] key, CancellationToken cancellationToken)
    {
        int limit = Math.Max(1, _limit - _limit / 4);
        while (true)
        {
            Task room;
            lock (_gate) room = _taken.Task;
            if (TryAdd(db, key, limit)) return;
            await Task.WhenAny(room, Task.Delay(100, cancellationToken)).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Takes up to <paramref name="max"/> keys; a key changed again after this is added again.</summary>
    public List<(int Db, byte[] Key)> Take(int max)
    {
        var taken = new List<(int, byte[])>(Math.Min(max, 64));
        TaskCompletionSource<bool> signal;
        lock (_gate)
        {
            while (taken.Count < max && _order.Count > 0)
            {
                (int Db, byte[] Key) next = _order.Dequeue();
                _pending.Remove(next);
                taken.Add(next);
            }
            signal = _taken;
            if (taken.Count > 0) _taken = NewSignal();
        }
        if (taken.Count > 0) signal.TrySetResult(true);
        return taken;
    }

    /// <summary>Waits until a key is added, or <paramref name="timeout"/> passes.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Task added;
        lock (_gate)
        {
            if (_order.Count > 0) return;
            added = _added.Task;
        }
        await Task.WhenAny(added, Task.Delay(timeout, cancellationToken)).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
    }

    private static TaskCompletionSource<bool> NewSignal() => new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class KeyComparer : IEqualityComparer<(int Db, byte[] Key)>
    {
        public bool Equals((int Db, byte[] Key) x, (int Db, byte[] Key) y) => x.Db == y.Db && x.Key.AsSpan().SequenceEqual(y.Key);

        public int GetHashCode((int Db, byte[] Key) value)
        {
            unchecked
            {
                int hash = (int)2166136261 ^ value.Db;
                foreach (byte b in value.Key) hash = (hash ^ b) * 16777619;
                return hash;
            }
        }
    }
}
