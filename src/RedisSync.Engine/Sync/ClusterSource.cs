using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Sync;

/// <summary>One node of a cluster as CLUSTER NODES describes it.</summary>
internal sealed record ClusterNode(string Id, string Host, int Port, bool IsMaster, bool Failed, string? MasterId, int Slots)
{
    /// <summary>
    /// Parses the text of CLUSTER NODES (every line: id, ip:port@bus[,hostname], flags, master, ..., slot ranges), as
    /// <paramref name="askedHost"/> answered it: a node that has not learned its own address yet (one that no other node
    /// has met, such as the only node of a one-master cluster) lists itself as ":port", and is at the host it was asked at.
    /// </summary>
    public static IReadOnlyList<ClusterNode> Parse(string text, string? askedHost = null)
    {
        var nodes = new List<ClusterNode>();
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            string[] f = line.Split(' ');
            if (f.Length < 8) continue;
            string address = f[1].Split('@')[0];
            int colon = address.LastIndexOf(':');
            if (colon < 0 || !int.TryParse(address.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port == 0) continue;
            string[] flags = f[2].Split(',');
            string host = address.Substring(0, colon);
            if (host.Length == 0)
            {
                if (askedHost == null || !flags.Contains("myself")) continue;
                host = askedHost;
            }
            int slots = 0;
            var ranges = new List<(int From, int To)>();
            for (int i = 8; i < f.Length; i++)
            {
                if (f[i].StartsWith("[", StringComparison.Ordinal)) continue;
                string[] ends = f[i].Split('-');
                if (!int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int from)) continue;
                int to = ends.Length > 1 && int.TryParse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture, out int t) ? t : from;
                slots += to - from + 1;
                ranges.Add((from, to));
            }
            nodes.Add(new ClusterNode(f[0], host, port, flags.Contains("master"), flags.Contains("fail") || flags.Contains("noaddr"),
                f[3] == "-" ? null : f[3], slots) { Ranges = ranges });
        }
        return nodes;
    }

    /// <summary>The masters that serve slots and are not failing, in the order of their first slot (as shard tasks are listed).</summary>
    public static List<ClusterNode> ServingMasters(IEnumerable<ClusterNode> nodes) =>
        nodes.Where(n => n.IsMaster && !n.Failed && n.Slots > 0).OrderBy(n => n.Ranges.Count == 0 ? 0 : n.Ranges.Min(r => r.From)).ToList();

    /// <summary>The slot ranges the node serves (a master's).</summary>
    public IReadOnlyList<(int From, int To)> Ranges { get; init; } = Array.Empty<(int, int)>();

    /// <summary>The node's address with the login (user, password, TLS) of <paramref name="login"/>.</summary>
    public RedisEndpoint Endpoint(RedisEndpoint login) =>
        login.At(Host, Port);

    /// <summary>Reads CLUSTER NODES from the first of <paramref name="seeds"/> that answers.</summary>
    public static async Task<IReadOnlyList<ClusterNode>> ReadAsync(IEnumerable<RedisEndpoint> seeds, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        foreach (RedisEndpoint seed in seeds)
        {
            try
            {
                using RedisConnection connection = await RedisConnection.ConnectAsync(seed, EndpointRole.Source, cancellationToken, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                RespValue reply = await connection.ExecuteOrThrowAsync(cancellationToken, "CLUSTER", "NODES").ConfigureAwait(false);
                return Parse(reply.AsString() ?? string.Empty, seed.Host);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
            {
                errors.Add(ex.Message);
            }
        }
        throw new SyncException(SyncErrorIds.SourceUnreachable, SyncErrorKind.Retry, "No node of the source cluster answered: " + string.Join("; ", errors));
    }
}

/// <summary>
/// One shard (a master and its replicas) of a cluster source: found again in CLUSTER NODES after
/// every dropped link, so after a failover the shard continues from the promoted replica with a
/// partial resync. The shard is the master it began with plus every node that replicated it since.
/// </summary>
internal sealed class ClusterShardSource : SourceLocator
{
    private readonly RedisEndpoint _login;
    private readonly object _lock = new object();
    private readonly HashSet<string> _members = new HashSet<string>(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private List<RedisEndpoint> _seeds;
    private string _current;
    private Task? _watch;

    /// <param name="id">The shard's id: the first 12 characters of its master's node id when the sync first copied it.</param>
    /// <param name="master">The shard's master now.</param>
    /// <param name="nodes">The cluster's nodes now.</param>
    /// <param name="login">The login of the cluster's nodes.</param>
    public ClusterShardSource(string id, ClusterNode master, IReadOnlyList<ClusterNode> nodes, RedisEndpoint login)
    {
        ShardId = id;
        _login = login;
        _members.Add(master.Id);
        foreach (ClusterNode node in nodes.Where(n => n.MasterId == master.Id)) _members.Add(node.Id);
        _seeds = nodes.Where(n => !n.Failed).Select(n => n.Endpoint(login)).ToList();
        _current = master.Endpoint(login).ToString();
    }

    /// <summary>What the shard's checkpoint key ends with: <c>redissync:checkpoint:&lt;name&gt;:&lt;ShardId&gt;</c>.</summary>
    public string ShardId { get; }

    public override string Identity => "cluster-shard/" + ShardId;

    public override string Describe()
    {
        lock (_lock) return $"shard {ShardId} of the source cluster (master {_current})";
    }

    public override async Task<RedisEndpoint> LocateAsync(CancellationToken cancellationToken)
    {
        List<RedisEndpoint> seeds;
        lock (_lock) seeds = _seeds.ToList();
        IReadOnlyList<ClusterNode> nodes = await ClusterNode.ReadAsync(seeds, cancellationToken).ConfigureAwait(false);
        // The node asked may not have heard of a failover yet; the master it names knows its own role,
        // so its view is asked too (a demoted master names the replica that took over).
        for (int hop = 0; hop < 2; hop++)
        {
            ClusterNode? named;
            lock (_lock) named = nodes.FirstOrDefault(n => n.IsMaster && !n.Failed && (_members.Contains(n.Id) || nodes.Any(r => r.MasterId == n.Id && _members.Contains(r.Id))));
            if (named == null) break;
            IReadOnlyList<ClusterNode> own;
            try
            {
                own = await ClusterNode.ReadAsync(new[] { named.Endpoint(_login) }, cancellationToken).ConfigureAwait(false);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
            {
                break;
            }
            bool agrees = own.Any(n => n.Id == named.Id && n.IsMaster);
            nodes = own;
            if (agrees) break;
        }
        lock (_lock)
        {
            // Nodes that replicate a member belong to the shard too: one of them may be promoted next.
            foreach (ClusterNode node in nodes.Where(n => n.MasterId != null && _members.Contains(n.MasterId))) _members.Add(node.Id);
            ClusterNode? master = nodes.FirstOrDefault(n => n.IsMaster && !n.Failed && _members.Contains(n.Id));
            List<RedisEndpoint> alive = nodes.Where(n => !n.Failed).Select(n => n.Endpoint(_login)).ToList();
            if (alive.Count > 0) _seeds = alive;
            if (master == null)
            {
                throw new SyncException(SyncErrorIds.SourceUnreachable, SyncErrorKind.Retry,
                    $"Shard {ShardId} of the source cluster has no master that answers now (a failover in progress?).");
            }
            _current = master.Endpoint(_login).ToString();
            _watch ??= WatchAsync(_stop.Token);
            return master.Endpoint(_login);
        }
    }

    /// <summary>
    /// Reads the topology every two seconds: when another node of the shard became its master (a
    /// failover), the shard drops its link (which may go on through the demoted master, as a chained
    /// replica) and continues from the new master.
    /// </summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                List<RedisEndpoint> seeds;
                string current;
                lock (_lock)
                {
                    seeds = _seeds.ToList();
                    current = _current;
                }
                IReadOnlyList<ClusterNode> nodes = await ClusterNode.ReadAsync(seeds, cancellationToken).ConfigureAwait(false);
                ClusterNode? master;
                lock (_lock) master = nodes.FirstOrDefault(n => n.IsMaster && !n.Failed && _members.Contains(n.Id));
                if (master != null && master.Endpoint(_login).ToString() != current)
                {
                    RaiseSwitched($"Shard {ShardId} of the source cluster has a new master, {master.Host}:{master.Port} (was {current})");
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SyncException)
            {
                // The next round asks again; a dropped link finds the master by itself.
            }
        }
    }

    public override async Task<IReadOnlyList<(int From, int To)>?> SlotsAsync(CancellationToken cancellationToken)
    {
        List<RedisEndpoint> seeds;
        string current;
        lock (_lock)
        {
            seeds = _seeds.ToList();
            current = _current;
        }
        // The master's own view first: it knows best which slots it serves.
        seeds.Sort((a, b) => (b.ToString() == current).CompareTo(a.ToString() == current));
        IReadOnlyList<ClusterNode> nodes = await ClusterNode.ReadAsync(seeds, cancellationToken).ConfigureAwait(false);
        ClusterNode? master;
        lock (_lock) master = nodes.FirstOrDefault(n => n.IsMaster && !n.Failed && _members.Contains(n.Id));
        return master?.Ranges;
    }

    public override void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
