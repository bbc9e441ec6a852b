using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Security;

namespace RedisSync.Engine.Net;

/// <summary>
/// How a TLS link (<see cref="RedisEndpoint.UseTls"/>) checks the server and proves who the client is:
/// the certificate authorities to trust instead of the system's, a client certificate for mutual TLS,
/// or, only when asked, no check at all. Hosts fill it from parameters or a settings file; the files
/// are read once (<see cref="Load"/>), the first time a connection needs them if not before.
/// </summary>
public sealed class TlsOptions
{
    private readonly object _loadLock = new object();
    private readonly ConcurrentDictionary<string, bool> _skipReported = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
    private TlsCredentials? _credentials;

    /// <summary>The system's trusted roots, no client certificate: a <c>rediss://</c> address with nothing more.</summary>
    internal static readonly TlsOptions Default = new TlsOptions();

    /// <summary>A PEM file of the certificate authorities that may issue the server's certificate; the system's trusted roots when null.</summary>
    public string? CertificateAuthorityPath { get; init; }

    /// <summary>The client certificate for mutual TLS: a PFX file, or a PEM certificate (its key in <see cref="ClientKeyPath"/> or in the same file).</summary>
    public string? ClientCertificatePath { get; init; }

    /// <summary>The PEM private key of a PEM <see cref="ClientCertificatePath"/>.</summary>
    public string? ClientKeyPath { get; init; }

    /// <summary>The password of the PFX file or of an encrypted PEM key. Read once, when the files are loaded; never shown.</summary>
    public SecureString? ClientCertificatePassword { get; init; }

    /// <summary>Connects whatever the server's certificate is; each server so reached is reported once by <see cref="CertificateCheckSkipped"/>.</summary>
    public bool SkipCertificateCheck { get; init; }

    /// <summary>
    /// Raised the first time a connection to a server skips the certificate check (<see cref="SkipCertificateCheck"/>),
    /// with what the check would have found; later connections to that server (reconnects) are not reported again.
    /// </summary>
    public event Action<SyncWarning>? CertificateCheckSkipped;

    /// <summary>
    /// Reads the certificate files now, so that a wrong file fails before anything connects. The error
    /// is InvalidOptions and starts with the setting's name as <paramref name="settingName"/> gives it
    /// for a property name (for example "-CertificateAuthorityPath"); the property name itself by default.
    /// </summary>
    public void Load(Func<string, string>? settingName = null)
    {
        lock (_loadLock)
        {
            if (_credentials != null) return;
            _credentials = TlsFiles.Load(this, settingName ?? (name => name));
        }
    }

    /// <summary>The loaded files (read on first use).</summary>
    internal TlsCredentials Credentials
    {
        get
        {
            Load();
            return _credentials!;
        }
    }

    /// <summary>
    /// Forwards <see cref="CertificateCheckSkipped"/> of the endpoints' options (each options object once,
    /// endpoints without options or null skipped) to <paramref name="handler"/> until the result is disposed.
    /// </summary>
    public static IDisposable ForwardSkipped(Action<SyncWarning> handler, params RedisEndpoint?[] endpoints)
    {
        if (handler == null) throw new ArgumentNullException(nameof(handler));
        var options = new List<TlsOptions>();
        foreach (RedisEndpoint? endpoint in endpoints ?? Array.Empty<RedisEndpoint?>())
        {
            if (endpoint?.Tls is TlsOptions tls && !options.Contains(tls)) options.Add(tls);
        }
        foreach (TlsOptions tls in options) tls.CertificateCheckSkipped += handler;
        return new Forwarding(() =>
        {
            foreach (TlsOptions tls in options) tls.CertificateCheckSkipped -= handler;
        });
    }

    /// <summary>Reports a connection that skipped the check, once per server and role.</summary>
    internal void ReportSkipped(EndpointRole role, RedisEndpoint endpoint, string? problem)
    {
        string server = RedisConnection.RoleName(role) + " " + endpoint.Host + ":" + endpoint.Port;
        if (!_skipReported.TryAdd(server, true)) return;
        string message = problem != null
            ? $"The certificate of the {server} is not checked, as -SkipCertificateCheck asks, and would fail the check: {problem}. " +
              "Anyone on the network path can read and change what RedisSync sends and receives."
            : $"The certificate of the {server} passes the check that -SkipCertificateCheck skips: the switch is not needed.";
        CertificateCheckSkipped?.Invoke(new SyncWarning(SyncErrorIds.CertificateCheckSkipped, SyncErrorKind.Skip, null, null, message));
    }

    private sealed class Forwarding : IDisposable
    {
        private Action? _stop;

        public Forwarding(Action stop) => _stop = stop;

        public void Dispose()
        {
            System.Threading.Interlocked.Exchange(ref _stop, null)?.Invoke();
        }
    }
}
