using System;
using System.Management.Automation;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;

namespace RedisSync.Commands;

/// <summary>
/// Remove-RedisSyncCheckpoint: deletes a sync's checkpoint and lease from the target, so that the
/// next run of that name makes a full copy; refuses while a sync holds the lease, unless -Force.
/// </summary>
[Cmdlet(VerbsCommon.Remove, "RedisSyncCheckpoint", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class RemoveRedisSyncCheckpointCommand : TlsCommand
{
    private readonly CancellationTokenSource _stopping = new CancellationTokenSource();

    /// <summary>The target that holds the checkpoint: host:port or redis[s]://[user[:password]@]host:port.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = null!;

    /// <summary>The sync's name (its -Name when it was started).</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = null!;

    /// <summary>The target's user and password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>Removes the keys even while a sync holds the lease (that sync then fails at its next batch).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Asks, then removes the keys of one sync.</summary>
    protected override void ProcessRecord()
    {
        string what = $"Sync '{Name}' on {Target}";
        if (!ShouldProcess(what, $"Remove its checkpoint ({ReservedKeys.Checkpoint(Name)}) and lease ({ReservedKeys.Lease(Name)})")) return;
        try
        {
            var endpoint = NewTlsRequest().ApplyTo(SyncRequest.WithCredential(HostErrors.ParseEndpoint("Target", Target), Credentials.ToNetwork(TargetCredential)));
            int removed = TlsParameters.WithWarnings(this, () => CheckpointRemoval.RemoveAsync(endpoint, Name, Force.IsPresent, _stopping.Token).GetAwaiter().GetResult(), endpoint);
            if (removed == 0)
            {
                WriteError(ErrorRecords.From(new SyncException(HostErrorIds.CheckpointNotFound, SyncErrorKind.Stop,
                    $"The target {endpoint} holds no checkpoint or lease of a sync named '{Name}': nothing was removed."), Name));
                return;
            }
            WriteVerbose($"Removed {removed} key(s) of sync '{Name}' from {endpoint}.");
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

    /// <summary>Ctrl+C while the target is read.</summary>
    protected override void StopProcessing() => _stopping.Cancel();
}
