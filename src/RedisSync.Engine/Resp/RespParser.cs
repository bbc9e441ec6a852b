using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Diagnostics.CodeAnalysis;

namespace RedisSync.Engine.Resp;

/// <summary>
/// Parses RESP2 and RESP3 frames in place. Every <c>TryRead…</c> returns false on an incomplete
/// frame and then leaves the buffer untouched; on success it slices the frame off the buffer.
/// Malformed input throws a <see cref="SyncException"/> with id ProtocolError.
/// </summary>
public static class RespParser
{
    /// <summary>The largest bulk string accepted (Redis's own proto-max-bulk-len default).</summary>
    public const long DefaultMaxBulkLength = 512L * 1024 * 1024;

    private const int MaxDepth = 64;
    private const int MaxLine = 64 * 1024;

    [ThreadStatic]
    private static byte[]? t_lineScratch;

    /// <summary>Reads one frame into an object tree (control path).</summary>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, [NotNullWhen(true)] out RespValue? value, long maxBulkLength = DefaultMaxBulkLength)
    {
        var cursor = new ByteCursor(buffer);
        byte[] scratch = ArrayPool<byte>.Shared.Rent(MaxLine);
        try
        {
            if (!TryReadValue(ref cursor, scratch, maxBulkLength, 0, out value)) return false;
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
    public static bool TrySkip(ref ReadOnlySequence<byte> buffer, out RespFrame frame, long maxBulkLength = DefaultMaxBulkLength)
    {
        var cursor = new ByteCursor(buffer);
        byte[] scratch = t_lineScratch ??= new byte[128];
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
    /// as slices of the buffer and the whole frame, without copying.
    /// </summary>
    public static bool TryReadCommand(ref ReadOnlySequence<byte> buffer, List<ReadOnlySequence<byte>> args, out ReadOnlySequence<byte> frame, long maxBulkLength = DefaultMaxBulkLength)
    {
        args.Clear();
        var cursor = new ByteCursor(buffer);
        byte[] scratch = t_lineScratch ??= new byte[128];
        frame = default;
        if (!cursor.TryRead(out byte type)) return false;
        if (type != (byte)'*') ThrowProtocol($"expected a command array, got {Describe(type)}");
        if (!TryReadLength(ref cursor, scratch, out long count)) return false;
        if (count < 0 || count > 1024 * 1024) ThrowProtocol($"invalid command argument count {count}");
        for (long i = 0; i < count; i++)
        {
            if (!cursor.TryRead(out byte t)) return false;
            if (t != (byte)'$') ThrowProtocol($"expected a bulk string argument, got {Describe(t)}");
            if (!TryReadLength(ref cursor, scratch, out long len)) return false;
            if (len < 0 || len > maxBulkLength) ThrowProtocol($"invalid bulk length {len}");
            if (!cursor.TryReadSequence(len, out ReadOnlySequence<byte> arg)) return false;
            if (!TryReadCrlf(ref cursor)) return false;
            args.Add(arg);
        }
        frame = buffer.Slice(0, cursor.Position);
        buffer = buffer.Slice(cursor.Position);
        return true;
    }

    private struct FrameInfo
    {
        public int ErrorCount;
        public ReadOnlySequence<byte> FirstError;
        public int FirstErrorIndex;
        public int ElementIndex;
    }

    private static bool TrySkipValue(ref ByteCursor c, Span<byte> scratch, long maxBulk, int depth, ref FrameInfo info,
        out RespKind kind, out long integer, out ReadOnlySequence<byte> payload)
    {
        integer = 0;
        payload = default;
        kind = default;
        if (depth > MaxDepth) ThrowProtocol("frames nested too deep");
        if (!c.TryRead(out byte type)) return false;
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
                long before = c.Consumed;
                if (!SkipLine(ref c)) return false;
                payload = c.Slice(start, c.Consumed - before - 2);
                if (kind == RespKind.Boolean) integer = payload.First.Span.Length > 0 && payload.First.Span[0] == (byte)'t' ? 1 : 0;
                if (kind == RespKind.Error) RecordError(ref info, payload);
                return true;
            }
            case RespKind.Integer:
                if (!TryReadLength(ref c, scratch, out integer)) return false;
                return true;
            case RespKind.BulkString:
            case RespKind.BulkError:
            case RespKind.VerbatimString:
            {
                if (!TryReadLength(ref c, scratch, out long len)) return false;
                if (len == -1 && kind == RespKind.BulkString)
                {
                    integer = -1;
                    return true;
                }
                if (len < 0 || len > maxBulk) ThrowProtocol($"invalid bulk length {len}");
                if (!c.TryReadSequence(len, out payload)) return false;
                if (!TryReadCrlf(ref c)) return false;
                if (kind == RespKind.BulkError) RecordError(ref info, payload);
                return true;
            }
            case RespKind.Array:
            case RespKind.Set:
            case RespKind.Push:
            case RespKind.Map:
            case RespKind.Attribute:
            {
                if (!TryReadLength(ref c, scratch, out long count)) return false;
                integer = count;
                if (count == -1) return true;
                if (count < 0) ThrowProtocol($"invalid aggregate length {count}");
                if (kind == RespKind.Map || kind == RespKind.Attribute) count *= 2;
                bool top = depth == 0;
                for (long i = 0; i < count; i++)
                {
                    if (top) info.ElementIndex = (int)Math.Min(i, int.MaxValue);
                    if (!TrySkipValue(ref c, scratch, maxBulk, depth + 1, ref info, out _, out _, out _)) return false;
                }
                if (kind == RespKind.Attribute)
                {
                    // An attribute annotates the frame that follows it: the reply is that frame.
                    return TrySkipValue(ref c, scratch, maxBulk, depth, ref info, out kind, out integer, out payload);
                }
                return true;
            }
            default:
                ThrowProtocol($"unknown frame type {Describe(type)}");
                return false;
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

    private static bool SkipLine(ref ByteCursor c)
    {
        while (true)
        {
            ReadOnlySpan<byte> span = c.CurrentSpan;
            if (span.IsEmpty) return false;
            int lf = span.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                c.TryAdvance(lf + 1);
                return true;
            }
            c.TryAdvance(span.Length);
        }
    }

    private static bool TryReadValue(ref ByteCursor c, byte[] scratch, long maxBulk, int depth, [NotNullWhen(true)] out RespValue? value)
    {
        value = null;
        if (depth > MaxDepth) ThrowProtocol("frames nested too deep");
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
                if (!TryLine(ref c, scratch, out _)) return false;
                value = new RespValue(kind, isNull: true);
                return true;
            case RespKind.Boolean:
            {
                if (!TryLine(ref c, scratch, out ReadOnlySpan<byte> line)) return false;
                if (line.Length != 1 || (line[0] != (byte)'t' && line[0] != (byte)'f')) ThrowProtocol("invalid boolean");
                value = new RespValue(kind, integer: line[0] == (byte)'t' ? 1 : 0);
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
                if (!TryReadLength(ref c, scratch, out long len)) return false;
                if (len == -1 && kind == RespKind.BulkString)
                {
                    value = new RespValue(kind, isNull: true);
                    return true;
                }
                if (len < 0 || len > maxBulk) ThrowProtocol($"invalid bulk length {len}");
                if (!c.TryReadSequence(len, out ReadOnlySequence<byte> payload)) return false;
                if (!TryReadCrlf(ref c)) return false;
                byte[] bytes = payload.ToArray();
                if (kind == RespKind.VerbatimString)
                {
                    // "txt:" prefix: the format, then the text.
                    if (bytes.Length >= 4 && bytes[3] == (byte)':') bytes = bytes.AsSpan(4).ToArray();
                    kind = RespKind.BulkString;
                }
                value = new RespValue(kind, bytes);
                return true;
            }
            case RespKind.Array:
            case RespKind.Set:
            case RespKind.Push:
            case RespKind.Map:
            case RespKind.Attribute:
            {
                if (!TryReadLength(ref c, scratch, out long count)) return false;
                if (count == -1)
                {
                    value = new RespValue(kind, isNull: true);
                    return true;
                }
                if (count < 0 || count > int.MaxValue / 2) ThrowProtocol($"invalid aggregate length {count}");
                if (kind == RespKind.Map || kind == RespKind.Attribute) count *= 2;
                var items = new RespValue[count];
                for (long i = 0; i < count; i++)
                {
                    if (!TryReadValue(ref c, scratch, maxBulk, depth + 1, out RespValue? item)) return false;
                    items[i] = item;
                }
                if (kind == RespKind.Attribute)
                {
                    return TryReadValue(ref c, scratch, maxBulk, depth, out value);
                }
                value = new RespValue(kind, items: items);
                return true;
            }
            default:
                ThrowProtocol($"unknown frame type {Describe(type)}");
                return false;
        }
    }

    private static bool TryLine(ref ByteCursor c, Span<byte> scratch, out ReadOnlySpan<byte> line)
    {
        if (c.TryReadLine(scratch, out line, out bool bad)) return true;
        if (bad) ThrowProtocol("line too long or not terminated by CRLF");
        return false;
    }

    private static bool TryReadLength(ref ByteCursor c, Span<byte> scratch, out long value)
    {
        value = 0;
        if (!c.TryReadLine(scratch, out ReadOnlySpan<byte> line, out bool bad))
        {
            if (bad) ThrowProtocol("length line too long or not terminated by CRLF");
            return false;
        }
        if (!Utf8Parser.TryParse(line, out value, out int used) || used != line.Length)
        {
            ThrowProtocol($"invalid number {KeyText.Format(line)}");
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

    private static string Describe(byte b) => b >= 0x20 && b < 0x7f ? $"'{(char)b}'" : $"0x{b:x2}";

    [DoesNotReturn]
    internal static void ThrowProtocol(string detail) =>
        throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop, "RESP protocol error: " + detail + ".");
}

/// <summary>What a writer learns from one skipped reply frame.</summary>
public readonly struct RespFrame
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

    /// <summary>An integer reply's value, or an aggregate's element count (-1 for a null array or bulk).</summary>
    public long Integer { get; }

    /// <summary>A bulk string's payload (valid only until the buffer is advanced).</summary>
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>Errors in the frame: 1 for an error reply, or the error elements of an array (EXEC).</summary>
    public int ErrorCount { get; }

    /// <summary>The first error's text without its leading '-' (valid only until the buffer is advanced).</summary>
    public ReadOnlySequence<byte> FirstError { get; }

    /// <summary>For an array, the index of the element that held the first error.</summary>
    public int FirstErrorIndex { get; }

    public bool IsError => Kind == RespKind.Error || Kind == RespKind.BulkError;
}
