using System;
using System.Collections.Generic;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>The mutations of bytes that the mutation tests share: flipped bits, a cut, inserted and removed bytes.</summary>
internal static class ByteMutations
{
    /// <summary>How many kinds <see cref="Apply"/> knows.</summary>
    public const int Kinds = 4;

    /// <summary>
    /// Applies mutation <paramref name="kind"/> to <paramref name="data"/> at a place from
    /// <paramref name="from"/> on (up to <paramref name="run"/> bytes, or half as many bits), and says what it did.
    /// </summary>
    public static string Apply(List<byte> data, Random rng, int kind, int from, int run)
    {
        int at = rng.Next(from, data.Count);
        switch (kind)
        {
            case 0:
                int flips = 1 + rng.Next(Math.Max(1, run / 2));
                for (int f = 0; f < flips; f++) data[rng.Next(from, data.Count)] ^= (byte)(1 << rng.Next(8));
                return $"{flips} bit(s) flipped";
            case 1:
                data.RemoveRange(at, data.Count - at);
                return $"cut to {at} bytes";
            case 2:
                byte[] extra = new byte[1 + rng.Next(run)];
                rng.NextBytes(extra);
                data.InsertRange(at, extra);
                return $"{extra.Length} random bytes inserted at {at}";
            default:
                int n = Math.Min(1 + rng.Next(run), data.Count - at);
                data.RemoveRange(at, n);
                return $"{n} bytes removed at {at}";
        }
    }
}
