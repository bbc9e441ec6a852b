using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// One sync: assembles reader → transform → writer for a live source (full copy, then the command
/// stream, resuming after dropped links) or an RDB file, and keeps the status any host can read.
/// </summary>
public sealed class SyncSession : IDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private readonly SyncOptions _options;
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private readonly LagTracker _lag = new LagTracker();
    private readonly object _statusLock = new object();

    private SyncPhase _phase = SyncPhase.Connecting;
    private TargetWriter? _writer;
    private RdbParser? _parser;
    private ReplicationStream? _stream;
    private long _snapshotTotal = -1;
    private long _snapshotDone;
    private string? _replicationId;
    private long _streamStart;
    private long _appliedOffset;
    private int _fullResyncs;
    private int _partialResyncs;
    private long _retried;
    private long _skipped;
    private long _stopErrors;
    private string? _lastError;
    private string? _lastErrorId;
    private DateTimeOffset _startTime;
    private (DateTimeOffset At, long Keys, long Commands) _rateSample;
    private double _keysPerSecond;
    private double _commandsPerSecond;
    private CheckpointPhase _checkpointPhase;
    private long _snapshotKeys;
    private ReplicationToCommands? _streamTransform;
    private volatile ReplicaLink? _link;
    private long _snapshotKeysTotal;
    private long _snapshotOffset;
    private bool _ownsTarget;

    public SyncSession(SyncOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _startTime = DateTimeOffset.UtcNow;
    }

    public string Name => _options.Name;

    public SyncOptions Options => _options;

    /// <summary>The phase changed (raised on the engine's threads: hosts queue it).</summary>
    public event Action<SyncStatus>? PhaseChanged;

    /// <summary>About once a second while the sync runs.</summary>
    public event Action<SyncStatus>? Progress;

    /// <summary>Something was skipped or changed without stopping the sync.</summary>
    public event Action<SyncWarning>? Warning;

    public SyncPhase Phase => _phase;

    /// <summary>The writer's counters (for tests that check memory stayed bounded).</summary>
    internal WriterStatistics? WriterStatistics => _writer?.Statistics;

    /// <summary>Asks the sync to stop: it stops reading, drains what is in flight, checkpoints, and ends Stopped.</summary>
    public void Stop() => _stop.Cancel();

    /// <summary>A consistent snapshot of the state; cheap, callable from any thread.</summary>
    public SyncStatus GetStatus()
    {
        UpdateApplied(); // the target's last acknowledged checkpoint, not the one the ack loop saw up to a second ago
        lock (_statusLock)
        {
            WriterStatistics? stats = _writer?.Statistics;
            long keys = stats?.KeysAcknowledged ?? 0;
            long commands = stats?.CommandsAcknowledged ?? 0;
            long received = _stream?.Offset ?? _appliedOffset;
            if (received < _appliedOffset) received = _appliedOffset;
            long snapshotDone = _parser?.Position ?? _snapshotDone;
            return new SyncStatus
            {
                Name = _options.Name,
                Phase = _phase,
                Mode = _options.Mode,
                Source = _options.Source?.ToString() ?? _options.RdbPath ?? string.Empty,
                Target = _options.Target.ToString(),
                Timestamp = DateTimeOffset.UtcNow,
                StartTime = _startTime,
                ReplicationId = _replicationId,
                SourceOffset = received,
                AppliedOffset = _appliedOffset,
                LagBytes = Math.Max(0, received - _appliedOffset),
                LagMilliseconds = _lag.LagMilliseconds(_appliedOffset, received),
                SnapshotBytesReceived = snapshotDone,
                SnapshotBytesTotal = _snapshotTotal,
                SnapshotPercent = SnapshotPercent(snapshotDone),
                KeysWritten = keys,
                CommandsWritten = commands,
                KeysPerSecond = _keysPerSecond,
                CommandsPerSecond = _commandsPerSecond,
                FullResyncs = _fullResyncs,
                PartialResyncs = _partialResyncs,
                RetriedErrors = _retried,
                SkippedErrors = _skipped, // a command the writer skipped arrives as a warning too: counted once, in Warn
                StopErrors = _stopErrors,
                LastError = _lastError,
                LastErrorId = _lastErrorId,
            };
        }
    }

    /// <summary>
    /// Percent of the snapshot done: by bytes when its size is known; for a diskless transfer (no size
    /// announced) by keys against the source's key count when the transfer began.
    /// </summary>
    private double? SnapshotPercent(long bytesDone)
    {
        if (_snapshotTotal > 0) return Math.Min(100.0, 100.0 * bytesDone / _snapshotTotal);
        long keysTotal = Interlocked.Read(ref _snapshotKeysTotal);
        if (keysTotal > 0) return Math.Min(99.9, 100.0 * Interlocked.Read(ref _snapshotKeys) / keysTotal);
        return null;
    }

    /// <summary>
    /// Runs the sync to its end: Completed (a full copy or an RDB file), Stopped (on
    /// <see cref="Stop"/>), or a thrown <see cref="SyncException"/> (phase Failed). Cancelling
    /// <paramref name="cancellationToken"/> stops it like <see cref="Stop"/>.
    /// </summary>
    public async Task<SyncStatus> RunAsync(CancellationToken cancellationToken = default)
    {
        _options.Validate();
        using CancellationTokenRegistration link = cancellationToken.Register(() => _stop.Cancel());
        using var progressCts = new CancellationTokenSource();
        Task progress = ReportProgressAsync(progressCts.Token);
        try
        {
            if (_options.RdbPath != null) await RunRdbFileAsync(_stop.Token).ConfigureAwait(false);
            else await RunLiveAsync(_stop.Token).ConfigureAwait(false);
            return GetStatus();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            await DrainOnStopAsync().ConfigureAwait(false);
            SetPhase(SyncPhase.Stopped);
            return GetStatus();
        }
        catch (SyncException ex)
        {
            Fail(ex);
            throw;
        }
        catch (Exception ex)
        {
            var wrapped = new SyncException("InternalError", SyncErrorKind.Stop, "The sync failed unexpectedly: " + ex.Message, ex);
            Fail(wrapped);
            throw wrapped;
        }
        finally
        {
            progressCts.Cancel();
            try { await progress.ConfigureAwait(false); } catch (OperationCanceledException) { }
            _writer?.Dispose();
        }
    }

    private void Fail(SyncException ex)
    {
        lock (_statusLock)
        {
            _stopErrors++;
            _lastError = ex.Message;
            _lastErrorId = ex.ErrorId;
        }
        SetPhase(SyncPhase.Failed);
    }

    // ---------------------------------------------------------------- RDB file

    private async Task RunRdbFileAsync(CancellationToken cancellationToken)
    {
        string path = _options.RdbPath!;
        if (!File.Exists(path))
        {
            throw new SyncException(SyncErrorIds.RdbNotFound, SyncErrorKind.Stop, $"The RDB file '{path}' does not exist.");
        }
        // The whole file is checked before the target is touched: a broken file leaves the target as it was.
        RdbFileSummary checkedFile = await RdbFileCheck.RunAsync(path, cancellationToken).ConfigureAwait(false);
        await RdbFileCheck.RequireModulesAsync(checkedFile, _options.Target, cancellationToken).ConfigureAwait(false);
        _writer = await ConnectWriterAsync(checkpointed: false, cancellationToken).ConfigureAwait(false);
        bool empty = await PrepareTargetAsync(firstCopy: true, cancellationToken).ConfigureAwait(false);
        SetPhase(SyncPhase.LoadingSnapshot);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        _snapshotTotal = file.Length;
        PipeReader input = PipeReader.Create(file, new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024));
        await ParseSnapshotAsync(input, empty, _options.OnConflict, commitPoints: false, cancellationToken).ConfigureAwait(false);
        await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
        SetPhase(SyncPhase.Completed);
    }

    // ---------------------------------------------------------------- live source

    private async Task RunLiveAsync(CancellationToken cancellationToken)
    {
        _writer = await ConnectWriterAsync(checkpointed: true, cancellationToken).ConfigureAwait(false);
        Checkpoint? checkpoint = await ReadCheckpointAsync(cancellationToken).ConfigureAwait(false);
        if (_options.Mode == SyncMode.Incremental && (checkpoint == null || checkpoint.Phase != CheckpointPhase.Streaming))
        {
            throw new SyncException(SyncErrorIds.NoCheckpoint, SyncErrorKind.Stop,
                $"Sync '{Name}' has no usable checkpoint on the target {_options.Target}: an incremental sync continues from one. " +
                "Run a Full or FullAndIncremental sync first.");
        }
        string? replid = null;
        long next = -1;
        if (checkpoint != null)
        {
            _ownsTarget = checkpoint.OwnsTarget;
            if (checkpoint.Phase == CheckpointPhase.Streaming)
            {
                replid = checkpoint.ReplicationId;
                next = checkpoint.Offset + 1;
                _appliedOffset = checkpoint.Offset;
                _replicationId = replid;
            }
        }
        bool firstCopy = checkpoint == null;
        DateTime reconnectDeadline = DateTime.MaxValue;
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        bool connected = false; // a source that was never reached is an error at once, not a reconnect loop
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ReplicaLink? link = null;
            try
            {
                link = await ReplicaLink.ConnectAsync(_options.Source!, cancellationToken).ConfigureAwait(false);
                PsyncReply reply = await link.PsyncAsync(replid, next, _options.ReconnectTimeout, cancellationToken).ConfigureAwait(false);
                reconnectDeadline = DateTime.MaxValue;
                backoff = TimeSpan.FromMilliseconds(100);
                connected = true;
                if (reply.FullResync)
                {
                    if (_options.Mode == SyncMode.Incremental)
                    {
                        throw new SyncException(SyncErrorIds.BacklogExceeded, SyncErrorKind.Stop,
                            $"The source {_options.Source} can no longer continue sync '{Name}' from offset {next} (its replication backlog no longer " +
                            "covers it, or its replication id changed): a new full copy is needed. Run it in FullAndIncremental mode.");
                    }
                    if (replid != null)
                    {
                        Warn(new SyncWarning("FullResyncRequired", SyncErrorKind.Retry, null, "PSYNC",
                            $"The source {_options.Source} could not continue from offset {next} of replication id {replid}: its backlog no longer covers it. " +
                            "A new full copy replaces the target's data."));
                    }
                    await LoadSnapshotAsync(link, reply, firstCopy, cancellationToken).ConfigureAwait(false);
                    firstCopy = false;
                    if (_options.Mode == SyncMode.Full)
                    {
                        await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
                        _appliedOffset = reply.Offset;
                        SetPhase(SyncPhase.Completed);
                        return;
                    }
                    _streamStart = reply.Offset;
                }
                else
                {
                    lock (_statusLock) _partialResyncs++;
                    _streamStart = reply.Offset;
                }
                replid = reply.ReplicationId;
                _replicationId = replid;
                await StreamAsync(link, cancellationToken).ConfigureAwait(false);
            }
            catch (SyncException ex) when (!connected && ex.Kind == SyncErrorKind.Retry && IsSourceError(ex))
            {
                throw new SyncException(ex.ErrorId, SyncErrorKind.Stop, ex.Message, ex);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry && !cancellationToken.IsCancellationRequested && IsSourceError(ex))
            {
                lock (_statusLock)
                {
                    _retried++;
                    _lastError = ex.Message;
                    _lastErrorId = ex.ErrorId;
                }
                if (reconnectDeadline == DateTime.MaxValue) reconnectDeadline = DateTime.UtcNow + _options.ReconnectTimeout;
                if (DateTime.UtcNow > reconnectDeadline)
                {
                    throw new SyncException(ex.ErrorId, SyncErrorKind.Stop,
                        $"Gave up after {_options.ReconnectTimeout.TotalSeconds:0} s of trying to reach the source again: {ex.Message}", ex);
                }
                if (_stream != null)
                {
                    next = _stream.Offset + 1;
                }
                SetPhase(SyncPhase.Reconnecting);
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
            finally
            {
                link?.Dispose();
            }
        }
    }

    private static bool IsSourceError(SyncException ex) =>
        ex.ErrorId == SyncErrorIds.SourceLinkLost || ex.ErrorId == SyncErrorIds.SourceUnreachable || ex.ErrorId == SyncErrorIds.SourceLoading;

    private async Task LoadSnapshotAsync(ReplicaLink link, PsyncReply reply, bool firstCopy, CancellationToken cancellationToken)
    {
        lock (_statusLock) _fullResyncs++;
        _replicationId = reply.ReplicationId;
        _writer!.DiscardUncommitted();
        _streamTransform?.Reset();
        _stream = null;
        _lag.Clear();
        SetPhase(SyncPhase.WaitingForSnapshot);
        Interlocked.Exchange(ref _snapshotKeysTotal, link.SourceKeys);
        SnapshotFraming framing = await link.ReadSnapshotHeaderAsync(cancellationToken).ConfigureAwait(false);
        _snapshotTotal = framing.Length;
        SetPhase(SyncPhase.LoadingSnapshot);
        bool empty = await PrepareTargetAsync(firstCopy, cancellationToken).ConfigureAwait(false);
        ConflictPolicy policy = firstCopy ? _options.OnConflict : ConflictPolicy.Replace;
        _checkpointPhase = CheckpointPhase.Snapshot;
        _snapshotOffset = reply.Offset;
        await ParseSnapshotAsync(link.Input, empty, policy, commitPoints: true, cancellationToken).ConfigureAwait(false);
        long rdbBytes = _parser!.Position;
        link.EndSnapshot(framing, rdbBytes, cancellationToken);
        _snapshotTotal = rdbBytes;
        _writer.Flush();
        _checkpointPhase = CheckpointPhase.Streaming;
        _writer.CommitPoint(reply.Offset);
        _writer.Flush();
        _snapshotDone = rdbBytes;
        _parser = null;
    }

    private Task ParseSnapshotAsync(PipeReader input, bool targetEmpty, ConflictPolicy policy, bool commitPoints, CancellationToken cancellationToken)
    {
        TargetWriter writer = _writer!;
        var parserOptions = new RdbParserOptions();
        var transformOptions = new TransformOptions(writer.Server)
        {
            DatabaseMap = _options.DatabaseMap,
            OnConflict = policy,
            TargetIsEmpty = targetEmpty,
            ParserOptions = parserOptions,
        };
        CancellationTokenRegistration wake = cancellationToken.Register(() => input.CancelPendingRead());
        return DedicatedThread.Run("redissync-snapshot-" + Name, () =>
        {
            using CancellationTokenRegistration registration = wake;
            using var transform = new RdbToCommands(writer, transformOptions);
            transform.Warning += Warn;
            Interlocked.Exchange(ref _snapshotKeys, 0);
            long commits = 0; // commit positions: one per key, and more inside big keys
            bool insideKey = false;
            transform.KeyWritten += () =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                Interlocked.Increment(ref _snapshotKeys);
                insideKey = false;
                if (commitPoints) writer.CommitPoint(++commits);
            };
            // A big key's batch ends inside the key once it is full: without this a checkpointed batch
            // held the whole key (a 5M-field hash took the sync process to 580 MB).
            transform.KeyPartWritten += () =>
            {
                if (!commitPoints || !writer.BatchDue) return;
                writer.CommitPoint(++commits);
                insideKey = true;
            };
            var run = new RdbParser(input, transform, parserOptions);
            _parser = run;
            try
            {
                run.Parse();
            }
            catch (Exception)
            {
                transform.AbortKey();
                if (insideKey)
                {
                    // Part of the big key was committed: its temporary key's DEL must go too, not be discarded.
                    try
                    {
                        if (writer.Fault == null) writer.CommitPoint(++commits);
                    }
                    catch (Exception ex) when (ex is SyncException || ex is InvalidOperationException)
                    {
                    }
                }
                cancellationToken.ThrowIfCancellationRequested();
                throw;
            }
            writer.Flush();
        });
    }

    // ---------------------------------------------------------------- stream

    private async Task StreamAsync(ReplicaLink link, CancellationToken cancellationToken)
    {
        var stream = new ReplicationStream(link, _streamStart);
        _stream = stream;
        _checkpointPhase = CheckpointPhase.Streaming;
        SetPhase(SyncPhase.Streaming);
        TargetWriter writer = _writer!;
        using var ackCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task acks = AckLoopAsync(link, ackCts.Token);
        // One transform for the whole stream, across reconnects: a source transaction cut by a dropped
        // link continues after +CONTINUE and must still end its batch only at its EXEC.
        if (_streamTransform == null)
        {
            _streamTransform = new ReplicationToCommands(writer, _options.DatabaseMap, offset =>
            {
                _lag.Received(offset);
                writer.CommitPoint(offset);
            });
            _streamTransform.AckRequested += () =>
            {
                ReplicaLink? current = _link;
                if (current != null) _ = current.AckAsync(_appliedOffset, CancellationToken.None);
            };
        }
        ReplicationToCommands transform = _streamTransform;
        _link = link;
        try
        {
            await DedicatedThread.Run("redissync-stream-" + Name, () => stream.Run(transform, cancellationToken)).ConfigureAwait(false);
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
            UpdateApplied();
            try
            {
                await link.AckAsync(_appliedOffset, cancellationToken).ConfigureAwait(false);
            }
            catch (IOException)
            {
                return; // the stream thread reports the broken link
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private void UpdateApplied()
    {
        if (_writer == null || _checkpointPhase != CheckpointPhase.Streaming) return;
        byte[]? value = _writer.AcknowledgedCheckpoint;
        if (value == null) return;
        Checkpoint acknowledged = Checkpoint.Parse(Name, System.Text.Encoding.UTF8.GetString(value));
        if (acknowledged.Phase != CheckpointPhase.Streaming) return;
        long seen = Interlocked.Read(ref _appliedOffset);
        while (acknowledged.Offset > seen)
        {
            long was = Interlocked.CompareExchange(ref _appliedOffset, acknowledged.Offset, seen);
            if (was == seen) return;
            seen = was;
        }
    }

    // ---------------------------------------------------------------- target

    private async Task<TargetWriter> ConnectWriterAsync(bool checkpointed, CancellationToken cancellationToken)
    {
        var options = new TargetWriterOptions
        {
            ClientName = "redissync-" + Name,
            BusyKeyPolicy = _options.OnConflict switch
            {
                ConflictPolicy.Replace => BusyKeyPolicy.Replace,
                ConflictPolicy.Skip => BusyKeyPolicy.Skip,
                _ => BusyKeyPolicy.Stop,
            },
            CommandErrorPolicy = _options.SkipFailedCommands ? CommandErrorPolicy.Skip : CommandErrorPolicy.Stop,
            ReconnectTimeout = _options.ReconnectTimeout,
        };
        if (checkpointed)
        {
            options.CheckpointKey = Checkpoint.Key(Name);
            options.CheckpointFormatter = FormatCheckpoint;
        }
        TargetWriter writer = await TargetWriter.ConnectAsync(_options.Target, options, cancellationToken).ConfigureAwait(false);
        writer.Warning += Warn;
        return writer;
    }

    private byte[] FormatCheckpoint(long position)
    {
        bool streaming = _checkpointPhase == CheckpointPhase.Streaming;
        return new Checkpoint(_replicationId ?? "?", streaming ? position : _snapshotOffset, _checkpointPhase,
            DateTimeOffset.UtcNow, _options.Source?.ToString() ?? string.Empty, _ownsTarget, streaming ? 0 : position, _options.Mode).Format();
    }

    private async Task<Checkpoint?> ReadCheckpointAsync(CancellationToken cancellationToken)
    {
        using RedisConnection control = await RedisConnection.ConnectAsync(_options.Target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        return await Checkpoint.ReadAsync(control, Name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Flushes the target when asked (or when a later full copy replaces data the sync owns) and
    /// tells whether the target holds no user keys, so the copy can skip its conflict guards.
    /// </summary>
    private async Task<bool> PrepareTargetAsync(bool firstCopy, CancellationToken cancellationToken)
    {
        using RedisConnection control = await RedisConnection.ConnectAsync(_options.Target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        bool flush = firstCopy ? _options.FlushTarget : _ownsTarget;
        if (flush)
        {
            await control.ExecuteOrThrowAsync(cancellationToken, "FLUSHALL").ConfigureAwait(false);
            _ownsTarget = true;
            return true;
        }
        long userKeys = await CountUserKeysAsync(control, cancellationToken).ConfigureAwait(false);
        if (firstCopy && userKeys == 0) _ownsTarget = true;
        if (!firstCopy && !_ownsTarget && userKeys > 0)
        {
            Warn(new SyncWarning("TargetNotFlushed", SyncErrorKind.Skip, null, null,
                $"A new full copy is written over the target's keys without flushing it (it held keys before the sync began): " +
                "keys deleted on the source meanwhile may remain on the target. Start the sync with -FlushTarget to avoid this."));
        }
        return userKeys == 0;
    }

    private async Task<long> CountUserKeysAsync(RedisConnection control, CancellationToken cancellationToken)
    {
        RespValue info = await control.ExecuteOrThrowAsync(cancellationToken, "INFO", "keyspace").ConfigureAwait(false);
        long total = Keyspace.CountKeys(info.AsString() ?? string.Empty);
        await control.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue exists = await control.ExecuteOrThrowAsync(cancellationToken, "EXISTS", Checkpoint.Key(Name)).ConfigureAwait(false);
        return total - exists.Integer;
    }

    private async Task DrainOnStopAsync()
    {
        if (_writer == null || _writer.Fault != null) return;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            _writer.DiscardUncommitted();
            await _writer.DrainAsync(timeout.Token).ConfigureAwait(false);
            UpdateApplied();
        }
        catch (Exception ex) when (ex is SyncException || ex is OperationCanceledException)
        {
            lock (_statusLock)
            {
                _lastError = "Stopping: " + ex.Message;
                _lastErrorId = (ex as SyncException)?.ErrorId ?? SyncErrorIds.Stopped;
            }
        }
    }

    // ---------------------------------------------------------------- status

    private void SetPhase(SyncPhase phase)
    {
        lock (_statusLock)
        {
            if (_phase == phase) return;
            _phase = phase;
        }
        PhaseChanged?.Invoke(GetStatus());
    }

    private void Warn(SyncWarning warning)
    {
        lock (_statusLock)
        {
            if (warning.Kind == SyncErrorKind.Retry) _retried++;
            else _skipped++;
            _lastError = warning.Message;
            _lastErrorId = warning.ErrorId;
        }
        Warning?.Invoke(warning);
    }

    private async Task ReportProgressAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(ProgressInterval, cancellationToken).ConfigureAwait(false);
            UpdateApplied();
            UpdateRates();
            Progress?.Invoke(GetStatus());
        }
    }

    private void UpdateRates()
    {
        WriterStatistics? stats = _writer?.Statistics;
        if (stats == null) return;
        DateTimeOffset now = DateTimeOffset.UtcNow;
        long keys = stats.KeysAcknowledged;
        long commands = stats.CommandsAcknowledged;
        lock (_statusLock)
        {
            double seconds = (now - _rateSample.At).TotalSeconds;
            if (_rateSample.At != default && seconds > 0)
            {
                _keysPerSecond = Math.Max(0, keys - _rateSample.Keys) / seconds;
                _commandsPerSecond = Math.Max(0, commands - _rateSample.Commands) / seconds;
            }
            _rateSample = (now, keys, commands);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _writer?.Dispose();
        _streamTransform?.Dispose();
        _stop.Dispose();
    }
}
