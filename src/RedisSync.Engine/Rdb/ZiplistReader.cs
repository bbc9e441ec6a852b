using System;
using System.Buffers.Binary;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Walks a ziplist (ziplist.c, RDB 9 and older): a 10-byte header (total bytes, tail offset, count),
/// entries of prev-length, encoding and data, then 0xFF. Never reads outside the blob.
/// </summary>
internal ref struct ZiplistReader
{
    private readonly ReadOnlySpan<byte> _zl;
    private int _pos;

    public ZiplistReader(ReadOnlySpan<byte> ziplist)
    {
        _zl = ziplist;
        _pos = 10;
        if (ziplist.Length < 11) throw new PackedFormatException("ziplist shorter than its header");
        if (BinaryPrimitives.ReadUInt32LittleEndian(ziplist) != (uint)ziplist.Length)
        {
            throw new PackedFormatException($"ziplist header says {BinaryPrimitives.ReadUInt32LittleEndian(ziplist)} bytes but the blob has {ziplist.Length}");
        }
    }

    /// <summary>The entry count in the header, or -1 when it is too large to be recorded (65535).</summary>
    public static long HeaderCount(ReadOnlySpan<byte> header)
    {
        ushort n = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(8));
        return n == ushort.MaxValue ? -1 : n;
    }

    /// <summary>Reads the next entry; false at the end marker.</summary>
    public bool Next(out PackedEntry entry)
    {
        ReadOnlySpan<byte> zl = _zl;
        int p = _pos;
        if (p >= zl.Length) throw new PackedFormatException("ziplist has no end marker");
        if (zl[p] == 0xFF)
        {
            entry = default;
            if (p != zl.Length - 1) throw new PackedFormatException($"ziplist end marker at {p} of {zl.Length} bytes");
            return false;
        }
        p += zl[p] == 0xFE ? 5 : 1;
        Need(p, 1);
        byte enc = zl[p];
        int dataLen;
        switch (enc >> 6)
        {
            case 0:
                dataLen = enc & 0x3F;
                entry = new PackedEntry(p + 1, dataLen);
                p += 1 + dataLen;
                break;
            case 1:
                Need(p, 2);
                dataLen = ((enc & 0x3F) << 8) | zl[p + 1];
                entry = new PackedEntry(p + 2, dataLen);
                p += 2 + dataLen;
                break;
            case 2:
                Need(p, 5);
                uint len32 = BinaryPrimitives.ReadUInt32BigEndian(zl.Slice(p + 1));
                if (enc != 0x80 || len32 > (uint)(zl.Length - p - 5)) throw new PackedFormatException($"ziplist string at {p} runs past the blob");
                entry = new PackedEntry(p + 5, (int)len32);
                p += 5 + (int)len32;
                break;
            default:
                switch (enc)
                {
                    case 0xC0:
                        Need(p, 3);
                        entry = new PackedEntry(BinaryPrimitives.ReadInt16LittleEndian(zl.Slice(p + 1)));
                        p += 3;
                        break;
                    case 0xD0:
                        Need(p, 5);
                        entry = new PackedEntry(BinaryPrimitives.ReadInt32LittleEndian(zl.Slice(p + 1)));
                        p += 5;
                        break;
                    case 0xE0:
                        Need(p, 9);
                        entry = new PackedEntry(BinaryPrimitives.ReadInt64LittleEndian(zl.Slice(p + 1)));
                        p += 9;
                        break;
                    case 0xF0:
                        Need(p, 4);
                        int v24 = zl[p + 1] | (zl[p + 2] << 8) | (zl[p + 3] << 16);
                        if (v24 >= 1 << 23) v24 -= 1 << 24;
                        entry = new PackedEntry(v24);
                        p += 4;
                        break;
                    case 0xFE:
                        Need(p, 2);
                        entry = new PackedEntry((sbyte)zl[p + 1]);
                        p += 2;
                        break;
                    default:
                        if (enc >= 0xF1 && enc <= 0xFD)
                        {
                            entry = new PackedEntry((enc & 0x0F) - 1);
                            p += 1;
                            break;
                        }
                        throw new PackedFormatException($"ziplist entry has the invalid encoding byte 0x{enc:x2} at {p}");
                }
                break;
        }
        if (p > zl.Length - 1) throw new PackedFormatException("ziplist entry runs past the blob");
        _pos = p;
        return true;
    }

    private readonly void Need(int p, int n)
    {
        if (_zl.Length - p < n) throw new PackedFormatException($"ziplist entry at {p} runs past the blob");
    }
}

/// <summary>
/// Walks a zipmap (zipmap.c, Redis 2.4 hashes): a count byte, then entries of length, field, length,
/// free-byte count, value and that many unused bytes, then 0xFF.
/// </summary>
internal ref struct ZipmapReader
{
    private readonly ReadOnlySpan<byte> _zm;
    private int _pos;

    public ZipmapReader(ReadOnlySpan<byte> zipmap)
    {
        _zm = zipmap;
        _pos = 1;
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
