using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RedisSync.Engine.Writers;

/// <summary>
/// Redis Cluster's key → slot function (CRC16-XMODEM of the key, or of its hash tag, modulo 16384), a
/// short hash tag for every slot (so a key of RedisSync's own can be placed in any slot), and where the
/// keys of a command are, so that a router can send it to the master that serves them.
/// </summary>
internal static class ClusterSlots
{
    /// <summary>Slots of a Redis Cluster.</summary>
    public const int Count = 16384;

    private static readonly ushort[] Table = BuildTable();
    private static readonly Lazy<string[]> Tags = new Lazy<string[]>(BuildTags);

    /// <summary>The slot of a key: of the part between the first <c>{</c> and the next <c>}</c> when that part is not empty.</summary>
    public static int Of(ReadOnlySpan<byte> key)
    {
        int open = key.IndexOf((byte)'{');
        if (open >= 0)
        {
            int close = key.Slice(open + 1).IndexOf((byte)'}');
            if (close > 0) key = key.Slice(open + 1, close);
        }
        return Crc16(key) & (Count - 1);
    }

    /// <summary>A short string whose slot is <paramref name="slot"/>: <c>{tag}</c> in a key puts the key in that slot.</summary>
    public static string Tag(int slot) => Tags.Value[slot];

    private static ushort Crc16(ReadOnlySpan<byte> bytes)
    {
        ushort crc = 0;
        foreach (byte b in bytes) crc = (ushort)((crc << 8) ^ Table[((crc >> 8) ^ b) & 0xff]);
        return crc;
    }

    private static ushort[] BuildTable()
    {
        var table = new ushort[256];
        for (int i = 0; i < 256; i++)
        {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++) crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            table[i] = (ushort)crc;
        }
        return table;
    }

    /// <summary>The shortest decimal number that lands in each slot (every slot has one below 200,000).</summary>
    private static string[] BuildTags()
    {
        var tags = new string[Count];
        int found = 0;
        for (int n = 0; found < Count; n++)
        {
            string text = n.ToString(CultureInfo.InvariantCulture);
            int slot = Crc16(Encoding.ASCII.GetBytes(text)) & (Count - 1);
            if (tags[slot] != null) continue;
            tags[slot] = text;
            found++;
        }
        return tags;
    }

    /// <summary>How a command's keys can be found among its arguments (argument 0 is the command's name).</summary>
    internal enum KeyShape
    {
        /// <summary>No key (FLUSHALL, PING, SCRIPT …): any master takes it.</summary>
        None,
        /// <summary>Argument 1.</summary>
        First,
        /// <summary>Every argument from 1 on; split by slot (DEL, UNLINK, TOUCH, EXISTS).</summary>
        AllSplit,
        /// <summary>Key, value pairs from 1 on; split by slot (MSET).</summary>
        PairsSplit,
        /// <summary>Key, value pairs that must stay together (MSETNX).</summary>
        Pairs,
        /// <summary>Every argument from 1 on, kept together (SINTERSTORE, PFMERGE …).</summary>
        All,
        /// <summary>Arguments 1 and 2 (RENAME, SMOVE, LMOVE, COPY …).</summary>
        FirstTwo,
        /// <summary>Every argument from 2 on (BITOP op dest key …).</summary>
        FromSecond,
        /// <summary>A key count at argument 2, then the keys (EVAL, EVALSHA, FCALL), and argument 1 when it is a destination (ZUNIONSTORE).</summary>
        CountAt2,
        /// <summary>Argument 1 and a key count at argument 2 (ZUNIONSTORE dest numkeys k …).</summary>
        DestAndCountAt2,
        /// <summary>A key count at argument 1, then the keys (LMPOP, ZMPOP, SINTERCARD).</summary>
        CountAt1,
        /// <summary>Argument 1 and the argument after STORE or STOREDIST (SORT, GEORADIUS).</summary>
        FirstAndStore,
    }

    private static readonly Dictionary<string, KeyShape> Shapes = new Dictionary<string, KeyShape>(StringComparer.OrdinalIgnoreCase)
    {
        ["FLUSHALL"] = KeyShape.None, ["FLUSHDB"] = KeyShape.None, ["PING"] = KeyShape.None, ["SCRIPT"] = KeyShape.None,
        ["FUNCTION"] = KeyShape.None, ["SELECT"] = KeyShape.None, ["SWAPDB"] = KeyShape.None, ["PUBLISH"] = KeyShape.None,
        ["DEL"] = KeyShape.AllSplit, ["UNLINK"] = KeyShape.AllSplit, ["TOUCH"] = KeyShape.AllSplit, ["EXISTS"] = KeyShape.AllSplit,
        ["MSET"] = KeyShape.PairsSplit, ["MSETNX"] = KeyShape.Pairs,
        ["SINTERSTORE"] = KeyShape.All, ["SUNIONSTORE"] = KeyShape.All, ["SDIFFSTORE"] = KeyShape.All, ["PFMERGE"] = KeyShape.All,
        ["RENAME"] = KeyShape.FirstTwo, ["RENAMENX"] = KeyShape.FirstTwo, ["SMOVE"] = KeyShape.FirstTwo, ["LMOVE"] = KeyShape.FirstTwo,
        ["BLMOVE"] = KeyShape.FirstTwo, ["RPOPLPUSH"] = KeyShape.FirstTwo, ["BRPOPLPUSH"] = KeyShape.FirstTwo, ["COPY"] = KeyShape.FirstTwo,
        ["ZRANGESTORE"] = KeyShape.FirstTwo, ["GEOSEARCHSTORE"] = KeyShape.FirstTwo,
        ["BITOP"] = KeyShape.FromSecond,
        ["EVAL"] = KeyShape.CountAt2, ["EVALSHA"] = KeyShape.CountAt2, ["EVAL_RO"] = KeyShape.CountAt2, ["EVALSHA_RO"] = KeyShape.CountAt2,
        ["FCALL"] = KeyShape.CountAt2, ["FCALL_RO"] = KeyShape.CountAt2,
        ["ZUNIONSTORE"] = KeyShape.DestAndCountAt2, ["ZINTERSTORE"] = KeyShape.DestAndCountAt2, ["ZDIFFSTORE"] = KeyShape.DestAndCountAt2,
        ["LMPOP"] = KeyShape.CountAt1, ["ZMPOP"] = KeyShape.CountAt1, ["SINTERCARD"] = KeyShape.CountAt1,
        ["SORT"] = KeyShape.FirstAndStore, ["GEORADIUS"] = KeyShape.FirstAndStore, ["GEORADIUSBYMEMBER"] = KeyShape.FirstAndStore,
    };

    /// <summary>How the command named <paramref name="name"/> holds its keys (argument 1 for commands not listed).</summary>
    public static KeyShape ShapeOf(string name) => Shapes.TryGetValue(name, out KeyShape shape) ? shape : KeyShape.First;
}
