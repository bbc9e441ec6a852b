using System;
using System.IO;
using System.Threading.Tasks;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Tests.Sync;
using Xunit;

namespace RedisSync.Engine.Tests.Access;

/// <summary>
/// A scheduled task's settings file that reaches both servers over mutual TLS: the [source] and [target]
/// TLS keys build the same TLS options as the cmdlets' parameters, for the replica link and for the scan reader.
/// </summary>
public sealed class TlsSettingsFileTests : IDisposable
{
    private static readonly TestCertificates Certificates = TestCertificates.Shared;
    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-tls-settings-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string text)
    {
        string path = Path.Combine(_dir, "sync.toml");
        File.WriteAllText(path, text);
        return path;
    }

    private static string Toml(string path) => path.Replace("\\", "\\\\");

    [Theory]
    [InlineData("Psync")]
    [InlineData("Scan")]
    public async Task A_settings_file_with_tls_keys_copies_over_mutual_tls(string sourceMode)
    {
        bool scan = sourceMode == "Scan";
        using RedisServer source = scan
            ? RedisServer.StartTls("server", "yes", "--rename-command", "PSYNC", "", "--rename-command", "SYNC", "", "--notify-keyspace-events", "KA")
            : RedisServer.StartTls("server", "yes", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.StartTls("server", "yes");
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT '{source.CliProgram()}' >/dev/null 2>&1");
        File.WriteAllText(Path.Combine(_dir, "pfx.secret"), TestCertificates.PfxPassword + "\n");
        string path = Write($"""
            name = "tls-file"
            mode = "Full"
            source_mode = "{sourceMode}"
            scan_count = 100

            [source]
            address = "rediss://localhost:{source.Port}"
            certificate_authority_path = "{Toml(Certificates.CaPath)}"
            client_certificate_path = "{Toml(Certificates.ClientPfx)}"
            client_certificate_password_file = "pfx.secret"

            [target]
            address = "localhost:{target.Port}"
            tls = true
            certificate_authority_path = "{Toml(Certificates.CaPath)}"
            client_certificate_path = "{Toml(Certificates.ClientCertificate)}"
            client_key_path = "{Toml(Certificates.ClientKey)}"
            """);
        SyncOptions options = SyncSettingsFile.Load(path).Options;
        Assert.True(options.Source!.UseTls);
        Assert.True(options.Target.UseTls);
        Assert.Equal(scan ? RedisSync.SourceMode.Scan : RedisSync.SourceMode.Psync, options.SourceMode);
        using var session = new SyncSession(options);
        RedisSync.SyncStatus done = await session.RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
        Assert.Equal(options.SourceMode, done.SourceMode);
        SyncHarness.AssertSame(source, target);
    }

    [Fact]
    public void A_certificate_setting_on_a_server_without_tls_names_the_setting()
    {
        string path = Write($"""
            [source]
            address = "10.0.0.5:6379"
            certificate_authority_path = "{Toml(Certificates.CaPath)}"

            [target]
            address = "10.0.0.6:6379"
            """);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        Assert.Contains("source.certificate_authority_path", error.Message);
        Assert.Contains("tls = true", error.Message);
    }

    [Fact]
    public void A_wrong_client_certificate_password_names_the_setting_and_never_shows_the_password()
    {
        Environment.SetEnvironmentVariable("REDISSYNC_TEST_PFX_PASSWORD", "not-the-password");
        string path = Write($"""
            [source]
            address = "rediss://localhost:6380"
            client_certificate_path = "{Toml(Certificates.ClientPfx)}"
            client_certificate_password_env = "REDISSYNC_TEST_PFX_PASSWORD"

            [target]
            address = "10.0.0.6:6379"
            """);
        SyncException error = Assert.Throws<SyncException>(() => SyncSettingsFile.Load(path));
        Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
        Assert.Contains("source.client_certificate", error.Message);
        Assert.DoesNotContain("not-the-password", error.Message);
    }
}
