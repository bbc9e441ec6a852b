using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Threading;
using RedisSync.Engine.Readers;

namespace RedisSync.Engine.Transform;

/// <summary>
/// Turns the source's command stream into the target's: SELECT tracked and mapped, a source
/// transaction kept whole (no commit point inside MULTI…EXEC), PING/REPLCONF/PUBLISH left out,
/// every other command forwarded byte for byte (db arguments of SWAPDB, MOVE and COPY mapped).
/// </summary>
internal sealed class ReplicationToCommands : IReplicationHandler, IDisposable
{
    private readonly ICommandSink _sink;
    private readonly DatabaseMap? _databaseMap;
    private readonly bool _rewriteDbArguments;
    private readonly Action<long> _commitPoint;
    private readonly StreamFilter? _filter;
    private readonly PooledBuffer _scratch = new PooledBuffer();
    private bool _inMulti;
    private long _forwarded;
    private long _dropped;

    /// <param name="sink">Where the commands go.</param>
    /// <param name="databaseMap">Source db → target db (null: every db keeps its number).</param>
    /// <param name="commitPoint">Called with the stream offset after each command that may end a batch.</param>
    /// <param name="filter">What is copied (null: everything).</param>
    /// <param name="warn">Where the filter's warnings go.</param>
    /// <param name="rename">Key renames (null: none).</param>
    /// <param name="flush">What deletes the keys the sync owns at a filtered FLUSHDB or FLUSHALL (null: flushes are forwarded).</param>
    /// <param name="source">What reads from the source what the stream does not say (a key's type after a restart), or null.</param>
    public ReplicationToCommands(ICommandSink sink, DatabaseMap? databaseMap, Action<long> commitPoint, KeyFilter? filter = null, Action<SyncWarning>? warn = null,
        KeyRename? rename = null, IKeyFlush? flush = null, ISourceLookup? source = null)
    {
        _sink = sink;
        _databaseMap = databaseMap;
        _rewriteDbArguments = databaseMap != null && !databaseMap.IsIdentity;
        _commitPoint = commitPoint;
        if (filter != null || rename != null) _filter = new StreamFilter(filter ?? KeyFilter.Everything(), rename, sink, Map, databaseMap?.TargetDatabases ?? 16, warn, flush, source);
    }

    /// <summary>Commands the filter left out (they changed data on the source, not on the target).</summary>
    public long CommandsFiltered => _filter?.Filtered ?? 0;

    /// <summary>The source asked for an acknowledgement (REPLCONF GETACK).</summary>
    public event Action? AckRequested;

    public long CommandsForwarded => Interlocked.Read(ref _forwarded);

    /// <summary>Commands not forwarded (PING, REPLCONF, PUBLISH, MULTI/EXEC markers).</summary>
    public long CommandsDropped => Interlocked.Read(ref _dropped);

    /// <summary>The source database the stream is in (its last SELECT): what a checkpoint records with its offset.</summary>
    public int SourceDb { get; private set; }

    /// <summary>Continues a stream that was cut inside a transaction as if outside it (after a resync).</summary>
    public void Reset()
    {
        InMulti = false;
        _filter?.ForgetReads();
    }

    /// <summary>A new full copy begins: its snapshot tells every key's type again.</summary>
    public void TypesKnown()
    {
        if (_filter != null) _filter.TypesUnknown = false;
    }

    private bool InMulti
    {
        get => _inMulti;
        set
        {
            _inMulti = value;
            if (_filter != null) _filter.InTransaction = value;
        }
    }

    /// <summary>
    /// Continues a stream in <paramref name="sourceDb"/>: a partial resync from a checkpoint does not repeat
    /// the SELECT that was in force at its offset (as a replica keeps repl-stream-db in its RDB).
    /// </summary>
    public void Resume(int sourceDb)
    {
        InMulti = false;
        if (_filter != null) _filter.TypesUnknown = true;
        SourceDb = sourceDb;
        _sink.SelectDb(Map(sourceDb));
    }

    /// <summary>
    /// The offset after the last command that changed data (forwarded, or the EXEC of a transaction):
    /// what follows it is only PING, PUBLISH, REPLCONF and SELECT, which a continuation may send again at no cost.
    /// </summary>
    public long DataOffset { get; set; }

