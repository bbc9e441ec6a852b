using System;
using System.Collections.Generic;
using System.IO;
using System.Security;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Access;

/// <summary>
/// One connection to a TLS server, as every link makes it: the server's certificate checked (chain and
/// host name) against the given authority or the system's, client certificates for mutual TLS, and
/// errors that say what failed. The servers are Debian's redis-server with certificates made by openssl.
/// </summary>
public sealed class TlsConnectionTests
{
    private static readonly TestCertificates Certificates = TestCertificates.Shared;

    private static RedisEndpoint Endpoint(RedisServer server, TlsOptions? tls, string host = "localhost") =>
        RedisEndpoint.Parse($"rediss://{host}:{server.Port}").WithTls(false, tls);

    private static TlsOptions TrustTestCa() => new TlsOptions { CertificateAuthorityPath = Certificates.CaPath };

    private static async Task<string?> PingAsync(RedisEndpoint endpoint, EndpointRole role = EndpointRole.Target)
    {
        using RedisConnection connection = await RedisConnection.ConnectAsync(endpoint, role, CancellationToken.None);
        RespValue reply = await connection.ExecuteOrThrowAsync(CancellationToken.None, "PING");
        return reply.AsString();
    }

    private static async Task<SyncException> FailsAsync(RedisEndpoint endpoint, EndpointRole role = EndpointRole.Target, TimeSpan? timeout = null) =>
        await Assert.ThrowsAsync<SyncException>(() => RedisConnection.ConnectAsync(endpoint, role, CancellationToken.None, timeout));

    private static SecureString Secret(string text)
    {
        var secret = new SecureString();
        foreach (char c in text) secret.AppendChar(c);
        secret.MakeReadOnly();
        return secret;
    }

    [Fact]
    public async Task A_certificate_from_the_given_authority_is_accepted_for_the_host_name_and_the_ip_address_it_names()
    {
        using RedisServer server = RedisServer.StartTls();
        TlsOptions tls = TrustTestCa();

        Assert.Equal("PONG", await PingAsync(Endpoint(server, tls)));
        Assert.Equal("PONG", await PingAsync(Endpoint(server, tls, "127.0.0.1")));
    }

    [Fact]
    public async Task Without_an_authority_the_system_decides_and_the_error_names_the_unknown_issuer()
    {
        using RedisServer server = RedisServer.StartTls();

        SyncException error = await FailsAsync(Endpoint(server, null));

        Assert.Equal(SyncErrorIds.TargetTlsFailed, error.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, error.Kind);
        Assert.Contains($"target localhost:{server.Port}", error.Message);
        Assert.Contains("issued by 'CN=RedisSync Test CA', which this machine does not trust. Give that authority's certificate with -CertificateAuthorityPath (a PEM file).", error.Message);
    }

    [Fact]
    public async Task A_wrong_host_name_fails_naming_the_names_in_the_certificate_and_the_host_given()
    {
        using RedisServer server = RedisServer.StartTls("wrong-host");

        SyncException error = await FailsAsync(Endpoint(server, TrustTestCa()));

        Assert.Equal(SyncErrorIds.TargetTlsFailed, error.ErrorId);
        Assert.Contains("it is for DNS:wrong.example, not for the host 'localhost' given. Connect by a name the certificate is for", error.Message);
    }

    [Fact]
    public async Task An_expired_certificate_fails_saying_when_it_expired()
    {
        using RedisServer server = RedisServer.StartTls("expired");

        SyncException error = await FailsAsync(Endpoint(server, TrustTestCa()), EndpointRole.Source);

        Assert.Equal(SyncErrorIds.SourceTlsFailed, error.ErrorId);
        Assert.Contains($"source localhost:{server.Port}", error.Message);
        Assert.Contains("the server's certificate expired on 2021-01-01 00:00 UTC (valid from 2020-01-01 00:00 UTC). Renew the server's certificate", error.Message);
    }

    [Fact]
    public async Task A_certificate_from_another_authority_fails_naming_its_issuer_and_the_authorities_given()
    {
        using RedisServer server = RedisServer.StartTls("untrusted");

        SyncException error = await FailsAsync(Endpoint(server, TrustTestCa()));

        Assert.Equal(SyncErrorIds.TargetTlsFailed, error.ErrorId);
        Assert.Contains($"it is issued by 'CN=Other Test CA', which is not one of the certificate authorities in '{Certificates.CaPath}'", error.Message);
    }

