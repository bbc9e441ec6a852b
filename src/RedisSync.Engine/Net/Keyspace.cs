using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace RedisSync.Engine.Net;

/// <summary>Reads INFO keyspace.</summary>
internal static class Keyspace
{
    /// <summary>Keys per database that holds any (<c>db0:keys=12,expires=0,avg_ttl=0</c>).</summary>
    public static Dictionary<int, long> PerDatabase(string info)
    {
        var result = new Dictionary<int, long>();
        foreach (string raw in info.Split('\n'))
        {
            string line = raw.Trim();
            if (!line.StartsWith("db", StringComparison.Ordinal)) continue;
            int colon = line.IndexOf(':');
            if (colon < 0 || !int.TryParse(line.Substring(2, colon - 2), NumberStyles.None, CultureInfo.InvariantCulture, out int db)) continue;
            foreach (string part in line.Substring(colon + 1).Split(','))
            {
                if (part.StartsWith("keys=", StringComparison.Ordinal)
                    && long.TryParse(part.Substring(5), NumberStyles.None, CultureInfo.InvariantCulture, out long keys)
                    && keys > 0)
                {
                    result[db] = keys;
                }
            }
        }
        return result;
    }

    /// <summary>The keys of every database listed.</summary>
    public static long CountKeys(string info) => PerDatabase(info).Values.Sum();
}
