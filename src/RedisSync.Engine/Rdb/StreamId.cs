using System;
using System.Buffers.Binary;
using System.Globalization;

namespace RedisSync.Engine.Rdb;

/// <summary>A stream entry id, <c>ms-seq</c>.</summary>
internal readonly struct StreamId : IEquatable<StreamId>, IComparable<StreamId>
{
    public StreamId(ulong ms, ulong seq)
    {
        Ms = ms;
        Seq = seq;
    }

    public ulong Ms { get; }

    public ulong Seq { get; }

    public static StreamId Zero => default;

    /// <summary>Reads the 16-byte big-endian form used in radix-tree keys and PELs.</summary>
    public static StreamId FromBigEndian(ReadOnlySpan<byte> raw) =>
        new StreamId(BinaryPrimitives.ReadUInt64BigEndian(raw), BinaryPrimitives.ReadUInt64BigEndian(raw.Slice(8)));

    /// <summary>Writes <c>ms-seq</c> as ASCII and returns the length (at most 41 bytes).</summary>
    public int Format(Span<byte> destination)
    {
        System.Buffers.Text.Utf8Formatter.TryFormat(Ms, destination, out int n);
        destination[n++] = (byte)'-';
        System.Buffers.Text.Utf8Formatter.TryFormat(Seq, destination.Slice(n), out int m);
        return n + m;
    }

    public override string ToString() => Ms.ToString(CultureInfo.InvariantCulture) + "-" + Seq.ToString(CultureInfo.InvariantCulture);

    public bool Equals(StreamId other) => Ms == other.Ms && Seq == other.Seq;

    public override bool Equals(object? obj) => obj is StreamId other && Equals(other);

    public override int GetHashCode() => (Ms.GetHashCode() * 397) ^ Seq.GetHashCode();

    public int CompareTo(StreamId other) => Ms != other.Ms ? Ms.CompareTo(other.Ms) : Seq.CompareTo(other.Seq);

    public static bool operator ==(StreamId a, StreamId b) => a.Equals(b);

    public static bool operator !=(StreamId a, StreamId b) => !a.Equals(b);

    public static bool operator <(StreamId a, StreamId b) => a.CompareTo(b) < 0;

    public static bool operator >(StreamId a, StreamId b) => a.CompareTo(b) > 0;
}
