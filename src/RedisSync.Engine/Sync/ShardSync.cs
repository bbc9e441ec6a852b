using System;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Status;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// One source master into the target, as its replica: PSYNC (a partial resync from the checkpoint,
/// or a full copy), the snapshot, then the stream, reconnecting after a dropped link — during the
/// stream with a partial resync, during the snapshot with a new full copy (bounded). Owns the shard's
/// position: its replication id, the offsets received and applied, its resyncs.
/// </summary>
internal sealed class ShardSync : IDisposable
{
    private readonly SyncOptions _options;
    private readonly SourceLocator _source;
    private readonly ITarget _writer;
    private readonly DatabaseMap _databases;
    private readonly TargetPreparation _preparation;
    private readonly SyncStatusTracker _tracker;
    private readonly StreamFollower _follower;
    private readonly DateTimeOffset _started;
    private readonly object _lock = new object();

    private ReplicaLink? _firstLink;
    private volatile ReplicaLink? _link;
    private string? _replicationId;
    private long _resumeOffset;
    private long _copyOffset;
    private int _copy;
    private int _fullResyncs;
    private int _partialResyncs;
    private volatile SnapshotCopy? _snapshot;
    private long _snapshotBytesTotal = -1;
    private long _snapshotKeysTotal;
    private long _lastSnapshotBytes;

    /// <param name="options">The run's options.</param>
    /// <param name="source">Where the shard's master is (asked again after every dropped link).</param>
    /// <param name="writer">The target's writer (transactional: every batch carries this shard's checkpoint).</param>
    /// <param name="databases">The database map, checked against the target.</param>
    /// <param name="preparation">What a full copy does to the target first.</param>
    /// <param name="tracker">Where phases, warnings and retried errors are reported.</param>
    /// <param name="checkpoint">The shard's checkpoint to resume from (a streaming one), or null.</param>
    /// <param name="started">When the sync began (its first full copy), for the checkpoint.</param>
    /// <param name="firstLink">The link the pre-flight checks opened, used for the first PSYNC (null: connect).</param>
    /// <param name="migrations">The keys moving between the shards of a cluster source, or null.</param>
    public ShardSync(SyncOptions options, SourceLocator source, ITarget writer, DatabaseMap databases, TargetPreparation preparation, SyncStatusTracker tracker,
        Checkpoint? checkpoint, DateTimeOffset started, ReplicaLink? firstLink, SlotMigrations? migrations = null)
    {
        _options = options;
        _source = source;
        _source.Switched += OnSwitched;
        _writer = writer;
        _databases = databases;
        _preparation = preparation;
        _tracker = tracker;
        _started = started;
        _firstLink = firstLink;
        if (checkpoint != null && checkpoint.Phase == CheckpointPhase.Streaming)
        {
            _replicationId = checkpoint.ReplicationId;
            _resumeOffset = checkpoint.Offset;
        }
        _follower = new StreamFollower(writer, databases, () => AppliedOffset, migrations == null ? null : handler => migrations.Wrap(source.Identity, handler, () => AppliedOffset),
            options.KeyFilter, tracker.Warn, options.KeyRename, options.KeyFilter != null || options.KeyRename != null ? new FilteredFlush(writer, options.Target, options.ReconnectTimeout) : null,
            options.KeyFilter != null || options.KeyRename != null ? new SourceLookup(source, writer.Server.RdbVersion) : null);
        if (_replicationId != null) _follower.Resume(checkpoint!.StreamDb, checkpoint.DataOffset);
    }

    private SyncPhase _phase = SyncPhase.Connecting;

    /// <summary>Where this shard is; the sync's phase is told from its shards'.</summary>
    public SyncPhase Phase
    {
        get
        {
            lock (_lock) return _phase;
        }
    }

    /// <summary>The shard's phase changed (on the shard's threads).</summary>
    public event Action<ShardSync>? PhaseChanged;

