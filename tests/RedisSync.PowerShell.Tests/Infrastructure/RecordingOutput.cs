using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;

namespace RedisSync.PowerShell.Tests.Infrastructure;

/// <summary>A host that records what a run writes and on which thread (a cmdlet may write only from its own).</summary>
internal sealed class RecordingOutput : ISyncOutput
{
    private readonly object _lock = new object();

    public List<(SyncStatus Status, StatusReason Reason)> Statuses { get; } = new();

    public List<SyncProgress> Progress { get; } = new();

    public List<SyncWarning> Warnings { get; } = new();

    public HashSet<int> Threads { get; } = new();

    public void WriteStatus(SyncStatus status, StatusReason reason) => Record(() => Statuses.Add((status, reason)));

    public void WriteProgress(SyncProgress progress) => Record(() => Progress.Add(progress));

    public void WriteWarning(SyncWarning warning) => Record(() => Warnings.Add(warning));

    public List<SyncPhase> Phases()
    {
        lock (_lock) return Statuses.Where(s => s.Reason != StatusReason.Interval).Select(s => s.Status.Phase).ToList();
    }

    private void Record(Action add)
    {
        lock (_lock)
        {
            Threads.Add(Environment.CurrentManagedThreadId);
            add();
        }
    }

    /// <summary>Drains <paramref name="run"/> on this thread until <paramref name="done"/> holds (or the run ends); false on timeout.</summary>
    public bool DrainUntil(SyncRun run, Func<bool> done, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (done()) return true;
            if (run.Drain(this, TimeSpan.FromMilliseconds(100))) return done();
        }
        return done();
    }
}
