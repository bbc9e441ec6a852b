using System;
using System.Buffers.Text;

namespace RedisSync.Engine.Rdb;

/// <summary>One element of a listpack, ziplist, zipmap or intset: a byte string in the blob or an integer.</summary>
internal readonly struct PackedEntry
{
    public PackedEntry(int start, int length)
    {
        Start = start;
        Length = length;
        IsInteger = false;
        Integer = 0;
    }

    public PackedEntry(long value)
    {
        Start = 0;
        Length = 0;
        IsInteger = true;
        Integer = value;
    }

    public bool IsInteger { get; }

    public long Integer { get; }

    /// <summary>Where the string starts in the blob.</summary>
    public int Start { get; }

    public int Length { get; }

    /// <summary>The element as bytes: a slice of <paramref name="blob"/>, or the integer in decimal written into <paramref name="digits"/> (at least 20 bytes).</summary>
    public ReadOnlySpan<byte> Text(ReadOnlySpan<byte> blob, Span<byte> digits)
    {
        if (!IsInteger) return blob.Slice(Start, Length);
        Utf8Formatter.TryFormat(Integer, digits, out int n);
        return digits.Slice(0, n);
    }
}
