using System;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// One RDB snapshot (from the replica link or a file) into the target: the parser on a thread of its
/// own, the transform, and the commit policy — a commit point after every key and, inside a big key,
/// whenever the writer's batch is full — so a checkpointed batch never holds more than a batch of a key.
/// </summary>
internal sealed class SnapshotCopy
{
    private readonly ITarget _writer;
    private readonly TransformOptions _transform;
    private readonly RdbParserOptions _parserOptions;
    private readonly bool _commitPoints;
    private readonly int _copy;
    private readonly Action<SyncWarning> _warn;
    private RdbParser? _parser;
    private long _keys;

    /// <param name="writer">Where the commands go.</param>
    /// <param name="transform">How keys become commands.</param>
    /// <param name="parserOptions">The parser's options (the transform tunes them to the target).</param>
    /// <param name="commitPoints">Mark commit points (a checkpointed writer); a plain writer only flushes.</param>
    /// <param name="copy">Which full copy of the run this is (the commit positions carry it).</param>
    /// <param name="warn">Where the transform's warnings go.</param>
    public SnapshotCopy(ITarget writer, TransformOptions transform, RdbParserOptions parserOptions, bool commitPoints, int copy, Action<SyncWarning> warn)
    {
        _writer = writer;
        _transform = transform;
        _parserOptions = parserOptions;
        _commitPoints = commitPoints;
        _copy = copy;
        _warn = warn;
    }

    /// <summary>Keys of the snapshot handed to the writer so far.</summary>
    public long KeysRead => Interlocked.Read(ref _keys);

    /// <summary>Bytes of the RDB parsed so far.</summary>
    public long BytesRead => _parser?.Position ?? 0;

    /// <summary>
    /// Parses the whole RDB into the writer and flushes; returns the RDB's length. A broken input link
    /// throws SourceLinkLost; a stop request throws OperationCanceledException. A big key cut off
    /// midway is removed from the target (its temporary key's DEL is committed).
    /// </summary>
    public Task<long> RunAsync(PipeReader input, string threadName, Func<Exception, SyncException>? linkLost, CancellationToken cancellationToken)
    {
        CancellationTokenRegistration wake = cancellationToken.Register(() => input.CancelPendingRead());
        return DedicatedThread.Run(threadName, () =>
        {
            using CancellationTokenRegistration registration = wake;
            using var transform = new RdbToCommands(_writer, _transform);
            transform.Warning += _warn;
            long commits = 0;
            bool insideKey = false;
            transform.KeyWritten += () =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                Interlocked.Increment(ref _keys);
                insideKey = false;
                if (_commitPoints) _writer.CommitPoint(new CommitPosition(++commits, InSnapshot: true, _copy));
            };
            // Without this a checkpointed batch held the whole key (a 5M-field hash took the process to 580 MB).
            transform.KeyPartWritten += () =>
            {
                if (!_commitPoints || !_writer.BatchDue) return;
                _writer.CommitPoint(new CommitPosition(++commits, InSnapshot: true, _copy));
                insideKey = true;
            };
            var parser = new RdbParser(input, transform, _parserOptions);
            _parser = parser;
            try
            {
                parser.Parse();
            }
            catch (Exception ex)
            {
                transform.AbortKey();
                if (insideKey) CommitAbortedKey(ref commits);
                cancellationToken.ThrowIfCancellationRequested();
                // On a link, an RDB that ends early is the link closing, not a broken file.
                bool closed = ex is IOException || ex is SocketException || ex is ObjectDisposedException || (ex is SyncException { ErrorId: SyncErrorIds.RdbTruncated });
                if (linkLost != null && closed) throw linkLost(ex);
                throw;
            }
            _writer.Flush();
            return parser.Position;
        });
    }

    /// <summary>Part of a big key was committed: its temporary key's DEL must be committed too, not discarded.</summary>
    private void CommitAbortedKey(ref long commits)
    {
        try
        {
            if (_writer.Fault == null) _writer.CommitPoint(new CommitPosition(++commits, InSnapshot: true, _copy));
        }
        catch (Exception ex) when (ex is SyncException || ex is InvalidOperationException)
        {
        }
    }
}
