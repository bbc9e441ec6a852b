using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// A stop asked through the target, for a sync that runs in another process (Complete-RedisSync -Target):
/// the key <c>redissync:stop:&lt;name&gt;</c> (db 0) holds the token of the run asked to stop, and
/// <c>redissync:stop:&lt;name&gt;:&lt;shard&gt;</c> that of a shard task (Start-RedisSync -Shard, or -Session),
/// each beside its lease. The run polls its key and stops as Stop-RedisSync would (drains, checkpoints, gives
/// its lease back); a request that names another run's token (a stale one) is ignored, and each request expires
/// by itself.
/// </summary>
internal static class StopRequest
{
    /// <summary>How often a run looks for a request.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Asks every run that holds a lease of sync <paramref name="name"/> to stop: the whole sync's run, or else each
    /// shard task listed in <c>redissync:shards:&lt;name&gt;</c> whose lease is held. Returns the leases asked (empty
    /// when no run holds one).
    /// </summary>
    public static async Task<IReadOnlyList<AskedStop>> AskAsync(RedisEndpoint target, string name, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        var asked = new List<AskedStop>();
        string? whole = await HolderTokenAsync(target, name, null, cancellationToken).ConfigureAwait(false);
        if (whole != null)
        {
            asked.Add(new AskedStop(null, whole));
        }
        else
        {
            foreach (string shard in await ShardsAsync(target, name, cancellationToken).ConfigureAwait(false))
            {
                string? token = await HolderTokenAsync(target, name, shard, cancellationToken).ConfigureAwait(false);
                if (token != null) asked.Add(new AskedStop(shard, token));
            }
        }
        foreach (AskedStop stop in asked)
        {
            string key = ReservedKeys.Stop(name, stop.Shard);
            using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, key, cancellationToken).ConfigureAwait(false);
            await node.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
            await node.ExecuteOrThrowAsync(cancellationToken, "SET", key, stop.Token, "PX", (long)Math.Max(1, timeToLive.TotalMilliseconds)).ConfigureAwait(false);
        }
        return asked;
    }

    /// <summary>The token of the run that holds the lease of sync <paramref name="name"/> (of its shard <paramref name="shard"/>), or null.</summary>
    public static async Task<string?> HolderTokenAsync(RedisEndpoint target, string name, string? shard, CancellationToken cancellationToken)
    {
        string? holder = await HolderAsync(target, name, shard, cancellationToken).ConfigureAwait(false);
        return holder == null ? null : Lease.TokenOf(holder);
    }

    /// <summary>The lease of sync <paramref name="name"/> (of its shard <paramref name="shard"/>) as its holder wrote it (host, process, token), or null.</summary>
    public static async Task<string?> HolderAsync(RedisEndpoint target, string name, string? shard, CancellationToken cancellationToken)
    {
        string lease = ReservedKeys.Lease(name, shard);
        using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, lease, cancellationToken).ConfigureAwait(false);
        await node.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        return (await node.ExecuteOrThrowAsync(cancellationToken, "GET", lease).ConfigureAwait(false)).AsString();
    }

    /// <summary>Withdraws a request (a cut-over that failed after asking): only the one for its token.</summary>
    public static async Task WithdrawAsync(RedisEndpoint target, string name, AskedStop stop, CancellationToken cancellationToken)
    {
        string key = ReservedKeys.Stop(name, stop.Shard);
        using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, key, cancellationToken).ConfigureAwait(false);
        await node.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue held = await node.ExecuteOrThrowAsync(cancellationToken, "GET", key).ConfigureAwait(false);
        if (held.AsString() == stop.Token) await node.ExecuteOrThrowAsync(cancellationToken, "DEL", key).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<string>> ShardsAsync(RedisEndpoint target, string name, CancellationToken cancellationToken)
    {
        using RedisConnection registry = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Shards(name), cancellationToken).ConfigureAwait(false);
        await registry.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue ids = await registry.ExecuteOrThrowAsync(cancellationToken, "SMEMBERS", ReservedKeys.Shards(name)).ConfigureAwait(false);
        return ids.Items.Select(i => i.AsString() ?? string.Empty).Where(i => i.Length > 0).OrderBy(i => i, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// Polls for a request naming <paramref name="lease"/>'s token until <paramref name="cancellationToken"/> ends;
    /// calls <paramref name="stop"/> when one comes. A target that cannot be read now is tried again at the next poll.
    /// </summary>
    public static async Task WatchAsync(RedisEndpoint target, Lease lease, Action stop, CancellationToken cancellationToken)
    {
        RedisConnection? node = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Poll, cancellationToken).ConfigureAwait(false);
                try
                {
                    if (node == null)
                    {
                        node = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Stop(lease.Name, lease.Shard), cancellationToken).ConfigureAwait(false);
                        await node.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
                    }
                    RespValue held = await node.ExecuteOrThrowAsync(cancellationToken, "GET", ReservedKeys.Stop(lease.Name, lease.Shard)).ConfigureAwait(false);
                    if (!held.IsNull && held.AsString() == lease.RunToken)
                    {
                        stop();
                        return;
                    }
                }
                catch (Exception ex) when (ex is SyncException || ex is IOException || ex is SocketException || ex is ObjectDisposedException)
                {
                    node?.Dispose();
                    node = null;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            node?.Dispose();
        }
    }
}

/// <summary>A stop asked of one run: the whole sync's (<see cref="Shard"/> null) or a shard task's, by the token of its lease.</summary>
internal readonly struct AskedStop
{
    public AskedStop(string? shard, string token)
    {
        Shard = shard;
        Token = token;
    }

    public string? Shard { get; }

    public string Token { get; }
}
