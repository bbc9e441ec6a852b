using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Resp;

/// <summary>
/// Parses RESP2 and RESP3 frames in place. Every <c>TryRead…</c> returns false on an incomplete
/// frame and then leaves the buffer untouched; on success it slices the frame off the buffer.
/// Malformed input throws a <see cref="SyncException"/> with id ProtocolError.
/// </summary>
internal static class RespParser
{
    /// <summary>The largest bulk string accepted (Redis's own proto-max-bulk-len default).</summary>
    public const long DefaultMaxBulkLength = 512L * 1024 * 1024;

    private const int MaxDepth = 64;
    private const int MaxLine = 64 * 1024;
    private const int ScratchLength = 128; // number lines (lengths, integers) are at most 21 bytes

    [ThreadStatic]
    private static byte[]? t_lineScratch;

    /// <summary>Reads one frame into an object tree (control path).</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out RespValue? value, long maxBulkLength = DefaultMaxBulkLength)
    {
        var cursor = new ByteCursor(buffer);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(MaxLine);
        try
        {
            if (!TryReadValue(ref cursor, scratch.AsSpan(0, MaxLine), maxBulkLength, 0, out value)) return false;
            buffer = buffer.Slice(cursor.Position);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>
    /// Skips one frame without allocating, and reports what a writer needs to know of it: its kind,
    /// its integer value, and the errors it holds (itself, or elements of an EXEC reply).
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public static bool TrySkip(ref ReadOnlySequence<byte> buffer, out RespFrame frame, long maxBulkLength = DefaultMaxBulkLength)
    {
        var cursor = new ByteCursor(buffer);
        byte[] scratch = t_lineScratch ??= new byte[ScratchLength];
        var info = new FrameInfo();
        if (!TrySkipValue(ref cursor, scratch, maxBulkLength, 0, ref info, out RespKind kind, out long integer, out ReadOnlySequence<byte> payload))
        {
            frame = default;
            return false;
        }
        frame = new RespFrame(kind, integer, payload, info.ErrorCount, info.FirstError, info.FirstErrorIndex);
        buffer = buffer.Slice(cursor.Position);
        return true;
    }

    /// <summary>
    /// Reads a command (an array of bulk strings, as a master or a client sends it): its arguments
    /// as slices of the buffer and the whole frame, without copying. On an incomplete frame
    /// <paramref name="args"/> is left empty.
    /// </summary>
    public static bool TryReadCommand(ref ReadOnlySequence<byte> buffer, List<ReadOnlySequence<byte>> args, out ReadOnlySequence<byte> frame, long maxBulkLength = DefaultMaxBulkLength)
    {
        args.Clear();
        var cursor = new ByteCursor(buffer);
        byte[] scratch = t_lineScratch ??= new byte[ScratchLength];
        frame = default;
        if (!TryReadCommandArgs(ref cursor, scratch, maxBulkLength, args))
        {
            args.Clear();
            return false;
        }
        frame = buffer.Slice(0, cursor.Position);
        buffer = buffer.Slice(cursor.Position);
        return true;
    }

    private static bool TryReadCommandArgs(ref ByteCursor cursor, Span<byte> scratch, long maxBulkLength, List<ReadOnlySequence<byte>> args)
    {
        if (!cursor.TryRead(out byte type)) return false;
        if (type != (byte)'*') ThrowProtocol($"expected a command array, got {Describe(type)}");
        if (!TryReadLength(ref cursor, scratch, out long count)) return false;
        // Redis itself accepts up to INT_MAX arguments (a replicated RPUSH may carry millions).
        if (count < 0 || count > int.MaxValue) ThrowProtocol($"invalid command argument count {count}");
        for (long i = 0; i < count; i++)
        {
            if (!cursor.TryRead(out byte t)) return false;
            if (t != (byte)'$') ThrowProtocol($"expected a bulk string argument, got {Describe(t)}");
            if (!TryReadLength(ref cursor, scratch, out long len)) return false;
            CheckBulkLength(len, maxBulkLength);
            if (!cursor.TryReadSequence(len, out ReadOnlySequence<byte> arg)) return false;
            if (!TryReadCrlf(ref cursor)) return false;
            args.Add(arg);
        }
        return true;
    }

    private struct FrameInfo
    {
        public int ErrorCount;
        public ReadOnlySequence<byte> FirstError;
        public int FirstErrorIndex;
        public int ElementIndex;
    }

    [MethodImpl(HotPath.Compile)]
    private static bool TrySkipValue(ref ByteCursor c, Span<byte> scratch, long maxBulk, int depth, ref FrameInfo info,
        out RespKind kind, out long integer, out ReadOnlySequence<byte> payload)
    {
        integer = 0;
        payload = default;
        if (depth > MaxDepth) ThrowProtocol("frames nested too deep");
        while (true)
        {
            if (!c.TryRead(out byte type))
            {
                kind = default;
                return false;
            }
            kind = (RespKind)type;
            switch (kind)
            {
                case RespKind.SimpleString:
                case RespKind.Error:
                case RespKind.Double:
                case RespKind.BigNumber:
                case RespKind.Null:
                case RespKind.Boolean:
                {
                    SequencePosition start = c.Position;
                    if (!TrySkipLine(ref c, out long length)) return false;
                    payload = c.Slice(start, length);
                    if (kind == RespKind.Boolean) integer = CheckBoolean(payload.First.Span, length);
                    else if (kind == RespKind.Null) integer = CheckNull(length);
                    else if (kind == RespKind.Error) RecordError(ref info, payload);
                    return true;
                }
                case RespKind.Integer:
                    return TryReadLength(ref c, scratch, out integer);
                case RespKind.BulkString:
                case RespKind.BulkError:
                case RespKind.VerbatimString:
                {
                    if (!TryReadBulk(ref c, scratch, kind, maxBulk, out payload, out bool isNull)) return false;
                    if (isNull) integer = -1;
                    else if (kind == RespKind.BulkError) RecordError(ref info, payload);
                    return true;
                }
                case RespKind.Array:
                case RespKind.Set:
                case RespKind.Push:
                case RespKind.Map:
                case RespKind.Attribute:
                {
                    if (!TryReadAggregateHeader(ref c, scratch, kind, out long count, out long elements)) return false;
                    if (count == -1)
                    {
                        integer = -1;
                        return true;
                    }
                    if (kind == RespKind.Attribute)
                    {
                        // An attribute annotates the frame that follows it: that frame is the reply,
                        // and errors inside the attribute are not errors of the reply.
                        var ignored = new FrameInfo();
                        for (long i = 0; i < elements; i++)
                        {
                            if (!TrySkipValue(ref c, scratch, maxBulk, depth + 1, ref ignored, out _, out _, out _)) return false;
                        }
                        continue;
                    }
                    bool top = depth == 0;
                    for (long i = 0; i < elements; i++)
                    {
                        if (top) info.ElementIndex = (int)i;
                        if (!TrySkipValue(ref c, scratch, maxBulk, depth + 1, ref info, out _, out _, out _)) return false;
                    }
                    integer = count;
                    return true;
                }
                default:
                    ThrowUnknownType(type);
                    return false;
            }
        }
    }

    private static void RecordError(ref FrameInfo info, ReadOnlySequence<byte> message)
    {
        if (info.ErrorCount == 0)
        {
            info.FirstError = message;
            info.FirstErrorIndex = info.ElementIndex;
        }
        info.ErrorCount++;
    }

    /// <summary>Skips a line up to CRLF and reports its length without the CRLF.</summary>
    [MethodImpl(HotPath.Compile)]
    private static bool TrySkipLine(ref ByteCursor c, out long length)
    {
        length = 0;
        bool afterCr = false;
        while (true)
        {
            ReadOnlySpan<byte> span = c.CurrentSpan;
            if (span.IsEmpty) return false;
            int lf = span.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                bool cr = lf > 0 ? span[lf - 1] == (byte)'\r' : afterCr;
                if (!cr) ThrowProtocol("line not terminated by CRLF (a bare LF)");
                length += lf - 1;
                if (length > MaxLine) ThrowProtocol($"line longer than {MaxLine} bytes");
                c.TryAdvance(lf + 1);
                return true;
            }
            length += span.Length;
            if (length > MaxLine) ThrowProtocol($"line longer than {MaxLine} bytes");
            afterCr = span[span.Length - 1] == (byte)'\r';
            c.TryAdvance(span.Length);
        }
    }

    private static bool TryReadValue(ref ByteCursor c, Span<byte> scratch, long maxBulk, int depth, [NotNullWhen(true)] out RespValue? value)
    {
        value = null;
        if (depth > MaxDepth) ThrowProtocol("frames nested too deep");
        while (true)
        {
            if (!c.TryRead(out byte type)) return false;
            var kind = (RespKind)type;
            switch (kind)
            {
                case RespKind.SimpleString:
                case RespKind.Error:
                case RespKind.Double:
                case RespKind.BigNumber:
                {
                    if (!TryLine(ref c, scratch, out ReadOnlySpan<byte> line)) return false;
                    value = new RespValue(kind, line.ToArray());
                    return true;
                }
                case RespKind.Null:
                {
                    if (!TryLine(ref c, scratch, out ReadOnlySpan<byte> line)) return false;
                    CheckNull(line.Length);
                    value = new RespValue(kind, isNull: true);
                    return true;
                }
                case RespKind.Boolean:
                {
                    if (!TryLine(ref c, scratch, out ReadOnlySpan<byte> line)) return false;
                    value = new RespValue(kind, integer: CheckBoolean(line, line.Length));
                    return true;
                }
                case RespKind.Integer:
                {
                    if (!TryReadLength(ref c, scratch, out long n)) return false;
                    value = new RespValue(kind, integer: n);
                    return true;
                }
                case RespKind.BulkString:
                case RespKind.BulkError:
                case RespKind.VerbatimString:
                {
                    if (!TryReadBulk(ref c, scratch, kind, maxBulk, out ReadOnlySequence<byte> payload, out bool isNull)) return false;
                    // Callers want a verbatim string's text, as a string.
                    if (kind == RespKind.VerbatimString) kind = RespKind.BulkString;
                    value = isNull ? new RespValue(kind, isNull: true) : new RespValue(kind, payload.ToArray());
                    return true;
                }
                case RespKind.Array:
                case RespKind.Set:
                case RespKind.Push:
                case RespKind.Map:
                case RespKind.Attribute:
                {
                    if (!TryReadAggregateHeader(ref c, scratch, kind, out long count, out long elements)) return false;
                    if (count == -1)
                    {
                        value = new RespValue(kind, isNull: true);
                        return true;
                    }
                    // Every element takes at least 3 bytes ("_\r\n"): do not allocate for elements
                    // that have not arrived (a hostile header must not cost gigabytes).
                    if (elements > c.Remaining / 3) return false;
                    var items = new RespValue[elements];
                    for (long i = 0; i < elements; i++)
                    {
                        if (!TryReadValue(ref c, scratch, maxBulk, depth + 1, out RespValue? item)) return false;
                        items[i] = item;
                    }
                    if (kind == RespKind.Attribute)
                    {
                        // An attribute annotates the frame that follows it: that frame is the reply.
                        continue;
                    }
                    value = new RespValue(kind, items: items);
                    return true;
                }
                default:
                    ThrowUnknownType(type);
                    return false;
            }
        }
    }

    private static bool TryLine(ref ByteCursor c, Span<byte> scratch, out ReadOnlySpan<byte> line)
    {
        if (c.TryReadLine(scratch, out line, out LineError error)) return true;
        if (error != LineError.None) ThrowLineError(error, "line", scratch.Length);
        return false;
    }

    [MethodImpl(HotPath.Compile)]
    private static bool TryReadLength(ref ByteCursor c, Span<byte> scratch, out long value)
    {
        value = 0;
        if (!c.TryReadLine(scratch, out ReadOnlySpan<byte> line, out LineError error))
        {
            if (error != LineError.None) ThrowLineError(error, "number line", scratch.Length);
            return false;
        }
        if (line.Length == 1 && line[0] == (byte)'?') ThrowProtocol("streamed RESP3 frames (length '?') are not supported");
        if (!Utf8Parser.TryParse(line, out value, out int used) || used != line.Length)
        {
            ThrowProtocol($"invalid number {KeyText.Format(line, 40)}");
        }
        return true;
    }

    private static bool TryReadCrlf(ref ByteCursor c)
    {
        if (c.Remaining < 2) return false;
        c.TryRead(out byte cr);
        c.TryRead(out byte lf);
        if (cr != (byte)'\r' || lf != (byte)'\n') ThrowProtocol("bulk string not terminated by CRLF");
        return true;
    }

    private static void CheckBulkLength(long length, long maxBulk)
    {
        if (length < 0) ThrowProtocol($"invalid bulk length {length}");
        if (length > maxBulk) ThrowProtocol($"bulk length {length} exceeds the limit of {maxBulk} bytes");
    }

    /// <summary>
    /// Reads a bulk string's, bulk error's or verbatim string's length and payload (a verbatim string's
    /// without its "txt:" format prefix); a RESP2 null bulk reports <paramref name="isNull"/>.
    /// </summary>
    private static bool TryReadBulk(ref ByteCursor c, Span<byte> scratch, RespKind kind, long maxBulk, out ReadOnlySequence<byte> payload, out bool isNull)
    {
        payload = default;
        isNull = false;
        if (!TryReadLength(ref c, scratch, out long length)) return false;
        if (length == -1 && kind == RespKind.BulkString)
        {
            isNull = true;
            return true;
        }
        CheckBulkLength(length, maxBulk);
        if (!c.TryReadSequence(length, out payload)) return false;
        if (!TryReadCrlf(ref c)) return false;
        if (kind == RespKind.VerbatimString) payload = payload.Slice(CheckVerbatim(payload));
        return true;
    }

    /// <summary>Reads an aggregate's length (-1 for a RESP2 null array) and how many frames follow its header.</summary>
    [MethodImpl(HotPath.Compile)]
    private static bool TryReadAggregateHeader(ref ByteCursor c, Span<byte> scratch, RespKind kind, out long count, out long elements)
    {
        elements = 0;
        if (!TryReadLength(ref c, scratch, out count)) return false;
        if (count == -1 && kind == RespKind.Array) return true;
        if (count < 0 || count > int.MaxValue) ThrowProtocol($"invalid {Name(kind)} length {count}");
        elements = kind == RespKind.Map || kind == RespKind.Attribute ? count * 2 : count;
        return true;
    }

    private static long CheckBoolean(ReadOnlySpan<byte> first, long length)
    {
        if (length != 1 || (first[0] != (byte)'t' && first[0] != (byte)'f')) ThrowProtocol("invalid boolean (expected #t or #f)");
        return first[0] == (byte)'t' ? 1 : 0;
    }

    private static long CheckNull(long length)
    {
        if (length != 0) ThrowProtocol("invalid null (expected _ followed by CRLF)");
        return -1;
    }

    /// <summary>Checks the "xxx:" format prefix of a verbatim string and returns its length.</summary>
    private static int CheckVerbatim(ReadOnlySequence<byte> payload)
    {
        if (payload.Length < 4 || payload.Slice(3, 1).First.Span[0] != (byte)':') ThrowProtocol("verbatim string without its 'xxx:' format prefix");
        return 4;
    }

    private static string Name(RespKind kind) => kind switch
    {
        RespKind.Map => "map",
        RespKind.Set => "set",
        RespKind.Push => "push",
        RespKind.Attribute => "attribute",
        _ => "array",
    };

    private static string Describe(byte b) => b >= 0x20 && b < 0x7f ? $"'{(char)b}'" : $"0x{b:x2}";

    [DoesNotReturn]
    private static void ThrowUnknownType(byte type) => ThrowProtocol($"unknown frame type {Describe(type)}");

    [DoesNotReturn]
    private static void ThrowLineError(LineError error, string what, int limit) =>
        ThrowProtocol(error == LineError.TooLong ? $"{what} longer than {limit} bytes" : $"{what} not terminated by CRLF (a bare LF)");

    [DoesNotReturn]
    internal static void ThrowProtocol(string detail) =>
        throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop, "RESP protocol error: " + detail + ".");
}

