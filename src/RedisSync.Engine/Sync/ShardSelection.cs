using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Start-RedisSync -Shard: which master of a cluster source one shard task of a sync reads, from
/// what the user gave (a node id, or its first characters; or slots such as
/// <c>0-5460</c>), and the shard's identity on the target (its lease and checkpoint keys).
/// </summary>
/// <remarks>
/// The identity is the master's slot ranges (<c>0-5460</c>, or <c>0-100,5000-5460</c>), not its node
/// id: a failover promotes a replica with a node id of its own that serves the same slots, so a
/// task restarted after a failover (by the same command, whatever it named the shard by) finds the
/// same lease and checkpoint; slots change only by a reshard, which an operator makes on purpose.
/// A node id and a slot range of the same master name the same identity, so they refuse each other.
/// </remarks>
internal sealed class ShardSelection
{
    private static readonly Regex SlotText = new Regex(@"^\d{1,5}(-\d{1,5})?(,\d{1,5}(-\d{1,5})?)*$", RegexOptions.CultureInvariant);
    private static readonly Regex IdText = new Regex("^[0-9a-fA-F]{1,40}$", RegexOptions.CultureInvariant);

    private ShardSelection(string given, IReadOnlyList<(int From, int To)>? slots)
    {
        Given = given;
        Slots = slots;
    }

    /// <summary>What the user gave, as given.</summary>
    public string Given { get; }

    /// <summary>The slot ranges given, or null for a node id.</summary>
    public IReadOnlyList<(int From, int To)>? Slots { get; }

    /// <summary>
    /// Parses -Shard: digits (a slot, a range <c>from-to</c>, ranges joined by commas) are slots; other
    /// hexadecimal text is a node id or its prefix. The error names what was given.
    /// </summary>
    public static ShardSelection Parse(string given)
    {
        string text = (given ?? string.Empty).Trim();
        if (SlotText.IsMatch(text))
        {
            var ranges = new List<(int From, int To)>();
            foreach (string part in text.Split(','))
            {
                string[] ends = part.Split('-');
                int from = int.Parse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture);
                int to = ends.Length > 1 ? int.Parse(ends[1], NumberStyles.None, CultureInfo.InvariantCulture) : from;
                if (to > ClusterSlotCount - 1 || from > to)
                {
                    throw Invalid(given!, $"the slot range {part} is not within 0-{ClusterSlotCount - 1} with its first slot before its last");
                }
                ranges.Add((from, to));
            }
            return new ShardSelection(text, ranges);
        }
        if (IdText.IsMatch(text)) return new ShardSelection(text, null);
        throw Invalid(given ?? string.Empty, "give a master's node id (or its first characters) or its slots, such as 0-5460");
    }

    private const int ClusterSlotCount = 16384;

    /// <summary>The shard's identity: its master's slot ranges, merged and in order (see the remarks).</summary>
    public static string IdentityOf(ClusterNode master)
    {
        var merged = new List<(int From, int To)>();
        foreach ((int from, int to) in master.Ranges.OrderBy(r => r.From))
        {
            if (merged.Count > 0 && merged[merged.Count - 1].To + 1 >= from)
            {
                merged[merged.Count - 1] = (merged[merged.Count - 1].From, Math.Max(merged[merged.Count - 1].To, to));
            }
            else
            {
                merged.Add((from, to));
            }
        }
        return string.Join(",", merged.Select(r => r.From == r.To
            ? r.From.ToString(CultureInfo.InvariantCulture)
            : r.From.ToString(CultureInfo.InvariantCulture) + "-" + r.To.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Reads the source's CLUSTER NODES (nothing else is asked of it: no snapshot is forked) and picks
    /// the one master this selection names; ShardNotFound or ShardAmbiguous name what was given.
    /// </summary>
    public async Task<(ClusterNode Master, IReadOnlyList<ClusterNode> Nodes)> ResolveAsync(RedisEndpoint source, CancellationToken cancellationToken)
    {
        RespValue reply;
        using (RedisConnection connection = await RedisConnection.ConnectAsync(source, EndpointRole.Source, cancellationToken, TimeSpan.FromSeconds(5)).ConfigureAwait(false))
        {
            reply = await connection.ExecuteAsync(cancellationToken, "CLUSTER", "NODES").ConfigureAwait(false);
        }
        if (reply.IsError)
        {
            throw new SyncException(SyncErrorIds.ShardNotFound, SyncErrorKind.Stop,
                $"-Shard '{Given}' names a shard of a cluster source, and the source {source} is not a cluster ({reply.AsString()}). Leave -Shard out to sync it whole.");
        }
        IReadOnlyList<ClusterNode> nodes = ClusterNode.Parse(reply.AsString() ?? string.Empty, source.Host);
        return (Pick(nodes, source.ToString()), nodes);
    }

    /// <summary>The one master of <paramref name="nodes"/> this selection names.</summary>
    public ClusterNode Pick(IReadOnlyList<ClusterNode> nodes, string source)
    {
        List<ClusterNode> masters = ClusterNode.ServingMasters(nodes);
        List<ClusterNode> matches;
        if (Slots != null)
        {
            matches = masters.Where(m => m.Ranges.Any(r => Slots.Any(s => s.From <= r.To && r.From <= s.To))).ToList();
        }
        else
        {
            // A replica's id names its master's shard: after a failover the old id still finds the shard.
            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (ClusterNode node in nodes.Where(n => n.Id.StartsWith(Given.ToLowerInvariant(), StringComparison.Ordinal)))
            {
                ClusterNode? master = node.IsMaster ? node : masters.FirstOrDefault(m => m.Id == node.MasterId);
                if (master != null && masters.Contains(master)) ids.Add(master.Id);
            }
            matches = masters.Where(m => ids.Contains(m.Id)).ToList();
        }
        if (matches.Count == 1) return matches[0];
        string what = Slots != null ? "serves a slot of" : "has (or replicates a master with) a node id that starts with";
        string list = string.Join("; ", masters.Select(m => $"{m.Host}:{m.Port} id {m.Id} slots {IdentityOf(m)}"));
        if (matches.Count == 0)
        {
            throw new SyncException(SyncErrorIds.ShardNotFound, SyncErrorKind.Stop,
                $"-Shard '{Given}': no master of the source cluster {source} {what} '{Given}'. Its masters: {list}. Nothing was copied.");
        }
        throw new SyncException(SyncErrorIds.ShardAmbiguous, SyncErrorKind.Stop,
            $"-Shard '{Given}' matches {matches.Count} masters of the source cluster {source} ({string.Join(", ", matches.Select(m => $"{m.Host}:{m.Port} slots {IdentityOf(m)}"))}): " +
            $"a shard task reads one. Give one master's slots or more of its node id. Its masters: {list}. Nothing was copied.");
    }

    private static SyncException Invalid(string given, string why) =>
        new SyncException(SyncErrorIds.InvalidOptions, SyncErrorKind.Stop, $"-Shard '{given}' is not a shard: {why}.");
}
