using System;
using System.Collections.Generic;
using System.Linq;

namespace RedisSync.Engine.Transform;

/// <summary>A set of keys per database that follows FLUSHDB, FLUSHALL and SWAPDB (not thread-safe: its owner locks).</summary>
internal sealed class KeyIds
{
    private readonly HashSet<string> _ids = new HashSet<string>(StringComparer.Ordinal);

    public int Count => _ids.Count;

    public bool Contains(int db, ReadOnlySpan<byte> key) => _ids.Count > 0 && _ids.Contains(Id(db, key));

    public void Add(int db, ReadOnlySpan<byte> key) => _ids.Add(Id(db, key));

    public void Remove(int db, ReadOnlySpan<byte> key)
    {
        if (_ids.Count > 0) _ids.Remove(Id(db, key));
    }

    /// <summary>Every key of <paramref name="db"/> forgotten (FLUSHDB), or all of them (db −1: FLUSHALL).</summary>
    public void Clear(int db)
    {
        if (db < 0)
        {
            _ids.Clear();
            return;
        }
        string prefix = db + ":";
        _ids.RemoveWhere(id => id.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>The keys of two databases trade places (SWAPDB).</summary>
    public void Swap(int a, int b)
    {
        if (a == b) return;
        string pa = a + ":", pb = b + ":";
        var moved = _ids.Where(id => id.StartsWith(pa, StringComparison.Ordinal) || id.StartsWith(pb, StringComparison.Ordinal)).ToList();
        foreach (string id in moved) _ids.Remove(id);
        foreach (string id in moved) _ids.Add(id.StartsWith(pa, StringComparison.Ordinal) ? pb + id.Substring(pa.Length) : pa + id.Substring(pb.Length));
    }

    private static string Id(int db, ReadOnlySpan<byte> key) => db + ":" + Convert.ToBase64String(key.ToArray());
}