/// <summary>What a writer learns from one skipped reply frame.</summary>
internal readonly struct RespFrame
{
    public RespFrame(RespKind kind, long integer, ReadOnlySequence<byte> payload, int errorCount, ReadOnlySequence<byte> firstError, int firstErrorIndex)
    {
        Kind = kind;
        Integer = integer;
        Payload = payload;
        ErrorCount = errorCount;
        FirstError = firstError;
        FirstErrorIndex = firstErrorIndex;
    }

    public RespKind Kind { get; }

    /// <summary>An integer reply's value, a boolean's 1 or 0, an aggregate's element count, or -1 for a null (RESP3 null, null bulk, null array).</summary>
    public long Integer { get; }

    /// <summary>A bulk string's payload, a simple string's or a double's text, a verbatim string's text without its format (valid only until the buffer is advanced).</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>Errors in the frame: 1 for an error reply, or the error elements of an array (EXEC).</summary>
    public int ErrorCount { get; }

    /// <summary>The first error's text without its leading '-' (valid only until the buffer is advanced).</summary>
    public ReadOnlySequence<byte> FirstError { get; }

    /// <summary>For an array, the index of the element that held the first error.</summary>
    public int FirstErrorIndex { get; }

    public bool IsError => Kind == RespKind.Error || Kind == RespKind.BulkError;
}