    [Fact]
    public async Task The_authority_file_may_hold_several_authorities_and_any_of_them_may_issue_the_certificate()
    {
        using RedisServer trusted = RedisServer.StartTls();
        using RedisServer other = RedisServer.StartTls("untrusted");
        string bundle = Path.Combine(trusted.Dir, "bundle.pem");
        File.WriteAllText(bundle, "two authorities\n" + File.ReadAllText(Certificates.CaPath) + "\n" + File.ReadAllText(Certificates.OtherCaPath));
        var tls = new TlsOptions { CertificateAuthorityPath = bundle };

        Assert.Equal("PONG", await PingAsync(Endpoint(trusted, tls)));
        Assert.Equal("PONG", await PingAsync(Endpoint(other, tls)));
    }

    [Fact]
    public async Task A_self_signed_server_certificate_given_as_its_own_authority_is_accepted()
    {
        // An admin pins a server's own certificate: the authority of the untrusted server is that chain's root, so give the root itself.
        using RedisServer server = RedisServer.StartTls("untrusted");

        Assert.Equal("PONG", await PingAsync(Endpoint(server, new TlsOptions { CertificateAuthorityPath = Certificates.OtherCaPath })));
    }

    [Fact]
    public async Task Mutual_tls_without_a_client_certificate_says_that_the_server_asks_for_one()
    {
        using RedisServer server = RedisServer.StartTls(authClients: "yes");

        SyncException error = await FailsAsync(Endpoint(server, TrustTestCa()));

        Assert.Equal(SyncErrorIds.TargetTlsFailed, error.ErrorId);
        Assert.Contains("it asks for a client certificate (mutual TLS: tls-auth-clients yes) and none was given. Give one with -ClientCertificatePath", error.Message);
    }

    public static IEnumerable<object[]> ClientCertificates()
    {
        yield return new object[] { "PEM with its key", "client.crt", "client.key", null! };
        yield return new object[] { "PEM with an encrypted key", "client.crt", "client-encrypted.key", TestCertificates.KeyPassword };
        yield return new object[] { "PFX with a password", "client.pfx", null!, TestCertificates.PfxPassword };
    }

    [Theory]
    [MemberData(nameof(ClientCertificates))]
    public async Task Mutual_tls_with_a_client_certificate_connects(string kind, string certificate, string? key, string? password)
    {
        using RedisServer server = RedisServer.StartTls(authClients: "yes");
        var tls = new TlsOptions
        {
            CertificateAuthorityPath = Certificates.CaPath,
            ClientCertificatePath = Certificates.Path(certificate),
            ClientKeyPath = key != null ? Certificates.Path(key) : null,
            ClientCertificatePassword = password != null ? Secret(password) : null,
        };

        Assert.True("PONG" == await PingAsync(Endpoint(server, tls)), kind);
    }

    [Fact]
    public async Task A_pem_file_that_holds_both_the_certificate_and_its_key_needs_no_key_path()
    {
        using RedisServer server = RedisServer.StartTls(authClients: "yes");
        string both = Path.Combine(server.Dir, "client-and-key.pem");
        File.WriteAllText(both, File.ReadAllText(Certificates.ClientCertificate) + File.ReadAllText(Certificates.ClientKey));

        Assert.Equal("PONG", await PingAsync(Endpoint(server, new TlsOptions { CertificateAuthorityPath = Certificates.CaPath, ClientCertificatePath = both })));
    }

    [Fact]
    public async Task Mutual_tls_with_a_client_certificate_the_server_does_not_trust_says_so()
    {
        using RedisServer server = RedisServer.StartTls(authClients: "yes");
        var tls = new TlsOptions
        {
            CertificateAuthorityPath = Certificates.CaPath,
            ClientCertificatePath = Certificates.StrangerCertificate,
            ClientKeyPath = Certificates.StrangerKey,
        };

        SyncException error = await FailsAsync(Endpoint(server, tls));

        Assert.Equal(SyncErrorIds.TargetTlsFailed, error.ErrorId);
        Assert.Contains($"it did not accept the client certificate 'CN=stranger' from '{Certificates.StrangerCertificate}'", error.Message);
    }

