using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Text;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>
/// Writes RDB files the way rdb.c does (rdbSaveLen, rdbSaveRawString, rdbSaveLzfBlob, …) and builds
/// the blobs inside them (ziplist.c, listpack.c, zipmap.c, intset.c), for what no server fixture holds.
/// </summary>
internal sealed class RdbWriter
{
    private readonly MemoryStream _out = new();

    public RdbWriter(int version = 12) => Raw(Encoding.ASCII.GetBytes("REDIS" + version.ToString("D4", CultureInfo.InvariantCulture)));

    /// <summary>Bytes written so far (the offset of what comes next).</summary>
    public long Position => _out.Length;

    public RdbWriter Raw(ReadOnlySpan<byte> bytes)
    {
        _out.Write(bytes);
        return this;
    }

    public RdbWriter Byte(int b)
    {
        _out.WriteByte((byte)b);
        return this;
    }

    public RdbWriter Length(ulong n)
    {
        if (n < 1 << 6) return Byte((int)n);
        if (n < 1 << 14) return Byte((int)(0x40 | (n >> 8))).Byte((int)(n & 0xff));
        Span<byte> b = stackalloc byte[8];
        if (n <= uint.MaxValue)
        {
            BinaryPrimitives.WriteUInt32BigEndian(b, (uint)n);
            return Byte(0x80).Raw(b.Slice(0, 4));
        }
        BinaryPrimitives.WriteUInt64BigEndian(b, n);
        return Byte(0x81).Raw(b);
    }

    public RdbWriter Length(long n) => Length((ulong)n);

    public RdbWriter String(string s) => String(Encoding.UTF8.GetBytes(s));

    public RdbWriter String(byte[] s) => Length((ulong)s.Length).Raw(s);

    /// <summary>An integer-encoded string (RDB_ENC_INT8/16/32), the smallest that fits.</summary>
    public RdbWriter IntString(long v)
    {
        Span<byte> b = stackalloc byte[4];
        if (v >= sbyte.MinValue && v <= sbyte.MaxValue) return Byte(0xC0).Byte((int)(v & 0xff));
        if (v >= short.MinValue && v <= short.MaxValue)
        {
            BinaryPrimitives.WriteInt16LittleEndian(b, (short)v);
            return Byte(0xC1).Raw(b.Slice(0, 2));
        }
        BinaryPrimitives.WriteInt32LittleEndian(b, checked((int)v));
        return Byte(0xC2).Raw(b);
    }

    /// <summary>An LZF-compressed string (RDB_ENC_LZF): compressed length, plain length, data.</summary>
    public RdbWriter LzfString(byte[] plain)
    {
        byte[] packed = LzfCompress(plain);
        return Byte(0xC3).Length((ulong)packed.Length).Length((ulong)plain.Length).Raw(packed);
    }

    public RdbWriter LzfString(string s) => LzfString(Encoding.UTF8.GetBytes(s));

