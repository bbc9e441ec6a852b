using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;

namespace RedisSync.Engine.Transform;

/// <summary>
/// -RenameKey: prefix rewrites such as <c>'old:*' = 'new:*'</c>, applied to every key argument of every
/// command of the snapshot and the stream (multi-key commands and those whose keys are not the first
/// argument included, by <see cref="CommandKeys"/>), and understood by Compare and Repair. The longest
/// matching prefix wins; a key that matches none keeps its name.
/// </summary>
internal sealed class KeyRename
{
    private readonly (byte[] From, byte[] To)[] _rules;

    private KeyRename(IEnumerable<(byte[] From, byte[] To)> rules)
    {
        _rules = rules.OrderByDescending(r => r.From.Length).ToArray();
    }

    /// <summary>The map ready to use, or null when it renames nothing; a pair that is not two prefixes throws InvalidOptions naming it.</summary>
    public static KeyRename? Compile(IReadOnlyDictionary<string, string>? map)
    {
        if (map == null || map.Count == 0) return null;
        var rules = new List<(byte[], byte[])>();
        foreach (KeyValuePair<string, string> pair in map.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            var from = new KeyPattern(pair.Key ?? string.Empty);
            var to = new KeyPattern(pair.Value ?? string.Empty);
            if (!from.IsPrefix || !to.IsPrefix)
            {
                throw new SyncException(SyncErrorIds.InvalidOptions, SyncErrorKind.Stop,
                    $"-RenameKey '{pair.Key}' = '{pair.Value}': both sides must be a prefix followed by one *, such as @{{ 'old:*' = 'new:*' }}.");
            }
            rules.Add((from.Prefix.ToArray(), to.Prefix.ToArray()));
        }
        return new KeyRename(rules);
    }

    /// <summary>The target's name of a source key, or null when the key keeps its name.</summary>
    public byte[]? Rename(ReadOnlySpan<byte> key)
    {
        foreach ((byte[] from, byte[] to) in _rules)
        {
            if (key.StartsWith(from)) return Swap(key, from, to);
        }
        return null;
    }

    /// <summary>The source's name of a target key (the map read backwards), or null when no rule made it.</summary>
    public byte[]? Original(ReadOnlySpan<byte> key)
    {
        foreach ((byte[] from, byte[] to) in _rules.OrderByDescending(r => r.To.Length))
        {
            if (key.StartsWith(to)) return Swap(key, to, from);
        }
        return null;
    }

    /// <summary>
    /// The source keys that become <paramref name="key"/> on the target (none: a key under a rule's old prefix
    /// that no rule writes): what a filtered FLUSHDB asks of each target key.
    /// </summary>
    public IEnumerable<byte[]> SourcesOf(byte[] key)
    {
        foreach ((byte[] from, byte[] to) in _rules)
        {
            if (!key.AsSpan().StartsWith(to)) continue;
            byte[] original = Swap(key, to, from);
            byte[]? again = Rename(original);
            if (again != null && key.AsSpan().SequenceEqual(again)) yield return original;
        }
        if (Rename(key) == null) yield return key;
    }

    /// <summary>
    /// The target's prefix of every source key under <paramref name="prefix"/>, or null when the keys under it
    /// are renamed by more than one rule (a longer rule inside it).
    /// </summary>
    public byte[]? RenamedPrefix(ReadOnlySpan<byte> prefix)
    {
        foreach ((byte[] from, _) in _rules)
        {
            if (from.Length > prefix.Length && from.AsSpan().StartsWith(prefix)) return null;
        }
        return Rename(prefix) ?? prefix.ToArray();
    }

    private static byte[] Swap(ReadOnlySpan<byte> key, byte[] prefix, byte[] replacement)
    {
        var result = new byte[replacement.Length + key.Length - prefix.Length];
        replacement.CopyTo(result, 0);
        key.Slice(prefix.Length).CopyTo(result.AsSpan(replacement.Length));
        return result;
    }

    /// <summary>The map as the user would write it.</summary>
    public override string ToString() =>
        "@{ " + string.Join("; ", _rules.Select(r => $"'{Encoding.UTF8.GetString(r.From)}*' = '{Encoding.UTF8.GetString(r.To)}*'")) + " }";
}
