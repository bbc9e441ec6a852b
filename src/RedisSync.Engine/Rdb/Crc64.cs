using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Redis's CRC-64 (Jones polynomial, reflected, initial value 0), the checksum at the end of an RDB
/// file and of a DUMP payload. Slice-by-8 tables: eight bytes per step.
/// </summary>
internal static class Crc64
{
    private const ulong ReflectedPolynomial = 0x95AC9329AC4BC9B5UL;

    private static readonly ulong[] Table = BuildTable();

    private static ulong[] BuildTable()
    {
        var t = new ulong[8 * 256];
        for (int i = 0; i < 256; i++)
        {
            ulong c = (ulong)i;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? (c >> 1) ^ ReflectedPolynomial : c >> 1;
            t[i] = c;
        }
        for (int s = 1; s < 8; s++)
        {
            for (int i = 0; i < 256; i++)
            {
                ulong prev = t[(s - 1) * 256 + i];
                t[s * 256 + i] = (prev >> 8) ^ t[(int)(prev & 0xff)];
            }
        }
        return t;
    }

    /// <summary>Continues <paramref name="crc"/> over <paramref name="data"/> (start with 0).</summary>
    [MethodImpl(HotPath.Compile)]
    public static ulong Update(ulong crc, ReadOnlySpan<byte> data)
    {
        ulong[] t = Table;
        int i = 0;
        int n = data.Length;
        while (n - i >= 8)
        {
            crc ^= BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i));
            crc = t[7 * 256 + (int)(crc & 0xff)]
                ^ t[6 * 256 + (int)((crc >> 8) & 0xff)]
                ^ t[5 * 256 + (int)((crc >> 16) & 0xff)]
                ^ t[4 * 256 + (int)((crc >> 24) & 0xff)]
                ^ t[3 * 256 + (int)((crc >> 32) & 0xff)]
                ^ t[2 * 256 + (int)((crc >> 40) & 0xff)]
                ^ t[1 * 256 + (int)((crc >> 48) & 0xff)]
                ^ t[(int)(crc >> 56)];
            i += 8;
        }
        for (; i < n; i++) crc = Step(t, crc, data[i]);
        return crc;
    }

    /// <summary>Continues <paramref name="crc"/> over every segment of <paramref name="data"/>.</summary>
    [MethodImpl(HotPath.Compile)]
    public static ulong Update(ulong crc, in ReadOnlySequence<byte> data)
    {
        if (data.IsSingleSegment) return Update(crc, data.First.Span);
        foreach (ReadOnlyMemory<byte> segment in data) crc = Update(crc, segment.Span);
        return crc;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Step(ulong[] t, ulong crc, byte b) => t[(int)((crc ^ b) & 0xff)] ^ (crc >> 8);
}
