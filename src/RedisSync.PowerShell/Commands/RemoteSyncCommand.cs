using System.Management.Automation;
using System.Security;
using RedisSync.Engine.CutOver;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;

namespace RedisSync.Commands;

/// <summary>
/// The parameters of a cmdlet that reaches a sync of another process through its target (Wait-RedisSync
/// and Complete-RedisSync -Target): the target and the source with their logins and TLS settings, and the
/// probe they make (the source the checkpoint names when -Source is omitted).
/// </summary>
public abstract class RemoteSyncCommand : PSCmdlet
{
    private protected const string TargetSet = "Target";

    /// <summary>The target of a sync that runs in another process: its checkpoint and lease there are read.</summary>
    [Parameter(Mandatory = true, ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = null!;

    /// <summary>The target's user and password.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>The source of a sync in another process; the address its checkpoint names when omitted.</summary>
    [Parameter(ParameterSetName = TargetSet)]
    [ValidateNotNullOrEmpty]
    public string? Source { get; set; }

    /// <summary>The source's user and password (the checkpoint records no password).</summary>
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

    /// <summary>The probe of sync <paramref name="name"/> through the target; a bad address or file throws a SyncException naming it.</summary>
    private protected SyncProbe NewRemoteProbe(string name)
    {
        TlsRequest tls = TlsParameters.ToRequest(this, Tls, CertificateAuthorityPath, ClientCertificatePath, ClientKeyPath, ClientCertificatePassword, SkipCertificateCheck);
        RedisEndpoint targetEndpoint = tls.ApplyTo(SyncRequest.WithCredential(HostErrors.ParseEndpoint("Target", Target), Credentials.ToNetwork(TargetCredential)));
        RedisEndpoint? sourceEndpoint = Source == null ? null : tls.ApplyTo(SyncRequest.WithCredential(HostErrors.ParseEndpoint("Source", Source), Credentials.ToNetwork(SourceCredential)));
        PSCredential? sourceCredential = SourceCredential;
        return SyncProbe.ForTarget(name, targetEndpoint, sourceEndpoint,
            recorded => tls.ApplyTo(sourceCredential != null ? SyncRequest.WithCredential(recorded, Credentials.ToNetwork(sourceCredential)) : recorded));
    }
}
