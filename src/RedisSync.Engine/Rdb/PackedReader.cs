using System;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Walks a listpack or a ziplist from the front, element by element, never reading outside the blob.
/// A listpack (listpack.c): a 6-byte header (total bytes, element count), then elements, each an
/// encoding, its data and a 1–5 byte back-length, then 0xFF. A ziplist (ziplist.c, RDB 9 and older):
/// a 10-byte header (total bytes, tail offset, count), entries of prev-length, encoding and data, then 0xFF.
/// </summary>
internal ref struct PackedReader
{
    private readonly ReadOnlySpan<byte> _blob;
    private readonly bool _ziplist;
    private int _pos;

    private PackedReader(ReadOnlySpan<byte> blob, bool ziplist)
    {
        string kind = ziplist ? "ziplist" : "listpack";
        int header = ziplist ? 10 : 6;
        if (blob.Length <= header) throw new PackedFormatException($"{kind} shorter than its header");
        uint total = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        if (total != (uint)blob.Length) throw new PackedFormatException($"{kind} header says {total} bytes but the blob has {blob.Length}");
        _blob = blob;
        _ziplist = ziplist;
        _pos = header;
    }

    public static PackedReader Listpack(ReadOnlySpan<byte> blob) => new PackedReader(blob, ziplist: false);

    public static PackedReader Ziplist(ReadOnlySpan<byte> blob) => new PackedReader(blob, ziplist: true);

    /// <summary>The element count in a listpack header, or -1 when it is not recorded (65535).</summary>
    public static long ListpackCount(ReadOnlySpan<byte> header) => Unrecorded(BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(4)));

    /// <summary>The entry count in a ziplist header, or -1 when it is too large to be recorded (65535).</summary>
    public static long ZiplistCount(ReadOnlySpan<byte> header) => Unrecorded(BinaryPrimitives.ReadUInt16LittleEndian(header.Slice(8)));

    private static long Unrecorded(ushort n) => n == ushort.MaxValue ? -1 : n;

    /// <summary>Reads the next element; false at the end marker.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Next(out PackedEntry entry) => _ziplist ? NextZiplist(out entry) : NextListpack(out entry);

    [MethodImpl(HotPath.Compile)]
    private bool NextListpack(out PackedEntry entry)
    {
        ReadOnlySpan<byte> lp = _blob;
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
            NeedListpack(p, 2);
            int v = ((b & 0x1F) << 8) | lp[p + 1];
            if (v >= 1 << 12) v -= 1 << 13;
            entry = new PackedEntry(v);
            size = 2;
        }
        else if ((b & 0xF0) == 0xE0)
        {
            NeedListpack(p, 2);
            int len = ((b & 0x0F) << 8) | lp[p + 1];
            entry = new PackedEntry(p + 2, len);
            size = 2 + len;
        }
        else
        {
            switch (b)
            {
                case 0xF1:
                    NeedListpack(p, 3);
                    entry = new PackedEntry(BinaryPrimitives.ReadInt16LittleEndian(lp.Slice(p + 1)));
                    size = 3;
                    break;
                case 0xF2:
                    NeedListpack(p, 4);
                    int v24 = lp[p + 1] | (lp[p + 2] << 8) | (lp[p + 3] << 16);
                    if (v24 >= 1 << 23) v24 -= 1 << 24;
                    entry = new PackedEntry(v24);
                    size = 4;
                    break;
                case 0xF3:
                    NeedListpack(p, 5);
                    entry = new PackedEntry(BinaryPrimitives.ReadInt32LittleEndian(lp.Slice(p + 1)));
                    size = 5;
                    break;
                case 0xF4:
                    NeedListpack(p, 9);
                    entry = new PackedEntry(BinaryPrimitives.ReadInt64LittleEndian(lp.Slice(p + 1)));
                    size = 9;
                    break;
                case 0xF0:
                    NeedListpack(p, 5);
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

    private bool NextZiplist(out PackedEntry entry)
    {
        ReadOnlySpan<byte> zl = _blob;
        int p = _pos;
        if (p >= zl.Length) throw new PackedFormatException("ziplist has no end marker");
        if (zl[p] == 0xFF)
        {
            entry = default;
            if (p != zl.Length - 1) throw new PackedFormatException($"ziplist end marker at {p} of {zl.Length} bytes");
            return false;
        }
        p += zl[p] == 0xFE ? 5 : 1;
        NeedZiplist(p, 1);
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
                NeedZiplist(p, 2);
                dataLen = ((enc & 0x3F) << 8) | zl[p + 1];
                entry = new PackedEntry(p + 2, dataLen);
                p += 2 + dataLen;
                break;
            case 2:
                NeedZiplist(p, 5);
                uint len32 = BinaryPrimitives.ReadUInt32BigEndian(zl.Slice(p + 1));
                if (enc != 0x80 || len32 > (uint)(zl.Length - p - 5)) throw new PackedFormatException($"ziplist string at {p} runs past the blob");
                entry = new PackedEntry(p + 5, (int)len32);
                p += 5 + (int)len32;
                break;
            default:
                switch (enc)
                {
                    case 0xC0:
                        NeedZiplist(p, 3);
                        entry = new PackedEntry(BinaryPrimitives.ReadInt16LittleEndian(zl.Slice(p + 1)));
                        p += 3;
                        break;
                    case 0xD0:
                        NeedZiplist(p, 5);
                        entry = new PackedEntry(BinaryPrimitives.ReadInt32LittleEndian(zl.Slice(p + 1)));
                        p += 5;
                        break;
                    case 0xE0:
                        NeedZiplist(p, 9);
                        entry = new PackedEntry(BinaryPrimitives.ReadInt64LittleEndian(zl.Slice(p + 1)));
                        p += 9;
                        break;
                    case 0xF0:
                        NeedZiplist(p, 4);
                        int v24 = zl[p + 1] | (zl[p + 2] << 8) | (zl[p + 3] << 16);
                        if (v24 >= 1 << 23) v24 -= 1 << 24;
                        entry = new PackedEntry(v24);
                        p += 4;
                        break;
                    case 0xFE:
                        NeedZiplist(p, 2);
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

    [MethodImpl(HotPath.Compile)]
    private readonly void NeedListpack(int p, int n)
    {
        if (_blob.Length - p < n) throw new PackedFormatException($"listpack element at {p} runs past the blob");
    }

    private readonly void NeedZiplist(int p, int n)
    {
        if (_blob.Length - p < n) throw new PackedFormatException($"ziplist entry at {p} runs past the blob");
    }
}

/// <summary>A listpack, ziplist, zipmap or intset blob is malformed; the parser adds where.</summary>
internal sealed class PackedFormatException : Exception
{
    public PackedFormatException(string message) : base(message) { }
}
