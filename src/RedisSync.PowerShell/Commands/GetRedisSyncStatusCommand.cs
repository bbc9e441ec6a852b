using System.Management.Automation;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;

namespace RedisSync.Commands;

/// <summary>
/// Get-RedisSyncStatus: the status of the syncs in this process (by name or job), or of a sync in
/// another process as its checkpoint on the target tells it.
/// </summary>
[Cmdlet(VerbsCommon.Get, "RedisSyncStatus", DefaultParameterSetName = NameSet)]
[OutputType(typeof(SyncStatus))]
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

    /// <summary>Writes one status per sync found.</summary>
    protected override void ProcessRecord()
    {
        switch (ParameterSetName)
        {
            case JobSet:
                WriteObject(Job.Status);
                break;
            case TargetSet:
                WriteObject(ReadCheckpoint());
                break;
            default:
                foreach (SyncRun run in SyncSelection.Select(this, Name)) WriteObject(run.GetStatus());
                break;
        }
    }

    /// <summary>Ctrl+C while the target is read.</summary>
    protected override void StopProcessing() => _stopping.Cancel();

    private SyncStatus? ReadCheckpoint()
    {
        try
        {
            var endpoint = SyncRequest.WithCredential(HostErrors.ParseEndpoint("Target", Target), Credentials.ToNetwork(TargetCredential));
            return SyncCheckpointStatus.ReadAsync(endpoint, Name!, _stopping.Token).GetAwaiter().GetResult();
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
