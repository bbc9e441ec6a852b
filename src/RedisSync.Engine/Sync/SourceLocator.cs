using System;
using System.Collections.Generic;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Where a shard's master is now: a fixed address, or the master a set of Sentinels names. A shard
/// asks again after every dropped link, so after a failover it continues from the promoted master
/// with a partial resync (PSYNC2 keeps the old replication id as the new master's replid2).
/// </summary>
internal abstract class SourceLocator : IDisposable
{
    /// <summary>What identifies the source across runs and failovers (in the checkpoint): host:port, or sentinel/&lt;master name&gt;.</summary>
    public abstract string Identity { get; }

    /// <summary>The address the source was last found at, for status and messages.</summary>
    public abstract string Describe();

    /// <summary>The master to connect to now.</summary>
    public abstract Task<RedisEndpoint> LocateAsync(CancellationToken cancellationToken);

    /// <summary>Raised when the master changed (a Sentinel announced +switch-master): the shard drops its link and connects again.</summary>
    public event Action<string>? Switched;

    protected void RaiseSwitched(string why) => Switched?.Invoke(why);

    /// <summary>
    /// The hash slots the shard's master serves now (a shard of a cluster source), or null for a
    /// source that is all of the data: a new full copy of one shard replaces only those slots' keys.
    /// </summary>
    public virtual Task<IReadOnlyList<(int From, int To)>?> SlotsAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<(int From, int To)>?>(null);

    public virtual void Dispose()
    {
    }
}

/// <summary>A source at a fixed address.</summary>
internal sealed class FixedSource : SourceLocator
{
    private readonly RedisEndpoint _endpoint;

    public FixedSource(RedisEndpoint endpoint) => _endpoint = endpoint;

    public override string Identity => _endpoint.ToString();

    public override string Describe() => _endpoint.ToString();

    public override Task<RedisEndpoint> LocateAsync(CancellationToken cancellationToken) => Task.FromResult(_endpoint);
}

/// <summary>
/// The master of <see cref="MasterName"/> as the Sentinels name it (SENTINEL GET-MASTER-ADDR-BY-NAME,
/// asking the next Sentinel when one is down), checked with ROLE; a subscription to +switch-master on
/// a Sentinel tells when a failover moved it.
/// </summary>
internal sealed class SentinelSource : SourceLocator
{
    private readonly IReadOnlyList<RedisEndpoint> _sentinels;
    private readonly RedisEndpoint _login; // the user, password and TLS of the data servers
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private volatile string _current = "?";
    private Task? _watch;

    /// <param name="sentinels">The Sentinels (any may be down).</param>
    /// <param name="masterName">The master's name in the Sentinels' configuration.</param>
    /// <param name="login">The data servers' login (user, password, TLS, database) as given for the source.</param>
    public SentinelSource(IReadOnlyList<RedisEndpoint> sentinels, string masterName, RedisEndpoint login)
    {
        if (sentinels.Count == 0) throw new ArgumentException("At least one Sentinel is needed.", nameof(sentinels));
        _sentinels = sentinels;
        MasterName = masterName;
        _login = login;
    }

    public string MasterName { get; }

    public override string Identity => "sentinel/" + MasterName;

    public override string Describe() => $"master '{MasterName}' of Sentinel {string.Join(",", _sentinels)} (now {_current})";

    public override async Task<RedisEndpoint> LocateAsync(CancellationToken cancellationToken)
    {
        var errors = new List<string>();
        foreach (RedisEndpoint sentinel in _sentinels)
        {
            try
            {
                using RedisConnection connection = await RedisConnection.ConnectAsync(sentinel, EndpointRole.Source, cancellationToken, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                RespValue reply = await connection.ExecuteAsync(cancellationToken, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName).ConfigureAwait(false);
                if (reply.IsError)
                {
                    errors.Add($"{sentinel}: {reply.AsString()}");
                    continue;
                }
                if (reply.IsNull || reply.Items.Length != 2)
                {
                    throw new SyncException(SyncErrorIds.SourceUnreachable, SyncErrorKind.Stop,
                        $"The Sentinel {sentinel} does not know a master named '{MasterName}'. Check -MasterName (SENTINEL MASTERS lists the names it monitors).");
                }
                string host = reply.Items[0].AsString() ?? string.Empty;
                int port = int.Parse(reply.Items[1].AsString() ?? "0", NumberStyles.None, CultureInfo.InvariantCulture);
                var master = new RedisEndpoint(host, port) { User = _login.User, Password = _login.Password, Database = _login.Database, UseTls = _login.UseTls, Tls = _login.Tls };
                _current = master.ToString();
                _watch ??= WatchAsync(_stop.Token);
                return master;
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
            {
                errors.Add($"{sentinel}: {ex.Message}");
            }
        }
        throw new SyncException(SyncErrorIds.SourceUnreachable, SyncErrorKind.Retry,
            $"No Sentinel named the master '{MasterName}': {string.Join("; ", errors)}");
    }

    /// <summary>Listens for +switch-master on the first Sentinel that answers, and on the next one when it goes.</summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        int next = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            RedisEndpoint sentinel = _sentinels[next++ % _sentinels.Count];
            try
            {
                using RedisConnection connection = await RedisConnection.ConnectAsync(sentinel, EndpointRole.Source, cancellationToken, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
                using CancellationTokenRegistration close = cancellationToken.Register(connection.Dispose);
                RespValue subscribed = await connection.ExecuteAsync(cancellationToken, "SUBSCRIBE", "+switch-master").ConfigureAwait(false);
                if (subscribed.IsError) continue;
                while (!cancellationToken.IsCancellationRequested)
                {
                    RespValue message = await connection.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                    // ["message", "+switch-master", "<name> <old ip> <old port> <new ip> <new port>"]
                    if (message.Items.Length == 3 && message.Items[2].AsString() is string text && text.StartsWith(MasterName + " ", StringComparison.Ordinal))
                    {
                        RaiseSwitched($"Sentinel {sentinel} announced a failover of '{MasterName}': {text}");
                    }
                }
            }
            catch (Exception ex) when (ex is SyncException || ex is System.IO.IOException || ex is ObjectDisposedException || ex is OperationCanceledException)
            {
                if (cancellationToken.IsCancellationRequested) return;
                try { await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public override void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }
}
