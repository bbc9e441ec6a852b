using System;
using System.Threading;

namespace RedisSync.Engine.Status;

/// <summary>
/// What a sync as a whole has been through: its phase, the errors it retried, skipped or stopped on,
/// and its rates; the stages report to it, hosts read it. Raises the events a host queues.
/// </summary>
internal sealed class SyncStatusTracker
{
    private readonly object _lock = new object();
    private SyncPhase _phase = SyncPhase.Connecting;
    private long _retried;
    private long _skipped;
    private long _stopErrors;
    private string? _lastError;
    private string? _lastErrorId;
    private (DateTimeOffset At, long Keys, long Commands) _rateSample;
    private double _keysPerSecond;
    private double _commandsPerSecond;

    public SyncStatusTracker(DateTimeOffset startTime) => StartTime = startTime;

    /// <summary>When this run began.</summary>
    public DateTimeOffset StartTime { get; }

    /// <summary>The phase changed (raised on the engine's threads: hosts queue it).</summary>
    public event Action<SyncStatus>? PhaseChanged;

    /// <summary>Something was skipped or changed without stopping the sync.</summary>
    public event Action<SyncWarning>? Warning;

    /// <summary>Builds the whole status, for the events.</summary>
    public Func<SyncStatus>? Compose { get; set; }

    public SyncPhase Phase
    {
        get
        {
            lock (_lock) return _phase;
        }
    }

    public void SetPhase(SyncPhase phase)
    {
        lock (_lock)
        {
            if (_phase == phase) return;
            _phase = phase;
        }
        Func<SyncStatus>? compose = Compose;
        if (compose != null) PhaseChanged?.Invoke(compose());
    }

    /// <summary>A warning: counted once (Retry kinds as retried, the others as skipped), then raised.</summary>
    public void Warn(SyncWarning warning)
    {
        lock (_lock)
        {
            if (warning.Kind == SyncErrorKind.Retry) _retried++;
            else _skipped++;
            _lastError = warning.Message;
            _lastErrorId = warning.ErrorId;
        }
        Warning?.Invoke(warning);
    }

    /// <summary>An error that the sync retries (a dropped link), counted but not raised as a warning.</summary>
    public void Retried(SyncException error)
    {
        lock (_lock)
        {
            _retried++;
            _lastError = error.Message;
            _lastErrorId = error.ErrorId;
        }
    }

    /// <summary>The error the sync ends on.</summary>
    public void Failed(SyncException error)
    {
        lock (_lock)
        {
            _stopErrors++;
            _lastError = error.Message;
            _lastErrorId = error.ErrorId;
        }
        SetPhase(SyncPhase.Failed);
    }

    /// <summary>Something went wrong while stopping (the drain timed out, say): told, not counted as a stop error.</summary>
    public void Note(string message, string errorId)
    {
        lock (_lock)
        {
            _lastError = message;
            _lastErrorId = errorId;
        }
    }

    /// <summary>Samples the writer's counters for the keys/s and commands/s figures (about once a second).</summary>
    public void SampleRates(long keys, long commands)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        lock (_lock)
        {
            double seconds = (now - _rateSample.At).TotalSeconds;
            if (_rateSample.At != default && seconds > 0)
            {
                _keysPerSecond = Math.Max(0, keys - _rateSample.Keys) / seconds;
                _commandsPerSecond = Math.Max(0, commands - _rateSample.Commands) / seconds;
            }
            _rateSample = (now, keys, commands);
        }
    }

    /// <summary>The tracker's part of a status, read in one go.</summary>
    public Reading Read()
    {
        lock (_lock)
        {
            return new Reading(_phase, _retried, _skipped, _stopErrors, _lastError, _lastErrorId, _keysPerSecond, _commandsPerSecond);
        }
    }

    internal readonly record struct Reading(
        SyncPhase Phase, long Retried, long Skipped, long StopErrors, string? LastError, string? LastErrorId, double KeysPerSecond, double CommandsPerSecond);
}
