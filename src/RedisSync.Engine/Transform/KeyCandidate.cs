using System;
using System.Text;

namespace RedisSync;

/// <summary>A key the sync is about to copy, as a -Where predicate sees it ($_): its database, name and type.</summary>
public sealed class KeyCandidate
{
    /// <summary>Describes one key of the snapshot or the stream.</summary>
    public KeyCandidate(int database, byte[] keyBytes, string type)
    {
        Database = database;
        KeyBytes = keyBytes ?? throw new ArgumentNullException(nameof(keyBytes));
        Type = type ?? string.Empty;
    }

    /// <summary>The source database.</summary>
    public int Database { get; }

    /// <summary>The key's name as UTF-8 text (as the source holds it, before any -RenameKey).</summary>
    public string Key => Encoding.UTF8.GetString(KeyBytes);

    /// <summary>The key's bytes.</summary>
    public byte[] KeyBytes { get; }

    /// <summary>string, list, hash, set, zset, stream or module.</summary>
    public string Type { get; }

    /// <summary>The key as db:name.</summary>
    public override string ToString() => $"db{Database} {Key}";
}
