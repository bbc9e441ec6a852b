using System.Collections.Generic;
using System.Management.Automation;
using System.Threading;
using RedisSync.Engine.Hosting;
using RedisSync.Remoting;

namespace RedisSync.Commands;

/// <summary>
/// Stop-RedisSync: stops syncs of this process gracefully (in-flight writes drained, checkpoint
/// recorded) and waits until each has ended; a job's state becomes Stopped.
/// </summary>
[Cmdlet(VerbsLifecycle.Stop, "RedisSync", DefaultParameterSetName = NameSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(SyncStatus))]
public sealed class StopRedisSyncCommand : PSCmdlet
{
    private const string NameSet = "Name";
    private const string JobSet = "Job";

    private readonly ManualResetEvent _stopping = new ManualResetEvent(false);

    /// <summary>The sync's name (wildcards allowed); every running sync when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>A job from Start-RedisSync.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = JobSet)]
    [ValidateNotNull]
    public RedisSyncJob Job { get; set; } = null!;

    /// <summary>Writes each stopped sync's final status.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Stops the matching syncs one by one.</summary>
    protected override void ProcessRecord()
    {
        IReadOnlyList<SyncRun> runs = ParameterSetName == JobSet ? new[] { Job.Run } : SyncSelection.Select(this, Name);
        foreach (SyncRun run in runs)
        {
            var job = run.Owner as RedisSyncJob;
            if (job != null ? !job.IsStoppable : !run.IsRunning)
            {
                if (PassThru && ParameterSetName == JobSet) WriteObject(run.GetStatus());
                continue;
            }
            string what = $"Sync '{run.Name}' ({run.GetStatus().Source} to {run.Options.Target})";
            if (!ShouldProcess(what, "Stop")) continue;
            if (job != null) job.RequestStop();
            else run.Stop();
            if (!WaitFor(run.Ended)) return;
            if (job != null && !WaitFor(job.Finished)) return;
            if (PassThru) WriteObject(run.GetStatus());
        }
        if (ParameterSetName == JobSet) return;
        foreach (RedisSyncShardedJob sharded in SyncSelection.SelectSharded(Name))
        {
            if (sharded.Finished.WaitOne(0)) continue;
            if (!ShouldProcess($"Sync '{sharded.Name}' ({sharded.Tasks.Count} shard tasks over sessions, to {sharded.Location})", "Stop")) continue;
            sharded.RequestStop();
            if (!WaitFor(sharded.Finished)) return;
            if (PassThru) WriteObject(sharded.Status);
        }
    }

    /// <summary>Ctrl+C: stop waiting (the syncs go on stopping).</summary>
    protected override void StopProcessing() => _stopping.Set();

    private bool WaitFor(WaitHandle handle) => WaitHandle.WaitAny(new[] { handle, _stopping }) == 0;
}
