using System;
using System.Collections.Generic;

namespace RedisSync.Engine.Sync;

/// <summary>The hash slot of a key, as Redis Cluster computes it: CRC16 (XMODEM) of the key, or of its hash tag, modulo 16384.</summary>
internal static class KeySlots
{
    /// <summary>How many slots a cluster has.</summary>
    public const int Count = 16384;

    private static readonly ushort[] Table = BuildTable();

    /// <summary>The slot of <paramref name="key"/>: the part between the first '{' and the next '}' when that is not empty, else the whole key.</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = key.Slice(open + 1).IndexOf((byte)'}');
            if (close > 0) key = key.Slice(open + 1, close);
        }
        ushort crc = 0;
        foreach (byte b in key) crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ b) & 0xFF]);
        return crc & (Count - 1);
    }

    /// <summary>Whether <paramref name="slot"/> is in one of <paramref name="ranges"/>.</summary>
    public static bool In(int slot, IReadOnlyList<(int From, int To)> ranges)
    {
        foreach ((int from, int to) in ranges)
        {
            if (slot >= from && slot <= to) return true;
        }
        return false;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            ushort value = (ushort)(i << 8);
            for (int bit = 0; bit < 8; bit++) value = (ushort)((value & 0x8000) != 0 ? (value << 1) ^ 0x1021 : value << 1);
            table[i] = value;
        }
        return table;
    }
}
