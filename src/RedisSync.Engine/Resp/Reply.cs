using System;
using System.Buffers;

namespace RedisSync.Engine.Resp;

/// <summary>One reply frame and its raw bytes; both stay valid until its reader releases them.</summary>
internal readonly struct Reply
{
    private readonly ReadOnlySequence<byte> _from;
    private readonly SequencePosition _end;

    /// <summary>A frame that starts at the beginning of <paramref name="from"/> and ends at <paramref name="end"/>.</summary>
    public Reply(in RespFrame frame, in ReadOnlySequence<byte> from, SequencePosition end)
    {
        Frame = frame;
        _from = from;
        _end = end;
    }

    public RespFrame Frame { get; }

    /// <summary>The whole frame as it came from the server (for walking aggregates and for byte equality), sliced when asked for.</summary>
    public ReadOnlySequence<byte> Raw => _from.Slice(0, _end);

    public RespKind Kind => Frame.Kind;

    public bool IsError => Frame.IsError;

    /// <summary>An integer reply's value, or an aggregate's length.</summary>
    public long Integer => Frame.Integer;

    /// <summary>A null bulk string, null array or RESP3 null.</summary>
    public bool IsNull => Frame.Kind == RespKind.Null || (Frame.Integer == -1 && (Frame.Kind == RespKind.BulkString || Frame.Kind == RespKind.Array));

    /// <summary>The error text, for messages.</summary>
    public string ErrorText => System.Text.Encoding.UTF8.GetString(Frame.FirstError.ToArray());
}