    [Fact]
    public async Task Optional_client_authentication_connects_with_or_without_a_client_certificate()
    {
        using RedisServer server = RedisServer.StartTls(authClients: "optional");

        Assert.Equal("PONG", await PingAsync(Endpoint(server, TrustTestCa())));
        Assert.Equal("PONG", await PingAsync(Endpoint(server, new TlsOptions { CertificateAuthorityPath = Certificates.CaPath, ClientCertificatePath = Certificates.ClientPfx, ClientCertificatePassword = Secret(TestCertificates.PfxPassword) })));
    }

    [Fact]
    public async Task Skipping_the_check_connects_and_reports_each_server_once_with_what_the_check_would_find()
    {
        using RedisServer wrongHost = RedisServer.StartTls("wrong-host");
        using RedisServer expired = RedisServer.StartTls("expired");
        using RedisServer good = RedisServer.StartTls();
        var tls = new TlsOptions { SkipCertificateCheck = true };
        var warnings = new List<SyncWarning>();
        tls.CertificateCheckSkipped += w => { lock (warnings) warnings.Add(w); };

        for (int i = 0; i < 3; i++) Assert.Equal("PONG", await PingAsync(Endpoint(wrongHost, tls)));
        Assert.Equal("PONG", await PingAsync(Endpoint(expired, tls), EndpointRole.Source));
        Assert.Equal("PONG", await PingAsync(Endpoint(good, tls, "127.0.0.1")));

        Assert.Equal(3, warnings.Count);
        Assert.All(warnings, w => Assert.Equal(SyncErrorIds.CertificateCheckSkipped, w.ErrorId));
        Assert.Contains($"The certificate of the target localhost:{wrongHost.Port} is not checked, as -SkipCertificateCheck asks, and would fail the check: " +
            "it is issued by 'CN=RedisSync Test CA', which this machine does not trust", warnings[0].Message);
        Assert.Contains("it is for DNS:wrong.example, not for the host 'localhost' given", warnings[0].Message);
        Assert.Contains($"source localhost:{expired.Port}", warnings[1].Message);
        Assert.Contains("expired on 2021-01-01", warnings[1].Message);
        // The system does not trust the test CA either, so even the good certificate fails a check against the system's roots.
        Assert.Contains($"target 127.0.0.1:{good.Port} is not checked", warnings[2].Message);
    }

    [Fact]
    public void Skipping_the_check_of_a_certificate_that_passes_says_once_that_the_switch_is_not_needed()
    {
        // Without an authority file a certificate passes only when the system trusts its issuer, which a
        // test cannot arrange: the check and the report are run here on their own.
        var trusting = new TlsCredentials(TlsFiles.LoadAuthorities(Certificates.CaPath, "CA"), Certificates.CaPath, null, null, skipCheck: false);
        using X509Certificate2 certificate = X509CertificateLoader.LoadCertificateFromFile(Certificates.Path("server.crt"));
        var tls = new TlsOptions { SkipCertificateCheck = true };
        var warnings = new List<SyncWarning>();
        tls.CertificateCheckSkipped += warnings.Add;
        RedisEndpoint endpoint = RedisEndpoint.Parse("rediss://localhost:6380");

        Assert.Null(CertificateCheck.Problem(certificate, null, System.Net.Security.SslPolicyErrors.None, "localhost", trusting));
        tls.ReportSkipped(EndpointRole.Target, endpoint, null);
        tls.ReportSkipped(EndpointRole.Target, endpoint, null);

        Assert.Equal("The certificate of the target localhost:6380 passes the check that -SkipCertificateCheck skips: the switch is not needed.", Assert.Single(warnings).Message);
    }

    [Fact]
    public async Task A_plain_connection_to_a_tls_port_says_to_use_rediss()
    {
        using RedisServer server = RedisServer.StartTls();

        SyncException error = await Assert.ThrowsAsync<SyncException>(() => PingAsync(RedisEndpoint.Parse($"127.0.0.1:{server.Port}")));

        Assert.Equal(SyncErrorIds.TargetLinkLost, error.ErrorId);
        Assert.Contains("if this is a TLS port, use a rediss:// address or -Tls", error.Message);
    }

    [Fact]
    public async Task A_tls_connection_to_a_plain_port_gives_up_within_the_timeout_and_asks_whether_it_is_a_tls_port()
    {
        using RedisServer server = RedisServer.Start();

        SyncException error = await FailsAsync(Endpoint(server, TrustTestCa()), timeout: TimeSpan.FromSeconds(1));

        Assert.Equal(SyncErrorIds.TargetTlsFailed, error.ErrorId);
        Assert.Contains($"Is {server.Port} a TLS port? A server without TLS takes a redis:// address without -Tls.", error.Message);
    }

