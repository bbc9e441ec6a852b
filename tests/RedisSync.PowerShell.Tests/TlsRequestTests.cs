using System;
using System.IO;
using System.Linq;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.PowerShell.Tests.Infrastructure;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>How the TLS parameters of the cmdlets reach the servers: -Tls for all, rediss:// for one, certificates for every TLS server.</summary>
public sealed class TlsRequestTests
{
    private static readonly TestCertificates Certificates = TestCertificates.Shared;

    [Fact]
    public void Tls_turns_tls_on_for_the_source_and_the_target()
    {
        SyncOptions options = new SyncRequest { Source = "src:6379", Target = "dst:6380", Tls = new TlsRequest { Tls = true } }.Resolve(out _);

        Assert.True(options.Source!.UseTls);
        Assert.True(options.Target.UseTls);
        Assert.Null(options.Target.Tls);
    }

    [Fact]
    public void A_rediss_address_turns_tls_on_for_its_server_alone_and_the_certificate_parameters_go_to_it()
    {
        var tls = new TlsRequest { CertificateAuthorityPath = Certificates.CaPath, ClientCertificatePath = Certificates.ClientCertificate, ClientKeyPath = Certificates.ClientKey };

        SyncOptions options = new SyncRequest { Source = "src:6379", Target = "rediss://dst:6380", Tls = tls }.Resolve(out _);

        Assert.False(options.Source!.UseTls);
        Assert.Null(options.Source.Tls);
        Assert.True(options.Target.UseTls);
        Assert.Equal(Certificates.CaPath, options.Target.Tls!.CertificateAuthorityPath);
        Assert.Equal(Certificates.ClientKey, options.Target.Tls.ClientKeyPath);
    }

    [Fact]
    public void Both_servers_of_a_compare_share_one_set_of_tls_options()
    {
        var request = new CompareRequest { Source = "rediss://a:1", Target = "rediss://b:2", Tls = new TlsRequest { CertificateAuthorityPath = Certificates.CaPath } };

        var (source, target) = request.ResolveServers();

        Assert.Same(source.Tls, target.Tls);
        Assert.Equal("rediss://a:1", CompareRunner.Address(source));
    }

    [Theory]
    [InlineData("CertificateAuthorityPath")]
    [InlineData("SkipCertificateCheck")]
    public void A_certificate_parameter_where_no_server_uses_tls_is_an_error_that_names_it(string parameter)
    {
        var tls = parameter == "SkipCertificateCheck" ? new TlsRequest { SkipCertificateCheck = true } : new TlsRequest { CertificateAuthorityPath = Certificates.CaPath };

        var error = Assert.Throws<SyncException>(() => new SyncRequest { RdbPath = "/d/dump.rdb", Target = "dst:6380", Tls = tls }.Resolve(out _));

        Assert.Equal(HostErrorIds.InvalidParameter, error.ErrorId);
        Assert.Equal($"-{parameter}: no server of this command is reached over TLS: add -Tls, or give its address as rediss://host:port.", error.Message);
    }

    [Fact]
    public void A_certificate_file_that_cannot_be_used_fails_before_anything_connects_naming_the_parameter()
    {
        string missing = Path.Combine(Path.GetTempPath(), "redissync-missing-ca.pem");
        var request = new CompareRequest { Source = "a:1", Target = "b:2", Tls = new TlsRequest { Tls = true, CertificateAuthorityPath = missing } };

        var error = Assert.Throws<SyncException>(() => request.ResolveServers());

        Assert.Equal(HostErrorIds.InvalidParameter, error.ErrorId);
        Assert.Equal(HostErrorCategory.InvalidArgument, HostErrors.CategoryOf(error.ErrorId));
        Assert.StartsWith($"-CertificateAuthorityPath: cannot read '{missing}'", error.Message);
    }

    [Fact]
    public void A_settings_file_server_at_a_rediss_address_takes_the_certificate_parameters()
    {
        string dir = Paths.TempDirectory();
        try
        {
            string config = Path.Combine(dir, "tls.toml");
            File.WriteAllText(config, "[source]\naddress = \"src:6379\"\n[target]\naddress = \"rediss://dst:6380\"\n");

            SyncOptions options = new SyncRequest { ConfigPath = config, Tls = new TlsRequest { CertificateAuthorityPath = Certificates.CaPath } }.Resolve(out _);

            Assert.False(options.Source!.UseTls);
            Assert.True(options.Target.UseTls);
            Assert.Equal(Certificates.CaPath, options.Target.Tls!.CertificateAuthorityPath);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_sync_run_over_tls_without_the_check_warns_once_per_server_on_the_draining_thread()
    {
        using RedisServer source = RedisServer.StartTls("wrong-host", "no", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.StartTls("wrong-host");
        source.Db(0).StringSet("k", "v");
        var request = new SyncRequest
        {
            Source = "localhost:" + source.Port,
            Target = "localhost:" + target.Port,
            Name = "skip",
            Mode = SyncMode.Full,
            Tls = new TlsRequest { Tls = true, SkipCertificateCheck = true },
        };
        using var run = new SyncRun(request.Resolve(out _));
        var output = new RecordingOutput();

        run.Start();
        SyncStatus final = run.RunToEnd(output);

        Assert.Equal(SyncPhase.Completed, final.Phase);
        Assert.Equal("v", (string?)target.Db(0).StringGet("k"));
        Assert.Equal(new[] { Environment.CurrentManagedThreadId }, output.Threads.ToArray());
        // The replica link, the key count, the writer and the control connection: one warning per server.
        Assert.Equal(2, output.Warnings.Count);
        Assert.All(output.Warnings, w => Assert.Equal(SyncErrorIds.CertificateCheckSkipped, w.ErrorId));
        Assert.Contains(output.Warnings, w => w.Message.StartsWith($"The certificate of the source localhost:{source.Port} is not checked", StringComparison.Ordinal));
        Assert.Contains(output.Warnings, w => w.Message.StartsWith($"The certificate of the target localhost:{target.Port} is not checked", StringComparison.Ordinal));
    }
}
