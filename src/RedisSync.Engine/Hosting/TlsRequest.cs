using System.Security;
using RedisSync.Engine.Net;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// The TLS parameters of a command (-Tls, -CertificateAuthorityPath, -ClientCertificatePath,
/// -ClientKeyPath, -ClientCertificatePassword, -SkipCertificateCheck). -Tls turns TLS on for every
/// server of the command; a rediss:// address turns it on for that server alone; the certificate
/// parameters apply to every server reached over TLS. Errors name the parameter.
/// </summary>
public sealed class TlsRequest
{
    /// <summary>Connects to every server of the command with TLS, as a rediss:// address does.</summary>
    public bool Tls { get; set; }

    /// <summary>A PEM file of the certificate authorities to trust instead of the system's (full path).</summary>
    public string? CertificateAuthorityPath { get; set; }

    /// <summary>A client certificate for mutual TLS: PFX, or PEM (full path).</summary>
    public string? ClientCertificatePath { get; set; }

    /// <summary>The key of a PEM client certificate (full path).</summary>
    public string? ClientKeyPath { get; set; }

    /// <summary>The password of the PFX file or of an encrypted PEM key.</summary>
    public SecureString? ClientCertificatePassword { get; set; }

    /// <summary>Connects whatever the servers' certificates are, with a warning per server.</summary>
    public bool SkipCertificateCheck { get; set; }

    /// <summary>The first certificate parameter given, or null when only -Tls (or nothing) was given.</summary>
    private string? FirstSetting =>
        CertificateAuthorityPath != null ? nameof(CertificateAuthorityPath)
        : ClientCertificatePath != null ? nameof(ClientCertificatePath)
        : ClientKeyPath != null ? nameof(ClientKeyPath)
        : ClientCertificatePassword != null ? nameof(ClientCertificatePassword)
        : SkipCertificateCheck ? nameof(SkipCertificateCheck)
        : null;

    /// <summary>One endpoint as asked (see <see cref="Apply"/>).</summary>
    public RedisEndpoint ApplyTo(RedisEndpoint endpoint) => Apply(endpoint)[0]!;

    /// <summary>
    /// The endpoints as asked: TLS on with -Tls, the certificate parameters on every TLS endpoint (they
    /// replace what a settings file gave). The files are read here; a certificate parameter given where
    /// no server is reached over TLS is an error. Null endpoints (no source) stay null.
    /// </summary>
    public RedisEndpoint?[] Apply(params RedisEndpoint?[] endpoints)
    {
        var result = (RedisEndpoint?[])endpoints.Clone();
        string? setting = FirstSetting;
        if (!Tls && setting == null) return result;
        TlsOptions? options = null;
        if (setting != null)
        {
            options = new TlsOptions
            {
                CertificateAuthorityPath = CertificateAuthorityPath,
                ClientCertificatePath = ClientCertificatePath,
                ClientKeyPath = ClientKeyPath,
                ClientCertificatePassword = ClientCertificatePassword,
                SkipCertificateCheck = SkipCertificateCheck,
            };
            try
            {
                options.Load(name => "-" + name);
            }
            catch (SyncException ex)
            {
                throw new SyncException(HostErrorIds.InvalidParameter, SyncErrorKind.Stop, ex.Message, ex);
            }
        }
        bool anyTls = false;
        for (int i = 0; i < result.Length; i++)
        {
            RedisEndpoint? endpoint = result[i];
            if (endpoint == null || (!Tls && !endpoint.UseTls)) continue;
            anyTls = true;
            result[i] = endpoint.WithTls(Tls, options ?? endpoint.Tls);
        }
        if (setting != null && !anyTls)
        {
            throw HostErrors.InvalidParameter(setting, "no server of this command is reached over TLS: add -Tls, or give its address as rediss://host:port.");
        }
        return result;
    }
}
