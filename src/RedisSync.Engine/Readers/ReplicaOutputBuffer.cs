using System;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Readers;

/// <summary>
/// Watches what the source holds for this sync's replica link (its <c>omem</c> in CLIENT LIST) against the
/// source's <c>client-output-buffer-limit</c> for replicas, from a connection of its own: at the limit the
/// source drops the link (and a new full copy may follow), so a warning comes first, once per crossing of
/// <see cref="WarnAt"/> of the lower limit; it may come again once the buffer has fallen below half the limit.
/// A source that refuses CONFIG GET or CLIENT LIST (a managed service) is not watched.
/// </summary>
internal static class ReplicaOutputBuffer
{
    /// <summary>The warning's stable id.</summary>
    public const string WarningId = "SourceOutputBufferNearLimit";

    /// <summary>The share of the limit that warns.</summary>
    public const double WarnAt = 0.8;

    /// <summary>How often the buffer is read.</summary>
    internal static TimeSpan Period { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The replica class of <c>client-output-buffer-limit</c>: hard and soft limit in bytes (0: none), and the soft limit's seconds.</summary>
    public readonly record struct Limit(long Hard, long Soft, long SoftSeconds)
    {
        /// <summary>The lower of the limits that are set, or 0 when neither is.</summary>
        public long Lowest => Hard > 0 && Soft > 0 ? Math.Min(Hard, Soft) : Math.Max(Hard, Soft);
    }

    /// <summary>Parses CONFIG GET's value (<c>normal 0 0 0 slave 268435456 67108864 60 pubsub …</c>); null without a replica class.</summary>
    public static Limit? ParseLimit(string value)
    {
        string[] parts = value.Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
        for (int i = 0; i + 3 < parts.Length; i += 4)
        {
            if (parts[i] != "slave" && parts[i] != "replica") continue;
            if (long.TryParse(parts[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out long hard)
                && long.TryParse(parts[i + 2], NumberStyles.None, CultureInfo.InvariantCulture, out long soft)
                && long.TryParse(parts[i + 3], NumberStyles.None, CultureInfo.InvariantCulture, out long seconds))
            {
                return new Limit(hard, soft, seconds);
            }
        }
        return null;
    }

    /// <summary>
    /// The <c>omem</c> of the client whose address ends in <paramref name="port"/> in CLIENT LIST's text, or null when it is
    /// not listed (through a proxy or NAT the source sees another address, and the link is not watched).
    /// </summary>
    public static long? OutputMemory(string clientList, int port)
    {
        string suffix = ":" + port.ToString(CultureInfo.InvariantCulture) + " ";
        foreach (string line in clientList.Split('\n'))
        {
            int addr = line.IndexOf(" addr=", StringComparison.Ordinal);
            int end = addr < 0 ? -1 : line.IndexOf(' ', addr + 1);
            if (end < 0 || string.CompareOrdinal(line, end - suffix.Length + 1, suffix, 0, suffix.Length) != 0) continue;
            int at = line.IndexOf(" omem=", StringComparison.Ordinal);
            if (at < 0) return null;
            int start = at + " omem=".Length, stop = line.IndexOf(' ', start);
            string text = stop < 0 ? line.Substring(start).Trim() : line.Substring(start, stop - start);
            return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long omem) ? omem : null;
        }
        return null;
    }

    /// <summary>Reads the buffer every <see cref="Period"/> until <paramref name="cancellationToken"/> ends (the link's end).</summary>
    public static async Task WatchAsync(RedisEndpoint source, int port, Action<SyncWarning> warn, CancellationToken cancellationToken)
    {
        try
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(source, EndpointRole.Source, cancellationToken).ConfigureAwait(false);
            RespValue config = await connection.ExecuteAsync(cancellationToken, "CONFIG", "GET", "client-output-buffer-limit").ConfigureAwait(false);
            if (config.IsError || config.Items.Length < 2) return;
            Limit? parsed = ParseLimit(config.Items[1].AsString() ?? string.Empty);
            if (parsed is not Limit limit || limit.Lowest == 0) return;
            bool warned = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Period, cancellationToken).ConfigureAwait(false);
                RespValue list = await connection.ExecuteAsync(cancellationToken, "CLIENT", "LIST", "TYPE", "replica").ConfigureAwait(false);
                if (list.IsError) return;
                long? omem = OutputMemory(list.AsString() ?? string.Empty, port);
                if (omem is not long used) continue;
                if (!warned && used >= WarnAt * limit.Lowest)
                {
                    warned = true;
                    warn(new SyncWarning(WarningId, SyncErrorKind.Skip, null, null, Describe(source, used, limit)));
                }
                else if (warned && used < limit.Lowest / 2)
                {
                    warned = false;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is SyncException || ex is IOException || ex is SocketException || ex is ObjectDisposedException)
        {
            // The link ended, or the source cannot be asked: nothing to watch.
        }
    }

    private static string Describe(RedisEndpoint source, long used, Limit limit)
    {
        string soft = limit.Soft > 0 ? $"soft {SyncProgress.Bytes(limit.Soft)} for {limit.SoftSeconds} s" : "no soft limit";
        string hard = limit.Hard > 0 ? $"hard {SyncProgress.Bytes(limit.Hard)}" : "no hard limit";
        return $"The source {source} holds {SyncProgress.Bytes(used)} of replication output for this sync's link, {100.0 * used / limit.Lowest:0}% of its " +
            $"client-output-buffer-limit for replicas ({hard}, {soft}): at the limit it drops the link, and the sync may have to copy everything again. " +
            "The target takes the writes slower than the source makes them (see -MaxWriteRate, the target's load, the network); " +
            "raise the limit on the source (CONFIG SET client-output-buffer-limit \"replica <hard> <soft> <seconds>\") if this goes on.";
    }
}
