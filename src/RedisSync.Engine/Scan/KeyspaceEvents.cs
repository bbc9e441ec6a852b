using System;
using System.Globalization;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Scan;

/// <summary>
/// The source's keyspace events (<c>PSUBSCRIBE __keyspace@*__:*</c>) into the queue of changed keys,
/// and a watch on FLUSHDB/FLUSHALL (which publish no event: their calls in INFO commandstats). Every
/// way events can be lost — the pub/sub link broken or killed (its output buffer limit hit), the
/// queue full, a flush — raises <see cref="Lost"/>, so the sync rescans instead of staying silent.
/// </summary>
internal sealed class KeyspaceEvents : IDisposable
{
    private const string Pattern = "__keyspace@*__:*";
    private static readonly byte[] ChannelPrefix = Encoding.ASCII.GetBytes("__keyspace@");

    private readonly Func<CancellationToken, Task<RedisEndpoint>> _locate;
    private readonly ChangedKeys _keys;
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private volatile RedisConnection? _link;
    private Task? _reading;
    private Task? _watching;
    private long _events;
    private long _losses;
    private int _overflowing;
    private volatile bool _subscribed;

    /// <param name="locate">Where the source is now (asked again after a broken link).</param>
    /// <param name="keys">Where the changed keys go.</param>
    public KeyspaceEvents(Func<CancellationToken, Task<RedisEndpoint>> locate, ChangedKeys keys)
    {
        _locate = locate;
        _keys = keys;
    }

    /// <summary>Events may have been missed (the reason, for a warning): whatever changed since must be found by a rescan.</summary>
    public event Action<string>? Lost;

    /// <summary>Keyspace events received.</summary>
    public long EventsSeen => Interlocked.Read(ref _events);

    /// <summary>
    /// Events dropped because the queue was full, and link breaks: a number that grows with every loss, so a
    /// sync that compares it before and after starting a verify pass knows whether a loss came after that start
    /// (<see cref="Lost"/> warns once per overflow, while this counts every event).
    /// </summary>
    public long Losses => Interlocked.Read(ref _losses);

    /// <summary>Whether the subscription is up now (a rescan started while it is down could miss changes again).</summary>
    public bool Subscribed => _subscribed;

    /// <summary>
    /// Checks that the source publishes the keyspace events a scan sync follows (<c>notify-keyspace-events</c>
    /// with K and every type's events) and, when asked, sets them. Returns false when they are off and the
    /// sync may go on without them (a Full copy, which the verify pass makes converge); otherwise throws KeyspaceEventsOff.
    /// </summary>
    public static async Task<bool> CheckAsync(RedisConnection source, bool enable, bool required, Action<SyncWarning> warn, CancellationToken cancellationToken)
    {
        RespValue reply = await source.ExecuteAsync(cancellationToken, "CONFIG", "GET", "notify-keyspace-events").ConfigureAwait(false);
        if (reply.IsError || reply.Items.Length < 2)
        {
            warn(new SyncWarning(SyncErrorIds.KeyspaceEventsUnknown, SyncErrorKind.Skip, null, "CONFIG",
                $"The source {source.Endpoint} does not let this login read notify-keyspace-events (CONFIG GET: {reply.AsString()}): the scan sync cannot check that keyspace events are on. " +
                "Make sure the setting holds K and A (KA) — on a managed service in its parameter group — or live changes are found only by the verify passes."));
            return true;
        }
        string flags = reply.Items[1].AsString() ?? string.Empty;
        if (Covers(flags)) return true;
        if (enable)
        {
            string wanted = new string(flags.Union("KA").ToArray());
            RespValue set = await source.ExecuteAsync(cancellationToken, "CONFIG", "SET", "notify-keyspace-events", wanted).ConfigureAwait(false);
            if (!set.IsError)
            {
                warn(new SyncWarning(SyncErrorIds.KeyspaceEventsEnabled, SyncErrorKind.Skip, null, "CONFIG",
                    $"Set notify-keyspace-events on the source {source.Endpoint} from '{flags}' to '{wanted}' (-EnableKeyspaceEvents); it stays so after the sync."));
                return true;
            }
            throw new SyncException(SyncErrorIds.KeyspaceEventsOff, SyncErrorKind.Stop,
                $"The source {source.Endpoint} publishes no keyspace events (notify-keyspace-events is '{flags}'), and refused to turn them on (CONFIG SET notify-keyspace-events {wanted}: {set.AsString()}). " +
                "Set notify-keyspace-events to KA where the service allows it (its parameter group), or sync with -Mode Full.") { Command = "CONFIG" };
        }
        if (!required)
        {
            warn(new SyncWarning(SyncErrorIds.KeyspaceEventsOff, SyncErrorKind.Skip, null, null,
                $"The source {source.Endpoint} publishes no keyspace events (notify-keyspace-events is '{flags}'): keys changed during the scan are found and copied again by the verify pass at its end."));
            return false;
        }
        throw new SyncException(SyncErrorIds.KeyspaceEventsOff, SyncErrorKind.Stop,
            $"The source {source.Endpoint} publishes no keyspace events (notify-keyspace-events is '{flags}'): a scan sync follows live changes through them. " +
            "Set notify-keyspace-events to KA (CONFIG SET notify-keyspace-events KA, or the service's parameter group), start the sync with -EnableKeyspaceEvents, or sync with -Mode Full.") { Command = "CONFIG" };
    }

