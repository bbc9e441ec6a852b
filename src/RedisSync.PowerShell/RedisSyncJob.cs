using System;
using System.ComponentModel;
using System.Management.Automation;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;

namespace RedisSync;

/// <summary>
/// A sync running as a PowerShell job (PSJobTypeName RedisSyncJob): Get-Job, Receive-Job, Wait-Job,
/// Stop-Job and Remove-Job work on it. Its output is <see cref="SyncStatus"/> objects (on every
/// phase change and every status interval), its progress the sync's progress bar.
/// </summary>
public sealed class RedisSyncJob : Job2
{
    /// <summary>The type name that Get-Job shows and filters on.</summary>
    public const string TypeName = "RedisSyncJob";

    /// <summary>Progress records kept for Receive-Job (the oldest go first).</summary>
    internal const int MaxProgressRecords = 100;

    private readonly SyncRun _run;
    private readonly ManualResetEventSlim _pumpDone = new ManualResetEventSlim(false);
    private readonly object _lock = new object();
    private bool _stopCompletionPending;
    private bool _stopRequested;
    private bool _ended;
    private Thread? _pump;

    internal RedisSyncJob(SyncRun run, string command)
        : base(command, run.Name)
    {
        _run = run;
        _run.Owner = this;
        PSJobTypeName = TypeName;
        Output = new PSDataCollection<PSObject> { EnumeratorNeverBlocks = true };
        Error = new PSDataCollection<ErrorRecord> { EnumeratorNeverBlocks = true };
        Progress = new PSDataCollection<ProgressRecord> { EnumeratorNeverBlocks = true };
        Warning = new PSDataCollection<WarningRecord> { EnumeratorNeverBlocks = true };
        Verbose = new PSDataCollection<VerboseRecord> { EnumeratorNeverBlocks = true };
        Debug = new PSDataCollection<DebugRecord> { EnumeratorNeverBlocks = true };
        Information = new PSDataCollection<InformationRecord> { EnumeratorNeverBlocks = true };
    }

    /// <summary>The sync's live status (its final one once the job has ended).</summary>
    public SyncStatus Status => _run.GetStatus();

    /// <summary>The name of the sync (also the job's name).</summary>
    public string SyncName => _run.Name;

    internal SyncRun Run => _run;

    private bool IsFinished =>
        JobStateInfo.State == JobState.Completed || JobStateInfo.State == JobState.Failed || JobStateInfo.State == JobState.Stopped;

    /// <summary>The target the sync writes to.</summary>
    public override string Location => _run.Options.Target.ToString();

    /// <summary>The sync's phase.</summary>
    public override string StatusMessage => _run.GetStatus().Phase.ToString();

    /// <inheritdoc />
    public override bool HasMoreData =>
        Output.Count > 0 || Error.Count > 0 || Progress.Count > 0 || Warning.Count > 0 || Verbose.Count > 0 || Information.Count > 0;

    /// <summary>Starts the sync and the thread that moves its events into the job's streams.</summary>
    public override void StartJob()
    {
        if (JobStateInfo.State != JobState.NotStarted) throw new InvalidOperationException($"Job '{Name}' has already been started.");
        _run.Start();
        SetJobState(JobState.Running);
        _pump = new Thread(Pump) { IsBackground = true, Name = "redissync-job-" + Name };
        _pump.Start();
    }

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
        if (_pump != null) _pumpDone.Wait();
        else if (!IsFinished) SetJobState(JobState.Stopped);
    }

    /// <summary>
    /// Asks the sync to stop and returns at once. A stop asked for before the job has ended always ends
    /// it Stopped, also when the sync completes on its own meanwhile (a Full copy that ends as the stop arrives).
    /// </summary>
    internal void RequestStop()
    {
        lock (_lock)
        {
            // Under the lock, so the pump's final state cannot come before Stopping.
            if (!_ended && JobStateInfo.State != JobState.NotStarted)
            {
                _stopRequested = true;
                if (JobStateInfo.State != JobState.Stopping) SetJobState(JobState.Stopping);
            }
        }
        _run.Stop();
    }

    /// <summary>True until the job has ended (a stop asked for now still makes it Stopped).</summary>
    internal bool IsStoppable
    {
        get
        {
            lock (_lock) return !_ended && JobStateInfo.State != JobState.NotStarted;
        }
    }

    /// <inheritdoc />
    public override void StopJobAsync() => StopJobAsync(false, null);

    /// <summary>Stop-Job and Remove-Job -Force use this: it stops the sync and raises StopJobCompleted once the job is Stopped.</summary>
    public override void StopJobAsync(bool force, string? reason)
    {
        bool completeNow;
        lock (_lock)
        {
            completeNow = _pump == null || _pumpDone.IsSet;
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

    private void Pump()
    {
        var output = new JobOutput(this);
        try
        {
            while (!_run.Drain(output, Timeout.InfiniteTimeSpan))
            {
            }
            SyncException? error = _run.Error;
            if (error != null) Error.Add(ErrorRecords.From(error, "Start-RedisSync", _run.Name));
            JobState final;
            lock (_lock)
            {
                _ended = true;
                final = error != null ? JobState.Failed
                    : _stopRequested || _run.FinalStatus?.Phase == SyncPhase.Stopped ? JobState.Stopped
                    : JobState.Completed;
            }
            SetJobState(final);
        }
        catch (Exception ex)
        {
            Error.Add(ErrorRecords.From(HostErrors.Wrap(ex), "Start-RedisSync", _run.Name));
            lock (_lock) _ended = true;
            SetJobState(JobState.Failed);
        }
        finally
        {
            bool raise;
            lock (_lock)
            {
                _pumpDone.Set();
                raise = _stopCompletionPending;
                _stopCompletionPending = false;
            }
            if (raise) OnStopJobCompleted(new AsyncCompletedEventArgs(null, false, this));
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            SyncRegistry.Process.Remove(_run);
            _run.Dispose();
        }
        base.Dispose(disposing);
    }

    /// <summary>Moves the sync's events into the job's streams (on the pump thread; job streams are thread-safe).</summary>
    private sealed class JobOutput : ISyncOutput
    {
        private readonly RedisSyncJob _job;

        public JobOutput(RedisSyncJob job) => _job = job;

        public void WriteStatus(SyncStatus status, StatusReason reason) => _job.Output.Add(PSObject.AsPSObject(status));

        /// <summary>Keeps the latest records only: a job that runs for days must not pile them up.</summary>
        public void WriteProgress(SyncProgress progress)
        {
            _job.Progress.Add(ProgressRecords.From(progress));
            while (_job.Progress.Count > MaxProgressRecords) _job.Progress.RemoveAt(0);
        }

        public void WriteWarning(SyncWarning warning) => _job.Warning.Add(new WarningRecord(warning.ErrorId, warning.Message));
    }
}
