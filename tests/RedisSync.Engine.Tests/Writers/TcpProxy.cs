using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Tests.Writers;

/// <summary>
/// A loopback TCP relay in front of a real server, to inject network faults the server cannot: replies
/// that the server sent (so it applied the commands) but the client never receives, and a cut link.
/// </summary>
internal sealed class TcpProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _serverPort;
    private readonly List<(TcpClient Client, TcpClient Server)> _links = new();
    private readonly CancellationTokenSource _stop = new();

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

    /// <summary>Closes every relayed connection (new ones are accepted).</summary>
    public void CutAll()
    {
        lock (_links)
        {
            foreach (var (client, server) in _links)
            {
                client.Close();
                server.Close();
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
            var server = new TcpClient();
            await server.ConnectAsync(IPAddress.Loopback, _serverPort);
            client.NoDelay = server.NoDelay = true;
            lock (_links) _links.Add((client, server));
            _ = PumpAsync(client, server, replies: false);
            _ = PumpAsync(server, client, replies: true);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool replies)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            NetworkStream input = from.GetStream();
            NetworkStream output = to.GetStream();
            while (true)
            {
                int n = await input.ReadAsync(buffer, _stop.Token);
                if (n == 0) break;
                if (replies ? DropReplies : DropRequests) continue;
                await output.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception)
        {
        }
        from.Close();
        to.Close();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        CutAll();
    }
}
