using System;
using System.Globalization;

namespace RedisSync.Engine.Net;

/// <summary>Reads INFO keyspace.</summary>
public static class Keyspace
{
    /// <summary>The keys of every database listed (<c>db0:keys=12,expires=0,…</c>).</summary>
    public static long CountKeys(string info)
    {
        long total = 0;
        foreach (string line in info.Split('\n'))
        {
            if (!line.StartsWith("db", StringComparison.Ordinal)) continue;
            int at = line.IndexOf("keys=", StringComparison.Ordinal);
            if (at < 0) continue;
            int end = line.IndexOf(',', at);
            string number = line.Substring(at + 5, (end < 0 ? line.TrimEnd('\r').Length : end) - at - 5);
            if (long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out long n)) total += n;
        }
        return total;
    }
}
