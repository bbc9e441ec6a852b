using System;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Transform;

/// <summary>
/// A FLUSHDB or FLUSHALL of a sync with key filters or renames, done on the target by deleting only the keys
/// the sync copies (the target's own keys outside the filter stay): the stream's seam to the target for it.
/// </summary>
internal interface IKeyFlush
{
    /// <summary>
    /// Once everything written before is applied, deletes in target database <paramref name="targetDb"/> each
    /// key that <paramref name="owns"/> accepts (given its type when <paramref name="needsType"/>, else None);
    /// returns when the target answered every deletion. <paramref name="match"/> narrows the SCAN (a glob), or null.
    /// </summary>
    void DeleteOwned(int targetDb, string? match, bool needsType, Func<byte[], RedisType, bool> owns);
}
