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
public sealed class RedisSyncJob : SyncJobBase
{
    /// <summary>The type name that Get-Job shows and filters on.</summary>
    public const string TypeName = "RedisSyncJob";

    private readonly SyncRun _run;
    private bool _stopRequested;
    private bool _ended;

    internal RedisSyncJob(SyncRun run, string command)
        : base(command, run.Name)
    {
        _run = run;
        _run.Owner = this;
        PSJobTypeName = TypeName;
    }

    /// <summary>The sync's live status (its final one once the job has ended).</summary>
    public SyncStatus Status => _run.GetStatus();

    /// <summary>The name of the sync (also the job's name).</summary>
    public string SyncName => _run.Name;

    internal SyncRun Run => _run;

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
        StartWorker(Pump, "redissync-job-" + Name);
    }

    /// <summary>
    /// Asks the sync to stop and returns at once. A stop asked for before the job has ended always ends
    /// it Stopped, also when the sync completes on its own meanwhile (a Full copy that ends as the stop arrives).
    /// </summary>
    internal override void RequestStop()
    {
        lock (StateLock)
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
            lock (StateLock) return !_ended && JobStateInfo.State != JobState.NotStarted;
        }
    }

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
            lock (StateLock)
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
            lock (StateLock) _ended = true;
            SetJobState(JobState.Failed);
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
            _job.AddProgress(ProgressRecords.From(progress));
        }

        public void WriteWarning(SyncWarning warning) => _job.Warning.Add(new WarningRecord(warning.ErrorId, warning.Message));
    }
}
