using System;
using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>
/// A connection used for pipelined rounds: commands are formatted straight into its output pipe and
/// flushed once per round; replies are taken in place by its <see cref="ReplyReader"/>.
/// </summary>
internal sealed class ServerLink : IDisposable
{
    private ServerLink(RedisConnection connection, ServerInfo info)
    {
        Connection = connection;
        Info = info;
        Replies = new ReplyReader(connection);
    }

    public RedisConnection Connection { get; }

    public ReplyReader Replies { get; }

    /// <summary>The server's version and features.</summary>
    public ServerInfo Info { get; }

    public EndpointRole Role => Connection.Role;

    /// <summary>On a target link of a compare with -RenameKey: the source's key names → this server's.</summary>
    internal Transform.KeyRename? Rename { get; set; }

    public PipeWriter Output => Connection.Output;

    /// <summary>"source" or "target", for messages.</summary>
    public string Side => RedisConnection.RoleName(Role);

    /// <summary>Connects and logs in; a server that wants a password it did not get is reported as a refused login.</summary>
    public static async Task<ServerLink> ConnectAsync(RedisEndpoint endpoint, EndpointRole role, ServerInfo? info, CancellationToken cancellationToken)
    {
        RedisConnection connection = await RedisConnection.ConnectAsync(endpoint, role, cancellationToken).ConfigureAwait(false);
        try
        {
            if (info == null)
            {
                RespValue reply = await connection.ExecuteAsync(cancellationToken, "INFO", "server").ConfigureAwait(false);
                if (reply.IsError)
                {
                    string text = reply.AsString() ?? string.Empty;
                    string name = RedisConnection.RoleName(role);
                    if (reply.ErrorCode == "NOAUTH" || reply.ErrorCode == "WRONGPASS")
                    {
                        throw new SyncException(role == EndpointRole.Source ? SyncErrorIds.SourceAuthFailed : SyncErrorIds.TargetAuthFailed, SyncErrorKind.Stop,
                            $"The {name} {endpoint} wants a login ({text}). {ErrorReplies.Advice(reply.ErrorCode, role)}");
                    }
                    throw new SyncException(role == EndpointRole.Source ? SyncErrorIds.ProtocolError : SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                        $"INFO on the {name} {endpoint} failed: {text}") { Command = "INFO" };
                }
                info = ServerInfo.Parse(reply.AsString() ?? string.Empty);
            }
            return new ServerLink(connection, info);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    public ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken) => Output.FlushAsync(cancellationToken);

    /// <summary>
    /// While set, every command is sent after an ASKING (a key whose slot is being imported by this node,
    /// after an ASK reply): the reader takes twice the replies and leaves out the ASKING's.
    /// </summary>
    public bool Asking { get; set; }

    private static readonly byte[] AskingCommand = Encoding.ASCII.GetBytes("*1\r\n$6\r\nASKING\r\n");

    /// <summary>Starts a command of <paramref name="argc"/> arguments whose name is pre-encoded in <paramref name="name"/>.</summary>
    public void Begin(int argc, byte[] name)
    {
        if (Asking) RespFormatter.WriteRaw(Output, AskingCommand);
        RespFormatter.WriteArrayHeader(Output, argc);
        RespFormatter.WriteRaw(Output, name);
    }

    /// <summary>Writes a whole pre-encoded command head (array header and name) and one key: the hot path.</summary>
    public void Command(byte[] head, ReadOnlySpan<byte> key)
    {
        if (Asking) RespFormatter.WriteRaw(Output, AskingCommand);
        // One span for the whole command: head, $length, key, CRLF.
        int size = head.Length + key.Length + 16;
        Span<byte> span = Output.GetSpan(size);
        head.CopyTo(span);
        int n = head.Length;
        span[n++] = (byte)'$';
        Utf8Formatter.TryFormat(key.Length, span.Slice(n), out int digits);
        n += digits;
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        key.CopyTo(span.Slice(n));
        n += key.Length;
        span[n++] = (byte)'\r';
        span[n++] = (byte)'\n';
        Output.Advance(n);
    }

    public void Bulk(ReadOnlySpan<byte> value) => RespFormatter.WriteBulk(Output, value);

    public void Bulk(in ReadOnlySequence<byte> value) => RespFormatter.WriteBulk(Output, value);

    public void Bulk(long value) => RespFormatter.WriteBulk(Output, value);

    public void Bulk(ulong value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        RespFormatter.WriteBulk(Output, digits.Slice(0, n));
    }

    /// <summary>Writes pre-encoded bytes (a bulk string made by <see cref="CommandText"/>).</summary>
    public void Raw(byte[] bytes) => RespFormatter.WriteRaw(Output, bytes);

    /// <summary>Sends one command and waits for its reply (control path: SELECT, INFO, DBSIZE).</summary>
    public async Task<RespValue> ExecuteAsync(CancellationToken cancellationToken, params object[] args)
    {
        if (Asking) RespFormatter.WriteRaw(Output, AskingCommand);
        RespFormatter.WriteCommand(Output, args);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        await TakeAsync(1, cancellationToken).ConfigureAwait(false);
        ReadOnlySequence<byte> raw = Replies.Taken[0].Raw;
        RespParser.TryRead(ref raw, out RespValue? value);
        Replies.Release();
        return value!;
    }

    /// <summary>Takes the replies of the next <paramref name="count"/> commands (with <see cref="Asking"/>, the ASKING's left out).</summary>
    public async ValueTask TakeAsync(int count, CancellationToken cancellationToken)
    {
        int sent = Asking ? count * 2 : count;
        if (!Replies.TryTake(sent)) await Replies.TakeAsync(sent, cancellationToken).ConfigureAwait(false);
        if (Asking) Replies.SkipAskingReplies();
    }

    /// <summary>Like <see cref="ExecuteAsync"/>, but an error reply throws, naming the command and the server.</summary>
    public async Task<RespValue> ExecuteOrThrowAsync(CancellationToken cancellationToken, params object[] args)
    {
        RespValue reply = await ExecuteAsync(cancellationToken, args).ConfigureAwait(false);
        if (reply.IsError) throw Failed(args[0].ToString()!.ToUpperInvariant(), reply.AsString() ?? string.Empty, null);
        return reply;
    }

    /// <summary>The error for a command that the server refused.</summary>
    public SyncException Failed(string command, string error, byte[]? key)
    {
        string code = ErrorReplies.CodeOf(error);
        string id = ErrorReplies.IdOf(code, Role);
        string where = key != null ? " for key " + KeyText.Format(key) : string.Empty;
        string advice = ErrorReplies.Advice(code, Role);
        if (code == "MOVED" || code == "ASK" || code == "TRYAGAIN")
        {
            // ASK <slot> <host:port>: the node that imports the slot.
            string[] words = error.Split(' ');
            return new RedirectedException(id, $"{command}{where} on the {Side} {Connection.Endpoint} was redirected: {error}", Role, code == "ASK" && words.Length >= 3 ? words[2] : null)
            {
                Command = command,
                Key = key != null ? KeyText.Format(key) : null,
            };
        }
        return new SyncException(id, SyncErrorKind.Stop, $"{command}{where} on the {Side} {Connection.Endpoint} failed: {error}" + (advice.Length > 0 ? ". " + advice : string.Empty))
        {
            Command = command,
            Key = key != null ? KeyText.Format(key) : null,
        };
    }

    public void Dispose() => Connection.Dispose();
}

/// <summary>
/// A MOVED, ASK or TRYAGAIN reply: the key's slot is served by another master of the cluster now, or is
/// being moved (read the slot map again, or ask the importing node, then retry).
/// </summary>
internal sealed class RedirectedException : SyncException
{
    public RedirectedException(string errorId, string message, EndpointRole role, string? askAddress)
        : base(errorId, SyncErrorKind.Stop, message)
    {
        Role = role;
        AskAddress = askAddress;
    }

