using System;
using System.ComponentModel;
using System.Management.Automation;
using System.Threading;

namespace RedisSync;

/// <summary>
/// What the module's jobs share (<see cref="RedisSyncJob"/>, a sync in this process, and
/// <see cref="Remoting.RedisSyncShardedJob"/>, a sync's shard tasks over sessions): streams whose
/// enumerators never block, a worker thread that runs the job until it ends, Stop-Job that asks it to
/// stop and waits (or, async, raises StopJobCompleted once it has ended), and no suspend, resume or unblock.
/// </summary>
public abstract class SyncJobBase : Job2
{
    private readonly ManualResetEventSlim _workerDone = new ManualResetEventSlim(false);
    private bool _stopCompletionPending;
    private Thread? _worker;

    private protected SyncJobBase(string command, string name)
        : base(command, name)
    {
        Output = new PSDataCollection<PSObject> { EnumeratorNeverBlocks = true };
        Error = new PSDataCollection<ErrorRecord> { EnumeratorNeverBlocks = true };
        Progress = new PSDataCollection<ProgressRecord> { EnumeratorNeverBlocks = true };
        Warning = new PSDataCollection<WarningRecord> { EnumeratorNeverBlocks = true };
        Verbose = new PSDataCollection<VerboseRecord> { EnumeratorNeverBlocks = true };
        Debug = new PSDataCollection<DebugRecord> { EnumeratorNeverBlocks = true };
        Information = new PSDataCollection<InformationRecord> { EnumeratorNeverBlocks = true };
    }

    /// <summary>Progress records kept for Receive-Job (the oldest go first): a job that runs for days must not pile them up.</summary>
    internal const int MaxProgressRecords = 100;

    /// <summary>Adds a progress record and drops the oldest beyond <see cref="MaxProgressRecords"/>.</summary>
    internal void AddProgress(ProgressRecord record)
    {
        Progress.Add(record);
        while (Progress.Count > MaxProgressRecords) Progress.RemoveAt(0);
    }

    /// <summary>Guards the job's state changes against a stop asked for meanwhile.</summary>
    private protected object StateLock { get; } = new object();

    /// <summary>True once the worker has ended (its final state is set).</summary>
    private protected bool WorkerEnded => _workerDone.IsSet;

    private protected bool IsFinished =>
        JobStateInfo.State == JobState.Completed || JobStateInfo.State == JobState.Failed || JobStateInfo.State == JobState.Stopped;

    /// <summary>Runs <paramref name="body"/> on a background thread; the body sets the job's final state.</summary>
    private protected void StartWorker(ThreadStart body, string threadName)
    {
        _worker = new Thread(() =>
        {
            try
            {
                body();
            }
            finally
            {
                WorkerDone();
            }
        }) { IsBackground = true, Name = threadName };
        _worker.Start();
    }

    /// <summary>Asks the job to stop and returns at once.</summary>
    internal abstract void RequestStop();

    /// <summary>Waits until the job has ended, or <paramref name="timeout"/> has passed.</summary>
    internal bool WaitEnded(TimeSpan timeout) => _workerDone.Wait(timeout);

    /// <inheritdoc />
    public override void StartJobAsync()
    {
        StartJob();
        OnStartJobCompleted(new AsyncCompletedEventArgs(null, false, this));
    }

    /// <summary>Stops the sync gracefully (drain, checkpoint) and waits until the job is Stopped.</summary>
    public override void StopJob() => StopJob(false, null);

    /// <inheritdoc />
    public override void StopJob(bool force, string? reason)
    {
        RequestStop();
        if (_worker != null) _workerDone.Wait();
        else if (!IsFinished) SetJobState(JobState.Stopped);
    }

    /// <inheritdoc />
    public override void StopJobAsync() => StopJobAsync(false, null);

    /// <summary>Stop-Job and Remove-Job -Force use this: it stops the sync and raises StopJobCompleted once the job is Stopped.</summary>
    public override void StopJobAsync(bool force, string? reason)
    {
        bool completeNow;
        lock (StateLock)
        {
            completeNow = _worker == null || _workerDone.IsSet;
            if (!completeNow) _stopCompletionPending = true;
        }
        if (completeNow)
        {
            StopJob(force, reason);
            OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, this));
            return;
        }
        RequestStop();
    }

    /// <inheritdoc />
    public override void SuspendJob() => throw NotSupported("suspended");

    /// <inheritdoc />
    public override void SuspendJob(bool force, string? reason) => throw NotSupported("suspended");

    /// <inheritdoc />
    public override void SuspendJobAsync() => throw NotSupported("suspended");

    /// <inheritdoc />
    public override void SuspendJobAsync(bool force, string? reason) => throw NotSupported("suspended");

    /// <inheritdoc />
    public override void ResumeJob() => throw NotSupported("resumed");

    /// <inheritdoc />
    public override void ResumeJobAsync() => throw NotSupported("resumed");

    /// <inheritdoc />
    public override void UnblockJob() => throw NotSupported("unblocked");

    /// <inheritdoc />
    public override void UnblockJobAsync() => throw NotSupported("unblocked");

    private static PSNotSupportedException NotSupported(string what) =>
        new PSNotSupportedException($"A RedisSync job cannot be {what}: stop it with Stop-Job or Stop-RedisSync, and start it again with the same -Name to resume from its checkpoint.");

    private void WorkerDone()
    {
        bool raise;
        lock (StateLock)
        {
            _workerDone.Set();
            raise = _stopCompletionPending;
            _stopCompletionPending = false;
        }
        if (raise) OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, this));
    }
}
