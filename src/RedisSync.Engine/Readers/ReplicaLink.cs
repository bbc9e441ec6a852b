using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO.Pipelines;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Readers;

/// <summary>
/// The link to the source as a replica sees it: the handshake (REPLCONF, PSYNC), the snapshot's
/// framing, and REPLCONF ACK. The snapshot and the command stream are read from <see cref="Input"/>
/// by the RDB parser and <see cref="ReplicationStream"/>.
/// </summary>
internal sealed class ReplicaLink : IDisposable
{
    private const int EofMarkLength = 40;
    private readonly RedisConnection _connection;
    private readonly SemaphoreSlim _writeLock = new SemaphoreSlim(1, 1);

    private ReplicaLink(RedisConnection connection, ServerInfo server, IReadOnlyDictionary<int, long> databases, long? usedMemory)
    {
        _connection = connection;
        Server = server;
        Databases = databases;
        SourceKeys = databases.Values.Sum();
        UsedMemory = usedMemory;
    }

    /// <summary>Keys in all the source's databases when the link was made (INFO keyspace): a diskless snapshot's progress is told against it.</summary>
    public long SourceKeys { get; }

    /// <summary>The source's databases that hold keys, with their key counts, when the link was made.</summary>
    public IReadOnlyDictionary<int, long> Databases { get; }

    /// <summary>The memory the source's data takes (INFO memory used_memory_dataset, else used_memory), when it says.</summary>
    public long? UsedMemory { get; }

    public RedisEndpoint Endpoint => _connection.Endpoint;

    /// <summary>The link's own port, by which the source lists it in CLIENT LIST (addr=…:port); 0 when unknown.</summary>
    public int LocalPort => _connection.LocalPort;

    /// <summary>The source's version and features.</summary>
    public ServerInfo Server { get; }

    /// <summary>The snapshot, then the command stream.</summary>
    public PipeReader Input => _connection.Input;