    /// <summary>The shard's master now (with the source's login).</summary>
    public Task<RedisEndpoint> LocateMasterAsync(CancellationToken cancellationToken) => _source.LocateAsync(cancellationToken);

    /// <summary>The source this shard reads, as a person would name it.</summary>
    public string Source => _source.Describe();

    private void SetPhase(SyncPhase phase)
    {
        lock (_lock)
        {
            if (_phase == phase) return;
            _phase = phase;
        }
        PhaseChanged?.Invoke(this);
    }

    /// <summary>The shard's replication id (of the checkpoint it resumes, or of its last full copy).</summary>
    public string? ReplicationId
    {
        get
        {
            lock (_lock) return _replicationId;
        }
    }

    /// <summary>The replication offset the target has applied (and checkpointed) of the current copy.</summary>
    public long AppliedOffset
    {
        get
        {
            CommitPosition? acknowledged = _writer.AcknowledgedPosition;
            lock (_lock)
            {
                if (acknowledged is { InSnapshot: false } p && p.Copy == _copy) return _copy == 0 ? Math.Max(p.Value, _resumeOffset) : p.Value;
                return _copy == 0 ? _resumeOffset : _copyOffset;
            }
        }
    }

    /// <summary>The replication offset received from the source.</summary>
    public long ReceivedOffset => Math.Max(_follower.Received ?? 0, AppliedOffset);

    public long LagMilliseconds(long applied, long received) => _follower.LagMilliseconds(applied, received);

    public int FullResyncs => Volatile.Read(ref _fullResyncs);

    public int PartialResyncs => Volatile.Read(ref _partialResyncs);

    /// <summary>The snapshot's progress: bytes parsed, its size (-1 unknown: a diskless transfer), keys written, the source's keys.</summary>
    public (long Bytes, long Total, long Keys, long KeysTotal) SnapshotProgress
    {
        get
        {
            SnapshotCopy? snapshot = _snapshot;
            long bytes = snapshot?.BytesRead ?? Interlocked.Read(ref _lastSnapshotBytes);
            return (bytes, Interlocked.Read(ref _snapshotBytesTotal), snapshot?.KeysRead ?? 0, Interlocked.Read(ref _snapshotKeysTotal));
        }
    }

