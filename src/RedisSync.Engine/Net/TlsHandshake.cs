using System;
using System.IO;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Net;

/// <summary>
/// The TLS handshake of one connection: SNI and the host name check against the host given, the
/// server's certificate checked by <see cref="CertificateCheck"/> (or, when asked, only reported),
/// the client certificate shown when the server asks for one. Its errors say what failed and what to do.
/// </summary>
internal sealed class TlsHandshake
{
    private readonly RedisEndpoint _endpoint;
    private readonly EndpointRole _role;
    private readonly TlsCredentials _tls;
    private CertificateProblem? _problem;

    private TlsHandshake(RedisEndpoint endpoint, EndpointRole role, TlsCredentials tls)
    {
        _endpoint = endpoint;
        _role = role;
        _tls = tls;
    }

    /// <summary>The server asked for a client certificate, and none was given (with one, the TLS layer shows it without asking us).</summary>
    public bool ClientCertificateRequested { get; private set; }

    /// <summary>
    /// The server may refuse the client certificate (or its absence) only after the handshake (TLS 1.3):
    /// when it asked for one, or one was shown.
    /// </summary>
    public bool MayRefuseClient => ClientCertificateRequested || _tls.ClientCertificate != null;

    /// <summary>
    /// Runs the handshake over <paramref name="inner"/> within <paramref name="timeout"/> (the socket is
    /// closed by the caller when this throws); returns the encrypted stream.
    /// </summary>
    public static async Task<(SslStream Stream, TlsHandshake Handshake)> RunAsync(Stream inner, RedisEndpoint endpoint, EndpointRole role, TimeSpan timeout, CancellationToken cancellationToken)
    {
        TlsOptions options = endpoint.Tls ?? TlsOptions.Default;
        var handshake = new TlsHandshake(endpoint, role, options.Credentials);
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false, handshake.Validate, handshake.Select);
        var certificates = new X509CertificateCollection();
        if (handshake._tls.ClientCertificate != null) certificates.Add(handshake._tls.ClientCertificate);
        Task authenticate = ssl.AuthenticateAsClientAsync(endpoint.Host, certificates, SslProtocols.None, checkCertificateRevocation: false);
        try
        {
            using (var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeoutCts.CancelAfter(timeout);
                Task done = await Task.WhenAny(authenticate, Task.Delay(Timeout.Infinite, timeoutCts.Token)).ConfigureAwait(false);
                if (done != authenticate)
                {
                    _ = authenticate.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                    cancellationToken.ThrowIfCancellationRequested();
                    throw handshake.Failed($"the TLS handshake did not complete in {timeout.TotalSeconds:0} s. Is {endpoint.Port} a TLS port? " +
                        "A server without TLS takes a redis:// address without -Tls.", null);
                }
            }
            await authenticate.ConfigureAwait(false);
        }
        catch (AuthenticationException ex)
        {
            ssl.Dispose();
            throw handshake.Translate(ex);
        }
        catch (IOException ex) when (handshake.ClientCertificateRequested)
        {
            ssl.Dispose();
            throw handshake.ClientCertificateRefused(ex);
        }
        catch
        {
            ssl.Dispose();
            throw;
        }
        if (handshake._tls.SkipCheck) options.ReportSkipped(role, endpoint, handshake._problem?.Text);
        return (ssl, handshake);
    }

    private bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        _problem = CertificateCheck.Problem(certificate, chain, errors, _endpoint.Host, _tls);
        return _problem == null || _tls.SkipCheck;
    }

    private X509Certificate Select(object sender, string targetHost, X509CertificateCollection localCertificates, X509Certificate? remoteCertificate, string[] acceptableIssuers)
    {
        // Without a certificate to show, called again when the server asks for one (the remote certificate is then known).
        if (remoteCertificate != null) ClientCertificateRequested = true;
        // No certificate (null) is an answer the TLS layer takes: the server then decides.
        return _tls.ClientCertificate!;
    }

    private SyncException Translate(AuthenticationException ex)
    {
        if (_problem != null && !_tls.SkipCheck)
        {
            return Failed($"its certificate is not accepted: {_problem.Text}. {_problem.Advice} (-SkipCertificateCheck connects without the check, to anyone who answers.)", ex);
        }
        if (ClientCertificateRequested) return ClientCertificateRefused(ex);
        return Failed($"the TLS handshake failed ({Reason(ex)}). Is {_endpoint.Port} a TLS port? A server without TLS takes a redis:// address without -Tls.", ex);
    }

    /// <summary>The server asked for a client certificate, then closed the connection: it wants one, or another one.</summary>
    public SyncException ClientCertificateRefused(Exception? inner)
    {
        string why = _tls.ClientCertificate == null
            ? "it asks for a client certificate (mutual TLS: tls-auth-clients yes) and none was given. Give one with -ClientCertificatePath"
            : $"it did not accept the client certificate '{_tls.ClientCertificate.Subject}' from '{_tls.ClientCertificatePath}'. " +
              "Check that it is issued by an authority the server trusts (its tls-ca-cert-file), is valid, and is meant for client authentication";
        return Failed($"the server closed the TLS connection: {why}.", inner);
    }

    private SyncException Failed(string why, Exception? inner)
    {
        string id = _role == EndpointRole.Source ? SyncErrorIds.SourceTlsFailed : SyncErrorIds.TargetTlsFailed;
        return new SyncException(id, SyncErrorKind.Stop, $"Cannot connect to the {RedisConnection.RoleName(_role)} {_endpoint} over TLS: {why}", inner);
    }

    private static string Reason(Exception ex)
    {
        Exception deepest = ex;
        while (deepest.InnerException != null) deepest = deepest.InnerException;
        return deepest == ex ? ex.Message.Trim() : ex.Message.Trim() + " " + deepest.Message.Trim();
    }
}
