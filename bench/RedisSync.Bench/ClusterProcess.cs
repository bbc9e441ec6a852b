using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Resp;

namespace RedisSync.Bench;

/// <summary>
/// A Redis Cluster of masters only (no replicas: they would take CPU from the copy being measured), each
/// a <see cref="ServerProcess"/>, made with redis-cli --cluster create and waited for until every node
/// says cluster_state:ok.
/// </summary>
internal sealed class ClusterProcess : IDisposable
{
    private ClusterProcess(List<ServerProcess> masters) => Masters = masters;

    public IReadOnlyList<ServerProcess> Masters { get; }

    /// <summary>The first master: any node is a seed for the sync.</summary>
    public ServerProcess Seed => Masters[0];

    public static ClusterProcess Start(int masters)
    {
        var nodes = new List<ServerProcess>();
        try
        {
            for (int i = 0; i < masters; i++) nodes.Add(ServerProcess.Start("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000"));
            var args = new List<string> { "--cluster", "create" };
            args.AddRange(nodes.Select(n => n.Endpoint));
            args.Add("--cluster-yes");
            nodes[0].Cli(args.ToArray());
            var clock = Stopwatch.StartNew();
            while (!nodes.All(n => n.Cli("CLUSTER", "INFO").Contains("cluster_state:ok")))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("The benchmark's cluster did not reach cluster_state:ok within 60 s.");
                Thread.Sleep(100);
            }
            return new ClusterProcess(nodes);
        }
        catch
        {
            foreach (ServerProcess node in nodes) node.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Keys on every master and their DEBUG DIGESTs XORed together, RedisSync's own keys (checkpoints, lease) deleted first.
    /// Redis's digest of a database is a constant XORed with each key's digest, so with an odd number of masters the XOR of
    /// theirs is the digest of one server that holds all their keys: comparable with the source's.
    /// </summary>
    public async Task<(long Keys, string Digest)> DigestAsync()
    {
        if (Masters.Count % 2 == 0) throw new InvalidOperationException("The XOR of the masters' digests stands for the whole only with an odd number of masters.");
        long keys = 0;
        byte[] digest = new byte[20];
        foreach (ServerProcess master in Masters)
        {
            using Probe probe = await Probe.ConnectAsync(master);
            string cursor = "0";
            do
            {
                RespValue page = await probe.RunAsync("SCAN", cursor, "MATCH", "redissync:*", "COUNT", "1000");
                cursor = page.Items![0].AsString()!;
                foreach (RespValue key in page.Items[1].Items!) await probe.RunAsync("DEL", key.Bytes!);
            }
            while (cursor != "0");
            keys += await probe.DbSizeAsync();
            string hex = (await probe.RunAsync("DEBUG", "DIGEST")).AsString()!;
            for (int i = 0; i < 20; i++) digest[i] ^= Convert.ToByte(hex.Substring(i * 2, 2), 16);
        }
        return (keys, string.Concat(digest.Select(b => b.ToString("x2"))));
    }

    public void Dispose()
    {
        foreach (ServerProcess master in Masters) master.Dispose();
    }
}
