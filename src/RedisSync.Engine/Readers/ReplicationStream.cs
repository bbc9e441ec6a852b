using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Threading;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Readers;

/// <summary>Receives the source's write commands, in order, with the stream offset after each.</summary>
internal interface IReplicationHandler
{
    /// <summary>
    /// One command. <paramref name="args"/> and <paramref name="frame"/> (its RESP bytes) point
    /// into the link's buffer and are valid only during the call.
    /// </summary>
    void OnCommand(IReadOnlyList<ReadOnlySequence<byte>> args, in ReadOnlySequence<byte> frame, long offsetAfter);

    /// <summary>Every command that has arrived was handed over: a good moment to flush.</summary>
    void OnIdle();
}

/// <summary>
/// The command stream that follows the snapshot: parsed in place, counted byte by byte (the
/// replication offset), handed to a handler. Runs on a dedicated thread.
/// </summary>
internal sealed class ReplicationStream
{
    private readonly ReplicaLink _link;
    private readonly PipeReader _input;
    private readonly List<ReadOnlySequence<byte>> _args = new List<ReadOnlySequence<byte>>(8);
    private long _offset;

    public ReplicationStream(ReplicaLink link, long startOffset)
    {
        _link = link;
        _input = link.Input;
        _offset = startOffset;
    }

    /// <summary>The offset after the last whole command read (what a partial resync continues from, plus one).</summary>
    public long Offset => Interlocked.Read(ref _offset);

    /// <summary>
    /// Reads and hands over commands until the link closes (throws the link error) or
    /// <paramref name="cancellationToken"/> is cancelled.
    /// </summary>
    public void Run(IReplicationHandler handler, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = _input.ReadBlocking(cancellationToken); // a broken link throws SourceLinkLost
            ReadOnlySequence<byte> buffer = result.Buffer;
            bool any = false;
            while (RespParser.TryReadCommand(ref buffer, _args, out ReadOnlySequence<byte> frame))
            {
                long after = _offset + frame.Length;
                handler.OnCommand(_args, frame, after);
                Interlocked.Exchange(ref _offset, after);
                any = true;
            }
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (any) handler.OnIdle();
            if (result.IsCanceled) cancellationToken.ThrowIfCancellationRequested();
            if (result.IsCompleted) throw _link.LinkLost(null);
        }
    }
}
