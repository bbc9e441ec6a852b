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
}
