using System;
using System.Linq;
using System.Management.Automation;
using System.Security;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.CutOver;
using RedisSync.Engine.Hosting;

namespace RedisSync.Commands;

/// <summary>
/// Complete-RedisSync: the cut-over. Pauses the source's writes, waits until every write made before
/// the pause is on the target, verifies, stops the sync, removes its checkpoint and lease, unpauses;
/// returns a report. Any failure on the way unpauses the source and leaves the sync running.
/// </summary>
[Cmdlet(VerbsLifecycle.Complete, "RedisSync", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = NameSet)]
[OutputType(typeof(CutOverReport))]
public sealed class CompleteRedisSyncCommand : RemoteSyncCommand
{
    private const string NameSet = "Name";

    private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

    /// <summary>The name of a sync that streams in this process, or (with -Target) in another one.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = null!;

    /// <summary>Pauses the source's writes (CLIENT PAUSE … WRITE on every master) until the cut-over ends.</summary>
    [Parameter]
    public SwitchParameter PauseSourceWrites { get; set; }

    /// <summary>Seconds the pause may last at most (the source lifts it by itself then); also how long the last writes may take to arrive.</summary>
    [Parameter]
    [ValidateRange(0.001, 86400.0)]
    public double PauseTimeout { get; set; } = 30;

    /// <summary>How the target is checked before the sync stops: Quick (type, TTL, length of every key), Full (values too) or None.</summary>
    [Parameter]
    public CutOverVerify Verify { get; set; } = CutOverVerify.Quick;

    /// <summary>Leaves the checkpoint and lease on the target.</summary>
    [Parameter]
    public SwitchParameter KeepCheckpoint { get; set; }

    /// <summary>With -Target: the -Where predicate the sync of another process chose its keys with, for the verification (the target keeps only that it used one).</summary>
    [Parameter(ParameterSetName = TargetSet)]
    public ScriptBlock? Where { get; set; }

    /// <summary>Asks, then runs the cut-over of the sync named.</summary>
    protected override void ProcessRecord()
    {
        if (ParameterSetName == TargetSet)
        {
            CompleteRemote();
            return;
        }
        SyncRun? run = SyncRegistry.Process.Find(Name);
        if (run == null || !run.IsRunning)
        {
            RedisSync.Remoting.RedisSyncShardedJob? sharded = RedisSync.Remoting.RedisSyncShardedJob.All
                .FirstOrDefault(j => string.Equals(j.Name, Name, StringComparison.OrdinalIgnoreCase) && !j.Finished.WaitOne(0));
            if (sharded != null)
            {
                CompleteSharded(sharded);
                return;
            }
            WriteError(ErrorRecords.From(new SyncException(HostErrorIds.SyncNotFound, SyncErrorKind.Stop,
                $"No sync named '{Name}' runs in this process: Complete-RedisSync works on a sync started here (Start-RedisSync -Name {Name}), or, with -Target, on one that runs in another process."), Name));
            return;
        }
        if (!ShouldCutOver($"Sync '{run.Name}' ({run.GetStatus().Source} to {run.Options.Target})", "stop the sync", "its checkpoint and lease")) return;
        var job = run.Owner as RedisSyncJob;
        Run(() =>
        {
            CutOverReport report = CutOverRun.RunAsync(run, job != null ? job.RequestStop : run.Stop, NewOptions(), _stopping.Token).GetAwaiter().GetResult();
            if (job != null && report.SyncStopped) WaitHandle.WaitAny(new[] { job.Finished, _stopping.Token.WaitHandle });
            return report;
        });
    }

    /// <summary>
    /// A sync whose shard tasks this process placed over sessions (Start-RedisSync -Session): through the target, as for a
    /// sync of another process, each task asked to stop by its lease; the parent job ends once its tasks have.
    /// </summary>
    private void CompleteSharded(RedisSync.Remoting.RedisSyncShardedJob job)
    {
        if (!ShouldCutOver($"Sync '{job.Name}' ({job.Tasks.Count} shard tasks over sessions, into {job.Location})",
            "ask its shard tasks to stop through the target", "their checkpoints and leases"))
        {
            return;
        }
        SyncProbe probe = SyncProbe.ForOptions(job.Options!);
        using WherePredicate? where = job.WhereText != null ? new WherePredicate(ScriptBlock.Create(job.WhereText)) : null;
        Run(() =>
        {
            CutOverReport report = CutOverRun.RunAsync(probe, NewOptions(where), _stopping.Token).GetAwaiter().GetResult();
            if (report.SyncStopped) WaitHandle.WaitAny(new[] { job.Finished, _stopping.Token.WaitHandle });
            return report;
        });
    }

    /// <summary>A sync of another process: through its checkpoint and lease on the target.</summary>
    private void CompleteRemote()
    {
        SyncProbe probe;
        try
        {
            probe = NewRemoteProbe(Name);
        }
        catch (SyncException ex)
        {
            WriteError(ErrorRecords.From(ex, Name));
            return;
        }
        if (!ShouldCutOver($"Sync '{Name}' of another process, on the target {Target}", "ask the sync to stop through the target", "its checkpoint and lease")) return;
        using WherePredicate? where = Where != null ? new WherePredicate(Where) : null;
        Run(() => TlsParameters.WithWarnings(this, () => CutOverRun.RunAsync(probe, NewOptions(where), _stopping.Token).GetAwaiter().GetResult()));
    }

    /// <summary>Asks -WhatIf/-Confirm about a cut-over of <paramref name="sync"/>: how it stops, and which keys of the sync it removes.</summary>
    private bool ShouldCutOver(string sync, string stop, string removes)
    {
        string pause = PauseSourceWrites ? $"pause the source's writes for up to {PauseTimeout} s, " : string.Empty;
        return ShouldProcess(sync, $"Cut over: {pause}wait for the last writes, verify ({Verify}), {stop}" + (KeepCheckpoint ? string.Empty : $", remove {removes}"));
    }

    private CutOverOptions NewOptions(WherePredicate? where = null) => new CutOverOptions
    {
        PauseSourceWrites = PauseSourceWrites.IsPresent,
        PauseTimeout = TimeSpan.FromSeconds(PauseTimeout),
        Verify = Verify,
        KeepCheckpoint = KeepCheckpoint.IsPresent,
        Where = where != null ? where.Keeps : null,
    };

    /// <summary>Runs a cut-over, writes its report, and a CutOverVerificationFailed error when it found differences.</summary>
    private void Run(Func<CutOverReport> cutOver)
    {
        try
        {
            CutOverReport report = cutOver();
            WriteObject(report);
            if (report.Verdict == CutOverVerdict.DifferencesFound)
            {
                WriteError(ErrorRecords.From(new SyncException(HostErrorIds.CutOverVerificationFailed, SyncErrorKind.Stop,
                    $"The target differs from the source in {report.Differences} key(s) (first: {string.Join(", ", report.DifferentKeys)}): " +
                    $"sync '{Name}' was left running and the source unpaused. Look with Compare-RedisData, fix with Repair-RedisData, then run Complete-RedisSync again."), report));
            }
        }
        catch (SyncException ex)
        {
            WriteError(ErrorRecords.From(ex, Name));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Ctrl+C: the cut-over stops (the source is unpaused).</summary>
    protected override void StopProcessing() => _stopping.Cancel();
}
