using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using RedisSync.Engine.Compare;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Hosting;

/// <summary>What Compare-RedisData and Repair-RedisData were asked, in plain types; errors name the parameter.</summary>
public sealed class CompareRequest
{
    /// <summary>The source: <c>host:port</c> or a redis[s]:// URL.</summary>
    public string? Source { get; set; }

    /// <summary>The target, in the same forms.</summary>
    public string? Target { get; set; }

    /// <summary>Replaces the user and password of the source's address.</summary>
    public NetworkCredential? SourceCredential { get; set; }

    /// <summary>Replaces the user and password of the target's address.</summary>
    public NetworkCredential? TargetCredential { get; set; }

    /// <summary>The databases to compare; every database that holds keys when null.</summary>
    public IReadOnlyList<int>? Database { get; set; }

    /// <summary>A SCAN MATCH pattern such as <c>user:*</c>.</summary>
    public string? KeyPattern { get; set; }

    /// <summary>Globs of the keys to look at (-Key).</summary>
    public IReadOnlyList<string>? Key { get; set; }

    /// <summary>Globs of keys left out (-ExcludeKey).</summary>
    public IReadOnlyList<string>? ExcludeKey { get; set; }

    /// <summary>The types to look at (-Type).</summary>
    public IReadOnlyList<string>? Type { get; set; }

    /// <summary>Source key prefix → target key prefix (-RenameKey), as a hashtable gives it.</summary>
    public IDictionary? RenameKey { get; set; }

    /// <summary>The renames: the parameter's, over those sync <see cref="SyncName"/> left on the target; null when none.</summary>
    public IReadOnlyDictionary<string, string>? ResolveRenameKey(RedisEndpoint target)
    {
        IReadOnlyDictionary<string, string>? given = SyncRequest.ParseRenameKey(RenameKey);
        if (SyncName == null) return given;
        IReadOnlyDictionary<string, string>? kept = Task.Run(async () =>
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(target, EndpointRole.Target, CancellationToken.None).ConfigureAwait(false);
            return await FilterRecord.ReadRenamesAsync(connection, SyncName, CancellationToken.None).ConfigureAwait(false);
        }).GetAwaiter().GetResult();
        return SyncRequest.Merge(kept, given);
    }

    /// <summary>-Where: a predicate on each key besides the filter (the host runs it in a runspace of its own).</summary>
    public Func<RedisSync.KeyCandidate, bool>? Where { get; set; }

    /// <summary>A sync whose filter (kept on the target) is used as well (-SyncName).</summary>
    public string? SyncName { get; set; }

    /// <summary>
    /// The filter: the parameters', joined with the one sync <see cref="SyncName"/> left on the target (read
    /// from it now); null when it keeps everything. A sync of that name that copies everything adds nothing.
    /// </summary>
    public SyncFilter? ResolveFilter(RedisEndpoint target)
    {
        var filter = new SyncFilter
        {
            Key = Key ?? Array.Empty<string>(),
            ExcludeKey = ExcludeKey ?? Array.Empty<string>(),
            Type = Type ?? Array.Empty<string>(),
        };
        if (SyncName != null)
        {
            SyncFilter? kept = Task.Run(async () =>
            {
                using RedisConnection connection = await RedisConnection.ConnectAsync(target, EndpointRole.Target, CancellationToken.None).ConfigureAwait(false);
                SyncFilter? record = await FilterRecord.ReadAsync(connection, SyncName, CancellationToken.None).ConfigureAwait(false);
                bool usedWhere = await FilterRecord.UsedWhereAsync(connection, SyncName, CancellationToken.None).ConfigureAwait(false);
                if (usedWhere && Where == null)
                {
                    throw new SyncException(HostErrorIds.WherePredicateRequired, SyncErrorKind.Stop,
                        $"-SyncName: sync '{SyncName}' chose its keys with -Where, which the target does not keep: give the same -Where " +
                        "as the sync's, so that the keys looked at are those the sync copies.");
                }
                if (record != null || usedWhere) return record;
                RespValue known = await connection.ExecuteOrThrowAsync(CancellationToken.None, "EXISTS", Checkpoint.Key(SyncName), ReservedKeys.Shards(SyncName)).ConfigureAwait(false);
                if (known.Integer == 0)
                {
                    throw new SyncException(HostErrorIds.CheckpointNotFound, SyncErrorKind.Stop,
                        $"-SyncName: the target {target} holds no checkpoint of a sync named '{SyncName}' (key {Checkpoint.Key(SyncName)} in database 0), so its filter is not known.");
                }
                return null;
            }).GetAwaiter().GetResult();
            if (kept != null) filter = kept.With(filter);
        }
        if (filter.IsEmpty) return null;
        KeyFilter.Compile(filter);
        return filter;
    }

    /// <summary>Quick (types, TTLs, lengths) or Full (every value); Quick when null.</summary>
    public CompareMode? Mode { get; set; }

    /// <summary>How far two TTLs may differ and still be equal; the default when null.</summary>
    public TimeSpan? TtlTolerance { get; set; }

    /// <summary>Also report the keys that are equal.</summary>
    public bool IncludeEqual { get; set; }

    /// <summary>TLS for both servers (-Tls and the certificate parameters); none when null.</summary>
    public TlsRequest? Tls { get; set; }

    /// <summary>The source and the target with their credentials and TLS settings; errors name the parameter.</summary>
    public (RedisEndpoint Source, RedisEndpoint Target) ResolveServers()
    {
        RedisEndpoint source = SyncRequest.WithCredential(HostErrors.ParseEndpoint("Source", Source), SourceCredential);
        RedisEndpoint target = SyncRequest.WithCredential(HostErrors.ParseEndpoint("Target", Target), TargetCredential);
        RedisEndpoint?[] servers = (Tls ?? new TlsRequest()).Apply(source, target);
        return (servers[0]!, servers[1]!);
    }

    /// <summary>The compare's options.</summary>
    public CompareOptions ResolveOptions()
    {
        if (Database != null && Database.Any(db => db < 0)) throw HostErrors.InvalidParameter("Database", "a database number is 0 or more.");
        if (TtlTolerance is TimeSpan tolerance && tolerance < TimeSpan.Zero) throw HostErrors.InvalidParameter("TtlTolerance", "the tolerance cannot be negative.");
        if (KeyPattern != null && KeyPattern.Length == 0) throw HostErrors.InvalidParameter("KeyPattern", "the pattern is empty (omit it to compare every key).");
        return new CompareOptions
        {
            Mode = Mode ?? CompareMode.Quick,
            Databases = Database?.Distinct().OrderBy(db => db).ToList(),
            Pattern = KeyPattern,
            TtlTolerance = TtlTolerance ?? CompareOptions.DefaultTtlTolerance,
            IncludeEqual = IncludeEqual,
            Where = Where,
        };
    }
}