    public RdbWriter Int32LE(int v)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, v);
        return Raw(b);
    }

    public RdbWriter Int64LE(long v)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, v);
        return Raw(b);
    }

    public RdbWriter BinaryDouble(double d) => Int64LE(BitConverter.DoubleToInt64Bits(d));

    /// <summary>A ZSET (type 3) score: 253 NaN, 254 +inf, 255 -inf, else a length byte and "%.17g" text.</summary>
    public RdbWriter TextDouble(double d)
    {
        if (double.IsPositiveInfinity(d)) return Byte(254);
        if (double.IsNegativeInfinity(d)) return Byte(255);
        if (double.IsNaN(d)) return Byte(253);
        byte[] text = Encoding.ASCII.GetBytes(d.ToString("G17", CultureInfo.InvariantCulture));
        return Byte(text.Length).Raw(text);
    }

    public RdbWriter Aux(string name, string value) => Byte(0xFA).String(name).String(value);

    public RdbWriter SelectDb(int db) => Byte(0xFE).Length((ulong)db);

    public RdbWriter ResizeDb(ulong keys, ulong expires) => Byte(0xFB).Length(keys).Length(expires);

    public RdbWriter ExpireMs(long ms) => Byte(0xFC).Int64LE(ms);

    public RdbWriter ExpireSeconds(int seconds) => Byte(0xFD).Int32LE(seconds);

    public RdbWriter Idle(ulong seconds) => Byte(0xF8).Length(seconds);

    public RdbWriter Freq(byte frequency) => Byte(0xF9).Byte(frequency);

    public RdbWriter SlotInfo(ulong slot, ulong keys, ulong expires) => Byte(0xF4).Length(slot).Length(keys).Length(expires);

    public RdbWriter Function2(string code) => Byte(0xF5).String(code);

    /// <summary>A type byte and the key's name.</summary>
    public RdbWriter Key(RdbType type, string name) => Byte((int)type).String(name);

    /// <summary>A module id as module.c builds it: the 9-character name in 6-bit symbols, then a 10-bit encoding version.</summary>
    public static ulong ModuleId(string name, int encodingVersion)
    {
        const string charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        ulong id = 0;
        foreach (char c in name) id = (id << 6) | (uint)charset.IndexOf(c);
        return (id << 10) | (uint)encodingVersion;
    }

    /// <summary>EOF and, from version 5, the CRC64 of everything before it (or 0: checksums disabled).</summary>
    public byte[] End(int version = 12, bool checksum = true)
    {
        Byte(0xFF);
        if (version >= 5)
        {
            byte[] body = _out.ToArray();
            Int64LE(checksum ? (long)Crc64.Update(0, body) : 0);
        }
        return _out.ToArray();
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>A ziplist (ziplist.c) of strings and longs.</summary>
    public static byte[] Ziplist(params object[] entries)
    {
        var body = new MemoryStream();
        int prev = 0, tail = 10;
        foreach (object e in entries)
        {
            tail = 10 + (int)body.Length;
            var entry = new MemoryStream();
            if (prev < 254) entry.WriteByte((byte)prev);
            else
            {
                entry.WriteByte(0xFE);
                entry.Write(BitConverter.GetBytes(prev));
            }
            if (e is long v)
            {
                if (v >= 0 && v <= 12) entry.WriteByte((byte)(0xF1 + v));
                else if (v >= sbyte.MinValue && v <= sbyte.MaxValue) { entry.WriteByte(0xFE); entry.WriteByte((byte)(sbyte)v); }
                else if (v >= short.MinValue && v <= short.MaxValue) { entry.WriteByte(0xC0); entry.Write(BitConverter.GetBytes((short)v)); }
                else if (v >= -(1 << 23) && v < 1 << 23) { entry.WriteByte(0xF0); entry.Write(BitConverter.GetBytes((int)v), 0, 3); }
                else if (v >= int.MinValue && v <= int.MaxValue) { entry.WriteByte(0xD0); entry.Write(BitConverter.GetBytes((int)v)); }
                else { entry.WriteByte(0xE0); entry.Write(BitConverter.GetBytes(v)); }
            }
            else
            {
                byte[] s = e as byte[] ?? Utf8((string)e);
                if (s.Length < 64) entry.WriteByte((byte)s.Length);
                else if (s.Length < 16384) { entry.WriteByte((byte)(0x40 | (s.Length >> 8))); entry.WriteByte((byte)s.Length); }
                else
                {
                    entry.WriteByte(0x80);
                    var len = new byte[4];
                    BinaryPrimitives.WriteInt32BigEndian(len, s.Length);
                    entry.Write(len);
                }
                entry.Write(s);
            }
            prev = (int)entry.Length;
            body.Write(entry.ToArray());
        }
        var zl = new MemoryStream();
        int total = 10 + (int)body.Length + 1;
        zl.Write(BitConverter.GetBytes(total));
        zl.Write(BitConverter.GetBytes(tail));
        zl.Write(BitConverter.GetBytes((ushort)Math.Min(entries.Length, ushort.MaxValue)));
        zl.Write(body.ToArray());
        zl.WriteByte(0xFF);
        return zl.ToArray();
    }

    /// <summary>A listpack (listpack.c) of strings and longs, each with its back-length.</summary>
    public static byte[] Listpack(params object[] entries)
    {
        var body = new MemoryStream();
        foreach (object e in entries)
        {
            var entry = new MemoryStream();
            if (e is long v)
            {
                if (v >= 0 && v <= 127) entry.WriteByte((byte)v);
                else if (v >= -4096 && v <= 4095) { entry.WriteByte((byte)(0xC0 | ((v >> 8) & 0x1F))); entry.WriteByte((byte)v); }
                else if (v >= short.MinValue && v <= short.MaxValue) { entry.WriteByte(0xF1); entry.Write(BitConverter.GetBytes((short)v)); }
                else if (v >= -(1 << 23) && v < 1 << 23) { entry.WriteByte(0xF2); entry.Write(BitConverter.GetBytes((int)v), 0, 3); }
                else if (v >= int.MinValue && v <= int.MaxValue) { entry.WriteByte(0xF3); entry.Write(BitConverter.GetBytes((int)v)); }
                else { entry.WriteByte(0xF4); entry.Write(BitConverter.GetBytes(v)); }
            }
            else
            {
                byte[] s = e as byte[] ?? Utf8((string)e);
                if (s.Length < 64) entry.WriteByte((byte)(0x80 | s.Length));
                else if (s.Length < 4096) { entry.WriteByte((byte)(0xE0 | (s.Length >> 8))); entry.WriteByte((byte)s.Length); }
                else { entry.WriteByte(0xF0); entry.Write(BitConverter.GetBytes(s.Length)); }
                entry.Write(s);
            }
            int size = (int)entry.Length;
            body.Write(entry.ToArray());
            body.Write(Backlen(size));
        }
        var lp = new MemoryStream();
        lp.Write(BitConverter.GetBytes(6 + (int)body.Length + 1));
        lp.Write(BitConverter.GetBytes((ushort)Math.Min(entries.Length, ushort.MaxValue)));
        lp.Write(body.ToArray());
        lp.WriteByte(0xFF);
        return lp.ToArray();
    }

    private static byte[] Backlen(int l)
    {
        if (l <= 127) return new[] { (byte)l };
        if (l < 16383) return new[] { (byte)(l >> 7), (byte)((l & 127) | 128) };
        if (l < 2097151) return new[] { (byte)(l >> 14), (byte)(((l >> 7) & 127) | 128), (byte)((l & 127) | 128) };
        return new[] { (byte)(l >> 21), (byte)(((l >> 14) & 127) | 128), (byte)(((l >> 7) & 127) | 128), (byte)((l & 127) | 128) };
    }

    /// <summary>A zipmap (zipmap.c): count, then length/field/length/free/value/padding entries, then 0xFF.</summary>
    public static byte[] Zipmap(params (byte[] Field, byte[] Value, int Free)[] pairs)
    {
        var zm = new MemoryStream();
        zm.WriteByte((byte)Math.Min(pairs.Length, 254));
        foreach (var (field, value, free) in pairs)
        {
            ZipmapLength(zm, field.Length);
            zm.Write(field);
            ZipmapLength(zm, value.Length);
            zm.WriteByte((byte)free);
            zm.Write(value);
            zm.Write(new byte[free]);
        }
        zm.WriteByte(0xFF);
        return zm.ToArray();
    }

    private static void ZipmapLength(Stream s, int len)
    {
        if (len < 254) s.WriteByte((byte)len);
        else
        {
            s.WriteByte(254);
            s.Write(BitConverter.GetBytes(len));
        }
    }

    /// <summary>An intset (intset.c): width, count, sorted values.</summary>
    public static byte[] Intset(int width, params long[] values)
    {
        var set = new MemoryStream();
        set.Write(BitConverter.GetBytes(width));
        set.Write(BitConverter.GetBytes(values.Length));
        var sorted = new List<long>(values);
        sorted.Sort();
        foreach (long v in sorted)
        {
            if (width == 2) set.Write(BitConverter.GetBytes((short)v));
            else if (width == 4) set.Write(BitConverter.GetBytes((int)v));
            else set.Write(BitConverter.GetBytes(v));
        }
        return set.ToArray();
    }

    /// <summary>LZF compression (liblzf's format): greedy matches of 3–264 bytes up to 8192 bytes back, literal runs of up to 32.</summary>
    public static byte[] LzfCompress(byte[] input)
    {
        var output = new MemoryStream();
        var last = new Dictionary<int, int>();
        int literalStart = 0, i = 0, n = input.Length;
        while (i < n)
        {
            int best = 0, bestFrom = 0;
            if (i + 3 <= n)
            {
                int h = input[i] | (input[i + 1] << 8) | (input[i + 2] << 16);
                if (last.TryGetValue(h, out int from) && i - from <= 8192)
                {
                    int len = 0;
                    while (i + len < n && len < 264 && input[from + len] == input[i + len]) len++;
                    if (len >= 3)
                    {
                        best = len;
                        bestFrom = from;
                    }
                }
                last[h] = i;
            }
            if (best == 0)
            {
                i++;
                continue;
            }
            FlushLiterals(output, input, literalStart, i);
            int off = i - bestFrom - 1, l = best - 2;
            if (l < 7) output.WriteByte((byte)((l << 5) | (off >> 8)));
            else
            {
                output.WriteByte((byte)((7 << 5) | (off >> 8)));
                output.WriteByte((byte)(l - 7));
            }
            output.WriteByte((byte)(off & 0xff));
            i += best;
            literalStart = i;
        }
        FlushLiterals(output, input, literalStart, n);
        return output.ToArray();
    }

    private static void FlushLiterals(Stream output, byte[] input, int from, int to)
    {
        while (from < to)
        {
            int run = Math.Min(32, to - from);
            output.WriteByte((byte)(run - 1));
            output.Write(input, from, run);
            from += run;
        }
    }
}
