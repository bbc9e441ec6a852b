using System;
using System.Collections.Generic;
using System.Linq;
using RedisSync.Engine.Config;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>
/// The [filter] section of RedisSync's own settings file (each setting is the Start-RedisSync parameter
/// of the same meaning: key = -Key, exclude_key = -ExcludeKey, database = -Database, type = -Type,
/// exclude_command = -ExcludeCommand), also what a filtered sync leaves on the target for Compare -SyncName.
/// </summary>
internal static class FilterSettings
{
    public static readonly string[] Keys =
    {
        "key", "exclude_key", "key_regex", "exclude_key_regex", "database", "exclude_database", "type", "command", "exclude_command",
    };

    /// <summary>The filter of a [filter] table; a wrong value is an error at its line and column.</summary>
    public static SyncFilter Read(SettingsTable table)
    {
        foreach (string key in table.Keys)
        {
            if (Array.IndexOf(Keys, key) < 0) throw table.ErrorAt(key, $"unknown setting \"{table.NameOf(key)}\" (known: {string.Join(", ", Keys)})");
        }
        var filter = new SyncFilter
        {
            Key = table.GetStrings("key") ?? Array.Empty<string>(),
            ExcludeKey = table.GetStrings("exclude_key") ?? Array.Empty<string>(),
            KeyRegex = table.GetStrings("key_regex") ?? Array.Empty<string>(),
            ExcludeKeyRegex = table.GetStrings("exclude_key_regex") ?? Array.Empty<string>(),
            Database = Databases(table, "database"),
            ExcludeDatabase = Databases(table, "exclude_database"),
            Type = table.GetStrings("type") ?? Array.Empty<string>(),
            Command = table.GetStrings("command") ?? Array.Empty<string>(),
            ExcludeCommand = table.GetStrings("exclude_command") ?? Array.Empty<string>(),
        };
        try
        {
            KeyFilter.Compile(filter);
        }
        catch (SyncException ex)
        {
            throw table.Error(ex.Message.TrimEnd('.'));
        }
        return filter;
    }

    /// <summary>The filter a sync left on the target (<see cref="SyncFilter.ToToml"/>), read back.</summary>
    public static SyncFilter? Parse(string toml)
    {
        SettingsTable root = SettingsDocument.Parse(SettingsText.FromString("redissync:filter", toml));
        SettingsTable? table = root.GetTable("filter");
        return table != null ? Read(table) : null;
    }

    private static IReadOnlyList<int> Databases(SettingsTable table, string key)
    {
        IReadOnlyList<long>? numbers = table.GetIntegers(key);
        if (numbers == null) return Array.Empty<int>();
        if (numbers.Any(n => n < 0 || n > int.MaxValue)) throw table.ErrorAt(key, $"\"{table.NameOf(key)}\": a database number is 0 or more");
        return numbers.Select(n => (int)n).ToList();
    }
}