    /// <summary>Connects and logs in to the source.</summary>
    public static async Task<ReplicaLink> ConnectAsync(RedisEndpoint source, CancellationToken cancellationToken)
    {
        RedisConnection connection = await RedisConnection.ConnectAsync(source, EndpointRole.Source, cancellationToken, null, hotPath: true).ConfigureAwait(false);
        try
        {
            RespValue info = await connection.ExecuteAsync(cancellationToken, "INFO", "server").ConfigureAwait(false);
            if (info.IsError && ErrorReplies.IdOf(info.ErrorCode, EndpointRole.Source) == SyncErrorIds.SourceAuthFailed)
            {
                throw new SyncException(SyncErrorIds.SourceAuthFailed, SyncErrorKind.Stop,
                    $"The source {connection.Endpoint} requires a login ({info.AsString()}). {ErrorReplies.Advice(info.ErrorCode, EndpointRole.Source)}")
                { Command = "INFO" };
            }
            if (info.IsError) throw Refused(connection.Endpoint, "INFO", info.AsString());
            RespValue keyspace = await connection.ExecuteAsync(cancellationToken, "INFO", "keyspace").ConfigureAwait(false);
            Dictionary<int, long> databases = keyspace.IsError ? new Dictionary<int, long>() : Keyspace.PerDatabase(keyspace.AsString() ?? string.Empty);
            RespValue memory = await connection.ExecuteAsync(cancellationToken, "INFO", "memory").ConfigureAwait(false);
            ServerInfo memoryInfo = ServerInfo.Parse(memory.IsError ? string.Empty : memory.AsString() ?? string.Empty);
            long? used = memoryInfo.Number("used_memory_dataset") ?? memoryInfo.Number("used_memory");
            return new ReplicaLink(connection, ServerInfo.Parse(info.AsString() ?? string.Empty), databases, used);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Announces itself as a replica (REPLCONF listening-port, capa eof, capa psync2) and asks for
    /// the stream from <paramref name="offset"/> of <paramref name="replicationId"/> (a partial
    /// resync), or for everything (<c>PSYNC ? -1</c>). A source that is loading or has lost its
    /// own master is asked again with a backoff until <paramref name="retryFor"/> has passed.
    /// </summary>
    public async Task<PsyncReply> PsyncAsync(string? replicationId, long offset, TimeSpan retryFor, CancellationToken cancellationToken)
    {
        DateTime giveUp = DateTime.UtcNow + retryFor;
        TimeSpan delay = TimeSpan.FromMilliseconds(100);
        RespValue reply = await _connection.ExecuteAsync(cancellationToken, "REPLCONF", "listening-port", 0).ConfigureAwait(false);
        if (reply.IsError) throw Refused(Endpoint, "REPLCONF", reply.AsString());
        reply = await _connection.ExecuteAsync(cancellationToken, "REPLCONF", "capa", "eof", "capa", "psync2").ConfigureAwait(false);
        if (reply.IsError) throw Refused(Endpoint, "REPLCONF", reply.AsString());
        while (true)
        {
            try
            {
                if (replicationId != null) RespFormatter.WriteCommand(_connection.Output, "PSYNC", replicationId, offset);
                else RespFormatter.WriteCommand(_connection.Output, "PSYNC", "?", -1);
                await _connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                reply = await ReadReplySkippingNewlinesAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (SyncException ex) when (ex.ErrorId == SyncErrorIds.SourceLinkLost)
            {
                throw new SyncException(SyncErrorIds.ReplicationRefused, SyncErrorKind.Stop,
                    $"The source {Endpoint} closed the connection when asked to replicate (PSYNC): it does not allow replication " +
                    "(a proxy, or a managed service that blocks it). Sync from a server that allows PSYNC.", ex);
            }
            string text = reply.AsString() ?? string.Empty;
            if (!reply.IsError)
            {
                return ParsePsyncReply(text, replicationId, offset);
            }
            if (text.StartsWith("LOADING", StringComparison.Ordinal) || text.StartsWith("NOMASTERLINK", StringComparison.Ordinal))
            {
                if (DateTime.UtcNow + delay > giveUp)
                {
                    throw new SyncException(SyncErrorIds.SourceLoading, SyncErrorKind.Retry,
                        $"The source {Endpoint} cannot serve replication yet: {text}");
                }
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
                continue;
            }
            throw Refused(Endpoint, "PSYNC", text);
        }
    }

    /// <summary>
    /// Reads a reply, skipping the newlines a source sends as keep-alives while it waits to start a
    /// snapshot (a diskless sync waits repl-diskless-sync-delay seconds before it even answers PSYNC).
    /// </summary>
    private async Task<RespValue> ReadReplySkippingNewlinesAsync(CancellationToken cancellationToken)
    {
        PipeReader input = Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (!buffer.IsEmpty && buffer.First.Span[0] == (byte)'\n') buffer = buffer.Slice(1);
            if (RespParser.TryRead(ref buffer, out RespValue? value))
            {
                input.AdvanceTo(buffer.Start);
                return value;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw LinkLost(null);
        }
    }

    private PsyncReply ParsePsyncReply(string text, string? askedId, long askedOffset)
    {
        string[] parts = text.Split(' ');
        if (parts[0] == "FULLRESYNC" && parts.Length >= 3 && long.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out long start))
        {
            return new PsyncReply(true, parts[1], start);
        }
        if (parts[0] == "CONTINUE")
        {
            string id = parts.Length >= 2 && parts[1].Length > 0 ? parts[1] : askedId ?? string.Empty;
            return new PsyncReply(false, id, askedOffset - 1);
        }
        throw Refused(Endpoint, "PSYNC", text);
    }

    /// <summary>
    /// After +FULLRESYNC: skips the newlines the source sends while it prepares the snapshot, then
    /// reads the snapshot's framing (<c>$&lt;length&gt;</c> or <c>$EOF:&lt;mark&gt;</c>).
    /// </summary>
    public async Task<SnapshotFraming> ReadSnapshotHeaderAsync(CancellationToken cancellationToken)
    {
        PipeReader input = Input;
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (!buffer.IsEmpty && buffer.First.Span[0] == (byte)'\n') buffer = buffer.Slice(1);
            SequencePosition? eol = buffer.PositionOf((byte)'\n');
            if (eol != null)
            {
                ReadOnlySequence<byte> lineWithCr = buffer.Slice(0, eol.Value);
                string line = Encoding.ASCII.GetString(lineWithCr.ToArray()).TrimEnd('\r');
                input.AdvanceTo(buffer.GetPosition(1, eol.Value));
                return ParseFraming(line);
            }
            if (buffer.Length > 1024) throw Refused(Endpoint, "PSYNC", "an unreadable snapshot header");
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw LinkLost(null);
            }
        }
    }

