using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;

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
        };
    }
}
