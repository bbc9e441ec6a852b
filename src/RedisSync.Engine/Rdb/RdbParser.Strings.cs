using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

// RDB lengths and strings (rdb.c rdbLoadLen, rdbGenericLoadStringObject): a string is a length then
// its bytes, or an int8/16/32 (rendered here as decimal text), or LZF data with both lengths.
internal sealed partial class RdbParser
{
    private const int StrRaw = (int)RdbStringEncoding.Raw;
    private const int StrInt8 = (int)RdbStringEncoding.Int8;
    private const int StrInt16 = (int)RdbStringEncoding.Int16;
    private const int StrInt32 = (int)RdbStringEncoding.Int32;
    private const int StrLzf = (int)RdbStringEncoding.Lzf;
    private const int ArenaKeep = 1024 * 1024;
    private const int BlobKeep = 1024 * 1024;

    private byte[]? _blob;
    private byte[]? _ring;
    private long _blobOffset;
    private long _skimEnd = NoMark;

    /// <summary>An RDB length (6, 14, 32 or 64 bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ulong ReadLength()
    {
        int p = _pos;
        if (_end - p >= 2)
        {
            byte b = _buf[p];
            if (b < 0x40)
            {
                _pos = p + 1;
                return b;
            }
            if (b < 0x80)
            {
                _pos = p + 2;
                return ((ulong)(b & 0x3F) << 8) | _buf[p + 1];
            }
        }
        return ReadLengthSlow();
    }

    private ulong ReadLengthSlow()
    {
        byte b = ReadByte();
        switch (b >> 6)
        {
            case 0:
                return b;
            case 1:
                return ((ulong)(b & 0x3F) << 8) | ReadByte();
            case 2:
                return ReadLongLength(b);
            default:
                ThrowCorrupt($"found an encoded string (0x{b:x2}) where a length belongs");
                return 0;
        }
    }

    private ulong ReadLongLength(byte first)
    {
        if (first == 0x80)
        {
            Ensure(4);
            uint v = BinaryPrimitives.ReadUInt32BigEndian(new ReadOnlySpan<byte>(_buf, _pos, 4));
            _pos += 4;
            return v;
        }
        if (first == 0x81)
        {
            Ensure(8);
            ulong v = BinaryPrimitives.ReadUInt64BigEndian(new ReadOnlySpan<byte>(_buf, _pos, 8));
            _pos += 8;
            return v;
        }
        ThrowCorrupt($"unknown length encoding 0x{first:x2}");
        return 0;
    }

    /// <summary>Reads a string's first bytes: its encoding, and for a plain string its length.</summary>
    [MethodImpl(HotPath.Compile)]
    private int ReadStringHeader(out long length)
    {
        byte b = ReadByte();
        switch (b >> 6)
        {
            case 0:
                length = b;
                return StrRaw;
            case 1:
                length = ((b & 0x3F) << 8) | ReadByte();
                return StrRaw;
            case 2:
                ulong n = ReadLongLength(b);
                if (n > long.MaxValue) ThrowCorrupt($"string length {n} is impossible");
                length = (long)n;
                return StrRaw;
            default:
                length = 0;
                int encoding = b & 0x3F;
                if (encoding > 3) ThrowCorrupt($"unknown string encoding {encoding}");
                return encoding + 1;
        }
    }

    /// <summary>
    /// An LZF string's two lengths (compressed, then plain), checked against each other: one LZF
    /// operation turns at most 3 input bytes into 264 output bytes, so a plain length beyond 88 times
    /// the compressed one is corrupt (and is not allocated).
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private void ReadLzfLengths(out long packed, out long plain)
    {
        ulong p = ReadLength();
        ulong q = ReadLength();
        if (p > MaxLzfInput || q > p * Lzf.MaxRatio)
        {
            ThrowCorrupt($"LZF data of {p} compressed bytes cannot decompress to the {q} bytes it declares");
        }
        packed = (long)p;
        plain = (long)q;
    }

    private const ulong MaxLzfInput = long.MaxValue / Lzf.MaxRatio;

