using System.Management.Automation;
using System.Security;
using RedisSync.Engine.Hosting;

namespace RedisSync.Commands;

/// <summary>
/// The TLS parameters of the cmdlets that connect: -Tls for every server of the command (a rediss://
/// address for one), and how the servers' certificates are checked and the client's is shown.
/// </summary>
public abstract class TlsCommand : PSCmdlet
{
    /// <summary>Connects to every server of the command with TLS, as a rediss:// address does for one.</summary>
    [Parameter]
    public SwitchParameter Tls { get; set; }

    /// <summary>A PEM file of the certificate authorities that may issue the servers' certificates (instead of the system's).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CertificateAuthorityPath { get; set; }

    /// <summary>The client certificate for mutual TLS: a PFX file, or a PEM file (with -ClientKeyPath).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientCertificatePath { get; set; }

    /// <summary>The private key of a PEM client certificate.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientKeyPath { get; set; }

    /// <summary>The password of the PFX file or of an encrypted PEM key.</summary>
    [Parameter]
    public SecureString? ClientCertificatePassword { get; set; }

    /// <summary>Connects without checking the servers' certificates; warns once per server.</summary>
    [Parameter]
    public SwitchParameter SkipCertificateCheck { get; set; }

    /// <summary>The TLS parameters as the engine takes them, paths resolved against the current location.</summary>
    private protected TlsRequest NewTlsRequest() =>
        TlsParameters.ToRequest(this, Tls, CertificateAuthorityPath, ClientCertificatePath, ClientKeyPath, ClientCertificatePassword, SkipCertificateCheck);
}
