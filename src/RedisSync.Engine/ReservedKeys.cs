using System;
using System.Text;

namespace RedisSync.Engine;

/// <summary>
/// Keys that RedisSync itself writes on a target: checkpoints, leases and keys under construction. Compare
/// leaves them out, and a sync never copies them from a source.
/// </summary>
public static class ReservedKeys
{
    /// <summary>Every reserved key starts with this.</summary>
    public const string Prefix = "redissync:";

    /// <summary>The checkpoint of the sync named <c>name</c>: <c>redissync:checkpoint:&lt;name&gt;</c>.</summary>
    public const string CheckpointPrefix = "redissync:checkpoint:";

    /// <summary>The lease of the sync named <c>name</c>: <c>redissync:lease:&lt;name&gt;</c> (one run per name at a time).</summary>
    public const string LeasePrefix = "redissync:lease:";

    /// <summary>The shards of a sync from a cluster source, whose checkpoints are <c>redissync:checkpoint:&lt;name&gt;:&lt;shard&gt;</c>.</summary>
    public const string ShardsPrefix = "redissync:shards:";

    /// <summary>A key that a run's lease guard touches to discard a batch of a run that lost its lease.</summary>
    public const string FencePrefix = "redissync:fence:";

    /// <summary>The counter a sync's runs draw their epochs from on a cluster target (<c>redissync:epoch:&lt;name&gt;</c>): each run that takes the lease a higher one.</summary>
    public const string EpochPrefix = "redissync:epoch:";

    /// <summary>The filter of a filtered sync named <c>name</c> (<c>redissync:filter:&lt;name&gt;</c>), for Compare-RedisData -SyncName.</summary>
    public const string FilterPrefix = "redissync:filter:";

    /// <summary>A request to stop the run that holds the lease (<c>redissync:stop:&lt;name&gt;</c>, the run's token): Complete-RedisSync from another process.</summary>
    public const string StopPrefix = "redissync:stop:";

    /// <summary>A big key is built under <c>redissync:tmp:…</c> and renamed into place when complete.</summary>
    public const string TemporaryPrefix = "redissync:tmp:";

    private static readonly byte[] PrefixBytes = Encoding.ASCII.GetBytes(Prefix);
    private static readonly byte[] CheckpointPrefixBytes = Encoding.ASCII.GetBytes(CheckpointPrefix);
    private static readonly byte[] TemporaryPrefixBytes = Encoding.ASCII.GetBytes(TemporaryPrefix);
    private static readonly byte[] LeasePrefixBytes = Encoding.ASCII.GetBytes(LeasePrefix);
    private static readonly byte[] FencePrefixBytes = Encoding.ASCII.GetBytes(FencePrefix);
    private static readonly byte[] ShardsPrefixBytes = Encoding.ASCII.GetBytes(ShardsPrefix);
    private static readonly byte[] FilterPrefixBytes = Encoding.ASCII.GetBytes(FilterPrefix);
    private static readonly byte[] StopPrefixBytes = Encoding.ASCII.GetBytes(StopPrefix);
    private static readonly byte[] EpochPrefixBytes = Encoding.ASCII.GetBytes(EpochPrefix);

    /// <summary>The checkpoint key of a named sync.</summary>
    public static string Checkpoint(string syncName) => CheckpointPrefix + syncName;

    /// <summary>The lease key of a named sync.</summary>
    public static string Lease(string syncName) => LeasePrefix + syncName;

    /// <summary>
    /// The lease of one shard task of a named sync (<c>redissync:lease:&lt;name&gt;:&lt;shard&gt;</c>, see Start-RedisSync -Shard),
    /// or the whole sync's when <paramref name="shard"/> is null.
    /// </summary>
    public static string Lease(string syncName, string? shard) => shard == null ? Lease(syncName) : LeasePrefix + syncName + ":" + shard;

    /// <summary>The checkpoint of one shard of a named sync from a cluster source.</summary>
    public static string Checkpoint(string syncName, string shard) => CheckpointPrefix + syncName + ":" + shard;

    /// <summary>The set of shard ids of a named sync from a cluster source.</summary>
    public static string Shards(string syncName) => ShardsPrefix + syncName;

    /// <summary>The filter key of a named sync.</summary>
    public static string Filter(string syncName) => FilterPrefix + syncName;

    /// <summary>The stop request key of a named sync.</summary>
    public static string Stop(string syncName) => StopPrefix + syncName;

    /// <summary>The stop request key of one shard task of a named sync, or the whole sync's when <paramref name="shard"/> is null.</summary>
    public static string Stop(string syncName, string? shard) => shard == null ? Stop(syncName) : StopPrefix + syncName + ":" + shard;

    /// <summary>The fence key of a named sync.</summary>
    public static string Fence(string syncName) => FencePrefix + syncName;

    /// <summary>The fence key of one shard task of a named sync, or the whole sync's when <paramref name="shard"/> is null.</summary>
    public static string Fence(string syncName, string? shard) => shard == null ? Fence(syncName) : FencePrefix + syncName + ":" + shard;

    /// <summary>The epoch counter of one shard task of a named sync, or the whole sync's when <paramref name="shard"/> is null.</summary>
    public static string Epoch(string syncName, string? shard) => EpochPrefix + syncName + (shard == null ? string.Empty : ":" + shard);

    /// <summary>True for keys that belong to RedisSync, not to the user.</summary>
    public static bool IsReserved(ReadOnlySpan<byte> key) =>
        key.StartsWith(PrefixBytes)
        && (key.StartsWith(CheckpointPrefixBytes) || key.StartsWith(TemporaryPrefixBytes) || key.StartsWith(LeasePrefixBytes) || key.StartsWith(FencePrefixBytes) || key.StartsWith(ShardsPrefixBytes) ||
            key.StartsWith(FilterPrefixBytes) || key.StartsWith(StopPrefixBytes) || key.StartsWith(EpochPrefixBytes));
}
