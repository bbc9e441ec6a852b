using System.Diagnostics;
using System.Threading;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Remembers when stream offsets arrived (a sample every few milliseconds, in a fixed ring), so the
/// lag can be told in time as well as in bytes: how long the oldest unapplied write has waited.
/// </summary>
internal sealed class LagTracker
{
    private const int Size = 4096;
    private static readonly long SampleTicks = Stopwatch.Frequency / 200; // 5 ms
    private readonly long[] _offsets = new long[Size];
    private readonly long[] _ticks = new long[Size];
    private readonly object _lock = new object();
    private int _head;
    private int _count;
    private long _lastSampleTicks;

    /// <summary>The stream reached <paramref name="offset"/> now (called per command; samples cheaply).</summary>
    public void Received(long offset)
    {
        long now = Stopwatch.GetTimestamp();
        if (now - Volatile.Read(ref _lastSampleTicks) < SampleTicks) return;
        lock (_lock)
        {
            _lastSampleTicks = now;
            int slot = (_head + _count) % Size;
            if (_count == Size)
            {
                _head = (_head + 1) % Size;
                _count--;
            }
            _offsets[slot] = offset;
            _ticks[slot] = now;
            _count++;
        }
    }

    /// <summary>Milliseconds since the first sampled offset beyond <paramref name="applied"/> arrived (0 when caught up).</summary>
    public long LagMilliseconds(long applied, long received)
    {
        if (applied >= received) return 0;
        lock (_lock)
        {
            while (_count > 0 && _offsets[_head] <= applied)
            {
                _head = (_head + 1) % Size;
                _count--;
            }
            if (_count == 0) return 0;
            return (Stopwatch.GetTimestamp() - _ticks[_head]) * 1000 / Stopwatch.Frequency;
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _head = 0;
            _count = 0;
        }
    }
}
