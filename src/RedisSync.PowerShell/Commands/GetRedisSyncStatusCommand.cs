using System.Management.Automation;
using System.Security;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Remoting;

namespace RedisSync.Commands;

/// <summary>
/// Get-RedisSyncStatus: the status of the syncs in this process (by name or job), or of a sync in
/// another process as its checkpoint on the target tells it.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RedisSyncStatus", DefaultParameterSetName = NameSet)]
[OutputType(typeof(SyncStatus))]
[OutputType(typeof(ShardStatus))]
public sealed class GetRedisSyncStatusCommand : PSCmdlet
{
    private const string NameSet = "Name";
    private const string JobSet = "Job";
    private const string TargetSet = "Target";

    private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

    /// <summary>The sync's name (wildcards allowed in this process); every sync when omitted.</summary>
    [Parameter(Position = 0, ParameterSetName = NameSet, ValueFromPipelineByPropertyName = true)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = TargetSet)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>A job from Start-RedisSync.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true, ParameterSetName = JobSet)]
    [ValidateNotNull]
    public RedisSyncJob Job { get; set; } = null!;

    /// <summary>The target of a sync that runs in another process: its checkpoint there is read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = null!;

    /// <summary>The target's user and password.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>Connects to the target with TLS, as a rediss:// address does.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    public SwitchParameter Tls { get; set; }

    /// <summary>A PEM file of the certificate authorities that may issue the target's certificate.</summary>
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

    /// <summary>Connects without checking the target's certificate, with a warning.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>A row per source shard (each master of a cluster source; the one source otherwise) instead of the sync's total.</summary>
    [Parameter]
    public SwitchParameter Shard { get; set; }

    /// <summary>Writes one status per sync found (or, with -Shard, its shards' rows).</summary>
    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case JobSet:
                Write(Job.Status);
                break;
            case TargetSet:
                Write(ReadCheckpoint());
                break;
            default:
                foreach (SyncRun run in SyncSelection.Select(this, Name)) Write(run.GetStatus());
                foreach (RedisSyncShardedJob sharded in SyncSelection.SelectSharded(Name)) Write(sharded.Status);
                break;
        }
    }

    private void Write(SyncStatus? status)
    {
        if (status == null) return;
        if (!Shard)
        {
            WriteObject(status);
            return;
        }
        foreach (ShardStatus row in status.Shards) WriteObject(row);
    }

    /// <summary>Ctrl+C while the target is read.</summary>
    protected override void StopProcessing() => _stopping.Cancel();

    private SyncStatus? ReadCheckpoint()
    {
        try
        {
            var endpoint = TlsParameters.ToRequest(this, Tls, CertificateAuthorityPath, ClientCertificatePath, ClientKeyPath, ClientCertificatePassword, SkipCertificateCheck)
                .ApplyTo(SyncRequest.WithCredential(HostErrors.ParseEndpoint("Target", Target), Credentials.ToNetwork(TargetCredential)));
            return TlsParameters.WithWarnings(this, () => SyncCheckpointStatus.ReadAsync(endpoint, Name!, _stopping.Token).GetAwaiter().GetResult(), endpoint);
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, Name));
            return null;
        }
        catch (System.OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }
}
