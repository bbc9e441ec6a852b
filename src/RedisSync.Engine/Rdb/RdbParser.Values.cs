using System;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

// Values (rdb.c rdbLoadObject): what each type holds, read three ways — its declared element count
// (before OnKey), its structure only (to capture or skip it), and its elements (for the visitor).
internal sealed partial class RdbParser
{
    private readonly byte[] _digitsA = new byte[24];
    private readonly byte[] _digitsB = new byte[24];

    /// <summary>The element count the value declares first (pairs for hashes), or -1; the caller rewinds.</summary>
    [MethodImpl(HotPath.Compile)]
    private long PeekValueLength(RdbType type)
    {
        switch (type)
        {
            case RdbType.List:
            case RdbType.Set:
            case RdbType.ZSet:
            case RdbType.ZSet2:
            case RdbType.Hash:
            case RdbType.HashMetadataPreGa:
                return Count(ReadLength());
            case RdbType.HashMetadata:
                Skip(8);
                return Count(ReadLength());
            case RdbType.HashListpackEx:
                Skip(8);
                return BlobCount(type);
            case RdbType.HashZipmap:
            case RdbType.ListZiplist:
            case RdbType.SetIntset:
            case RdbType.ZSetZiplist:
            case RdbType.HashZiplist:
            case RdbType.HashListpack:
            case RdbType.ZSetListpack:
            case RdbType.SetListpack:
            case RdbType.HashListpackExPreGa:
                return BlobCount(type);
            default:
                return -1;
        }
    }

    private static long Count(ulong n) => n > long.MaxValue ? -1 : (long)n;

    [MethodImpl(HotPath.Compile)]
    private long BlobCount(RdbType type)
    {
        Span<byte> head = stackalloc byte[10];
        int got = PeekBlobPrefix(head);
        long n;
        switch (type)
        {
            case RdbType.HashZipmap:
                return got >= 1 ? ZipmapReader.HeaderCount(head) : -1;
            case RdbType.SetIntset:
                return got >= 8 ? BinaryPrimitives.ReadUInt32LittleEndian(head.Slice(4)) : -1;
            case RdbType.ListZiplist:
            case RdbType.ZSetZiplist:
            case RdbType.HashZiplist:
                n = got >= 10 ? PackedReader.ZiplistCount(head) : -1;
                return n < 0 || type == RdbType.ListZiplist ? n : n / 2;
            default:
                n = got >= 6 ? PackedReader.ListpackCount(head) : -1;
                if (n < 0 || type == RdbType.SetListpack) return n;
                return type == RdbType.HashListpackEx || type == RdbType.HashListpackExPreGa ? n / 3 : n / 2;
        }
    }

    /// <summary>Reads a value and hands its elements to the visitor.</summary>
    [MethodImpl(HotPath.Compile)]
    private void ReadValue(RdbType type)
    {
        switch (type)
        {
            case RdbType.String:
                ReadStringValue();
                break;
            case RdbType.List:
            case RdbType.Set:
                ReadStringList(type == RdbType.List);
                break;
            case RdbType.ZSet:
            case RdbType.ZSet2:
                ReadZSet(type == RdbType.ZSet2);
                break;
            case RdbType.Hash:
                ReadHash();
                break;
            case RdbType.HashMetadataPreGa:
            case RdbType.HashMetadata:
                ReadHashWithTtls(type == RdbType.HashMetadata);
                break;
            case RdbType.ListQuicklist:
            case RdbType.ListQuicklist2:
                ReadQuicklist(type == RdbType.ListQuicklist2);
                break;
            case RdbType.StreamListpacks:
            case RdbType.StreamListpacks2:
            case RdbType.StreamListpacks3:
                ReadStream(type);
                break;
            case RdbType.HashListpackEx:
                Skip(8);
                ReadPacked(type);
                break;
            default:
                ReadPacked(type);
                break;
        }
    }

    [MethodImpl(HotPath.Compile)]
    private void ReadStringList(bool list)
    {
        ulong n = ReadLength();
        for (ulong i = 0; i < n; i++)
        {
            NewElement();
            ReadOnlySpan<byte> element = ReadStringElement();
            if (list) _visitor.OnListElement(element);
            else _visitor.OnSetMember(element);
        }
    }

