using System;
using System.Buffers;
using System.Buffers.Text;

namespace RedisSync.Engine.Resp;

/// <summary>
/// Walks the elements of a complete reply frame in place: aggregate headers one by one, leaves
/// (and whole sub-frames) with <see cref="RespParser.TrySkip"/>.
/// </summary>
internal struct FrameWalker
{
    private ReadOnlySequence<byte> _rest;

    public FrameWalker(in ReadOnlySequence<byte> frame) => _rest = frame;

    /// <summary>Reads an array (or set, map, push) header: the element count (a map's counted twice), -1 for a null array.</summary>
    public long ReadArray()
    {
        scoped ByteCursor cursor = new ByteCursor(_rest);
        if (!cursor.TryRead(out byte type)) RespParser.ThrowProtocol("reply ended where an array was expected");
        var kind = (RespKind)type;
        if (kind == RespKind.Null)
        {
            Skip();
            return -1;
        }
        if (kind != RespKind.Array && kind != RespKind.Set && kind != RespKind.Map && kind != RespKind.Push)
        {
            RespParser.ThrowProtocol($"expected an array, got '{(char)type}'");
        }
        Span<byte> scratch = stackalloc byte[32];
        if (!cursor.TryReadLine(scratch, out ReadOnlySpan<byte> line, out _) || !Utf8Parser.TryParse(line, out long count, out int used) || used != line.Length)
        {
            RespParser.ThrowProtocol("invalid array header");
            return 0;
        }
        _rest = _rest.Slice(cursor.Position);
        return kind == RespKind.Map && count > 0 ? count * 2 : count;
    }

    /// <summary>Reads the next element whole (a leaf, or an aggregate skipped over).</summary>
    public RespFrame Read()
    {
        if (!RespParser.TrySkip(ref _rest, out RespFrame frame)) RespParser.ThrowProtocol("reply ended inside an aggregate");
        return frame;
    }

    /// <summary>Reads the next element whole and returns its raw bytes too (to walk it later).</summary>
    public RespFrame Read(out ReadOnlySequence<byte> raw)
    {
        ReadOnlySequence<byte> start = _rest;
        RespFrame frame = Read();
        raw = start.Slice(0, _rest.Start);
        return frame;
    }

    /// <summary>Skips the next element.</summary>
    public void Skip() => Read();

    /// <summary>Reads a bulk (or simple) string's payload; a null reads as empty with <paramref name="isNull"/> set.</summary>
    public ReadOnlySequence<byte> ReadString(out bool isNull)
    {
        RespFrame frame = Read();
        isNull = frame.Kind == RespKind.Null || (frame.Kind == RespKind.BulkString && frame.Integer == -1);
        if (!isNull && frame.Kind != RespKind.BulkString && frame.Kind != RespKind.SimpleString && frame.Kind != RespKind.VerbatimString)
        {
            RespParser.ThrowProtocol($"expected a string, got '{(char)frame.Kind}'");
        }
        return frame.Payload;
    }

    /// <summary>Reads a bulk (or simple) string's payload.</summary>
    public ReadOnlySequence<byte> ReadString() => ReadString(out _);

    /// <summary>Reads an integer (or a string that holds one, as some replies carry numbers).</summary>
    public long ReadInteger()
    {
        RespFrame frame = Read();
        if (frame.Kind == RespKind.Integer) return frame.Integer;
        if (frame.Kind == RespKind.BulkString || frame.Kind == RespKind.SimpleString)
        {
            if (Bytes.TryParseInt64(frame.Payload, out long value)) return value;
        }
        RespParser.ThrowProtocol($"expected an integer, got '{(char)frame.Kind}'");
        return 0;
    }
}
