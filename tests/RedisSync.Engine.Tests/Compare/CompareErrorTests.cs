using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Compare;

public sealed class CompareErrorTests
{
    private static int UnusedPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    private static Task<CompareSummary> Compare(string source, string target) =>
        new DataComparer(RedisEndpoint.Parse(source), RedisEndpoint.Parse(target)).RunAsync(_ => { });

    [Fact]
    public async Task An_unreachable_server_is_a_clear_error_naming_its_side()
    {
        using RedisServer server = RedisServer.Start();
        string nowhere = "127.0.0.1:" + UnusedPort();

        var source = await Assert.ThrowsAsync<SyncException>(() => Compare(nowhere, server.Endpoint));
        Assert.Equal(SyncErrorIds.SourceUnreachable, source.ErrorId);
        Assert.Contains(nowhere, source.Message);

        var target = await Assert.ThrowsAsync<SyncException>(() => Compare(server.Endpoint, nowhere));
        Assert.Equal(SyncErrorIds.TargetUnreachable, target.ErrorId);
        Assert.Contains("target", target.Message);
    }

    [Fact]
    public async Task A_wrong_or_missing_password_is_a_refused_login_that_never_shows_the_password()
    {
        using RedisServer secured = RedisServer.Start("--requirepass", "s3cret");
        using RedisServer open = RedisServer.Start();

        var wrong = await Assert.ThrowsAsync<SyncException>(() => Compare($"redis://:wrong-pw@127.0.0.1:{secured.Port}", open.Endpoint));
        Assert.Equal(SyncErrorIds.SourceAuthFailed, wrong.ErrorId);
        Assert.DoesNotContain("wrong-pw", wrong.Message);

        var missing = await Assert.ThrowsAsync<SyncException>(() => Compare(open.Endpoint, secured.Endpoint));
        Assert.Equal(SyncErrorIds.TargetAuthFailed, missing.ErrorId);

        CompareSummary summary = await Compare($"redis://:s3cret@127.0.0.1:{secured.Port}", open.Endpoint);
        Assert.True(summary.IsEqual);
    }
}
