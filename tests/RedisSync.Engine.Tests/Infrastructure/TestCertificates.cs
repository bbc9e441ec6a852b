using System;
using System.Diagnostics;
using System.IO;
using System.Security.Cryptography.X509Certificates;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>
/// The certificates of the TLS tests, made once per test run by tests/fixtures/tls/make-certificates.sh
/// (openssl) in a temp dir of their own: a good server certificate, a wrong host name, an expired one,
/// one from an unknown authority, and client certificates (PEM, encrypted PEM, PFX, and an untrusted one).
/// </summary>
public sealed class TestCertificates
{
    public const string PfxPassword = "pfx-password";
    public const string KeyPassword = "key-password";

    private static readonly Lazy<TestCertificates> s_shared = new Lazy<TestCertificates>(() => new TestCertificates());

    private TestCertificates()
    {
        Dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "redissync-certs-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        Directory.CreateDirectory(Dir);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        var psi = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        psi.ArgumentList.Add(System.IO.Path.Combine(AppContext.BaseDirectory, "fixtures", "tls", "make-certificates.sh"));
        psi.ArgumentList.Add(Dir);
        using Process process = Process.Start(psi) ?? throw new InvalidOperationException("sh did not start");
        string output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException("make-certificates.sh failed (is openssl installed?): " + output);
    }

    /// <summary>One set for the whole test run.</summary>
    public static TestCertificates Shared => s_shared.Value;

    public string Dir { get; }

    /// <summary>The certificate authority that issued the server, client, wrong-host and expired certificates.</summary>
    public string CaPath => Path("ca.crt");

    /// <summary>The authority of the untrusted server and the stranger client certificate.</summary>
    public string OtherCaPath => Path("other-ca.crt");

    public string ClientCertificate => Path("client.crt");

    public string ClientKey => Path("client.key");

    public string ClientEncryptedKey => Path("client-encrypted.key");

    public string ClientPfx => Path("client.pfx");

    public string StrangerCertificate => Path("stranger.crt");

    public string StrangerKey => Path("stranger.key");

    /// <summary>A file of the set by name (server.crt, expired.key, …).</summary>
    public string Path(string file) => System.IO.Path.Combine(Dir, file);

    /// <summary>The client certificate with its key, for the independent test client.</summary>
    public X509Certificate2 LoadClient() => X509CertificateLoader.LoadPkcs12FromFile(ClientPfx, PfxPassword);
}