    /// <summary>Runs the shard until a Full copy completes, the sync stops (OperationCanceledException) or fails (SyncException).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        string? replid = ReplicationId;
        long next = _follower.DataOffset + 1;
        DateTime reconnectDeadline = DateTime.MaxValue;
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        int brokenCopies = 0;
        bool connected = false; // a source that was never reached is an error at once, not a reconnect loop
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReplicaLink? link = _firstLink;
            _firstLink = null;
            bool inSnapshot = false;
            CancellationTokenSource? watch = null;
            try
            {
                link ??= await ReplicaLink.ConnectAsync(await _source.LocateAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
                _link = link;
                watch = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                if (link.LocalPort > 0) _ = ReplicaOutputBuffer.WatchAsync(link.Endpoint, link.LocalPort, _tracker.Warn, watch.Token);
                PsyncReply reply;
                try
                {
                    reply = await link.PsyncAsync(replid, next, _options.ReconnectTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (SyncException ex) when (connected && ex.ErrorId == SyncErrorIds.ReplicationRefused && ex.InnerException is SyncException { ErrorId: SyncErrorIds.SourceLinkLost } lost)
                {
                    // A source that replicated to this sync before and drops the link at PSYNC lost the link; it did not refuse.
                    throw lost;
                }
                reconnectDeadline = DateTime.MaxValue;
                backoff = TimeSpan.FromMilliseconds(100);
                connected = true;
                long streamStart = reply.Offset;
                if (reply.FullResync)
                {
                    if (_options.Mode == RedisSync.SyncMode.Incremental)
                    {
                        throw new SyncException(SyncErrorIds.BacklogExceeded, SyncErrorKind.Stop,
                            $"The source {_source.Describe()} can no longer continue sync '{_options.Name}' from offset {next} (its replication backlog no longer " +
                            "covers it, or its replication id changed): a new full copy is needed. Run it with -Mode FullAndIncremental.");
                    }
                    if (replid != null && brokenCopies == 0)
                    {
                        _tracker.Warn(new SyncWarning("FullResyncRequired", SyncErrorKind.Retry, null, null,
                            $"The source {_source.Describe()} could not continue from offset {next} of replication id {replid}: its backlog no longer covers it. " +
                            "A new full copy replaces the target's data."));
                    }
                    inSnapshot = true;
                    await CopySnapshotAsync(link, reply, cancellationToken).ConfigureAwait(false);
                    inSnapshot = false;
                    brokenCopies = 0;
                    // Streaming means the copy is on the target: until its last batches are acknowledged (a while under
                    // -MaxWriteRate), a key written on the target meanwhile could still be overwritten by the snapshot,
                    // and a verify pass or Wait-RedisSync -CaughtUp would judge a copy that has not landed.
                    await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
                    if (_options.Mode == RedisSync.SyncMode.Full)
                    {
                        SetPhase(SyncPhase.Completed);
                        return;
                    }
                }
                else
                {
                    Interlocked.Increment(ref _partialResyncs);
                }
                replid = reply.ReplicationId;
                lock (_lock) _replicationId = replid;
                SetPhase(SyncPhase.Streaming);
                await _follower.RunAsync(link, streamStart, "redissync-stream-" + _options.Name, cancellationToken).ConfigureAwait(false);
            }
            catch (SyncException ex) when (!connected && ex.Kind == SyncErrorKind.Retry && IsSourceError(ex))
            {
                throw new SyncException(ex.ErrorId, SyncErrorKind.Stop, ex.Message, ex);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry && !cancellationToken.IsCancellationRequested && IsSourceError(ex))
            {
                _tracker.Retried(ex);
                if (inSnapshot)
                {
                    // The target holds part of a copy: only a whole new one (never a partial resync from it) makes it consistent.
                    replid = null;
                    brokenCopies++;
                    if (brokenCopies > _options.MaxSnapshotRetries)
                    {
                        throw new SyncException(ex.ErrorId, SyncErrorKind.Stop,
                            $"The link to the source {_source.Describe()} broke during the full copy {brokenCopies} times in a row; the sync gives up ({ex.Message}). " +
                            "The target holds part of a copy: start the sync again (with -FlushTarget to empty the target first).", ex);
                    }
                    _tracker.Warn(new SyncWarning("SnapshotRetried", SyncErrorKind.Retry, null, null,
                        $"The link to the source {_source.Describe()} broke during the full copy ({ex.Message}); a new full copy begins " +
                        $"(attempt {brokenCopies + 1} of {_options.MaxSnapshotRetries + 1}), written over the broken one."));
                }
                if (reconnectDeadline == DateTime.MaxValue) reconnectDeadline = DateTime.UtcNow + _options.ReconnectTimeout;
                if (DateTime.UtcNow > reconnectDeadline)
                {
                    throw new SyncException(ex.ErrorId, SyncErrorKind.Stop,
                        $"Gave up after {_options.ReconnectTimeout.TotalSeconds:0} s of trying to reach the source again: {ex.Message}", ex);
                }
                if (_follower.Received != null)
                {
                    // Continue after the last command that changed data, not after the last byte: what follows it
                    // (PINGs, PUBLISHes, a transaction cut off) comes again, and a promoted replica that missed
                    // the last of those bytes can still continue the stream.
                    _follower.Rewind();
                    _writer.DiscardUncommitted();
                    next = _follower.DataOffset + 1;
                }
                SetPhase(SyncPhase.Reconnecting);
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
            finally
            {
                watch?.Cancel();
                watch?.Dispose();
                _link = null;
                link?.Dispose();
            }
        }
    }

    /// <summary>The master moved (a Sentinel said so): drop the link, so the loop finds the new one and continues there with a partial resync.</summary>
    private void OnSwitched(string why)
    {
        _tracker.Warn(new SyncWarning("SourceSwitched", SyncErrorKind.Retry, null, null, why + ". The sync continues from the new master."));
        _link?.Dispose();
    }

    private static bool IsSourceError(SyncException ex) =>
        ex.ErrorId == SyncErrorIds.SourceLinkLost || ex.ErrorId == SyncErrorIds.SourceUnreachable || ex.ErrorId == SyncErrorIds.SourceLoading;

    /// <summary>A full copy: the target readied (flushed, or guarded), the snapshot written, then the stream's first commit point.</summary>
    private async Task CopySnapshotAsync(ReplicaLink link, PsyncReply reply, CancellationToken cancellationToken)
    {
        int copy;
        lock (_lock)
        {
            copy = ++_copy;
            _replicationId = reply.ReplicationId;
            _copyOffset = reply.Offset;
        }
        Interlocked.Increment(ref _fullResyncs);
        _writer.DiscardUncommitted();
        _follower.Restart(copy, reply.Offset);
        Interlocked.Exchange(ref _snapshotBytesTotal, -1);
        Interlocked.Exchange(ref _snapshotKeysTotal, link.SourceKeys);
        SetPhase(SyncPhase.WaitingForSnapshot);
        SnapshotFraming framing = await link.ReadSnapshotHeaderAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _snapshotBytesTotal, framing.Length);
        (bool empty, ConflictPolicy policy) = await _preparation.PrepareAsync(copy, transactional: true, cancellationToken, _source).ConfigureAwait(false);
        var parserOptions = new RdbParserOptions();
        var transform = new TransformOptions(_writer.Server)
        {
            DatabaseMap = _databases,
            Filter = _options.KeyFilter,
            Rename = _options.KeyRename,
            OnConflict = policy,
            TargetIsEmpty = empty,
            ParserOptions = parserOptions,
        };
        var snapshot = new SnapshotCopy(_writer, transform, parserOptions, commitPoints: true, copy, _tracker.Warn);
        _snapshot = snapshot;
        SetPhase(SyncPhase.LoadingSnapshot);
        try
        {
            long rdbBytes = await snapshot.RunAsync(link.Input, "redissync-snapshot-" + _options.Name, link.LinkLost, cancellationToken).ConfigureAwait(false);
            link.EndSnapshot(framing, rdbBytes, cancellationToken);
            Interlocked.Exchange(ref _snapshotBytesTotal, rdbBytes);
            Interlocked.Exchange(ref _lastSnapshotBytes, rdbBytes);
        }
        finally
        {
            Interlocked.Exchange(ref _lastSnapshotBytes, snapshot.BytesRead);
            _snapshot = null;
        }
        _writer.CommitPoint(new CommitPosition(reply.Offset, InSnapshot: false, copy, DataOffset: reply.Offset));
        _writer.Flush();
    }

    /// <summary>The value of the shard's checkpoint for a batch that ends at <paramref name="position"/>.</summary>
    public byte[] FormatCheckpoint(CommitPosition position)
    {
        string replid;
        long copyOffset;
        lock (_lock)
        {
            replid = _replicationId ?? "?";
            copyOffset = _copyOffset;
        }
        bool streaming = !position.InSnapshot;
        return new Checkpoint(replid, streaming ? position.Value : copyOffset, streaming ? CheckpointPhase.Streaming : CheckpointPhase.Snapshot,
            DateTimeOffset.UtcNow, _source.Identity, _preparation.OwnsTarget, streaming ? 0 : position.Value, _options.Mode, _started,
            streaming ? position.StreamDb : 0, streaming ? Math.Min(position.Value, Math.Max(position.DataOffset, copyOffset)) : null).Format();
    }

    public void Dispose()
    {
        _source.Switched -= OnSwitched;
        _firstLink?.Dispose();
        _follower.Dispose();
    }
}
