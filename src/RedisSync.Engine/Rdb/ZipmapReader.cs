using System;
using System.Buffers.Binary;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Walks a zipmap (zipmap.c, Redis 2.4 hashes): a count byte, then entries of length, field, length,
/// free-byte count, value and that many unused bytes, then 0xFF.
/// </summary>
internal ref struct ZipmapReader
{
    private readonly ReadOnlySpan<byte> _zm;
    private int _pos;
    private int _count;

    public ZipmapReader(ReadOnlySpan<byte> zipmap)
    {
        _zm = zipmap;
        _pos = 1;
        _count = 0;
        if (zipmap.Length < 2) throw new PackedFormatException("zipmap shorter than its header");
    }

    /// <summary>The pair count in the first byte, or -1 when it is too large to be recorded (254 and up).</summary>
    public static long HeaderCount(ReadOnlySpan<byte> header) => header[0] < 254 ? header[0] : -1;

    /// <summary>Reads the next field/value pair; false at the end marker.</summary>
    public bool Next(out PackedEntry field, out PackedEntry value)
    {
        ReadOnlySpan<byte> zm = _zm;
        int p = _pos;
        if (p >= zm.Length) throw new PackedFormatException("zipmap has no end marker");
        if (zm[p] == 0xFF)
        {
            field = value = default;
            // As zipmapValidateIntegrity: the end marker is the last byte, a zipmap is never empty, and a count in the header is exact.
            if (p != zm.Length - 1) throw new PackedFormatException($"zipmap end marker at {p} of {zm.Length} bytes");
            if (_count == 0) throw new PackedFormatException("zipmap holds no field (Redis refuses an empty zipmap)");
            if (zm[0] != 254 && zm[0] != _count) throw new PackedFormatException($"zipmap header counts {zm[0]} pairs but it holds {_count}");
            return false;
        }
        int flen = Length(ref p);
        Need(p, flen);
        field = new PackedEntry(p, flen);
        p += flen;
        int vlen = Length(ref p);
        Need(p, 1);
        int free = zm[p++];
        Need(p, vlen + free);
        value = new PackedEntry(p, vlen);
        _pos = p + vlen + free;
        _count++;
        return true;
    }

    private int Length(ref int p)
    {
        Need(p, 1);
        byte b = _zm[p];
        if (b < 254)
        {
            p++;
            return b;
        }
        if (b == 254)
        {
            Need(p, 5);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(_zm.Slice(p + 1));
            if (len > int.MaxValue) throw new PackedFormatException($"zipmap length {len} at {p} is too large");
            p += 5;
            return (int)len;
        }
        throw new PackedFormatException($"zipmap has an entry where its end marker should be, at {p}");
    }

    private readonly void Need(int p, int n)
    {
        if (n < 0 || _zm.Length - p < n) throw new PackedFormatException($"zipmap entry at {p} runs past the blob");
    }
}
