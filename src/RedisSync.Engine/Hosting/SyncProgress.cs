using System;
using System.Globalization;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// A progress bar's content in plain types (a cmdlet copies it into a ProgressRecord): the snapshot
/// as a percent of its bytes, the lag while streaming.
/// </summary>
public sealed class SyncProgress
{
    private SyncProgress(int activityId, string activity, string statusDescription, int percentComplete, string? currentOperation, bool completed, int secondsRemaining = -1)
    {
        SecondsRemaining = secondsRemaining;
        ActivityId = activityId;
        Activity = activity;
        StatusDescription = statusDescription;
        PercentComplete = percentComplete;
        CurrentOperation = currentOperation;
        Completed = completed;
    }

    /// <summary>Tells one sync's bar from another's.</summary>
    public int ActivityId { get; }

    /// <summary>The sync: its name, source and target.</summary>
    public string Activity { get; }

    /// <summary>The phase and its numbers.</summary>
    public string StatusDescription { get; }

    /// <summary>0–100 while a snapshot of known size loads, otherwise -1 (no bar, only text).</summary>
    public int PercentComplete { get; }

    /// <summary>The estimated time left of a snapshot, in seconds, or -1 when it cannot be told.</summary>
    public int SecondsRemaining { get; }

    /// <summary>The last error or warning, when there is one.</summary>
    public string? CurrentOperation { get; }

    /// <summary>The sync ended: the host removes the bar.</summary>
    public bool Completed { get; }

    /// <summary>
    /// The bar for a status snapshot. <paramref name="sourceKeys"/> is the source's key count (INFO
    /// keyspace) when known: a diskless snapshot has no size, so its percent and time left go by keys.
    /// </summary>
    public static SyncProgress From(SyncStatus status, int activityId, long? sourceKeys = null)
    {
        bool ended = status.Phase == SyncPhase.Completed || status.Phase == SyncPhase.Stopped || status.Phase == SyncPhase.Failed;
        string activity = $"RedisSync '{status.Name}': {status.Source} to {status.Target}";
        int percent = -1;
        int secondsLeft = -1;
        string text;
        switch (status.Phase)
        {
            case SyncPhase.Connecting:
                text = "Connecting";
                break;
            case SyncPhase.WaitingForSnapshot:
                text = "Waiting for the source's snapshot";
                break;
            case SyncPhase.LoadingSnapshot:
                string rate = Invariant($"{status.KeysPerSecond:N0} keys/s");
                if (status.SnapshotBytesTotal > 0)
                {
                    percent = (int)Math.Max(0, Math.Min(100, Math.Floor(status.SnapshotPercent ?? 0)));
                    text = Invariant($"Loading snapshot: {Bytes(status.SnapshotBytesReceived)} of {Bytes(status.SnapshotBytesTotal)}, {status.KeysWritten:N0} keys written ({rate})");
                }
                else if (sourceKeys is long total && total > 0)
                {
                    // Keys come and go while the snapshot streams: short of the end, the bar stops at 99 %.
                    percent = (int)Math.Min(99, status.KeysWritten * 100 / total);
                    if (status.KeysPerSecond >= 1 && status.KeysWritten < total) secondsLeft = (int)Math.Ceiling((total - status.KeysWritten) / status.KeysPerSecond);
                    text = Invariant($"Loading snapshot: {status.KeysWritten:N0} of about {total:N0} keys ({rate}), {Bytes(status.SnapshotBytesReceived)} received");
                }
                else
                {
                    text = Invariant($"Loading snapshot: {Bytes(status.SnapshotBytesReceived)}, {status.KeysWritten:N0} keys written ({rate})");
                }
                break;
            case SyncPhase.Streaming:
                text = Invariant($"Streaming: lag {status.LagMilliseconds} ms ({status.LagBytes} bytes), {status.CommandsPerSecond:N0} commands/s, offset {status.AppliedOffset}");
                break;
            case SyncPhase.Reconnecting:
                text = "Reconnecting";
                break;
            default:
                text = Invariant($"{status.Phase}: {status.KeysWritten} keys and {status.CommandsWritten} commands written");
                break;
        }
        return new SyncProgress(activityId, activity, text, percent, status.LastError, ended, secondsLeft);
    }

    /// <summary>The bar of a compare: the source's keys scanned against its DBSIZE (the target's extra keys come on top).</summary>
    public static SyncProgress FromCompare(CompareProgress progress, int activityId, string activity, bool completed)
    {
        string text = Invariant($"Database {progress.Database}: {progress.SourceKeysScanned:N0} of {progress.SourceKeysTotal:N0} keys scanned, {progress.KeysCompared:N0} compared, {progress.Differences:N0} differences");
        return new SyncProgress(activityId, activity, text, completed ? 100 : progress.PercentComplete, null, completed);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Bytes in the largest unit that keeps a number of at least 1 (KiB, MiB, GiB).</summary>
    public static string Bytes(long bytes)
    {
        string[] units = { "bytes", "KiB", "MiB", "GiB", "TiB" };
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " bytes"
            : value.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[unit];
    }
}