    [Fact]
    public void The_names_of_a_certificate_are_its_dns_names_and_ip_addresses()
    {
        using X509Certificate2 server = X509CertificateLoader.LoadCertificateFromFile(Certificates.Path("server.crt"));
        using X509Certificate2 client = X509CertificateLoader.LoadCertificateFromFile(Certificates.ClientCertificate);

        Assert.Equal(new[] { "DNS:localhost", "IP:127.0.0.1" }, CertificateCheck.AlternativeNames(server));
        Assert.Equal("DNS:localhost, IP:127.0.0.1", CertificateCheck.Names(server));
        Assert.Equal("CN=redissync-client", CertificateCheck.Names(client));
    }

    public static IEnumerable<object[]> BadFiles()
    {
        string missing = Path.Combine(Path.GetTempPath(), "redissync-no-such-file.pem");
        yield return new object[] { new TlsOptions { CertificateAuthorityPath = missing }, $"-CertificateAuthorityPath: cannot read '{missing}'" };
        yield return new object[] { new TlsOptions { CertificateAuthorityPath = Certificates.ClientKey }, "holds no PEM certificate (a block that starts with -----BEGIN CERTIFICATE-----)" };
        yield return new object[] { new TlsOptions { SkipCertificateCheck = true, CertificateAuthorityPath = Certificates.CaPath }, "-SkipCertificateCheck: it turns the check off that -CertificateAuthorityPath sets up" };
        yield return new object[] { new TlsOptions { ClientKeyPath = Certificates.ClientKey }, "-ClientKeyPath: a key belongs to a client certificate: give the certificate with -ClientCertificatePath." };
        yield return new object[] { new TlsOptions { ClientCertificatePassword = Secret("x") }, "-ClientCertificatePassword: a password belongs to a client certificate" };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientPfx }, "cannot be read as a PFX file" };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientPfx, ClientCertificatePassword = Secret("S3cr3t-wrong") }, "-ClientCertificatePassword: '" + Certificates.ClientPfx + "' cannot be read as a PFX file with the password given" };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientPfx, ClientKeyPath = Certificates.ClientKey, ClientCertificatePassword = Secret(TestCertificates.PfxPassword) }, "is a PFX file, which holds its own key: leave -ClientKeyPath out." };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientCertificate }, "holds a certificate but no private key: give the key file with -ClientKeyPath, or use a PFX file." };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientCertificate, ClientKeyPath = Certificates.ClientEncryptedKey }, "-ClientCertificatePassword: the key in '" + Certificates.ClientEncryptedKey + "' is encrypted: give its password." };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientCertificate, ClientKeyPath = Certificates.ClientEncryptedKey, ClientCertificatePassword = Secret("S3cr3t-wrong") }, "cannot be decrypted with the password given" };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientCertificate, ClientKeyPath = Certificates.StrangerKey }, "does not belong to the certificate in '" + Certificates.ClientCertificate + "'" };
        yield return new object[] { new TlsOptions { ClientCertificatePath = Certificates.ClientCertificate, ClientKeyPath = Certificates.CaPath }, "holds no PEM private key (-----BEGIN PRIVATE KEY-----)" };
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_wrong_certificate_file_fails_before_connecting_naming_the_setting_and_the_file(TlsOptions tls, string expected)
    {
        SyncException error = Assert.Throws<SyncException>(() => tls.Load(name => "-" + name));

        Assert.Equal(SyncErrorIds.InvalidOptions, error.ErrorId);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("S3cr3t", error.Message);
    }

    [Fact]
    public async Task A_file_that_cannot_be_read_fails_the_connection_the_same_way_when_no_host_loaded_it_first()
    {
        using RedisServer server = RedisServer.StartTls();
        var tls = new TlsOptions { CertificateAuthorityPath = Path.Combine(server.Dir, "missing.pem") };

        SyncException error = await FailsAsync(Endpoint(server, tls));

        Assert.Equal(SyncErrorIds.InvalidOptions, error.ErrorId);
        Assert.StartsWith("CertificateAuthorityPath: cannot read", error.Message);
    }
}
