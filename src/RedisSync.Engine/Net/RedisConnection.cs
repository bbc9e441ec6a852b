using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Net;

/// <summary>
/// One TCP (or TLS) connection to a server, logged in, with its pipes exposed for the hot paths
/// (the replica link, the writer) and a request/reply call for the control path.
/// </summary>
internal sealed class RedisConnection : IDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private int _disposed;
    private bool _answered;

    private RedisConnection(RedisEndpoint endpoint, EndpointRole role, Socket socket, Stream stream)
    {
        Endpoint = endpoint;
        Role = role;
        _socket = socket;
        _stream = stream;
        Input = new ConnectionReader(stream, stream is NetworkStream || stream is BlockingSocketStream ? socket : null, LinkLost);
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
    }

    public RedisEndpoint Endpoint { get; }

    /// <summary>The port this side of the connection has (what the server lists as the client's addr), or 0 when unknown.</summary>
    public int LocalPort => (_socket.LocalEndPoint as System.Net.IPEndPoint)?.Port ?? 0;

    public EndpointRole Role { get; }

    /// <summary>Bytes from the server.</summary>
    public PipeReader Input { get; }

    /// <summary>Bytes to the server.</summary>
    public PipeWriter Output { get; }

    /// <summary>
    /// Writes on the calling thread, blocking while the socket's send buffer is full: the writer's
    /// dedicated send thread sends whole batches this way, without a pipe copy or a pool thread.
    /// </summary>
    internal void WriteBlocking(byte[] buffer, int offset, int count) => _stream.Write(buffer, offset, count);

    /// <summary>Default time allowed for the TCP connect, and again for the TLS handshake.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Connects, logs in (AUTH) and selects the endpoint's database if it names one.</summary>
    public static Task<RedisConnection> ConnectAsync(RedisEndpoint endpoint, EndpointRole role, CancellationToken cancellationToken, TimeSpan? connectTimeout = null) =>
        ConnectAsync(endpoint, role, cancellationToken, connectTimeout, hotPath: false);

    /// <summary>
    /// Connects as <see cref="ConnectAsync(RedisEndpoint, EndpointRole, CancellationToken, TimeSpan?)"/>; a
    /// <paramref name="hotPath"/> connection, read and written by dedicated threads, makes only blocking
    /// socket calls (<see cref="BlockingSocketStream"/>).
    /// </summary>
    internal static async Task<RedisConnection> ConnectAsync(RedisEndpoint endpoint, EndpointRole role, CancellationToken cancellationToken, TimeSpan? connectTimeout, bool hotPath)
    {
        TimeSpan timeout = connectTimeout ?? DefaultConnectTimeout;
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        RedisConnection? connection = null;
        try
        {
            using (var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeoutCts.CancelAfter(timeout);
                Task connect = hotPath ? Task.Run(() => socket.Connect(endpoint.Host, endpoint.Port)) : socket.ConnectAsync(endpoint.Host, endpoint.Port);
                Task done = await Task.WhenAny(connect, Task.Delay(Timeout.Infinite, timeoutCts.Token)).ConfigureAwait(false);
                if (done != connect)
                {
                    _ = connect.ContinueWith(t => _ = t.Exception, TaskScheduler.Default);
                    cancellationToken.ThrowIfCancellationRequested();
                    throw new SocketException((int)SocketError.TimedOut);
                }
                await connect.ConfigureAwait(false);
            }
            Stream stream = hotPath ? new BlockingSocketStream(socket) : new NetworkStream(socket, ownsSocket: false);
            TlsHandshake? tls = null;
            if (endpoint.UseTls)
            {
                (SslStream ssl, TlsHandshake handshake) = await TlsHandshake.RunAsync(stream, endpoint, role, timeout, cancellationToken).ConfigureAwait(false);
                stream = ssl;
                tls = handshake;
            }
            connection = new RedisConnection(endpoint, role, socket, stream);
            if (tls != null && tls.MayRefuseClient) await connection.ProbeAsync(tls, cancellationToken).ConfigureAwait(false);
            await connection.LoginAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (SyncException)
        {
            connection?.Dispose();
            socket.Dispose();
            throw;
        }
        catch (OperationCanceledException)
        {
            connection?.Dispose();
            socket.Dispose();
            throw;
        }
        catch (Exception ex) when (ex is SocketException || ex is IOException || ex is System.Security.Authentication.AuthenticationException)
        {
            connection?.Dispose();
            socket.Dispose();
            string id = role == EndpointRole.Source ? SyncErrorIds.SourceUnreachable : SyncErrorIds.TargetUnreachable;
            throw new SyncException(id, SyncErrorKind.Retry,
                $"Cannot connect to the {RoleName(role)} {endpoint}: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A server refuses a missing or untrusted client certificate only after the handshake (TLS 1.3):
    /// one round trip tells that refusal apart from a link lost later.
    /// </summary>
    private async Task ProbeAsync(TlsHandshake tls, CancellationToken cancellationToken)
    {
        try
        {
            await ExecuteAsync(cancellationToken, "PING").ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException || ex is System.Security.Authentication.AuthenticationException ||
            (ex is SyncException lost && (lost.ErrorId == SyncErrorIds.SourceLinkLost || lost.ErrorId == SyncErrorIds.TargetLinkLost)))
        {
            throw tls.ClientCertificateRefused(ex);
        }
    }

    private async Task LoginAsync(CancellationToken cancellationToken)
    {
        if (!string.IsNullOrEmpty(Endpoint.Password))
        {
            RespValue reply = Endpoint.User != null
                ? await ExecuteAsync(cancellationToken, "AUTH", Endpoint.User, Endpoint.Password!).ConfigureAwait(false)
                : await ExecuteAsync(cancellationToken, "AUTH", Endpoint.Password!).ConfigureAwait(false);
            if (reply.IsError)
            {
                string id = Role == EndpointRole.Source ? SyncErrorIds.SourceAuthFailed : SyncErrorIds.TargetAuthFailed;
                throw new SyncException(id, SyncErrorKind.Stop,
                    $"The {RoleName(Role)} {Endpoint} refused the login ({reply.AsString()}). {ErrorReplies.Advice("WRONGPASS", Role)}");
            }
        }
        if (Endpoint.Database is int db && db != 0)
        {
            await ExecuteOrThrowAsync(cancellationToken, "SELECT", db).ConfigureAwait(false);
        }
    }

    /// <summary>Sends one command and reads its reply; an error reply is returned, not thrown.</summary>
    public async Task<RespValue> ExecuteAsync(CancellationToken cancellationToken, params object[] args)
    {
        RespFormatter.WriteCommand(Output, args);
        FlushResult flushed;
        try
        {
            flushed = await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw LinkLost(ex);
        }
        if (flushed.IsCompleted) throw LinkLost(null);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends one command and reads its reply; an error reply throws, naming the command.</summary>
    public async Task<RespValue> ExecuteOrThrowAsync(CancellationToken cancellationToken, params object[] args)
    {
        RespValue reply = await ExecuteAsync(cancellationToken, args).ConfigureAwait(false);
        if (reply.IsError)
        {
            string command = args.Length > 0 ? args[0].ToString()!.ToUpperInvariant() : "?";
            throw new SyncException(Role == EndpointRole.Source ? SyncErrorIds.ProtocolError : SyncErrorIds.TargetCommandFailed,
                SyncErrorKind.Stop, $"{command} on the {RoleName(Role)} {Endpoint} failed: {reply.AsString()}")
            { Command = command };
        }
        return reply;
    }

    /// <summary>Reads one reply frame.</summary>
    public async Task<RespValue> ReadReplyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await Input.ReadAsync(cancellationToken).ConfigureAwait(false); // a broken link throws LinkLost
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (RespParser.TryRead(ref buffer, out RespValue? value))
            {
                Input.AdvanceTo(buffer.Start);
                _answered = true;
                return value;
            }
            if (result.IsCompleted || result.IsCanceled)
            {
                Input.AdvanceTo(buffer.Start, buffer.End);
                throw LinkLost(null);
            }
            Input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>The error for a link that closed under us.</summary>
    public SyncException LinkLost(Exception? inner) =>
        new SyncException(Role == EndpointRole.Source ? SyncErrorIds.SourceLinkLost : SyncErrorIds.TargetLinkLost, SyncErrorKind.Retry,
            $"The connection to the {RoleName(Role)} {Endpoint} was closed" + (inner != null ? ": " + inner.Message : ".") +
            (!Endpoint.UseTls && !_answered ? " A server that accepts only TLS closes a connection without it at once: if this is a TLS port, use a rediss:// address or -Tls." : string.Empty),
            inner);

    /// <summary>Reads INFO and parses the facts the engine needs.</summary>
    public async Task<ServerInfo> GetServerInfoAsync(CancellationToken cancellationToken)
    {
        RespValue reply = await ExecuteOrThrowAsync(cancellationToken, "INFO", "server").ConfigureAwait(false);
        return ServerInfo.Parse(reply.AsString() ?? string.Empty);
    }

    internal static string RoleName(EndpointRole role) => role == EndpointRole.Source ? "source" : "target";

    /// <summary>Closes the socket at once; pending reads fail.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        try { _socket.Shutdown(SocketShutdown.Both); } catch (SocketException) { } catch (ObjectDisposedException) { }
        _stream.Dispose();
        _socket.Dispose();
    }
}