    private long ReadEncodedInt(int kind)
    {
        switch (kind)
        {
            case StrInt8:
                return (sbyte)ReadByte();
            case StrInt16:
                Ensure(2);
                short v = BinaryPrimitives.ReadInt16LittleEndian(new ReadOnlySpan<byte>(_buf, _pos, 2));
                _pos += 2;
                return v;
            default:
                return ReadInt32LE();
        }
    }

    private ReadOnlySpan<byte> IntegerText(long value)
    {
        Span<byte> text = ArenaAlloc(20);
        Utf8Formatter.TryFormat(value, text, out int n);
        return text.Slice(0, n);
    }

    /// <summary>A whole string: a span of the window, or of scratch for ints and LZF; valid for the current element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> ReadStringElement()
    {
        int p = _pos;
        if (p < _end)
        {
            int b = _buf[p];
            if (b < 0x40 && _end - p > b)
            {
                _pos = p + 1 + b;
                _spansOut = true;
                return new ReadOnlySpan<byte>(_buf, p + 1, b);
            }
        }
        return ReadStringElementSlow();
    }

    private ReadOnlySpan<byte> ReadStringElementSlow() => ReadWholeString(intoBlob: false, out _);

    /// <summary>A whole string of any encoding; LZF goes into the blob buffer or the element's scratch.</summary>
    [MethodImpl(HotPath.Compile)]
    private ReadOnlySpan<byte> ReadWholeString(bool intoBlob, out int kind)
    {
        kind = ReadStringHeader(out long length);
        switch (kind)
        {
            case StrRaw:
                return ReadRaw(CheckElementLength(length));
            case StrLzf:
                ReadLzfLengths(out long packed, out long plainLength);
                Ensure(CheckElementLength(packed)); // the compressed bytes are there before the plain ones get memory
                int plain = CheckElementLength(plainLength);
                Span<byte> dest = intoBlob ? BlobBuffer(plain) : ArenaAlloc(plain);
                LzfInto(dest, packed);
                return dest;
            default:
                return IntegerText(ReadEncodedInt(kind));
        }
    }

    [MethodImpl(HotPath.Compile)]
    private int CheckElementLength(long length)
    {
        if ((ulong)length > MaxElementLength) ThrowCorrupt($"an element of {length} bytes is larger than this parser holds");
        return (int)length;
    }

    /// <summary>
    /// A string that is itself a structure (listpack, ziplist, intset, zipmap, quicklist node), held
    /// whole: a span of the window, or of a pooled buffer when it was LZF-compressed.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private ReadOnlySpan<byte> ReadBlob(out bool compressed)
    {
        _blobOffset = Abs;
        ReadOnlySpan<byte> blob = ReadWholeString(intoBlob: true, out int kind);
        compressed = kind == StrLzf;
        return blob;
    }

    [MethodImpl(HotPath.Compile)]
    private Span<byte> BlobBuffer(int length)
    {
        if (_blob == null || _blob.Length < length)
        {
            if (_blob != null) ArrayPool<byte>.Shared.Return(_blob);
            _blob = ArrayPool<byte>.Shared.Rent(Math.Max(length, 4096));
        }
        return new Span<byte>(_blob, 0, length);
    }

    /// <summary>Gives back a blob buffer that a big node left behind.</summary>
    [MethodImpl(HotPath.Compile)]
    private void TrimBuffers()
    {
        if (_blob != null && _blob.Length > BlobKeep)
        {
            ArrayPool<byte>.Shared.Return(_blob);
            _blob = null;
        }
        if (_arena.Length > ArenaKeep)
        {
            ArrayPool<byte>.Shared.Return(_arena);
            _arena = ArrayPool<byte>.Shared.Rent(4096);
            _arenaUsed = 0;
        }
    }

