using System;
using System.IO;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// The command stream after a snapshot (or a partial resync) into the target: each command forwarded
/// with a commit point at its offset (never inside a source transaction), REPLCONF ACK of the applied
/// offset every second and whenever the source asks. One follower serves a shard across reconnects,
/// so a transaction cut by a dropped link still ends its batch only at its EXEC.
/// </summary>
internal sealed class StreamFollower : IDisposable
{
    private readonly ReplicationToCommands _transform;
    private readonly IReplicationHandler _handler;
    private readonly LagTracker _lag = new LagTracker();
    private readonly Func<long> _applied;
    private volatile ReplicaLink? _link;
    private volatile ReplicationStream? _stream;
    private int _copy;
    private readonly FilteredFlush? _flush;
    private readonly SourceLookup? _source;

    /// <param name="writer">Where the commands go.</param>
    /// <param name="databases">The database map.</param>
    /// <param name="applied">The offset the target has applied (what ACKs report).</param>
    /// <param name="wrap">A stage between the stream and the transform (the slot migrations of a cluster source), or null.</param>
    /// <param name="filter">What is copied (null: everything).</param>
    /// <param name="warn">Where the filter's warnings go.</param>
    /// <param name="rename">Key renames (null: none).</param>
    /// <param name="flush">What deletes the keys the sync owns at a filtered FLUSHDB or FLUSHALL (null: flushes are forwarded).</param>
    /// <param name="source">The second link to the source, for what the stream does not say (null: none).</param>
    public StreamFollower(ITarget writer, DatabaseMap? databases, Func<long> applied, Func<IReplicationHandler, IReplicationHandler>? wrap = null,
        KeyFilter? filter = null, Action<SyncWarning>? warn = null, KeyRename? rename = null, FilteredFlush? flush = null, SourceLookup? source = null)
    {
        _applied = applied;
        _flush = flush;
        _source = source;
        _transform = new ReplicationToCommands(writer, databases, offset =>
        {
            _lag.Received(offset);
            writer.CommitPoint(new CommitPosition(offset, InSnapshot: false, Volatile.Read(ref _copy), _transform!.SourceDb, _transform.DataOffset));
        }, filter, warn, rename, flush, source);
        _handler = wrap?.Invoke(_transform) ?? _transform;
        _transform.AckRequested += () =>
        {
            ReplicaLink? current = _link;
            if (current != null) _ = current.AckAsync(_applied(), CancellationToken.None);
        };
    }

    /// <summary>The offset after the last command received, or null before the stream started.</summary>
    public long? Received => _stream?.Offset;

    /// <summary>How long the oldest received write that the target has not applied yet has waited.</summary>
    public long LagMilliseconds(long applied, long received) => _lag.LagMilliseconds(applied, received);

    /// <summary>Resumes a stream that a checkpoint left in <paramref name="sourceDb"/> (before its first partial resync).</summary>
    public void Resume(int sourceDb, long dataOffset)
    {
        _transform.Resume(sourceDb);
        _transform.DataOffset = dataOffset;
    }

    /// <summary>The offset after the last command that changed data (see <see cref="ReplicationToCommands.DataOffset"/>).</summary>
    public long DataOffset => _transform.DataOffset;

    /// <summary>
    /// Before continuing from <see cref="DataOffset"/> on another master: what came after it (a transaction
    /// cut off, PUBLISH and PING) will come again, so a transaction begun is dropped and starts over.
    /// </summary>
    public void Rewind() => _transform.Reset();

    /// <summary>A new full copy replaces what was streamed: a transaction cut by it will not continue, and its offsets are new.</summary>
    public void Restart(int copy, long startOffset)
    {
        Volatile.Write(ref _copy, copy);
        _transform.Reset();
        _transform.TypesKnown();
        _transform.DataOffset = startOffset;
        _stream = null;
        _lag.Clear();
    }

    /// <summary>Follows the stream from <paramref name="startOffset"/> until the link breaks (throws its error) or the sync stops.</summary>
    public async Task RunAsync(ReplicaLink link, long startOffset, string threadName, CancellationToken cancellationToken)
    {
        var stream = new ReplicationStream(link, startOffset);
        _stream = stream;
        _link = link;
        if (_flush != null) _flush.Cancellation = cancellationToken;
        if (_source != null) _source.Cancellation = cancellationToken;
        using var ackCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task acks = AckLoopAsync(link, ackCts.Token);
        try
        {
            await DedicatedThread.Run(threadName, () => stream.Run(_handler, cancellationToken)).ConfigureAwait(false);
        }
        finally
        {
            _link = null;
            ackCts.Cancel();
            try { await acks.ConfigureAwait(false); } catch (OperationCanceledException) { } catch (SyncException) { }
        }
    }

    private async Task AckLoopAsync(ReplicaLink link, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await link.AckAsync(_applied(), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException)
            {
                return; // the stream thread reports the broken link
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        _transform.Dispose();
        _source?.Dispose();
    }
}