    /// <summary>K (keyspace channel) and the events of every type: A, or g$lshzxe spelled out.</summary>
    internal static bool Covers(string flags) => flags.IndexOf('K') >= 0 && (flags.IndexOf('A') >= 0 || "g$lshzxe".All(c => flags.IndexOf(c) >= 0));

    /// <summary>Subscribes (the first events are in the queue before this returns), then keeps the subscription up and watches for flushes.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        RedisConnection link = await SubscribeAsync(cancellationToken).ConfigureAwait(false);
        RedisConnection watch = await RedisConnection.ConnectAsync(await _locate(cancellationToken).ConfigureAwait(false), EndpointRole.Source, cancellationToken).ConfigureAwait(false);
        (long flushes, bool counted) = await FlushCallsAsync(watch, cancellationToken).ConfigureAwait(false);
        _reading = Task.Run(() => ReadLoopAsync(link, _stop.Token));
        _watching = Task.Run(() => WatchFlushesAsync(watch, counted ? flushes : -1, _stop.Token));
    }

    private async Task<RedisConnection> SubscribeAsync(CancellationToken cancellationToken)
    {
        RedisConnection link = await RedisConnection.ConnectAsync(await _locate(cancellationToken).ConfigureAwait(false), EndpointRole.Source, cancellationToken).ConfigureAwait(false);
        try
        {
            await link.ExecuteAsync(cancellationToken, "CLIENT", "SETNAME", "redissync-events").ConfigureAwait(false);
            RespValue reply = await link.ExecuteAsync(cancellationToken, "PSUBSCRIBE", Pattern).ConfigureAwait(false);
            if (reply.IsError)
            {
                throw new SyncException(SyncErrorIds.KeyspaceEventsOff, SyncErrorKind.Stop,
                    $"The source {link.Endpoint} refused to subscribe to its keyspace events (PSUBSCRIBE {Pattern}: {reply.AsString()}). Allow the sync's user the channels __keyspace@*__:* (ACL &__keyspace@*__:*).") { Command = "PSUBSCRIBE" };
            }
            _link = link;
            _subscribed = true;
            return link;
        }
        catch
        {
            link.Dispose();
            throw;
        }
    }

    private async Task ReadLoopAsync(RedisConnection link, CancellationToken cancellationToken)
    {
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                while (true)
                {
                    RespValue message = await link.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                    Take(message);
                    backoff = TimeSpan.FromMilliseconds(100);
                }
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (ex is SyncException || ex is System.IO.IOException || ex is ObjectDisposedException))
            {
                _subscribed = false;
                Interlocked.Increment(ref _losses);
                link.Dispose();
                Lost?.Invoke($"The link that receives the source's keyspace events broke ({ex.Message}); it is made again");
            }
            catch (OperationCanceledException)
            {
                return;
            }
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                    link = await SubscribeAsync(cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (SyncException) when (!cancellationToken.IsCancellationRequested)
                {
                    backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>A <c>pmessage</c>: its channel names the database and the key.</summary>
    private void Take(RespValue message)
    {
        RespValue[] items = message.Items;
        if (items.Length != 4 || !string.Equals(items[0].AsString(), "pmessage", StringComparison.Ordinal)) return;
        byte[]? channel = items[2].Bytes;
        if (channel == null || !channel.AsSpan().StartsWith(ChannelPrefix)) return;
        Interlocked.Increment(ref _events);
        ReadOnlySpan<byte> rest = channel.AsSpan(ChannelPrefix.Length);
        int end = rest.IndexOf((byte)'_');
        if (end <= 0 || rest.Length < end + 3 || rest[end + 1] != (byte)'_' || rest[end + 2] != (byte)':') return;
        if (!int.TryParse(Encoding.ASCII.GetString(rest.Slice(0, end).ToArray()), NumberStyles.None, CultureInfo.InvariantCulture, out int db)) return;
        byte[] key = rest.Slice(end + 3).ToArray();
        if (ReservedKeys.IsReserved(key)) return;
        if (_keys.TryAdd(db, key))
        {
            Interlocked.Exchange(ref _overflowing, 0);
            return;
        }
        Interlocked.Increment(ref _losses);
        if (Interlocked.Exchange(ref _overflowing, 1) == 0)
        {
            Lost?.Invoke($"The queue of changed keys is full ({_keys.Count} keys wait to be copied again): events are dropped until it drains");
        }
    }

    /// <summary>Every second: FLUSHDB and FLUSHALL calls (INFO commandstats); more than before means keys went without an event.</summary>
    private async Task WatchFlushesAsync(RedisConnection watch, long seen, CancellationToken cancellationToken)
    {
        try
        {
            while (seen >= 0 && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                try
                {
                    (long now, bool counted) = await FlushCallsAsync(watch, cancellationToken).ConfigureAwait(false);
                    if (counted && now != seen)
                    {
                        seen = now;
                        Interlocked.Increment(ref _losses);
                        Lost?.Invoke("FLUSHDB or FLUSHALL ran on the source (they publish no keyspace event per key)");
                    }
                }
                catch (SyncException)
                {
                    watch.Dispose();
                    watch = await RedisConnection.ConnectAsync(await _locate(cancellationToken).ConfigureAwait(false), EndpointRole.Source, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is SyncException)
        {
        }
        finally
        {
            watch.Dispose();
        }
    }

    /// <summary>The source's FLUSHDB + FLUSHALL calls so far; not counted when INFO commandstats is refused.</summary>
    private static async Task<(long Calls, bool Counted)> FlushCallsAsync(RedisConnection watch, CancellationToken cancellationToken)
    {
        RespValue reply = await watch.ExecuteAsync(cancellationToken, "INFO", "commandstats").ConfigureAwait(false);
        if (reply.IsError) return (0, false);
        long calls = 0;
        foreach (string line in (reply.AsString() ?? string.Empty).Split('\n'))
        {
            if (!line.StartsWith("cmdstat_flushdb:", StringComparison.Ordinal) && !line.StartsWith("cmdstat_flushall:", StringComparison.Ordinal)) continue;
            int start = line.IndexOf("calls=", StringComparison.Ordinal);
            if (start < 0) continue;
            start += 6;
            int end = line.IndexOf(',', start);
            if (long.TryParse(end < 0 ? line.Substring(start).Trim() : line.Substring(start, end - start), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) calls += n;
        }
        return (calls, true);
    }

    public void Dispose()
    {
        _stop.Cancel();
        _link?.Dispose();
        try { _reading?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        try { _watching?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _link?.Dispose();
        _stop.Dispose();
    }
}
