using System;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;
using StackExchange.Redis;

namespace RedisSync.Engine.Tests.Writers;

internal static class WriterHelpers
{
    /// <summary>Writes one command through the sink, argument by argument.</summary>
    public static void Command(this ICommandSink sink, params object[] args)
    {
        sink.BeginCommand();
        foreach (object arg in args)
        {
            switch (arg)
            {
                case string s: sink.Arg(Encoding.UTF8.GetBytes(s)); break;
                case byte[] b: sink.Arg(b); break;
                case long l: sink.Arg(l); break;
                case int i: sink.Arg(i); break;
                default: throw new ArgumentException(arg.GetType().Name);
            }
        }
        sink.EndCommand();
    }

    public static void Commit(this TargetWriter writer, long sequence) => writer.CommitPoint(Encoding.ASCII.GetBytes("seq:" + sequence));

    public static Task<TargetWriter> Connect(RedisServer server, TargetWriterOptions options, string? user = null, string? password = null) =>
        TargetWriter.ConnectAsync(RedisEndpoint.Parse(server.Endpoint).WithCredential(user, password), options, CancellationToken.None);

    public static Task<TargetWriter> Connect(int port, TargetWriterOptions options) =>
        TargetWriter.ConnectAsync(new RedisEndpoint("127.0.0.1", port), options, CancellationToken.None);

    /// <summary>Kills the connection that carries the given CLIENT SETNAME (Redis 7.0 has no CLIENT KILL by name).</summary>
    public static void KillClient(RedisServer server, string name)
    {
        string list = (string)server.Db().Execute("CLIENT", "LIST")!;
        string line = list.Split('\n').Single(l => l.Contains(" name=" + name + " "));
        string id = line.Split(' ').Single(f => f.StartsWith("id=")).Substring(3);
        server.Db().Execute("CLIENT", "KILL", "ID", id);
    }

    /// <summary>Waits (polling, bounded) until a condition holds; the test fails with the description otherwise.</summary>
    public static void WaitFor(Func<bool> condition, string what, int seconds = 60)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Timed out waiting for " + what);
            Thread.Sleep(5);
        }
    }

    public static string Get(this IDatabase db, string key) => (string?)db.StringGet(key) ?? "(nil)";
}
