using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Config;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>
/// What a filtered sync leaves on the target beside its checkpoint: its filter, as the [filter] section of
/// a settings file, in <c>redissync:filter:&lt;name&gt;</c> (db 0), so that Compare-RedisData -SyncName and
/// Get-RedisSyncStatus on any host see what the sync copies. An unfiltered run deletes it. A sync that
/// chose keys with -Where says so in a [where] table (<c>used = true</c>): the predicate itself is not kept,
/// and a record written before the table existed reads as no -Where.
/// </summary>
internal static class FilterRecord
{
    public static async Task WriteAsync(RedisConnection target, string name, SyncOptions options, CancellationToken cancellationToken)
    {
        await target.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        string? text = Text(options);
        if (text == null) await target.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Filter(name)).ConfigureAwait(false);
        else await target.ExecuteOrThrowAsync(cancellationToken, "SET", ReservedKeys.Filter(name), text).ConfigureAwait(false);
    }

    /// <summary>
    /// What the record holds for these options ([filter], [rename_key], [where] and [database_map]), or null
    /// when they copy everything under its own name into the database of its number.
    /// </summary>
    public static string? Text(SyncOptions options)
    {
        bool filtered = options.Filter != null && !options.Filter.IsEmpty;
        bool renamed = options.RenameKey != null && options.RenameKey.Count > 0;
        bool where = options.Where != null;
        bool mapped = options.DatabaseMap != null && options.DatabaseMap.Any(pair => pair.Key != pair.Value);
        if (!filtered && !renamed && !where && !mapped) return null;
        return (filtered ? options.Filter!.ToToml() : string.Empty) + (renamed ? RenameSettings.ToToml(options.RenameKey!) : string.Empty) +
            (where ? "[where]\nused = true\n" : string.Empty) +
            (mapped ? "[database_map]\n" + string.Concat(options.DatabaseMap!.OrderBy(pair => pair.Key).Select(pair =>
                string.Format(CultureInfo.InvariantCulture, "\"{0}\" = {1}\n", pair.Key, pair.Value))) : string.Empty);
    }

    /// <summary>The -DatabaseMap of sync <paramref name="name"/>, or null when it maps no database elsewhere (or left no record).</summary>
    public static async Task<IReadOnlyDictionary<int, int>?> ReadDatabaseMapAsync(RedisConnection target, string name, CancellationToken cancellationToken)
    {
        string? toml = await ReadTextAsync(target, name, cancellationToken).ConfigureAwait(false);
        if (toml == null) return null;
        SettingsTable? table = Parse(name, toml).GetTable("database_map");
        try
        {
            return table != null ? SyncSettingsFile.ReadDatabaseMap(table) : null;
        }
        catch (SettingsException ex)
        {
            throw Unreadable(name, ex);
        }
    }

    /// <summary>Whether sync <paramref name="name"/> chose its keys with a -Where predicate too (false when it left no record, or one from before the flag).</summary>
    public static async Task<bool> UsedWhereAsync(RedisConnection target, string name, CancellationToken cancellationToken)
    {
        string? toml = await ReadTextAsync(target, name, cancellationToken).ConfigureAwait(false);
        if (toml == null) return false;
        SettingsTable? table = Parse(name, toml).GetTable("where");
        try
        {
            return table?.GetBoolean("used") == true;
        }
        catch (SettingsException ex)
        {
            throw Unreadable(name, ex);
        }
    }

    /// <summary>The renames of sync <paramref name="name"/>, or null when it renames nothing (or left no record).</summary>
    public static async Task<IReadOnlyDictionary<string, string>?> ReadRenamesAsync(RedisConnection target, string name, CancellationToken cancellationToken)
    {
        string? toml = await ReadTextAsync(target, name, cancellationToken).ConfigureAwait(false);
        if (toml == null) return null;
        SettingsTable? table = Parse(name, toml).GetTable("rename_key");
        return table != null ? RenameSettings.Read(table) : null;
    }

    private static async Task<string?> ReadTextAsync(RedisConnection target, string name, CancellationToken cancellationToken)
    {
        await target.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue value = await target.ExecuteOrThrowAsync(cancellationToken, "GET", ReservedKeys.Filter(name)).ConfigureAwait(false);
        string? toml = value.AsString();
        return string.IsNullOrEmpty(toml) ? null : toml;
    }

    private static SettingsTable Parse(string name, string toml)
    {
        try
        {
            return SettingsDocument.Parse(SettingsText.FromString(ReservedKeys.Filter(name), toml));
        }
        catch (SettingsException ex)
        {
            throw Unreadable(name, ex);
        }
    }

    private static SyncException Unreadable(string name, SettingsException ex) =>
        new SyncException(SyncErrorIds.CheckpointInvalid, SyncErrorKind.Stop,
            $"The filter of sync '{name}' on the target ({ReservedKeys.Filter(name)}) cannot be read: {ex.Message}. Start the sync again to write it anew.");

    /// <summary>The filter of sync <paramref name="name"/>, or null when it copies everything (or left no record).</summary>
    public static async Task<SyncFilter?> ReadAsync(RedisConnection target, string name, CancellationToken cancellationToken)
    {
        await target.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue value = await target.ExecuteOrThrowAsync(cancellationToken, "GET", ReservedKeys.Filter(name)).ConfigureAwait(false);
        string? toml = value.AsString();
        if (string.IsNullOrEmpty(toml)) return null;
        try
        {
            return FilterSettings.Parse(toml!);
        }
        catch (SettingsException ex)
        {
            throw new SyncException(SyncErrorIds.CheckpointInvalid, SyncErrorKind.Stop,
                $"The filter of sync '{name}' on the target ({ReservedKeys.Filter(name)}) cannot be read: {ex.Message}. Start the sync again to write it anew.");
        }
    }
}
