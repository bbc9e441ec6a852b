using System;
using System.IO;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// A stop asked through the target, for a sync that runs in another process (Complete-RedisSync -Target):
/// the key <c>redissync:stop:&lt;name&gt;</c> (db 0) holds the token of the run asked to stop. The run polls
/// it and stops as Stop-RedisSync would (drains, checkpoints, gives its lease back); a request that names
/// another run's token (a stale one) is ignored, and each request expires by itself.
/// </summary>
internal static class StopRequest
{
    /// <summary>How often a run looks for a request.</summary>
    public static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Asks the run that holds the lease of sync <paramref name="name"/> to stop; returns the token asked,
    /// or null when no run holds the lease.
    /// </summary>
    public static async Task<string?> AskAsync(RedisEndpoint target, string name, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        string? token;
        using (RedisConnection leaseNode = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Lease(name), cancellationToken).ConfigureAwait(false))
        {
            await leaseNode.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
            RespValue held = await leaseNode.ExecuteOrThrowAsync(cancellationToken, "GET", ReservedKeys.Lease(name)).ConfigureAwait(false);
            if (held.IsNull) return null;
            token = Lease.TokenOf(held.AsString() ?? string.Empty);
        }
        if (token == null) return null;
        using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Stop(name), cancellationToken).ConfigureAwait(false);
        await node.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        await node.ExecuteOrThrowAsync(cancellationToken, "SET", ReservedKeys.Stop(name), token, "PX", (long)Math.Max(1, timeToLive.TotalMilliseconds)).ConfigureAwait(false);
        return token;
    }

    /// <summary>Withdraws a request (a cut-over that failed after asking): only the one for <paramref name="token"/>.</summary>
    public static async Task WithdrawAsync(RedisEndpoint target, string name, string token, CancellationToken cancellationToken)
    {
        using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Stop(name), cancellationToken).ConfigureAwait(false);
        await node.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue held = await node.ExecuteOrThrowAsync(cancellationToken, "GET", ReservedKeys.Stop(name)).ConfigureAwait(false);
        if (held.AsString() == token) await node.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Stop(name)).ConfigureAwait(false);
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
                        node = await ClusterKeys.ConnectForKeyAsync(target, ReservedKeys.Stop(lease.Name), cancellationToken).ConfigureAwait(false);
                        await node.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
                    }
                    RespValue held = await node.ExecuteOrThrowAsync(cancellationToken, "GET", ReservedKeys.Stop(lease.Name)).ConfigureAwait(false);
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
