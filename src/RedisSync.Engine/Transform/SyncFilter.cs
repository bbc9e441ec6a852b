using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Text;

namespace RedisSync.Engine.Transform;

/// <summary>
/// What a sync, a compare or a repair looks at: keys by glob (and, from a shake.toml, by regular
/// expression), source databases, types and, on the live stream, commands. Empty lists ask for
/// nothing; a key is kept when it matches an allow list (if any) and no block list.
/// </summary>
public sealed class SyncFilter
{
    /// <summary>The type names -Type accepts, as TYPE answers them.</summary>
    public static readonly IReadOnlyList<string> TypeNames = new[] { "string", "list", "hash", "set", "zset", "stream", "module" };

    /// <summary>Globs (Redis's KEYS syntax); a key that matches none of them is left out. Empty: every key.</summary>
    public IReadOnlyList<string> Key { get; init; } = Array.Empty<string>();

    /// <summary>Globs of keys left out.</summary>
    public IReadOnlyList<string> ExcludeKey { get; init; } = Array.Empty<string>();

    /// <summary>.NET regular expressions a key must match one of (shake.toml's allow_key_regex).</summary>
    public IReadOnlyList<string> KeyRegex { get; init; } = Array.Empty<string>();

    /// <summary>.NET regular expressions of keys left out (shake.toml's block_key_regex).</summary>
    public IReadOnlyList<string> ExcludeKeyRegex { get; init; } = Array.Empty<string>();

    /// <summary>The source databases copied. Empty: all.</summary>
    public IReadOnlyList<int> Database { get; init; } = Array.Empty<int>();

    /// <summary>Source databases left out.</summary>
    public IReadOnlyList<int> ExcludeDatabase { get; init; } = Array.Empty<int>();

    /// <summary>The types copied (string, list, hash, set, zset, stream, module). Empty: all.</summary>
    public IReadOnlyList<string> Type { get; init; } = Array.Empty<string>();

    /// <summary>Commands (names, or groups such as @scripting) the live stream applies; every other is left out. Empty: all.</summary>
    public IReadOnlyList<string> Command { get; init; } = Array.Empty<string>();

    /// <summary>Commands (names, or groups such as @scripting) of the live stream left out.</summary>
    public IReadOnlyList<string> ExcludeCommand { get; init; } = Array.Empty<string>();

    /// <summary>Whether the filter leaves anything out.</summary>
    public bool IsEmpty =>
        Key.Count == 0 && ExcludeKey.Count == 0 && KeyRegex.Count == 0 && ExcludeKeyRegex.Count == 0 && Database.Count == 0 &&
        ExcludeDatabase.Count == 0 && Type.Count == 0 && Command.Count == 0 && ExcludeCommand.Count == 0;

    /// <summary>Whether the filter looks at keys (names or types), not only at databases and commands.</summary>
    public bool FiltersKeys => Key.Count > 0 || ExcludeKey.Count > 0 || KeyRegex.Count > 0 || ExcludeKeyRegex.Count > 0 || Type.Count > 0;

    /// <summary>The filter as Start-RedisSync's parameters would say it, such as <c>-Key 'user:*' -Database 0</c> (empty when it keeps everything).</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        void Add(string name, IEnumerable<string> values)
        {
            string[] list = values.ToArray();
            if (list.Length > 0) parts.Add("-" + name + " " + string.Join(",", list));
        }
        Add("Key", Key.Select(Quote));
        Add("ExcludeKey", ExcludeKey.Select(Quote));
        Add("KeyRegex", KeyRegex.Select(Quote));
        Add("ExcludeKeyRegex", ExcludeKeyRegex.Select(Quote));
        Add("Database", Database.Select(db => db.ToString(CultureInfo.InvariantCulture)));
        Add("ExcludeDatabase", ExcludeDatabase.Select(db => db.ToString(CultureInfo.InvariantCulture)));
        Add("Type", Type);
        Add("Command", Command.Select(Quote));
        Add("ExcludeCommand", ExcludeCommand.Select(Quote));
        return string.Join(" ", parts);
    }

    /// <summary>The filter as the [filter] section of RedisSync's settings file (what the target keeps for Compare -SyncName).</summary>
    public string ToToml()
    {
        var toml = new StringBuilder();
        toml.Append("[filter]\n");
        void Add(string name, IEnumerable<string> values)
        {
            string[] list = values.ToArray();
            if (list.Length > 0) toml.Append(name).Append(" = [").Append(string.Join(", ", list)).Append("]\n");
        }
        Add("key", Key.Select(TomlString));
        Add("exclude_key", ExcludeKey.Select(TomlString));
        Add("key_regex", KeyRegex.Select(TomlString));
        Add("exclude_key_regex", ExcludeKeyRegex.Select(TomlString));
        Add("database", Database.Select(db => db.ToString(CultureInfo.InvariantCulture)));
        Add("exclude_database", ExcludeDatabase.Select(db => db.ToString(CultureInfo.InvariantCulture)));
        Add("type", Type.Select(TomlString));
        Add("command", Command.Select(TomlString));
        Add("exclude_command", ExcludeCommand.Select(TomlString));
        return toml.ToString();
    }

    /// <summary>This filter with <paramref name="other"/>'s lists added (parameters over a settings file).</summary>
    public SyncFilter With(SyncFilter? other)
    {
        if (other == null || other.IsEmpty) return this;
        static IReadOnlyList<T> Join<T>(IReadOnlyList<T> a, IReadOnlyList<T> b) => a.Concat(b).Distinct().ToList();
        return new SyncFilter
        {
            Key = Join(Key, other.Key),
            ExcludeKey = Join(ExcludeKey, other.ExcludeKey),
            KeyRegex = Join(KeyRegex, other.KeyRegex),
            ExcludeKeyRegex = Join(ExcludeKeyRegex, other.ExcludeKeyRegex),
            Database = Join(Database, other.Database),
            ExcludeDatabase = Join(ExcludeDatabase, other.ExcludeDatabase),
            Type = Join(Type, other.Type),
            Command = Join(Command, other.Command),
            ExcludeCommand = Join(ExcludeCommand, other.ExcludeCommand),
        };
    }

    private static string Quote(string text) => "'" + text.Replace("'", "''") + "'";

    private static string TomlString(string text)
    {
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (char c in text)
        {
            if (c == '"' || c == '\\') builder.Append('\\').Append(c);
            else if (c < ' ' || c == '\u007f') builder.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
            else builder.Append(c);
        }
        return builder.Append('"').ToString();
    }
}