    private void ReadZSet(bool binaryScores)
    {
        ulong n = ReadLength();
        for (ulong i = 0; i < n; i++)
        {
            NewElement();
            ReadOnlySpan<byte> member = ReadStringElement();
            double score;
            if (binaryScores)
            {
                score = BitConverter.Int64BitsToDouble(ReadInt64LE());
            }
            else
            {
                score = ReadDoubleText();
            }
            if (double.IsNaN(score)) ThrowCorrupt("a sorted-set score is NaN");
            _visitor.OnZSetMember(member, score);
        }
    }

    /// <summary>A ZSET (type 3) score: a length byte (253 NaN, 254 +inf, 255 -inf) then "%.17g" text.</summary>
    private double ReadDoubleText()
    {
        byte len = ReadByte();
        switch (len)
        {
            case 255: return double.NegativeInfinity;
            case 254: return double.PositiveInfinity;
            case 253: return double.NaN;
            default: return ParseScore(ReadRaw(len));
        }
    }

    /// <summary>A score written as text (strtod rules: decimal, exponent, inf/-inf).</summary>
    private double ParseScore(ReadOnlySpan<byte> text)
    {
        if (Utf8Parser.TryParse(text, out double value, out int used) && used == text.Length) return value;
        if (ScoreTextIs(text, "inf"u8) || ScoreTextIs(text, "+inf"u8) || ScoreTextIs(text, "infinity"u8)) return double.PositiveInfinity;
        if (ScoreTextIs(text, "-inf"u8) || ScoreTextIs(text, "-infinity"u8)) return double.NegativeInfinity;
        ThrowCorrupt($"the sorted-set score {KeyText.Format(text)} is not a number");
        return 0;
    }

    private static bool ScoreTextIs(ReadOnlySpan<byte> text, ReadOnlySpan<byte> word)
    {
        if (text.Length != word.Length) return false;
        for (int i = 0; i < text.Length; i++)
        {
            if ((text[i] | 0x20) != word[i]) return false;
        }
        return true;
    }

    private void ReadHash()
    {
        ulong n = ReadLength();
        for (ulong i = 0; i < n; i++)
        {
            NewElement();
            ReadOnlySpan<byte> field = ReadStringElement();
            ReadOnlySpan<byte> value = ReadStringElement();
            _visitor.OnHashField(field, value, -1);
        }
    }

    /// <summary>
    /// HASH_METADATA (24): min-expire (8 bytes), count, then per field its TTL (0 = none, else
    /// relative: min-expire + ttl - 1), field and value. HASH_METADATA_PRE_GA (22): no min-expire,
    /// absolute TTLs.
    /// </summary>
    private void ReadHashWithTtls(bool relative)
    {
        long minExpire = relative ? ReadInt64LE() : 0;
        ulong n = ReadLength();
        for (ulong i = 0; i < n; i++)
        {
            NewElement();
            ulong ttl = ReadLength();
            ReadOnlySpan<byte> field = ReadStringElement();
            ReadOnlySpan<byte> value = ReadStringElement();
            long expireAt = ttl == 0 ? -1 : relative ? minExpire + (long)ttl - 1 : (long)ttl;
            _visitor.OnHashField(field, value, expireAt);
        }
    }

    [MethodImpl(HotPath.Compile)]
    private void ReadQuicklist(bool withContainers)
    {
        ulong nodes = ReadLength();
        for (ulong i = 0; i < nodes; i++)
        {
            NewElement();
            QuicklistContainer container = QuicklistContainer.Ziplist;
            if (withContainers)
            {
                ulong c = ReadLength();
                if (c != (ulong)QuicklistContainer.Plain && c != (ulong)QuicklistContainer.Packed) ThrowCorrupt($"quicklist node container {c} is neither 1 (PLAIN) nor 2 (PACKED)");
                container = (QuicklistContainer)c;
            }
            ReadOnlySpan<byte> blob = ReadBlob(out bool compressed);
            _visitor.OnQuicklistNode(container, compressed);
            switch (container)
            {
                case QuicklistContainer.Plain:
                    _visitor.OnListElement(blob);
                    break;
                default:
                    EmitPacked(blob, container == QuicklistContainer.Packed ? RdbType.ListQuicklist2 : RdbType.ListQuicklist);
                    break;
            }
        }
    }

