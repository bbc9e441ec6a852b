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
public sealed class WaitRedisSyncCommand : PSCmdlet
{
    private const string NameSet = "Name";
    private const string JobSet = "Job";
    private const string TargetSet = "Target";

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

    /// <summary>The target of a sync that runs in another process: its checkpoints there are read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = null!;

    /// <summary>The target's user and password.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>The source of a sync in another process, where -CaughtUp reads its offsets; the address in its checkpoint when omitted.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string? Source { get; set; }

    /// <summary>The source's user and password.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    /// <summary>Connects to the target and the source with TLS, as a rediss:// address does.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    public SwitchParameter Tls { get; set; }

    /// <summary>A PEM file of the certificate authorities that may issue the servers' certificates.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string? CertificateAuthorityPath { get; set; }

    /// <summary>The client certificate for mutual TLS: a PFX file, or a PEM file (with -ClientKeyPath).</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificatePath { get; set; }

    /// <summary>The private key of a PEM client certificate.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string? ClientKeyPath { get; set; }

    /// <summary>The password of the PFX file or of an encrypted PEM key.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    public SecureString? ClientCertificatePassword { get; set; }

    /// <summary>Connects without checking the servers' certificates, with a warning.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    public SwitchParameter SkipCertificateCheck { get; set; }

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
                    TlsRequest tls = TlsParameters.ToRequest(this, Tls, CertificateAuthorityPath, ClientCertificatePath, ClientKeyPath, ClientCertificatePassword, SkipCertificateCheck);
                    remote = RemoteSyncParameters.Probe(Name, Target, TargetCredential, Source, SourceCredential, tls);
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