    private SnapshotFraming ParseFraming(string line)
    {
        if (line.StartsWith("-", StringComparison.Ordinal)) throw Refused(Endpoint, "PSYNC", line.Substring(1));
        if (!line.StartsWith("$", StringComparison.Ordinal)) throw Refused(Endpoint, "PSYNC", $"an unexpected snapshot header '{line}'");
        if (line.StartsWith("$EOF:", StringComparison.Ordinal))
        {
            byte[] mark = Encoding.ASCII.GetBytes(line.Substring(5));
            if (mark.Length != EofMarkLength) throw Refused(Endpoint, "PSYNC", $"an end mark of {mark.Length} bytes");
            return new SnapshotFraming(-1, mark);
        }
        if (!long.TryParse(line.Substring(1), NumberStyles.None, CultureInfo.InvariantCulture, out long length))
        {
            throw Refused(Endpoint, "PSYNC", $"an unexpected snapshot header '{line}'");
        }
        return new SnapshotFraming(length, null);
    }

    /// <summary>
    /// After the parser stopped at the RDB's last byte: checks that the snapshot had the announced
    /// length, or reads and checks the diskless end mark.
    /// </summary>
    public void EndSnapshot(SnapshotFraming framing, long rdbBytes, CancellationToken cancellationToken)
    {
        if (!framing.IsDiskless)
        {
            if (rdbBytes != framing.Length)
            {
                throw new SyncException(SyncErrorIds.RdbCorrupt, SyncErrorKind.Stop,
                    $"The source announced a snapshot of {framing.Length} bytes but its RDB ended after {rdbBytes} bytes.");
            }
            return;
        }
        PipeReader input = Input;
        while (true)
        {
            ReadResult result = input.ReadBlocking(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            if (buffer.Length >= EofMarkLength)
            {
                byte[] mark = buffer.Slice(0, EofMarkLength).ToArray();
                input.AdvanceTo(buffer.GetPosition(EofMarkLength));
                if (!mark.AsSpan().SequenceEqual(framing.EofMark))
                {
                    throw new SyncException(SyncErrorIds.RdbCorrupt, SyncErrorKind.Stop,
                        $"The diskless snapshot from {Endpoint} did not end with its end mark after {rdbBytes} bytes.");
                }
                return;
            }
            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted) throw LinkLost(null);
        }
    }

    /// <summary>Tells the source how far the stream has been applied (REPLCONF ACK); safe from any thread.</summary>
    public async Task AckAsync(long offset, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            RespFormatter.WriteCommand(_connection.Output, "REPLCONF", "ACK", offset);
            await _connection.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>The error for a link that closed or broke.</summary>
    internal SyncException LinkLost(Exception? inner) => _connection.LinkLost(inner);

    private static SyncException Refused(RedisEndpoint endpoint, string command, string? reply) =>
        new SyncException(SyncErrorIds.ReplicationRefused, SyncErrorKind.Stop,
            $"The source {endpoint} does not allow replication: {command} was answered with '{reply}'. " +
            "RedisSync reads a live source as a replica (PSYNC); the command may be renamed or blocked (ACL, proxy, managed service).")
        { Command = command };

    public void Dispose()
    {
        _connection.Dispose();
        _writeLock.Dispose();
    }
}
