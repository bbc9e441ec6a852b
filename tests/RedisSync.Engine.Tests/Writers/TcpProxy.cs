using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Tests.Writers;

/// <summary>
/// A loopback TCP relay in front of a real server, to inject network faults the server cannot: replies
/// that the server sent (so it applied the commands) but the client never receives, a cut link, a
/// link cut near the client that the server does not notice, a reset at a random byte, a half-open
/// link that stops forwarding without closing, and a delay on every chunk.
/// </summary>
internal sealed class TcpProxy : IDisposable
{
    private sealed class Link
    {
        public Link(TcpClient client, TcpClient server)
        {
            Client = client;
            Server = server;
        }

        public TcpClient Client { get; }

        public TcpClient Server { get; }

        public volatile bool Abandoned;

        public long Forwarded;

        public long ResetAt = long.MaxValue;
    }

    private readonly TcpListener _listener;
    private readonly int _serverPort;
    private readonly List<Link> _links = new();
    private readonly List<Link> _abandoned = new();
    private readonly CancellationTokenSource _stop = new();
    private long _requestBytes;

    public TcpProxy(int serverPort)
    {
        _serverPort = serverPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _ = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>While set, replies from the server are read and thrown away (the server did apply the commands).</summary>
    public volatile bool DropReplies;

    /// <summary>While set, commands from the client are read and thrown away (the server never sees them).</summary>
    public volatile bool DropRequests;

    /// <summary>While set, nothing is forwarded either way and nothing is closed (a half-open link, or a partition): the data waits until it is cleared.</summary>
    public volatile bool Stalled;

    /// <summary>
    /// While set, a partition: every relayed connection is cut when it is set, and each new one is
    /// accepted and reset at once (connection refused, as a host behind a dropped route looks), until cleared.
    /// </summary>
    public bool Partitioned
    {
        get => _partitioned;
        set
        {
            _partitioned = value;
            if (value) CutAll();
        }
    }

    private volatile bool _partitioned;

    /// <summary>A bandwidth cap on each direction of each link, in bytes per second (0: none).</summary>
    public volatile int BytesPerSecond;

    /// <summary>A delay before each chunk is forwarded, in milliseconds (0: none).</summary>
    public volatile int DelayMilliseconds;

    /// <summary>Bytes of commands delivered to the server.</summary>
    public long RequestBytes => Interlocked.Read(ref _requestBytes);

    /// <summary>Closes every relayed connection (new ones are accepted).</summary>
    public void CutAll()
    {
        lock (_links)
        {
            foreach (Link link in _links)
            {
                link.Client.Close();
                link.Server.Close();
            }
            _links.Clear();
        }
    }

    /// <summary>Resets every relayed connection once it has forwarded <paramref name="bytes"/> more bytes (either way); new links are not affected.</summary>
    public void ResetAfter(long bytes)
    {
        lock (_links)
        {
            foreach (Link link in _links) Interlocked.Exchange(ref link.ResetAt, Interlocked.Read(ref link.Forwarded) + Math.Max(1, bytes));
        }
    }

    /// <summary>Closes the client side of every relayed connection but keeps the server side open, with whatever it still has to process.</summary>
    public void AbandonClients()
    {
        lock (_links)
        {
            foreach (Link link in _links)
            {
                link.Abandoned = true;
                _abandoned.Add(link);
                link.Client.Close();
            }
            _links.Clear();
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception)
            {
                return;
            }
            if (_partitioned)
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Close();
                continue;
            }
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _serverPort);
            }
            catch (SocketException)
            {
                // The server is down (killed, restarting): this connection fails as a direct one would; the relay goes on.
                server.Dispose();
                client.Client.LingerState = new LingerOption(true, 0);
                client.Close();
                continue;
            }
            client.NoDelay = server.NoDelay = true;
            var link = new Link(client, server);
            lock (_links) _links.Add(link);
            _ = PumpAsync(link, replies: false);
            _ = PumpAsync(link, replies: true);
        }
    }

    private async Task PumpAsync(Link link, bool replies)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            NetworkStream input = (replies ? link.Server : link.Client).GetStream();
            NetworkStream output = (replies ? link.Client : link.Server).GetStream();
            while (true)
            {
                int n = await input.ReadAsync(buffer, _stop.Token);
                if (n == 0) break;
                if (replies ? DropReplies : DropRequests) continue;
                while (Stalled) await Task.Delay(5, _stop.Token);
                int delay = DelayMilliseconds;
                if (delay > 0) await Task.Delay(delay, _stop.Token);
                long before = Interlocked.Add(ref link.Forwarded, n) - n;
                long resetAt = Interlocked.Read(ref link.ResetAt);
                if (before + n >= resetAt)
                {
                    // Cut in the middle of what was read: part of it goes through, the link ends with a reset.
                    int part = (int)Math.Max(0, resetAt - before);
                    if (part > 0) await output.WriteAsync(buffer.AsMemory(0, part), _stop.Token);
                    link.Client.Client.LingerState = new LingerOption(true, 0);
                    link.Server.Client.LingerState = new LingerOption(true, 0);
                    break;
                }
                int cap = BytesPerSecond;
                if (cap > 0)
                {
                    // At most a tenth of a second's worth at a time, each piece after the time it takes at the cap.
                    int piece = Math.Max(1, cap / 10);
                    for (int offset = 0; offset < n; offset += piece)
                    {
                        int length = Math.Min(piece, n - offset);
                        await Task.Delay(TimeSpan.FromSeconds((double)length / cap), _stop.Token);
                        await output.WriteAsync(buffer.AsMemory(offset, length), _stop.Token);
                    }
                }
                else
                {
                    await output.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
                }
                if (!replies) Interlocked.Add(ref _requestBytes, n);
            }
        }
        catch (Exception)
        {
        }
        link.Client.Close();
        if (!link.Abandoned) link.Server.Close();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        CutAll();
        lock (_links)
        {
            foreach (Link link in _abandoned) link.Server.Close();
        }
    }
}
