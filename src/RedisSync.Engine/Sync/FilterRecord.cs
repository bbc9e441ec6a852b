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
/// Get-RedisSyncStatus on any host see what the sync copies. An unfiltered run deletes it.
/// </summary>
internal static class FilterRecord
{
    public static async Task WriteAsync(RedisConnection target, string name, SyncFilter? filter, CancellationToken cancellationToken)
    {
        await target.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        if (filter == null || filter.IsEmpty) await target.ExecuteOrThrowAsync(cancellationToken, "DEL", ReservedKeys.Filter(name)).ConfigureAwait(false);
        else await target.ExecuteOrThrowAsync(cancellationToken, "SET", ReservedKeys.Filter(name), filter.ToToml()).ConfigureAwait(false);
    }

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