    /// <summary>The types whose value is one blob: zipmap, ziplists, intset, listpacks.</summary>
    [MethodImpl(HotPath.Compile)]
    private void ReadPacked(RdbType type)
    {
        NewElement();
        ReadOnlySpan<byte> blob = ReadBlob(out _);
        switch (type)
        {
            case RdbType.HashZipmap:
                EmitZipmap(blob);
                break;
            case RdbType.SetIntset:
                EmitIntset(blob);
                break;
            default:
                EmitPacked(blob, type);
                break;
        }
    }

    /// <summary>Hands a listpack's or ziplist's elements to the visitor as <paramref name="type"/> holds them: single elements, pairs or triples.</summary>
    [MethodImpl(HotPath.Compile)]
    private void EmitPacked(ReadOnlySpan<byte> blob, RdbType type)
    {
        try
        {
            bool ziplist = type == RdbType.ListQuicklist || type == RdbType.ListZiplist || type == RdbType.ZSetZiplist || type == RdbType.HashZiplist;
            PackedReader reader = ziplist ? PackedReader.Ziplist(blob) : PackedReader.Listpack(blob);
            PackedEntry e, v, ttl;
            if (_visitor.CountOnly && type != RdbType.HashListpackEx && type != RdbType.HashListpackExPreGa)
            {
                _visitor.OnElementsCounted(CountPacked(ref reader, type));
                return;
            }
            switch (type)
            {
                case RdbType.HashListpack:
                case RdbType.HashZiplist:
                    while (reader.Next(out e))
                    {
                        if (!reader.Next(out v)) throw new PackedFormatException("hash has a field without a value");
                        _visitor.OnHashField(e.Text(blob, _digitsA), v.Text(blob, _digitsB), -1);
                    }
                    break;
                case RdbType.HashListpackEx:
                case RdbType.HashListpackExPreGa:
                    while (reader.Next(out e))
                    {
                        if (!reader.Next(out v) || !reader.Next(out ttl)) throw new PackedFormatException("hash ends inside a field/value/TTL triple");
                        if (!ttl.IsInteger) throw new PackedFormatException("hash field TTL is not an integer");
                        _visitor.OnHashField(e.Text(blob, _digitsA), v.Text(blob, _digitsB), ttl.Integer == 0 ? -1 : ttl.Integer);
                    }
                    break;
                case RdbType.ZSetListpack:
                case RdbType.ZSetZiplist:
                    while (reader.Next(out e))
                    {
                        if (!reader.Next(out v)) throw new PackedFormatException("sorted set has a member without a score");
                        double score = v.IsInteger ? v.Integer : ParseScore(blob.Slice(v.Start, v.Length));
                        if (double.IsNaN(score)) ThrowCorrupt("a sorted-set score is NaN");
                        _visitor.OnZSetMember(e.Text(blob, _digitsA), score);
                    }
                    break;
                case RdbType.SetListpack:
                    while (reader.Next(out e)) _visitor.OnSetMember(e.Text(blob, _digitsA));
                    break;
                default:
                    while (reader.Next(out e)) _visitor.OnListElement(e.Text(blob, _digitsA));
                    break;
            }
        }
        catch (PackedFormatException e)
        {
            ThrowError(SyncErrorIds.RdbCorrupt, e.Message, _blobOffset);
        }
    }

    /// <summary>
    /// Walks a listpack's or ziplist's entries as <see cref="EmitPacked"/> does (every entry checked,
    /// pairs complete) without decoding them, and returns how many elements they make. Scores are not
    /// parsed: a target loads the payload as Redis loads its own file, which does not parse them either.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private static long CountPacked(ref PackedReader reader, RdbType type)
    {
        bool pairs = type == RdbType.HashListpack || type == RdbType.HashZiplist || type == RdbType.ZSetListpack || type == RdbType.ZSetZiplist;
        long n = 0;
        while (reader.Next(out _))
        {
            if (pairs && !reader.Next(out _))
            {
                throw new PackedFormatException(type == RdbType.ZSetListpack || type == RdbType.ZSetZiplist ? "sorted set has a member without a score" : "hash has a field without a value");
            }
            n++;
        }
        return n;
    }

    private void EmitZipmap(ReadOnlySpan<byte> blob)
    {
        try
        {
            var zm = new ZipmapReader(blob);
            if (_visitor.CountOnly)
            {
                long n = 0;
                while (zm.Next(out _, out _)) n++;
                _visitor.OnElementsCounted(n);
                return;
            }
            while (zm.Next(out PackedEntry f, out PackedEntry v)) _visitor.OnHashField(f.Text(blob, _digitsA), v.Text(blob, _digitsB), -1);
        }
        catch (PackedFormatException e)
        {
            ThrowError(SyncErrorIds.RdbCorrupt, e.Message, _blobOffset);
        }
    }

