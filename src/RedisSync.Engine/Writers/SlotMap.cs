using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

/// <summary>A cluster's slot ranges and the master that serves each (CLUSTER SLOTS), with the login of the node the user gave.</summary>
internal sealed class SlotMap
{
    private SlotMap(IReadOnlyList<(int From, int To, RedisEndpoint Master)> ranges) => Ranges = ranges;

    public IReadOnlyList<(int From, int To, RedisEndpoint Master)> Ranges { get; }

    /// <summary>Every master, each once, in port order.</summary>
    public IReadOnlyList<RedisEndpoint> Masters =>
        Ranges.Select(r => r.Master).GroupBy(m => m.Host + ":" + m.Port.ToString(CultureInfo.InvariantCulture)).Select(g => g.First()).OrderBy(m => m.Host, StringComparer.Ordinal).ThenBy(m => m.Port).ToList();

    /// <summary>The map of the cluster <paramref name="connection"/> is a node of (<paramref name="login"/>: the user, password and TLS for its masters).</summary>
    public static async Task<SlotMap> ReadAsync(RedisConnection connection, RedisEndpoint login, CancellationToken cancellationToken)
    {
        RespValue slots = await connection.ExecuteOrThrowAsync(cancellationToken, "CLUSTER", "SLOTS").ConfigureAwait(false);
        var ranges = new List<(int, int, RedisEndpoint)>();
        foreach (RespValue range in slots.Items)
        {
            if (range.Items.Length < 3) continue;
            string host = range.Items[2].Items[0].AsString() ?? string.Empty;
            if (host.Length == 0) host = login.Host;
            var master = login.At(host, (int)range.Items[2].Items[1].Integer);
            ranges.Add(((int)range.Items[0].Integer, (int)range.Items[1].Integer, master));
        }
        return new SlotMap(ranges);
    }

    /// <summary>The map from the first of <paramref name="seeds"/> that gives one.</summary>
    public static async Task<SlotMap> ReadAsync(IEnumerable<RedisEndpoint> seeds, EndpointRole role, CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        RedisEndpoint? login = null;
        foreach (RedisEndpoint seed in seeds)
        {
            login ??= seed;
            try
            {
                using RedisConnection connection = await RedisConnection.ConnectAsync(seed, role, cancellationToken, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                SlotMap map = await ReadAsync(connection, seed, cancellationToken).ConfigureAwait(false);
                if (map.Ranges.Count > 0) return map;
                errors.Add(seed + ": no slots");
            }
            catch (Exception ex) when (ex is SyncException || ex is IOException || ex is System.Net.Sockets.SocketException)
            {
                errors.Add(seed + ": " + ex.Message);
            }
        }
        throw new SyncException(role == EndpointRole.Source ? SyncErrorIds.SourceUnreachable : SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop,
            $"No node of the {RedisConnection.RoleName(role)} cluster {login} gave its slot map: " + string.Join("; ", errors));
    }
}
