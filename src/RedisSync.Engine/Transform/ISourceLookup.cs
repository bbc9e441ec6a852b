using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Transform;

/// <summary>
/// What the stream cannot say, read from the source on a link of its own (not the replica link): the stream
/// filter's seam for it. Reads block the stream's thread; a lost link throws SourceLinkLost (the shard reconnects).
/// </summary>
internal interface ISourceLookup
{
    /// <summary>The type of <paramref name="key"/> in source database <paramref name="db"/> now (None: no such key).</summary>
    RedisType TypeOf(int db, byte[] key);

    /// <summary>The value of <paramref name="key"/> in source database <paramref name="db"/> now, read at once with the source's replication offset.</summary>
    SourceValue Dump(int db, byte[] key);

    /// <summary>The hash slots the stream's master serves now (a shard of a cluster source), or null for a source that is all of the data.</summary>
    System.Collections.Generic.IReadOnlyList<(int From, int To)>? ShardSlots();
}

/// <summary>A key's value as DUMP gave it, and where in the stream that read stands.</summary>
/// <param name="Payload">DUMP's payload, or null when the key does not exist.</param>
/// <param name="ExpireAtMs">The key's expiry (Unix ms), or 0 for none.</param>
/// <param name="Offset">The source's replication offset at the read: the value holds every write of the stream up to it, and none after.</param>
/// <param name="TargetLoads">Whether the target can RESTORE the payload (its RDB version is not newer than the target's).</param>
internal sealed record SourceValue(byte[]? Payload, long ExpireAtMs, long Offset, bool TargetLoads);
