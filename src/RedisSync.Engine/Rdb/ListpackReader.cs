using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Walks a listpack (listpack.c) from the front: a 6-byte header (total bytes, element count), then
/// elements, each an encoding, its data and a 1–5 byte back-length, then 0xFF. Never reads outside the blob.
/// </summary>
internal ref struct ListpackReader
{
    private readonly ReadOnlySpan<byte> _lp;
    private int _pos;

    public ListpackReader(ReadOnlySpan<byte> listpack)
    {
        _lp = listpack;
        _pos = 6;
        if (listpack.Length < 7) throw new PackedFormatException("listpack shorter than its header");
        if (BinaryPrimitives.ReadUInt32LittleEndian(listpack) != (uint)listpack.Length)
        {
            throw new PackedFormatException($"listpack header says {BinaryPrimitives.ReadUInt32LittleEndian(listpack)} bytes but the blob has {listpack.Length}");
        }
    }

    /// <summary>The element count in the header, or -1 when it is not recorded (65535).</summary>
    public static long HeaderCount(ReadOnlySpan<byte> header)
    {
        ushort n = BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(4));
        return n == ushort.MaxValue ? -1 : n;
    }

    /// <summary>Reads the next element; false at the end marker.</summary>
    public bool Next(out PackedEntry entry)
    {
        ReadOnlySpan<byte> lp = _lp;
        int p = _pos;
        if (p >= lp.Length) throw new PackedFormatException("listpack has no end marker");
        byte b = lp[p];
        int size; // encoding + data, for the back-length
        if (b < 0x80)
        {
            entry = new PackedEntry(b);
            size = 1;
        }
        else if ((b & 0xC0) == 0x80)
        {
            int len = b & 0x3F;
            entry = new PackedEntry(p + 1, len);
            size = 1 + len;
        }
        else if ((b & 0xE0) == 0xC0)
        {
            Need(p, 2);
            int v = ((b & 0x1F) << 8) | lp[p + 1];
            if (v >= 1 << 12) v -= 1 << 13;
            entry = new PackedEntry(v);
            size = 2;
        }
        else if ((b & 0xF0) == 0xE0)
        {
            Need(p, 2);
            int len = ((b & 0x0F) << 8) | lp[p + 1];
            entry = new PackedEntry(p + 2, len);
            size = 2 + len;
        }
        else
        {
            switch (b)
            {
                case 0xF1:
                    Need(p, 3);
                    entry = new PackedEntry(BinaryPrimitives.ReadInt16LittleEndian(lp.Slice(p + 1)));
                    size = 3;
                    break;
                case 0xF2:
                    Need(p, 4);
                    int v24 = lp[p + 1] | (lp[p + 2] << 8) | (lp[p + 3] << 16);
                    if (v24 >= 1 << 23) v24 -= 1 << 24;
                    entry = new PackedEntry(v24);
                    size = 4;
                    break;
                case 0xF3:
                    Need(p, 5);
                    entry = new PackedEntry(BinaryPrimitives.ReadInt32LittleEndian(lp.Slice(p + 1)));
                    size = 5;
                    break;
                case 0xF4:
                    Need(p, 9);
                    entry = new PackedEntry(BinaryPrimitives.ReadInt64LittleEndian(lp.Slice(p + 1)));
                    size = 9;
                    break;
                case 0xF0:
                    Need(p, 5);
                    uint len32 = BinaryPrimitives.ReadUInt32LittleEndian(lp.Slice(p + 1));
                    if (len32 > (uint)(lp.Length - p - 5)) throw new PackedFormatException($"listpack string of {len32} bytes runs past the blob");
                    entry = new PackedEntry(p + 5, (int)len32);
                    size = 5 + (int)len32;
                    break;
                case 0xFF:
                    entry = default;
                    if (p != lp.Length - 1) throw new PackedFormatException($"listpack end marker at {p} of {lp.Length} bytes");
                    return false;
                default:
                    throw new PackedFormatException($"listpack element has the invalid encoding byte 0x{b:x2} at {p}");
            }
        }
        int next = p + size + BacklenSize(size);
        if ((uint)next > (uint)lp.Length - 1) throw new PackedFormatException($"listpack element at {p} runs past the blob");
        _pos = next;
        return true;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int BacklenSize(int size) =>
        size <= 127 ? 1 : size < 16383 ? 2 : size < 2097151 ? 3 : size < 268435455 ? 4 : 5;

    private readonly void Need(int p, int n)
    {
        if (_lp.Length - p < n) throw new PackedFormatException($"listpack element at {p} runs past the blob");
    }
}

/// <summary>A listpack, ziplist, zipmap or intset blob is malformed; the parser adds where.</summary>
internal sealed class PackedFormatException : Exception
{
    public PackedFormatException(string message) : base(message) { }
}
