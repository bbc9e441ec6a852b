using Xunit;

namespace RedisSync.Engine.Tests.Infrastructure;

public sealed class ServerSmokeTests
{
    [Fact]
    public void Test_servers_start_on_their_own_port_and_stop_by_pid()
    {
        using var server = RedisServer.Start();
        Assert.NotEqual(6379, server.Port);
        server.Db().StringSet("k", "v");
        Assert.Equal("v", (string?)server.Db().StringGet("k"));
        int pid = server.Pid;
        server.Kill();
        Assert.ThrowsAny<System.Exception>(() => System.Diagnostics.Process.GetProcessById(pid).WaitForExit(0));
    }
}