    /// <summary>An intset (intset.c): encoding width (2, 4 or 8), count, then the sorted little-endian integers.</summary>
    private void EmitIntset(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 8) ThrowError(SyncErrorIds.RdbCorrupt, "intset shorter than its header", _blobOffset);
        uint width = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(blob.Slice(4));
        if (width != 2 && width != 4 && width != 8) ThrowError(SyncErrorIds.RdbCorrupt, $"intset has the invalid width {width}", _blobOffset);
        if ((ulong)blob.Length != 8 + (ulong)width * count) ThrowError(SyncErrorIds.RdbCorrupt, $"intset of {count} x {width} bytes is {blob.Length} bytes long", _blobOffset);
        if (count == 0) ThrowError(SyncErrorIds.RdbCorrupt, "intset holds no member (Redis refuses an empty intset)", _blobOffset);
        if (_visitor.CountOnly)
        {
            _visitor.OnElementsCounted(count);
            return;
        }
        Span<byte> digits = _digitsA;
        for (int i = 0, at = 8; i < count; i++, at += (int)width)
        {
            long v = width switch
            {
                2 => BinaryPrimitives.ReadInt16LittleEndian(blob.Slice(at)),
                4 => BinaryPrimitives.ReadInt32LittleEndian(blob.Slice(at)),
                _ => BinaryPrimitives.ReadInt64LittleEndian(blob.Slice(at)),
            };
            Utf8Formatter.TryFormat(v, digits, out int n);
            _visitor.OnSetMember(digits.Slice(0, n));
        }
    }

    /// <summary>
    /// Walks a value's structure without decoding it. Returns false as soon as it would reach past
    /// <see cref="_skimEnd"/> (too big to capture); with no limit it skips the value.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private bool SkipValue(RdbType type)
    {
        ulong n;
        switch (type)
        {
            case RdbType.String:
                return SkipString();
            case RdbType.List:
            case RdbType.Set:
                n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    if (!SkipString()) return false;
                }
                return true;
            case RdbType.ZSet:
                n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    if (!SkipString()) return false;
                    byte len = ReadByte();
                    if (len < 253 && !SkipBytes(len)) return false;
                }
                return true;
            case RdbType.ZSet2:
                n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    if (!SkipString() || !SkipBytes(8)) return false;
                }
                return true;
            case RdbType.Hash:
                n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    if (!SkipString() || !SkipString()) return false;
                }
                return true;
            case RdbType.HashMetadata:
            case RdbType.HashMetadataPreGa:
                if (type == RdbType.HashMetadata && !SkipBytes(8)) return false;
                n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    ReadLength();
                    if (!SkipString() || !SkipString()) return false;
                }
                return true;
            case RdbType.ListQuicklist:
            case RdbType.ListQuicklist2:
                n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    if (type == RdbType.ListQuicklist2) ReadLength();
                    if (!SkipString()) return false;
                }
                return true;
            case RdbType.StreamListpacks:
            case RdbType.StreamListpacks2:
            case RdbType.StreamListpacks3:
                return SkipStream(type);
            case RdbType.Module2:
                _moduleType = ModuleName(ReadLength());
                return SkipModuleOpcodes(_moduleType);
            case RdbType.HashListpackEx:
                return SkipBytes(8) && SkipString();
            default:
                return SkipString();
        }
    }

    /// <summary>A module value's annotated opcodes (rdb.h RDB_MODULE_OPCODE_*), up to and including its EOF.</summary>
    private bool SkipModuleOpcodes(string moduleName)
    {
        while (true)
        {
            if (Abs > _skimEnd) return false;
            ulong opcode = ReadLength();
            switch (opcode)
            {
                case 0:
                    return Abs <= _skimEnd;
                case 1:
                case 2:
                    ReadLength();
                    break;
                case 3:
                    if (!SkipBytes(4)) return false;
                    break;
                case 4:
                    if (!SkipBytes(8)) return false;
                    break;
                case 5:
                    if (!SkipString()) return false;
                    break;
                default:
                    ThrowCorrupt($"module {moduleName} value has the unknown opcode {opcode}");
                    return false;
            }
        }
    }
}
