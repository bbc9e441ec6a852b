using System;
using System.Collections.Generic;
using System.Globalization;

namespace RedisSync.Engine.Net;

/// <summary>What the engine needs to know of a server, from <c>INFO server</c>.</summary>
internal sealed class ServerInfo
{
    /// <summary>The newest RDB version the engine knows.</summary>
    public const int NewestKnownRdbVersion = 12;

    private ServerInfo(IReadOnlyDictionary<string, string> fields, Version version, bool isValkey, string product)
    {
        Fields = fields;
        Version = version;
        IsValkey = isValkey;
        Product = product;
    }

    /// <summary>Every <c>name:value</c> line of the reply.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>The product's own version (valkey_version on Valkey, else redis_version).</summary>
    public Version Version { get; }

    public bool IsValkey { get; }

    /// <summary>"redis" or "valkey".</summary>
    public string Product { get; }

    /// <summary>Whether the server runs in cluster mode.</summary>
    public bool IsCluster => Fields.TryGetValue("redis_mode", out string? mode) && mode == "cluster";

    /// <summary>The newest RDB version this server loads (and so accepts in a RESTORE payload).</summary>
    public int RdbVersion
    {
        get
        {
            if (IsValkey) return Version.Major >= 8 ? 11 : RedisRdbVersion(Version);
            return RedisRdbVersion(Version);
        }
    }

    /// <summary>Hash-field expiry (HPEXPIREAT): Redis 7.4 and later.</summary>
    public bool SupportsHashFieldTtl => !IsValkey && Version >= new Version(7, 4);

    /// <summary>Functions (FUNCTION LOAD): Redis 7.0 and later, and Valkey.</summary>
    public bool SupportsFunctions => IsValkey || Version.Major >= 7;

    /// <summary>XSETID's ENTRIESADDED/MAXDELETEDID and XGROUP CREATE's ENTRIESREAD: 7.0 and later.</summary>
    public bool SupportsStreamMetadata => IsValkey || Version.Major >= 7;

    /// <summary>SET … PXAT: 6.2 and later.</summary>
    public bool SupportsSetPxat => IsValkey || Version >= new Version(6, 2);

    private static int RedisRdbVersion(Version v)
    {
        if (v.Major >= 8) return 12;
        if (v >= new Version(7, 4)) return 12;
        if (v >= new Version(7, 2)) return 11;
        if (v.Major == 7) return 10;
        if (v.Major >= 5) return 9;
        if (v.Major == 4) return 8;
        if (v.Major == 3 && v.Minor >= 2) return 7;
        return 6;
    }

    /// <summary>A numeric field of the reply (used_memory, maxmemory, …), or null when it is missing or not a number.</summary>
    public long? Number(string field) =>
        Fields.TryGetValue(field, out string? text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) ? value : null;

    public override string ToString() => $"{Product} {Version}";

    /// <summary>Parses the text of an INFO reply.</summary>
    public static ServerInfo Parse(string info)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string raw in info.Split('\n'))
        {
            string line = raw.TrimEnd('\r');
            if (line.Length == 0 || line[0] == '#') continue;
            int colon = line.IndexOf(':');
            if (colon <= 0) continue;
            fields[line.Substring(0, colon)] = line.Substring(colon + 1);
        }
        bool isValkey = fields.ContainsKey("valkey_version") || (fields.TryGetValue("server_name", out string? name) && name == "valkey");
        string versionText = isValkey && fields.TryGetValue("valkey_version", out string? vv) ? vv
            : fields.TryGetValue("redis_version", out string? rv) ? rv : "0.0.0";
        return new ServerInfo(fields, ParseVersion(versionText), isValkey, isValkey ? "valkey" : "redis");
    }

    private static Version ParseVersion(string text)
    {
        var parts = text.Split('.');
        int Part(int i) => i < parts.Length && int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : 0;
        return new Version(Part(0), Part(1), Part(2));
    }
}