    public void OnCommand(IReadOnlyList<ReadOnlySequence<byte>> args, in ReadOnlySequence<byte> frame, long offsetAfter)
    {
        long dropped = _dropped;
        Span<byte> name = stackalloc byte[32];
        int n = UpperName(args[0], name);
        ReadOnlySpan<byte> command = name.Slice(0, n);
        if (command.SequenceEqual("PING"u8))
        {
            Drop();
        }
        else if (command.SequenceEqual("REPLCONF"u8))
        {
            Drop();
            if (args.Count >= 2 && Upper(args[1]) == "GETACK") AckRequested?.Invoke();
        }
        else if (command.SequenceEqual("MULTI"u8))
        {
            Drop();
            InMulti = true;
        }
        else if (command.SequenceEqual("EXEC"u8))
        {
            Drop();
            InMulti = false;
        }
        else if (command.SequenceEqual("PUBLISH"u8) || command.SequenceEqual("SPUBLISH"u8))
        {
            Drop();
        }
        else if (command.SequenceEqual("SELECT"u8))
        {
            Drop();
            SourceDb = ParseInt(args[1]);
            _sink.SelectDb(Map(SourceDb));
        }
        else if (_filter != null && Filtered(command, args) is { } verdict && verdict != StreamVerdict.Forward)
        {
            if (verdict == StreamVerdict.Written)
            {
                _forwarded++;
                _sink.SelectDb(Map(SourceDb));
            }
        }
        else if (_rewriteDbArguments && command.SequenceEqual("SWAPDB"u8) && args.Count == 3)
        {
            Rewrite(args, 1, 2);
        }
        else if (_rewriteDbArguments && command.SequenceEqual("MOVE"u8) && args.Count == 3)
        {
            Rewrite(args, 2, -1);
        }
        else if (_rewriteDbArguments && command.SequenceEqual("COPY"u8) && DbOption(args) is int dbArg)
        {
            Rewrite(args, dbArg, -1);
        }
        else
        {
            Forward(frame);
        }
        _filter?.Advance(offsetAfter);
        if (_inMulti || _filter?.HoldsCommit == true) return;
        if (_dropped == dropped || command.SequenceEqual("EXEC"u8)) DataOffset = offsetAfter;
        _filter?.Committed();
        _commitPoint(offsetAfter);
    }

    public void OnIdle() => _sink.Flush();

    private StreamVerdict Filtered(ReadOnlySpan<byte> command, IReadOnlyList<ReadOnlySequence<byte>> args)
    {
        string name = command.Length > 0 ? System.Text.Encoding.ASCII.GetString(command.ToArray()) : System.Text.Encoding.ASCII.GetString(args[0].ToArray()).ToUpperInvariant();
        return _filter!.Apply(name, args, SourceDb);
    }

    private void Forward(in ReadOnlySequence<byte> frame)
    {
        if (frame.IsSingleSegment)
        {
            _sink.WriteCommands(frame.First.Span, 1);
        }
        else
        {
            _scratch.Clear();
            foreach (ReadOnlyMemory<byte> piece in frame) _scratch.Write(piece.Span);
            _sink.WriteCommands(_scratch.WrittenSpan, 1);
        }
        _forwarded++;
    }

    /// <summary>Re-sends a command with its database arguments mapped.</summary>
    private void Rewrite(IReadOnlyList<ReadOnlySequence<byte>> args, int dbIndex, int secondDbIndex)
    {
        _sink.BeginCommand();
        for (int i = 0; i < args.Count; i++)
        {
            if (i == dbIndex || i == secondDbIndex)
            {
                _sink.Arg(Map(ParseInt(args[i])));
            }
            else
            {
                ReadOnlySequence<byte> arg = args[i];
                if (arg.IsSingleSegment)
                {
                    _sink.Arg(arg.First.Span);
                }
                else
                {
                    _scratch.Clear();
                    foreach (ReadOnlyMemory<byte> piece in arg) _scratch.Write(piece.Span);
                    _sink.Arg(_scratch.WrittenSpan);
                }
            }
        }
        _sink.EndCommand();
        _forwarded++;
    }

    private static int? DbOption(IReadOnlyList<ReadOnlySequence<byte>> args)
    {
        for (int i = 3; i + 1 < args.Count; i++)
        {
            if (Upper(args[i]) == "DB") return i + 1;
        }
        return null;
    }

    private int Map(int db) => _databaseMap?.Map(db) ?? db;

    private void Drop() => _dropped++;

    private static int UpperName(in ReadOnlySequence<byte> arg, Span<byte> destination)
    {
        if (arg.Length > destination.Length) return 0;
        arg.CopyTo(destination);
        int n = (int)arg.Length;
        for (int i = 0; i < n; i++)
        {
            byte b = destination[i];
            if (b >= (byte)'a' && b <= (byte)'z') destination[i] = (byte)(b - 32);
        }
        return n;
    }

    private static string Upper(in ReadOnlySequence<byte> arg)
    {
        Span<byte> buffer = stackalloc byte[16];
        int n = UpperName(arg, buffer);
        return System.Text.Encoding.ASCII.GetString(buffer.Slice(0, n).ToArray());
    }

    private static int ParseInt(in ReadOnlySequence<byte> arg)
    {
        Span<byte> buffer = stackalloc byte[16];
        if (arg.Length > buffer.Length || !Utf8Parser.TryParse(buffer.Slice(0, CopyTo(arg, buffer)), out int value, out int used) || used != arg.Length)
        {
            throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop, "The source sent a database number that is not a number.");
        }
        return value;
    }

    private static int CopyTo(in ReadOnlySequence<byte> arg, Span<byte> destination)
    {
        arg.CopyTo(destination);
        return (int)arg.Length;
    }

    public void Dispose() => _scratch.Dispose();
}
