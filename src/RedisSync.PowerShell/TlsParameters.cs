using System.Collections.Concurrent;
using System.Management.Automation;
using System.Security;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;

namespace RedisSync;

/// <summary>The TLS parameters of a cmdlet as the engine takes them, and the warnings of a call that connects.</summary>
internal static class TlsParameters
{
    public static TlsRequest ToRequest(PSCmdlet cmdlet, bool tls, string? ca, string? certificate, string? key, SecureString? password, bool skip) => new TlsRequest
    {
        Tls = tls,
        CertificateAuthorityPath = FullPath(cmdlet, ca),
        ClientCertificatePath = FullPath(cmdlet, certificate),
        ClientKeyPath = FullPath(cmdlet, key),
        ClientCertificatePassword = password,
        SkipCertificateCheck = skip,
    };

    private static string? FullPath(PSCmdlet cmdlet, string? path) => path == null ? null : cmdlet.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>
    /// Runs a call that connects on the pipeline thread and then writes, on that thread, the warnings
    /// of the servers it reached without checking their certificates.
    /// </summary>
    public static T WithWarnings<T>(PSCmdlet cmdlet, System.Func<T> call, params RedisEndpoint?[] endpoints)
    {
        var warnings = new ConcurrentQueue<SyncWarning>();
        T result;
        try
        {
            using (TlsOptions.ForwardSkipped(warnings.Enqueue, endpoints)) result = call();
        }
        catch (SyncException)
        {
            Write(cmdlet, warnings);
            throw;
        }
        Write(cmdlet, warnings);
        return result;
    }

    private static void Write(PSCmdlet cmdlet, ConcurrentQueue<SyncWarning> warnings)
    {
        while (warnings.TryDequeue(out SyncWarning? warning)) cmdlet.WriteWarning(warning.Message);
    }
}