    /// <summary>Decompresses <paramref name="compressed"/> input bytes into exactly <paramref name="dest"/>, reading them as they come.</summary>
    [MethodImpl(HotPath.Compile)]
    private void LzfInto(Span<byte> dest, long compressed)
    {
        long remaining = compressed;
        int op = 0;
        while (remaining > 0)
        {
            Ensure((int)Math.Min(remaining, Lzf.MaxOperationInput));
            int available = (int)Math.Min(remaining, _end - _pos);
            int ip = 0;
            LzfStatus status = Lzf.Decode(new ReadOnlySpan<byte>(_buf, _pos, available), ref ip, dest, ref op);
            _pos += ip;
            remaining -= ip;
            if (status == LzfStatus.Corrupt) ThrowCorrupt("LZF data refers back before its start");
            if (status == LzfStatus.NeedOutput) ThrowCorrupt($"LZF data decompresses to more than the {dest.Length} bytes it declares");
            if (status == LzfStatus.NeedInput && available == remaining) ThrowCorrupt("LZF data ends inside an operation");
        }
        if (op != dest.Length) ThrowCorrupt($"LZF data decompresses to {op} bytes, not the {dest.Length} it declares");
    }

    /// <summary>At a STRING value: its length, and how many bytes it takes in the file; the position does not move.</summary>
    [MethodImpl(HotPath.Compile)]
    private long PeekStringValue(out long encodedLength)
    {
        long start = Abs;
        int kind = ReadStringHeader(out long length);
        long valueLength;
        switch (kind)
        {
            case StrRaw:
                valueLength = length;
                encodedLength = Abs - start + length;
                break;
            case StrLzf:
                ReadLzfLengths(out long packed, out valueLength);
                encodedLength = Abs - start + packed;
                break;
            default:
                long v = ReadEncodedInt(kind);
                Span<byte> digits = stackalloc byte[20];
                Utf8Formatter.TryFormat(v, digits, out int n);
                valueLength = n;
                encodedLength = Abs - start;
                break;
        }
        Rewind(start);
        return valueLength;
    }

    /// <summary>A STRING value, handed on in chunks of at most ChunkSize bytes; LZF is decoded as it streams.</summary>
    [MethodImpl(HotPath.Compile)]
    private void ReadStringValue()
    {
        int kind = ReadStringHeader(out long length);
        switch (kind)
        {
            case StrRaw:
                if (length == 0)
                {
                    _visitor.OnStringChunk(ReadOnlySpan<byte>.Empty, 0, 0, RdbStringEncoding.Raw);
                    return;
                }
                long offset = 0;
                while (offset < length)
                {
                    int n = (int)Math.Min(length - offset, _options.ChunkSize);
                    ReadOnlySpan<byte> piece = ReadRaw(n);
                    _visitor.OnStringChunk(piece, offset, length, RdbStringEncoding.Raw);
                    offset += n;
                }
                return;
            case StrLzf:
                ReadLzfLengths(out long packed, out long plain);
                StreamLzf(packed, plain);
                return;
            default:
                ReadOnlySpan<byte> text = IntegerText(ReadEncodedInt(kind));
                _visitor.OnStringChunk(text, 0, text.Length, (RdbStringEncoding)kind);
                return;
        }
    }

