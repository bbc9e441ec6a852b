using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Security;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.CutOver;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;

namespace RedisSync.Commands;

/// <summary>
/// Wait-RedisSync: waits until a sync has caught up with its source (or its lag is below a bound)
/// and returns its status; on timeout a non-terminating WaitTimedOut error, for runbooks.
/// </summary>
[Cmdlet(VerbsLifecycle.Wait, "RedisSync", DefaultParameterSetName = NameSet)]
[OutputType(typeof(SyncStatus))]
public sealed class WaitRedisSyncCommand : RemoteSyncCommand
{
    private const string NameSet = "Name";
    private const string JobSet = "Job";

    private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

    /// <summary>The sync's name (wildcards allowed in this process: each match is waited for in turn).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TargetSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = null!;

    /// <summary>A job from Start-RedisSync.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = JobSet)]
    [ValidateNotNull]
    public RedisSyncJob Job { get; set; } = null!;

    /// <summary>Waits until the target has applied every write the source had when the wait began (on every master of a cluster source).</summary>
    [Parameter]
    public SwitchParameter CaughtUp { get; set; }

    /// <summary>Waits until the lag is below this many milliseconds.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long LagBelow { get; set; }

    /// <summary>How many seconds to wait at most; then a WaitTimedOut error and no output.</summary>
    [Parameter]
    [ValidateRange(0.0, double.MaxValue)]
    public double Timeout { get; set; }

    /// <summary>Waits for each sync given, one after the other.</summary>
    protected override void ProcessRecord()
    {
        var condition = new SyncWaitCondition
        {
            CaughtUp = CaughtUp.IsPresent,
            LagBelowMilliseconds = MyInvocation.BoundParameters.ContainsKey(nameof(LagBelow)) ? LagBelow : null,
            Timeout = MyInvocation.BoundParameters.ContainsKey(nameof(Timeout)) ? TimeSpan.FromSeconds(Timeout) : null,
        };
        foreach (SyncProbe probe in Probes()) WaitFor(probe, condition);
    }

    /// <summary>Ctrl+C while waiting.</summary>
    protected override void StopProcessing() => _stopping.Cancel();

    private IEnumerable<SyncProbe> Probes()
    {
        switch (ParameterSetName)
        {
            case JobSet:
                yield return SyncProbe.ForRun(Job.Run);
                break;
            case TargetSet:
                SyncProbe? remote = null;
                try
                {
                    remote = NewRemoteProbe(Name);
                }
                catch (SyncException ex)
                {
                    WriteError(ErrorRecords.From(ex, Name));
                }
                if (remote != null) yield return remote;
                break;
            default:
                foreach (SyncRun run in SyncSelection.Select(this, Name)) yield return SyncProbe.ForRun(run);
                break;
        }
    }

    private void WaitFor(SyncProbe probe, SyncWaitCondition condition)
    {
        try
        {
            SyncStatus status = TlsParameters.WithWarnings(this, () => SyncWait.WaitAsync(probe, condition, _stopping.Token).GetAwaiter().GetResult());
            WriteObject(status);
        }
        catch (SyncWaitException ex)
        {
            WriteError(ErrorRecords.From(ex, ex.Status));
        }
        catch (SyncException ex)
        {
            WriteError(ErrorRecords.From(ex, probe.Name));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }
}
