using System;
using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace RedisSync.Engine.Resp;

/// <summary>Formats RESP commands straight into a buffer writer (a PipeWriter or a pooled batch).</summary>
internal static class RespFormatter
{
    private static readonly byte[] Crlf = { (byte)'\r', (byte)'\n' };

    /// <summary>Writes <c>*count\r\n</c>.</summary>
    public static void WriteArrayHeader(IBufferWriter<byte> writer, int count) => WriteHeader(writer, (byte)'*', count);

    /// <summary>Writes a bulk string.</summary>
    [MethodImpl(HotPath.Compile)]
    public static void WriteBulk(IBufferWriter<byte> writer, ReadOnlySpan<byte> value)
    {
        WriteHeader(writer, (byte)'$', value.Length);
        Span<byte> span = writer.GetSpan();
        if (span.Length >= value.Length + 2)
        {
            value.CopyTo(span);
            span[value.Length] = (byte)'\r';
            span[value.Length + 1] = (byte)'\n';
            writer.Advance(value.Length + 2);
            return;
        }
        // A large value goes in pieces, never asking the writer for one huge contiguous buffer.
        WriteRaw(writer, value);
        WriteRaw(writer, Crlf);
    }

    /// <summary>Writes a bulk string made of the pieces of a sequence.</summary>
    [MethodImpl(HotPath.Compile)]
    public static void WriteBulk(IBufferWriter<byte> writer, in ReadOnlySequence<byte> value)
    {
        WriteHeader(writer, (byte)'$', value.Length);
        foreach (ReadOnlyMemory<byte> piece in value)
        {
            WriteRaw(writer, piece.Span);
        }
        WriteRaw(writer, Crlf);
    }

    /// <summary>Writes an integer as a bulk string (how commands carry numbers).</summary>
    [MethodImpl(HotPath.Compile)]
    public static void WriteBulk(IBufferWriter<byte> writer, long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        WriteBulk(writer, digits.Slice(0, n));
    }

    /// <summary>Writes an ASCII/UTF-8 string as a bulk string (control path).</summary>
    public static void WriteBulk(IBufferWriter<byte> writer, string value) => WriteBulk(writer, Encoding.UTF8.GetBytes(value));

    /// <summary>Writes a whole command from strings, byte arrays and integers (control path).</summary>
    public static void WriteCommand(IBufferWriter<byte> writer, params object[] args)
    {
        WriteArrayHeader(writer, args.Length);
        foreach (object arg in args)
        {
            switch (arg)
            {
                case byte[] bytes: WriteBulk(writer, bytes); break;
                case string s: WriteBulk(writer, s); break;
                case long l: WriteBulk(writer, l); break;
                case int i: WriteBulk(writer, i); break;
                case double d:
                {
                    Span<byte> text = stackalloc byte[ScoreText.MaxLength];
                    WriteBulk(writer, text.Slice(0, ScoreText.Format(d, text)));
                    break;
                }
                case ReadOnlyMemory<byte> m: WriteBulk(writer, m.Span); break;
                default: throw new ArgumentException($"Unsupported command argument type {arg?.GetType().Name ?? "null"}.");
            }
        }
    }

    /// <summary>Copies bytes as they are.</summary>
    public static void WriteRaw(IBufferWriter<byte> writer, ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            Span<byte> span = writer.GetSpan(1);
            int n = Math.Min(span.Length, bytes.Length);
            bytes.Slice(0, n).CopyTo(span);
            writer.Advance(n);
            bytes = bytes.Slice(n);
        }
    }

    [MethodImpl(HotPath.Compile)]
    private static void WriteHeader(IBufferWriter<byte> writer, byte type, long count)
    {
        Span<byte> span = writer.GetSpan(24);
        span[0] = type;
        Utf8Formatter.TryFormat(count, span.Slice(1), out int n);
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        writer.Advance(n + 3);
    }
}

/// <summary>Scores and other doubles as text that Redis parses back to the very same double.</summary>
internal static class ScoreText
{
    /// <summary>Enough room for any formatted double.</summary>
    public const int MaxLength = 32;

    /// <summary>Formats <paramref name="value"/> (shortest round-trip form, "inf"/"-inf") and returns the length.</summary>
    public static int Format(double value, Span<byte> destination)
    {
        string text;
        if (double.IsPositiveInfinity(value)) text = "inf";
        else if (double.IsNegativeInfinity(value)) text = "-inf";
        else if (double.IsNaN(value)) text = "nan";
        else
        {
            text = value.ToString("R", CultureInfo.InvariantCulture);
            // .NET Framework's "R" can miss by one ulp; G17 never does.
            if (double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture) != value || text.Length > MaxLength)
            {
                text = value.ToString("G17", CultureInfo.InvariantCulture);
            }
        }
        for (int i = 0; i < text.Length; i++) destination[i] = (byte)text[i];
        return text.Length;
    }
}