    /// <summary>
    /// Decodes an LZF string into a pooled ring of ChunkSize + 8 KB (a back-reference reaches at most
    /// 8 KB back) and hands out each full chunk: a 200 MB value never sits whole in memory.
    /// </summary>
    private void StreamLzf(long packed, long plain)
    {
        int chunk = _options.ChunkSize;
        if (plain <= chunk)
        {
            Span<byte> whole = ArenaAlloc((int)plain);
            LzfInto(whole, packed);
            _visitor.OnStringChunk(whole, 0, plain, RdbStringEncoding.Lzf);
            return;
        }
        int ringSize = chunk + Lzf.MaxDistance + Lzf.MaxOperationOutput;
        if (_ring == null || _ring.Length < ringSize)
        {
            if (_ring != null) ArrayPool<byte>.Shared.Return(_ring);
            _ring = ArrayPool<byte>.Shared.Rent(ringSize);
        }
        byte[] ring = _ring;
        int op = 0, emitted = 0;
        long delivered = 0, remaining = packed;
        while (remaining > 0)
        {
            Ensure((int)Math.Min(remaining, Lzf.MaxOperationInput));
            int available = (int)Math.Min(remaining, _end - _pos);
            int ip = 0;
            LzfStatus status = Lzf.Decode(new ReadOnlySpan<byte>(_buf, _pos, available), ref ip, new Span<byte>(ring, 0, ringSize), ref op);
            _pos += ip;
            remaining -= ip;
            if (status == LzfStatus.Corrupt) ThrowCorrupt("LZF data refers back before its start");
            if (delivered + op - emitted > plain) ThrowCorrupt($"LZF data decompresses to more than the {plain} bytes it declares");
            while (op - emitted >= chunk)
            {
                _visitor.OnStringChunk(new ReadOnlySpan<byte>(ring, emitted, chunk), delivered, plain, RdbStringEncoding.Lzf);
                delivered += chunk;
                emitted += chunk;
            }
            if (status == LzfStatus.NeedOutput)
            {
                int keepFrom = Math.Min(emitted, op - Lzf.MaxDistance);
                Buffer.BlockCopy(ring, keepFrom, ring, 0, op - keepFrom);
                op -= keepFrom;
                emitted -= keepFrom;
            }
            else if (status == LzfStatus.NeedInput && available == remaining)
            {
                ThrowCorrupt("LZF data ends inside an operation");
            }
        }
        if (op > emitted)
        {
            _visitor.OnStringChunk(new ReadOnlySpan<byte>(ring, emitted, op - emitted), delivered, plain, RdbStringEncoding.Lzf);
            delivered += op - emitted;
        }
        if (delivered != plain) ThrowCorrupt($"LZF data decompresses to {delivered} bytes, not the {plain} it declares");
    }

    /// <summary>Moves past a string; false when it would end beyond the capture limit (<see cref="_skimEnd"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool SkipString()
    {
        int p = _pos;
        if (p < _end)
        {
            int b = _buf[p];
            if (b < 0x40 && _end - p > b)
            {
                _pos = p + 1 + b;
                return _bufAbs + _pos <= _skimEnd;
            }
        }
        return SkipStringSlow();
    }

    [MethodImpl(HotPath.Compile)]
    private bool SkipStringSlow()
    {
        int kind = ReadStringHeader(out long length);
        long n = kind switch
        {
            StrRaw => length,
            StrInt8 => 1,
            StrInt16 => 2,
            StrInt32 => 4,
            _ => SkipLzfHeader(),
        };
        return SkipBytes(n);
    }

    [MethodImpl(HotPath.Compile)]
    private long SkipLzfHeader()
    {
        ReadLzfLengths(out long packed, out _);
        return packed;
    }

    /// <summary>Moves past <paramref name="n"/> bytes; false (without moving) when they would end beyond <see cref="_skimEnd"/>.</summary>
    [MethodImpl(HotPath.Compile)]
    private bool SkipBytes(long n)
    {
        if (n < 0) ThrowCorrupt($"a length of {n} bytes is impossible");
        if (Abs + n > _skimEnd) return false;
        Skip(n);
        return true;
    }

    /// <summary>The first bytes of a blob (decompressed if need be), to read its header; the caller rewinds.</summary>
    [MethodImpl(HotPath.Compile)]
    private int PeekBlobPrefix(Span<byte> dest)
    {
        int kind = ReadStringHeader(out long length);
        if (kind == StrRaw)
        {
            int n = (int)Math.Min(length, dest.Length);
            Ensure(n);
            new ReadOnlySpan<byte>(_buf, _pos, n).CopyTo(dest);
            return n;
        }
        if (kind != StrLzf) return 0;
        ReadLzfLengths(out long packed, out _);
        int take = (int)Math.Min(packed, 64);
        Ensure(take);
        Span<byte> plain = stackalloc byte[64 + Lzf.MaxOperationOutput];
        int ip = 0, op = 0;
        Lzf.Decode(new ReadOnlySpan<byte>(_buf, _pos, take), ref ip, plain, ref op);
        int got = Math.Min(op, dest.Length);
        plain.Slice(0, got).CopyTo(dest);
        return got;
    }
}
