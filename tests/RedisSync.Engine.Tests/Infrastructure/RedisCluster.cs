using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using StackExchange.Redis;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>
/// A real Redis Cluster for one test: masters (and optionally a replica each) made of Debian
/// redis-server processes on free loopback ports, joined with <c>redis-cli --cluster create</c>,
/// each in its own temp dir, stopped by PID. Helpers for the faults a cluster meets: failover,
/// a killed master, a reshard, a new node.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    private readonly List<RedisServer> _nodes = new List<RedisServer>();
    private readonly string[] _extra;
    private readonly bool _tls;
    private ConnectionMultiplexer? _mux;

    private RedisCluster(string[] extra, bool tls = false)
    {
        _extra = extra;
        _tls = tls;
    }

    /// <summary>Whether every node speaks TLS only (clients, the cluster bus and replication), with the test CA's certificates and mutual TLS.</summary>
    public bool IsTls => _tls;

    /// <summary>Every node started for the cluster (masters first, then their replicas), including stopped ones.</summary>
    public IReadOnlyList<RedisServer> Nodes => _nodes;

    /// <summary>One node's address (any node serves as the cluster's address).</summary>
    public string Endpoint => _nodes[0].Endpoint;

    /// <summary>Starts <paramref name="masters"/> masters with <paramref name="replicasPerMaster"/> replicas each and waits for cluster_state:ok.</summary>
    public static RedisCluster Start(int masters = 3, int replicasPerMaster = 0, params string[] extraArgs) => Start(false, masters, replicasPerMaster, extraArgs);

    /// <summary>
    /// As <see cref="Start(int, int, string[])"/>, every node TLS only: clients (mutual TLS), the cluster bus
    /// (tls-cluster) and replication (tls-replication), with the test CA's "server" certificate.
    /// </summary>
    public static RedisCluster StartTls(int masters = 3, int replicasPerMaster = 0) => Start(true, masters, replicasPerMaster, Array.Empty<string>());

    private static RedisCluster Start(bool tls, int masters, int replicasPerMaster, string[] extraArgs)
    {
        var cluster = new RedisCluster(extraArgs, tls);
        try
        {
            int total = masters * (1 + replicasPerMaster);
            for (int i = 0; i < total; i++) cluster._nodes.Add(cluster.StartNode());
            var args = new List<string> { "--cluster", "create" };
            args.AddRange(cluster._nodes.Select(n => n.Endpoint));
            args.AddRange(new[] { "--cluster-replicas", replicasPerMaster.ToString(), "--cluster-yes" });
            cluster._nodes[0].Cli(args.ToArray());
            cluster.WaitHealthy();
            var clock = Stopwatch.StartNew();
            // Replicas join their masters a moment after the slots are assigned.
            while (cluster.Masters().Count != masters || cluster.Replicas().Count != masters * replicasPerMaster)
            {
                if (clock.Elapsed.TotalSeconds > 60) throw new TimeoutException("the replicas did not join: " + cluster._nodes[0].Cli("CLUSTER", "NODES"));
                Thread.Sleep(50);
            }
            return cluster;
        }
        catch
        {
            cluster.Dispose();
            throw;
        }
    }

    private RedisServer StartNode()
    {
        var args = new List<string>
        {
            "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
            "--cluster-port", RedisServer.FreePort().ToString(), "--repl-diskless-sync-delay", "0",
        };
        args.AddRange(_extra);
        if (!_tls) return RedisServer.Start(args.ToArray());
        // A node's own connections (the bus, replication) show the client certificate: the server one is for serverAuth only.
        TestCertificates certificates = TestCertificates.Shared;
        args.AddRange(new[]
        {
            "--tls-cluster", "yes", "--tls-replication", "yes",
            "--tls-client-cert-file", certificates.ClientCertificate, "--tls-client-key-file", certificates.ClientKey,
        });
        return RedisServer.StartTls("server", "yes", args.ToArray());
    }

    /// <summary>A cluster-aware independent client (StackExchange.Redis follows MOVED and ASK itself).</summary>
    public ConnectionMultiplexer Client()
    {
        if (_mux != null && _mux.IsConnected) return _mux;
        _mux?.Dispose();
        List<RedisServer> live = _nodes.Where(n => n.Pid != 0).ToList();
        ConfigurationOptions options = RedisServer.ClientOptions(live[0].Endpoint, _tls);
        options.SyncTimeout = options.AsyncTimeout = 30000;
        foreach (RedisServer node in live.Skip(1)) options.EndPoints.Add(node.Endpoint);
        _mux = ConnectionMultiplexer.Connect(options);
        return _mux;
    }

    public IDatabase Db() => Client().GetDatabase(0);

    /// <summary>The nodes that are masters now, as CLUSTER NODES says.</summary>
    public IReadOnlyList<RedisServer> Masters() => NodesWithRole("master");

    /// <summary>The nodes that are replicas now.</summary>
    public IReadOnlyList<RedisServer> Replicas() => NodesWithRole("slave");

    private IReadOnlyList<RedisServer> NodesWithRole(string role)
    {
        RedisServer any = _nodes.First(n => n.Pid != 0);
        var ports = new HashSet<int>();
        foreach (string line in any.Cli("CLUSTER", "NODES").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(' ');
            if (f[2].Contains(role) && !f[2].Contains("fail") && int.TryParse(f[1].Split('@')[0].Split(':')[1], out int port)) ports.Add(port);
        }
        return _nodes.Where(n => n.Pid != 0 && ports.Contains(n.Port)).ToList();
    }

    /// <summary>The master that serves a key now.</summary>
    public RedisServer MasterOf(string key)
    {
        long slot = long.Parse(_nodes.First(n => n.Pid != 0).Cli("CLUSTER", "KEYSLOT", key).Trim());
        return MasterOfSlot((int)slot);
    }

    /// <summary>The master that serves a slot now.</summary>
    public RedisServer MasterOfSlot(int slot)
    {
        foreach (RedisServer master in Masters())
        {
            foreach (string line in master.Cli("CLUSTER", "NODES").Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.Contains("myself")))
            {
                foreach (string range in line.Split(' ').Skip(8))
                {
                    if (range.StartsWith("[")) continue;
                    string[] ends = range.Split('-');
                    int from = int.Parse(ends[0]), to = ends.Length > 1 ? int.Parse(ends[1]) : from;
                    if (slot >= from && slot <= to) return master;
                }
            }
        }
        throw new InvalidOperationException("no master serves slot " + slot);
    }

    /// <summary>
    /// Waits until every running node has the same view of the masters: the same set of masters, each
    /// serving slots (a master demoted by a failover that some node has not heard of yet shows there as a
    /// master without slots, or as a master in one view and a replica in another), none failing, and
    /// <paramref name="master"/> among them. A test that picks a master to kill must not race a failover
    /// the cluster made by itself (on a loaded machine a node can miss its timeout while the test loads data).
    /// </summary>
    public void WaitAgreedMaster(RedisServer master, int seconds = 30)
    {
        var clock = Stopwatch.StartNew();
        string last = string.Empty;
        while (true)
        {
            var views = new List<string>();
            bool readable = true;
            foreach (RedisServer node in _nodes.Where(n => n.Pid != 0))
            {
                try
                {
                    string[][] lines = node.Cli("CLUSTER", "NODES").Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')).ToArray();
                    if (lines.Any(f => f[2].Contains("fail"))) { readable = false; break; }
                    string[][] masters = lines.Where(f => f[2].Contains("master")).ToArray();
                    if (masters.Any(f => f.Length <= 8)) { readable = false; break; }
                    views.Add(string.Join(",", masters.Select(f => f[1].Split('@')[0]).OrderBy(a => a, StringComparer.Ordinal)));
                }
                catch (InvalidOperationException)
                {
                    readable = false;
                    break;
                }
            }
            if (readable && views.Distinct().Count() == 1 && views[0].Split(',').Any(a => a.EndsWith(":" + master.Port, StringComparison.Ordinal))) return;
            last = string.Join(" | ", views);
            if (clock.Elapsed.TotalSeconds > seconds) throw new TimeoutException($"the cluster's nodes do not agree on the masters (with {master.Port} among them): {last}");
            Thread.Sleep(50);
        }
    }

    /// <summary>Waits until every running node says cluster_state:ok and agrees on the slots.</summary>
    public void WaitHealthy(int seconds = 60)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            bool ok = _nodes.Where(n => n.Pid != 0).All(n =>
            {
                try
                {
                    string info = n.Cli("CLUSTER", "INFO");
                    return info.Contains("cluster_state:ok") && info.Contains("cluster_slots_ok:16384");
                }
                catch (InvalidOperationException)
                {
                    return false;
                }
            });
            if (ok) return;
            if (clock.Elapsed.TotalSeconds > seconds) throw new TimeoutException("the cluster did not become healthy: " + _nodes[0].Cli("CLUSTER", "INFO"));
            Thread.Sleep(50);
        }
    }

    /// <summary>Moves <paramref name="slots"/> slots from one master to another (redis-cli --cluster reshard).</summary>
    public void Reshard(RedisServer from, RedisServer to, int slots)
    {
        string fromId = from.Cli("CLUSTER", "MYID").Trim();
        string toId = to.Cli("CLUSTER", "MYID").Trim();
        // redis-cli refuses to reshard while its check finds problems (a node just added, not yet known by every node):
        // wait until the check passes.
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                from.Cli("--cluster", "check", from.Endpoint);
                break;
            }
            catch (InvalidOperationException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                Thread.Sleep(100);
            }
        }
        // A node just added answers CLUSTERDOWN to the keys migrated to it until it has the whole configuration, which would leave a
        // slot half moved (every slot holds a key: the sync's checkpoint of that slot).
        while (!to.Cli("CLUSTER", "INFO").Contains("cluster_state:ok") && clock.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(100);
        try
        {
            from.Cli("--cluster", "reshard", from.Endpoint, "--cluster-from", fromId, "--cluster-to", toId, "--cluster-slots", slots.ToString(),
                "--cluster-yes", "--cluster-pipeline", "100");
        }
        catch (InvalidOperationException)
        {
            // A slot left open is closed, so that the caller can try again.
            from.Cli("--cluster", "fix", from.Endpoint, "--cluster-yes");
            throw;
        }
        WaitHealthy();
    }

    /// <summary>Promotes a replica with CLUSTER FAILOVER (no data lost) and waits until it is a master.</summary>
    public void Failover(RedisServer replica)
    {
        replica.Cli("CLUSTER", "FAILOVER");
        var clock = Stopwatch.StartNew();
        var asked = Stopwatch.StartNew();
        while (!replica.Cli("ROLE").StartsWith("master"))
        {
            if (clock.Elapsed.TotalSeconds > 60) throw new TimeoutException("the replica was not promoted");
            // Redis gives up a manual failover that does not finish within 5 s (a busy master): ask again.
            if (asked.Elapsed.TotalSeconds > 6)
            {
                replica.Cli("CLUSTER", "FAILOVER");
                asked.Restart();
            }
            Thread.Sleep(50);
        }
        string id = replica.Cli("CLUSTER", "MYID").Trim();
        while (!_nodes.Where(n => n.Pid != 0).All(n => n.Cli("CLUSTER", "NODES").Split('\n').Any(l => l.StartsWith(id + " ", StringComparison.Ordinal) && l.Split(' ')[2].Contains("master"))))
        {
            if (clock.Elapsed.TotalSeconds > 60) throw new TimeoutException("not every node knows the promoted replica as a master");
            Thread.Sleep(50);
        }
        WaitHealthy();
        _mux?.Dispose();
        _mux = null;
    }

    /// <summary>Kills a master (SIGKILL) and waits until its replica has taken over.</summary>
    public void KillMaster(RedisServer master)
    {
        List<RedisServer> replicas = Replicas().Where(r => r.Cli("ROLE").Contains("\n" + master.Port + "\n")).ToList();
        master.Kill();
        var clock = Stopwatch.StartNew();
        while (replicas.Count > 0 && !replicas.Any(r => r.Cli("ROLE").StartsWith("master", StringComparison.Ordinal)))
        {
            if (clock.Elapsed.TotalSeconds > 60) throw new TimeoutException("no replica of the killed master was promoted");
            Thread.Sleep(50);
        }
        while (true)
        {
            RedisServer any = _nodes.First(n => n.Pid != 0);
            string info = any.Cli("CLUSTER", "INFO");
            if (info.Contains("cluster_state:ok") && info.Contains("cluster_slots_ok:16384")) break;
            if (clock.Elapsed.TotalSeconds > 60) throw new TimeoutException("the cluster did not fail over: " + info);
            Thread.Sleep(50);
        }
        WaitHealthy();
        _mux?.Dispose();
        _mux = null;
    }

    /// <summary>Adds an empty master to the cluster and moves <paramref name="slots"/> slots to it from the first master.</summary>
    public RedisServer AddMaster(int slots)
    {
        RedisServer node = StartNode();
        _nodes.Add(node);
        RedisServer any = Masters()[0];
        any.Cli("--cluster", "add-node", node.Endpoint, any.Endpoint);
        var clock = Stopwatch.StartNew();
        while (!node.Cli("CLUSTER", "INFO").Contains("cluster_known_nodes:" + _nodes.Count(n => n.Pid != 0)))
        {
            if (clock.Elapsed.TotalSeconds > 60) throw new TimeoutException("the new node was not accepted");
            Thread.Sleep(50);
        }
        if (slots > 0) Reshard(any, node, slots);
        return node;
    }

    /// <summary>Every key of every master (SCAN), for checking what landed.</summary>
    public IReadOnlyList<string> Keys()
    {
        var keys = new List<string>();
        foreach (RedisServer master in Masters())
        {
            foreach (RedisKey key in master.Client().GetServer(master.Endpoint).Keys(0, "*", pageSize: 1000)) keys.Add(key.ToString());
        }
        return keys;
    }

    public void Dispose()
    {
        _mux?.Dispose();
        foreach (RedisServer node in _nodes) node.Dispose();
    }
}
