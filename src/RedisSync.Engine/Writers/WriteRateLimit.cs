using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Writers;

/// <summary>
/// -MaxWriteRate: commands per second that the target is sent at most, shared by every writer of a
/// sync (and -MaxReadRate: keys per second the scan reader reads, through <see cref="TakeAsync"/>). Each batch takes its commands' share of time; a send loop whose batch is early sleeps until
/// its time (the loop runs on its own thread, so it blocks no one else).
/// </summary>
internal sealed class WriteRateLimit
{
    private readonly double _ticksPerCommand;
    private readonly object _lock = new object();
    private long _next;
    private long _heldBackUntil;

    public WriteRateLimit(long commandsPerSecond)
    {
        if (commandsPerSecond <= 0) throw new ArgumentOutOfRangeException(nameof(commandsPerSecond));
        CommandsPerSecond = commandsPerSecond;
        _ticksPerCommand = (double)Stopwatch.Frequency / commandsPerSecond;
    }

    public long CommandsPerSecond { get; }

    /// <summary>The limit delayed a batch within the last second.</summary>
    public bool HeldBack => Stopwatch.GetTimestamp() < Interlocked.Read(ref _heldBackUntil);

    /// <summary>Waits until <paramref name="commands"/> may be sent (false when cancelled meanwhile).</summary>
    public bool Take(int commands, CancellationToken cancellationToken)
    {
        TimeSpan wait = Reserve(commands);
        return wait == TimeSpan.Zero || !cancellationToken.WaitHandle.WaitOne(wait);
    }

    /// <summary>Waits, without holding a thread, until <paramref name="units"/> may go.</summary>
    public Task TakeAsync(int units, CancellationToken cancellationToken)
    {
        TimeSpan wait = Reserve(units);
        return wait == TimeSpan.Zero ? Task.CompletedTask : Task.Delay(wait, cancellationToken);
    }

    /// <summary>Takes the time of <paramref name="units"/>; returns how long to wait before they go.</summary>
    private TimeSpan Reserve(int units)
    {
        long now = Stopwatch.GetTimestamp(), start;
        lock (_lock)
        {
            // Unused time does not pile up beyond one batch: an idle sync does not earn a burst.
            start = Math.Max(now, _next);
            _next = start + (long)(units * _ticksPerCommand);
        }
        if (start <= now) return TimeSpan.Zero;
        Interlocked.Exchange(ref _heldBackUntil, start + Stopwatch.Frequency);
        return TimeSpan.FromSeconds((double)(start - now) / Stopwatch.Frequency);
    }
}
