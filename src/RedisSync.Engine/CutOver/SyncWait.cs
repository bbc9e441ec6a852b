using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;

namespace RedisSync.Engine.CutOver;

/// <summary>What Wait-RedisSync waits for; with neither condition, for the sync to stream (its snapshot applied).</summary>
public sealed class SyncWaitCondition
{
    /// <summary>The applied offset has reached the source's offset as read when the wait began (every master's).</summary>
    public bool CaughtUp { get; init; }

    /// <summary>The lag is below this many milliseconds; null for no lag condition.</summary>
    public long? LagBelowMilliseconds { get; init; }

    /// <summary>How long to wait at most; null for no limit.</summary>
    public TimeSpan? Timeout { get; init; }
}

/// <summary>
/// Wait-RedisSync's engine side: polls a sync's status until a condition holds, the sync ends, or
/// the time is up (WaitTimedOut, with the last status).
/// </summary>
public static class SyncWait
{
    private static readonly TimeSpan LocalPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan RemotePoll = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Waits; returns the status that met the condition. A sync that ends first fails with WaitSyncEnded
    /// (a Full copy that completed meets every condition), the time running out with WaitTimedOut; the
    /// exception's <see cref="SyncWaitException.Status"/> is the last status read.
    /// </summary>
    public static async Task<SyncStatus> WaitAsync(SyncProbe probe, SyncWaitCondition condition, CancellationToken cancellationToken)
    {
        if (probe == null) throw new ArgumentNullException(nameof(probe));
        if (condition == null) throw new ArgumentNullException(nameof(condition));
        if (condition.LagBelowMilliseconds is long lag && lag <= 0) throw HostErrors.InvalidParameter("LagBelow", $"the lag must be more than 0 ms (got {lag}).");
        if (condition.Timeout is TimeSpan t && t < TimeSpan.Zero) throw HostErrors.InvalidParameter("Timeout", "the timeout cannot be negative.");
        DateTime? deadline = condition.Timeout is TimeSpan timeout ? DateTime.UtcNow + timeout : null;
        TimeSpan poll = probe.Run != null ? LocalPoll : RemotePoll;
        var started = System.Diagnostics.Stopwatch.StartNew();
        // A sync in another process that was started a moment ago may not have written to the target yet.
        async Task<SyncStatus> ReadAsync()
        {
            try
            {
                return await probe.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SyncException ex) when (probe.Run == null && ex.ErrorId == HostErrorIds.CheckpointNotFound && started.Elapsed < StartGrace
                && (deadline == null || DateTime.UtcNow < deadline))
            {
                return new SyncStatus { Name = probe.Name, Phase = SyncPhase.Connecting, Timestamp = DateTimeOffset.UtcNow, StartTime = DateTimeOffset.UtcNow, SnapshotBytesTotal = -1 };
            }
        }
        SyncStatus status = await ReadAsync().ConfigureAwait(false);
        IReadOnlyList<SourcePosition>? target = null;
        while (true)
        {
            if (status.Phase == SyncPhase.Completed) return status;
            if (!SyncProbe.IsLive(status))
            {
                throw new SyncWaitException(HostErrorIds.WaitSyncEnded, status,
                    $"Sync '{probe.Name}' ended ({status.Phase}) before the condition held" + (status.LastError != null ? ": " + status.LastError : "."));
            }
            if (condition.CaughtUp && target == null && status.Phase == SyncPhase.Streaming)
            {
                // Read once, after the call began: writes made later are not waited for.
                target = await SourcePosition.ReadAsync(await probe.MastersAsync(status, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            }
            if (Holds(condition, status, target, probe.Run == null)) return status;
            if (deadline is DateTime d && DateTime.UtcNow >= d)
            {
                throw new SyncWaitException(HostErrorIds.WaitTimedOut, status,
                    $"Sync '{probe.Name}' did not meet the condition ({Describe(condition)}) within {condition.Timeout!.Value.TotalSeconds:0.###} s: " +
                    $"phase {status.Phase}, applied offset {status.AppliedOffset}" + (target != null ? $" of {target.Sum(p => p.Offset)} to reach" : string.Empty) +
                    (status.LagMilliseconds is long ms ? $", lag {ms} ms." : "."));
            }
            TimeSpan wait = deadline is DateTime end && end - DateTime.UtcNow < poll ? end - DateTime.UtcNow : poll;
            if (wait > TimeSpan.Zero) await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            status = await ReadAsync().ConfigureAwait(false);
        }
    }

    /// <summary>How long a sync read from the target may have no checkpoint and no lease yet (it is starting) before that is an error.</summary>
    public static readonly TimeSpan StartGrace = TimeSpan.FromSeconds(30);

    private static bool Holds(SyncWaitCondition condition, SyncStatus status, IReadOnlyList<SourcePosition>? target, bool remote)
    {
        if (status.Phase != SyncPhase.Streaming) return false;
        if (condition.CaughtUp && (target == null || !SourcePosition.AllApplied(target, status))) return false;
        if (condition.LagBelowMilliseconds is long below)
        {
            long lag = status.LagMilliseconds ?? (remote ? (long)Math.Max(0, (DateTimeOffset.UtcNow - status.Timestamp).TotalMilliseconds) : long.MaxValue);
            if (lag >= below) return false;
        }
        return true;
    }

    private static string Describe(SyncWaitCondition condition)
    {
        var parts = new List<string>();
        if (condition.CaughtUp) parts.Add("caught up");
        if (condition.LagBelowMilliseconds is long ms) parts.Add($"lag below {ms} ms");
        if (parts.Count == 0) parts.Add("streaming");
        return string.Join(", ", parts);
    }
}

/// <summary>A wait that ended without its condition: the error id and the last status read.</summary>
public sealed class SyncWaitException : SyncException
{
    /// <summary>Makes the error.</summary>
    public SyncWaitException(string errorId, SyncStatus status, string message)
        : base(errorId, SyncErrorKind.Stop, message) => Status = status;

    /// <summary>The last status read.</summary>
    public SyncStatus Status { get; }
}
