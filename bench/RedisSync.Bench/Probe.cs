using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Bench;

/// <summary>
/// One open connection for polling a server many times a second (INFO, DBSIZE, GET) without the
/// cost of starting redis-cli for each look.
/// </summary>
internal sealed class Probe : IDisposable
{
    private readonly RedisConnection _connection;

    private Probe(RedisConnection connection) => _connection = connection;

    public static async Task<Probe> ConnectAsync(ServerProcess server) =>
        new Probe(await RedisConnection.ConnectAsync(RedisEndpoint.Parse(server.Endpoint), EndpointRole.Target, CancellationToken.None));

    public async Task<RespValue> RunAsync(params object[] args) => await _connection.ExecuteOrThrowAsync(CancellationToken.None, args);

    /// <summary>INFO &lt;section&gt; as name → value.</summary>
    public async Task<Dictionary<string, string>> InfoAsync(string section)
    {
        RespValue reply = await RunAsync("INFO", section);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in (reply.AsString() ?? string.Empty).Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            int colon = line.IndexOf(':');
            if (colon > 0 && !line.StartsWith("#", StringComparison.Ordinal)) fields[line.Substring(0, colon)] = line.Substring(colon + 1);
        }
        return fields;
    }

    public async Task<long> DbSizeAsync() => (await RunAsync("DBSIZE")).Integer;

    /// <summary>The replication offset this server has reached: master_repl_offset on a primary, slave_repl_offset on a replica.</summary>
    public async Task<long> ReplicationOffsetAsync(bool replica)
    {
        Dictionary<string, string> info = await InfoAsync("replication");
        return info.TryGetValue(replica ? "slave_repl_offset" : "master_repl_offset", out string? v) ? long.Parse(v, CultureInfo.InvariantCulture) : -1;
    }

    /// <summary>The offset that a RedisSync checkpoint on this target records (-1 without one).</summary>
    public async Task<long> CheckpointOffsetAsync(string name)
    {
        RespValue value = await RunAsync("GET", RedisSync.Engine.Sync.Checkpoint.Key(name));
        if (value.IsNull) return -1;
        var checkpoint = RedisSync.Engine.Sync.Checkpoint.Parse(name, value.AsString() ?? string.Empty);
        return checkpoint.Phase == RedisSync.Engine.Sync.CheckpointPhase.Streaming ? checkpoint.Offset : -1;
    }

    public void Dispose() => _connection.Dispose();
}