    /// <summary>The side whose server redirected.</summary>
    public EndpointRole Role { get; }

    /// <summary>For ASK: host:port of the node that imports the slot; null for MOVED and TRYAGAIN.</summary>
    public string? AskAddress { get; }
}

/// <summary>Command names and fixed arguments pre-encoded as RESP bulk strings.</summary>
internal static class CommandText
{
    /// <summary>A command head: the array header and the name, for commands of a fixed argument count.</summary>
    public static byte[] Head(int argc, string name) => Encoding.ASCII.GetBytes($"*{argc}\r\n${name.Length}\r\n{name}\r\n");

    /// <summary>A word as a bulk string.</summary>
    public static byte[] Word(string word) => Encoding.ASCII.GetBytes($"${word.Length}\r\n{word}\r\n");

    public static readonly byte[] Type = Head(2, "TYPE");
    public static readonly byte[] Pttl = Head(2, "PTTL");
    public static readonly byte[] PexpireTime = Head(2, "PEXPIRETIME");
    public static readonly byte[] Strlen = Head(2, "STRLEN");
    public static readonly byte[] Llen = Head(2, "LLEN");
    public static readonly byte[] Scard = Head(2, "SCARD");
    public static readonly byte[] Zcard = Head(2, "ZCARD");
    public static readonly byte[] Hlen = Head(2, "HLEN");
    public static readonly byte[] Xlen = Head(2, "XLEN");
    public static readonly byte[] Exists = Head(2, "EXISTS");

    public static readonly byte[] ExistsName = Word("EXISTS");
    public static readonly byte[] Scan = Word("SCAN");
    public static readonly byte[] Hscan = Word("HSCAN");
    public static readonly byte[] Sscan = Word("SSCAN");
    public static readonly byte[] Zscan = Word("ZSCAN");
    public static readonly byte[] Match = Word("MATCH");
    public static readonly byte[] Count = Word("COUNT");
    public static readonly byte[] Getrange = Word("GETRANGE");
    public static readonly byte[] Lrange = Word("LRANGE");
    public static readonly byte[] Hmget = Word("HMGET");
    public static readonly byte[] Smismember = Word("SMISMEMBER");
    public static readonly byte[] Sismember = Word("SISMEMBER");
    public static readonly byte[] Zmscore = Word("ZMSCORE");
    public static readonly byte[] Zscore = Word("ZSCORE");
    public static readonly byte[] Hpttl = Word("HPTTL");
    public static readonly byte[] Fields = Word("FIELDS");
    public static readonly byte[] Xinfo = Word("XINFO");
    public static readonly byte[] Stream = Word("STREAM");
    public static readonly byte[] Groups = Word("GROUPS");
    public static readonly byte[] Consumers = Word("CONSUMERS");
    public static readonly byte[] Xrange = Word("XRANGE");
    public static readonly byte[] Xpending = Word("XPENDING");
    public static readonly byte[] Plus = Word("+");
}
