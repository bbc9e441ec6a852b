namespace RedisSync.Engine.Writers;

/// <summary>
/// Where a batch ends in what a sync copies, as a number: a replication offset of the command stream,
/// or, inside a snapshot, how many keys of it were written. The writer hands it back once the target
/// has applied the batch, so a sync learns how far it got without reading its checkpoint back.
/// </summary>
/// <param name="Value">The replication offset applied, or the snapshot's keys written so far.</param>
/// <param name="InSnapshot">Whether <paramref name="Value"/> counts keys of a snapshot still being written.</param>
/// <param name="Copy">Which full copy of the run it belongs to (0: the stream a run resumed), so a position of an earlier copy is never taken for the current one.</param>
/// <param name="StreamDb">The source database the stream is in at <paramref name="Value"/> (its last SELECT), which a partial resync does not repeat.</param>
/// <param name="DataOffset">The offset after the last command before <paramref name="Value"/> that changed data: a continuation may start there.</param>
internal readonly record struct CommitPosition(long Value, bool InSnapshot, int Copy = 0, int StreamDb = 0, long DataOffset = 0);
