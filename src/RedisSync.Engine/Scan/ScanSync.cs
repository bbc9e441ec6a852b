using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Status;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Scan;

/// <summary>
/// A source that refuses replication, read as a client: subscribed to its keyspace events first, then
/// SCAN, each batch's keys read by DUMP and PEXPIRETIME in pipelined rounds and written as RESTORE …
/// ABSTTL REPLACE through the sync's writer, every batch checkpointed with the scan's cursor and the
/// source's run_id. A key changed meanwhile is read again (or deleted); a key DUMP cannot carry (too big,
/// DUMP refused, a payload newer than the target loads) is read by type in chunks and built under a
/// temporary name. Lost events and the end of the scan start a verify-and-repair pass (the compare
/// engine), whose differing keys are read again the same way, so the copy converges.
/// </summary>
internal sealed class ScanSync : IDisposable
{
    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(200);
    private const int ChangedKeysPerRound = 1000;

    private readonly SyncOptions _options;
    private readonly SourceLocator _source;
    private readonly ITarget _writer;
    private readonly DatabaseMap _databases;
    private readonly TargetPreparation _preparation;
    private readonly SyncStatusTracker _tracker;
    private readonly Checkpoint? _checkpoint;
    private readonly DateTimeOffset _started;
    private readonly ChangedKeys _changed;
    private readonly KeyReader _reader;
    private readonly WriteRateLimit? _readRate;
    private readonly object _lock = new object();
    private KeyspaceEvents? _events;
    private Task? _verify;
    private volatile bool _rescanWanted;
    private string _runId = "?";
    private long _keysScanned;
    private long _rescans;
    private long _repairs;
    private long _commits;
    private SyncPhase _phase = SyncPhase.Connecting;
    private (int Db, ulong Cursor) _position;

    /// <param name="options">The run's options.</param>
    /// <param name="source">Where the source is.</param>
    /// <param name="writer">The target's writer (transactional: every batch carries the scan's checkpoint).</param>
    /// <param name="databases">The database map, checked against the target.</param>
    /// <param name="preparation">What a full copy does to the target first.</param>
    /// <param name="tracker">Where phases and warnings go.</param>
    /// <param name="checkpoint">This sync's checkpoint from this source, or null.</param>
    /// <param name="started">When the sync began, for the checkpoint.</param>
    public ScanSync(SyncOptions options, SourceLocator source, ITarget writer, DatabaseMap databases, TargetPreparation preparation, SyncStatusTracker tracker,
        Checkpoint? checkpoint, DateTimeOffset started)
    {
        _options = options;
        _source = source;
        _writer = writer;
        _databases = databases;
        _preparation = preparation;
        _tracker = tracker;
        _checkpoint = checkpoint;
        _started = started;
        _changed = new ChangedKeys(options.ChangedKeysLimit);
        if (options.MaxReadRate is long rate) _readRate = new WriteRateLimit(rate);
        _reader = new KeyReader(options, writer, databases, tracker.Warn, _readRate);
    }

    /// <summary>Where the scan is; the sync's phase.</summary>
    public SyncPhase Phase
    {
        get
        {
            lock (_lock) return _phase;
        }
    }

    /// <summary>The phase changed (on the scan's threads).</summary>
    public event Action<ScanSync>? PhaseChanged;

    /// <summary>Keys read by SCAN and copied (this run).</summary>
    public long KeysScanned => Interlocked.Read(ref _keysScanned);

    /// <summary>Keyspace events received from the source.</summary>
    public long EventsSeen => _events?.EventsSeen ?? 0;

    /// <summary>Verify-and-repair passes begun after events may have been lost (and after a restart in the live phase).</summary>
    public long Rescans => Interlocked.Read(ref _rescans);

    /// <summary>Keys the verify-and-repair passes found different and copied again.</summary>
    public long Repairs => Interlocked.Read(ref _repairs);

    /// <summary>-MaxReadRate delayed the scan's reads within the last second.</summary>
    public bool HeldBack => _readRate?.HeldBack ?? false;

    /// <summary>The source's run_id (the scan's checkpoint belongs to it).</summary>
    public string RunId => Volatile.Read(ref _runId);

    private void SetPhase(SyncPhase phase)
    {
        lock (_lock)
        {
            if (_phase == phase) return;
            _phase = phase;
        }
        PhaseChanged?.Invoke(this);
    }

    /// <summary>Runs until a Full copy has converged, the sync stops (OperationCanceledException) or fails (SyncException).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        RedisEndpoint endpoint = await _source.LocateAsync(cancellationToken).ConfigureAwait(false);
        using RedisConnection control = await RedisConnection.ConnectAsync(endpoint, EndpointRole.Source, cancellationToken).ConfigureAwait(false);
        ServerInfo info = await control.GetServerInfoAsync(cancellationToken).ConfigureAwait(false);
        info.Fields.TryGetValue("run_id", out string? runId);
        Volatile.Write(ref _runId, string.IsNullOrEmpty(runId) ? "unknown" : runId!);
        bool full = _options.Mode == RedisSync.SyncMode.Full;
        bool withEvents = await KeyspaceEvents.CheckAsync(control, _options.EnableKeyspaceEvents, required: !full, _tracker.Warn, cancellationToken).ConfigureAwait(false);

        (int Db, ulong Cursor)? resumeAt = null;
        bool liveAgain = false;
        if (_checkpoint != null && _checkpoint.ReplicationId.StartsWith(ScanIdPrefix, StringComparison.Ordinal) && !_options.FlushTarget)
        {
            if (_checkpoint.ReplicationId != ScanIdPrefix + RunId)
            {
                _tracker.Warn(new SyncWarning(SyncErrorIds.ScanRestarted, SyncErrorKind.Retry, null, null,
                    $"The source {_source.Describe()} is not the server the checkpoint of sync '{_options.Name}' was scanned from (its run_id changed: a restart or a replacement): the scan begins again."));
            }
            else if (_checkpoint.Phase == CheckpointPhase.Snapshot && TryParseCursor(_checkpoint.ScanCursor, out int db, out ulong cursor))
            {
                resumeAt = (db, cursor);
            }
            else if (_checkpoint.Phase == CheckpointPhase.Streaming && !full)
            {
                liveAgain = true;
            }
        }
        if (_options.Mode == RedisSync.SyncMode.Incremental) liveAgain = true;

        if (withEvents)
        {
            _events = new KeyspaceEvents(_source.LocateAsync, _changed);
            _events.Lost += OnEventsLost;
            // Subscribed before the first SCAN: every change after it is in the queue.
            await _events.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        await _reader.ConnectAsync(endpoint, control, info, cancellationToken).ConfigureAwait(false);

        if (liveAgain)
        {
            // The events of the time the sync was down are gone: the verify pass finds what they changed.
            Interlocked.Increment(ref _rescans);
            _tracker.Warn(new SyncWarning(SyncErrorIds.KeyspaceEventsLost, SyncErrorKind.Retry, null, null,
                $"Sync '{_options.Name}' continues from its checkpoint: the keyspace events of the time it was stopped were not received, so a verify-and-repair pass finds what changed."));
            SetPhase(SyncPhase.Streaming);
            StartVerify();
        }
        else
        {
            if (resumeAt == null)
            {
                (bool empty, ConflictPolicy policy) = await _preparation.PrepareAsync(1, transactional: true, cancellationToken).ConfigureAwait(false);
                _reader.Replace = empty || policy == ConflictPolicy.Replace;
            }
            else
            {
                _position = resumeAt.Value;
            }
            SetPhase(SyncPhase.LoadingSnapshot);
            await CopyFunctionsAsync(control, info, cancellationToken).ConfigureAwait(false);
            await ScanAsync(control, resumeAt, cancellationToken).ConfigureAwait(false);
            _writer.CommitPoint(new CommitPosition(++_commits, InSnapshot: false, 1));
            await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
            if (!full) SetPhase(SyncPhase.Streaming);
            StartVerify();
        }
        try
        {
            await FollowAsync(full, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && Phase == SyncPhase.Streaming && _options.ScanStopVerifyTimeout > TimeSpan.Zero)
        {
            await VerifyOnStopAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// A live sync that is stopped leaves the target as the source is now: one more verify-and-repair pass
    /// (after the one running, if any), the changed keys copied until it ends, committed; bounded by
    /// ScanStopVerifyTimeout (a warning when it did not end in time).
    /// </summary>
    private async Task VerifyOnStopAsync()
    {
        using var timeout = new CancellationTokenSource(_options.ScanStopVerifyTimeout);
        try
        {
            if (_verify != null && !_verify.IsCompleted)
            {
                await Task.WhenAny(_verify, Task.Delay(Timeout.Infinite, timeout.Token)).ConfigureAwait(false);
                timeout.Token.ThrowIfCancellationRequested();
            }
            ThrowIfVerifyFailed();
            Interlocked.Increment(ref _rescans);
            StartVerify();
            while (true)
            {
                if (await CopyChangedAsync(timeout.Token).ConfigureAwait(false) > 0) continue;
                if (_verify!.IsCompleted && _changed.Count == 0) break;
                _writer.Flush();
                await _changed.WaitAsync(IdleWait, timeout.Token).ConfigureAwait(false);
            }
            await _verify.ConfigureAwait(false);
            await _writer.DrainAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is SyncException)
        {
            _tracker.Warn(new SyncWarning(SyncErrorIds.StopVerifyUnfinished, SyncErrorKind.Retry, null, null,
                $"Sync '{_options.Name}' was stopped before its last verify-and-repair pass ended ({(ex is OperationCanceledException ? $"not within {_options.ScanStopVerifyTimeout.TotalSeconds:0} s" : ex.Message)}): " +
                "keys changed on the source without an event may differ on the target. Compare-RedisData finds them; the sync's next start runs the pass again."));
        }
    }

    /// <summary>The replication id a scan checkpoint carries: the source's run_id, so a restarted source means a new scan.</summary>
    internal const string ScanIdPrefix = "scan-";

    /// <summary>The source's functions (Redis 7): FUNCTION DUMP, then FUNCTION RESTORE … REPLACE in the writer's batch.</summary>
    private async Task CopyFunctionsAsync(RedisConnection control, ServerInfo info, CancellationToken cancellationToken)
    {
        if (!info.SupportsFunctions || !_writer.Server.SupportsFunctions) return;
        RespValue dump = await control.ExecuteAsync(cancellationToken, "FUNCTION", "DUMP").ConfigureAwait(false);
        if (dump.IsError)
        {
            _tracker.Warn(new SyncWarning("FunctionDropped", SyncErrorKind.Skip, null, "FUNCTION",
                $"The source {control.Endpoint} refused FUNCTION DUMP ({dump.AsString()}): its functions are not copied."));
            return;
        }
        RespValue list = await control.ExecuteAsync(cancellationToken, "FUNCTION", "LIST").ConfigureAwait(false);
        if (dump.Bytes == null || (!list.IsError && list.Items.Length == 0)) return;
        _writer.BeginCommand();
        _writer.Arg("FUNCTION"u8);
        _writer.Arg("RESTORE"u8);
        _writer.Arg(dump.Bytes);
        _writer.Arg("REPLACE"u8);
        _writer.EndCommand();
    }

    /// <summary>SCAN over every database that holds keys, from <paramref name="resumeAt"/>; the changed keys are copied between batches.</summary>
    private async Task ScanAsync(RedisConnection control, (int Db, ulong Cursor)? resumeAt, CancellationToken cancellationToken)
    {
        RespValue keyspace = await control.ExecuteOrThrowAsync(cancellationToken, "INFO", "keyspace").ConfigureAwait(false);
        List<int> databases = Keyspace.PerDatabase(keyspace.AsString() ?? string.Empty).Keys.OrderBy(d => d).ToList();
        foreach (int db in databases)
        {
            if (resumeAt != null && db < resumeAt.Value.Db) continue;
            ulong cursor = resumeAt != null && db == resumeAt.Value.Db ? resumeAt.Value.Cursor : 0;
            await control.ExecuteOrThrowAsync(cancellationToken, "SELECT", db).ConfigureAwait(false);
            do
            {
                cancellationToken.ThrowIfCancellationRequested();
                RespValue reply = await control.ExecuteOrThrowAsync(cancellationToken, "SCAN", cursor.ToString(CultureInfo.InvariantCulture), "COUNT", _options.ScanCount).ConfigureAwait(false);
                if (reply.Items.Length != 2 || !ulong.TryParse(reply.Items[0].AsString(), NumberStyles.None, CultureInfo.InvariantCulture, out cursor))
                {
                    throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop, $"SCAN on the source {control.Endpoint} returned an invalid reply.") { Command = "SCAN" };
                }
                var keys = new List<byte[]>(reply.Items[1].Items.Length);
                foreach (RespValue key in reply.Items[1].Items)
                {
                    if (key.Bytes != null && !ReservedKeys.IsReserved(key.Bytes)) keys.Add(key.Bytes);
                }
                await _reader.CopyAsync(db, keys, cancellationToken).ConfigureAwait(false);
                Interlocked.Add(ref _keysScanned, keys.Count);
                // The cursor after this batch: a restart continues here (the batch's keys are in the same commit).
                _position = (db, cursor);
                _writer.CommitPoint(new CommitPosition(++_commits, InSnapshot: true, 1, db, unchecked((long)cursor)));
                await CopyChangedAsync(cancellationToken).ConfigureAwait(false);
                ThrowIfVerifyFailed();
            }
            while (cursor != 0);
        }
    }

    /// <summary>Copies the changed keys as they come; a Full run ends when the scan, the verify pass and the queue are all done.</summary>
    private async Task FollowAsync(bool full, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            ThrowIfVerifyFailed();
            if (RescanWanted && (_events == null || _events.Subscribed) && (_verify == null || _verify.IsCompleted))
            {
                _rescanWanted = false;
                Interlocked.Increment(ref _rescans);
                StartVerify();
            }
            if (!full && _options.ScanVerifyInterval > TimeSpan.Zero && _verify != null && _verify.IsCompleted
                && DateTime.UtcNow - new DateTime(Interlocked.Read(ref _verifyEndedTicks), DateTimeKind.Utc) > _options.ScanVerifyInterval)
            {
                StartVerify();
            }
            if (await CopyChangedAsync(cancellationToken).ConfigureAwait(false) > 0) continue;
            _writer.Flush();
            if (full && _verify != null && _verify.IsCompleted && !RescanWanted && _changed.Count == 0)
            {
                await _verify.ConfigureAwait(false);
                await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
                if (_changed.Count == 0 && !RescanWanted)
                {
                    SetPhase(SyncPhase.Completed);
                    return;
                }
            }
            await _changed.WaitAsync(IdleWait, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>One round of changed keys (up to a bound): read again from the source and written, or deleted; returns how many.</summary>
    private async Task<int> CopyChangedAsync(CancellationToken cancellationToken)
    {
        List<(int Db, byte[] Key)> changed = _changed.Take(ChangedKeysPerRound);
        if (changed.Count == 0) return 0;
        foreach (IGrouping<int, (int Db, byte[] Key)> db in changed.GroupBy(c => c.Db))
        {
            await _reader.CopyAsync(db.Key, db.Select(c => c.Key).ToList(), cancellationToken, replace: true).ConfigureAwait(false);
        }
        _writer.CommitPoint(new CommitPosition(++_commits, InSnapshot: Phase == SyncPhase.LoadingSnapshot, 1, _position.Db, unchecked((long)_position.Cursor)));
        return changed.Count;
    }

    /// <summary>
    /// Whether a verify pass must begin: asked for (a pass whose link broke), or an event lost after the
    /// current pass began. Every loss counts, not only the first of an overflow: a pass that had already
    /// compared a key before its event was dropped cannot be the one that repairs it.
    /// </summary>
    private bool RescanWanted => _rescanWanted || (_events != null && _events.Losses != Interlocked.Read(ref _lossesHandled));

    private long _lossesHandled;

    private void OnEventsLost(string why)
    {
        _rescanWanted = true;
        _tracker.Warn(new SyncWarning(SyncErrorIds.KeyspaceEventsLost, SyncErrorKind.Retry, null, null,
            why + ": keys may have changed without an event, so a verify-and-repair pass follows (a rescan)."));
    }

    /// <summary>
    /// A verify-and-repair pass in the background: the compare engine reads both sides (values, TTLs,
    /// streams), and each key that differs goes to the queue of changed keys, to be read again. Keys only on
    /// the target are deleted only where the target holds nothing but the sync's data.
    /// </summary>
    private void StartVerify()
    {
        // Losses so far are covered by this pass: it reads every key after this point.
        Interlocked.Exchange(ref _lossesHandled, _events?.Losses ?? 0);
        if (!_databases.IsIdentity)
        {
            if (_verify == null)
            {
                _tracker.Warn(new SyncWarning(SyncErrorIds.KeyspaceEventsLost, SyncErrorKind.Skip, null, null,
                    "The verify-and-repair pass compares each database with the one of the same number, so it does not run with a database map: keys changed without an event may differ on the target."));
            }
            _verify = Task.CompletedTask;
            Interlocked.Exchange(ref _verifyEndedTicks, DateTime.UtcNow.Ticks);
            return;
        }
        bool removeExtra = _preparation.OwnsTarget;
        CancellationToken token = _verifyStop.Token;
        _verify = Task.Run(async () =>
        {
            RedisEndpoint source = await _source.LocateAsync(token).ConfigureAwait(false);
            var compare = new DataComparer(source, _options.Target, new RedisSync.Engine.Compare.CompareOptions { Mode = CompareMode.Full, ScanCount = _options.ScanCount, Parallelism = 1, SourceReadRate = _readRate, ExactTtl = true });
            try
            {
                await compare.RunAsync(difference =>
                {
                    if (difference.Status == RedisSync.KeyStatus.Ok || (difference.Status == RedisSync.KeyStatus.Extra && !removeExtra)) return;
                    Interlocked.Increment(ref _repairs);
                    _changed.AddAsync(difference.Database, difference.KeyBytes, token).GetAwaiter().GetResult();
                }, token).ConfigureAwait(false);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry && !token.IsCancellationRequested)
            {
                // A link of the pass broke: the pass is made again, as after lost events.
                _rescanWanted = true;
                _tracker.Retried(ex);
            }
            finally
            {
                Interlocked.Exchange(ref _verifyEndedTicks, DateTime.UtcNow.Ticks);
            }
        }, token);
    }

    private readonly CancellationTokenSource _verifyStop = new CancellationTokenSource();
    private long _verifyEndedTicks;

    private void ThrowIfVerifyFailed()
    {
        Task? verify = _verify;
        if (verify != null && verify.IsFaulted) verify.GetAwaiter().GetResult();
    }

    private static bool TryParseCursor(string? text, out int db, out ulong cursor)
    {
        db = 0;
        cursor = 0;
        if (text == null) return false;
        int slash = text.IndexOf('/');
        return slash > 0
            && int.TryParse(text.Substring(0, slash), NumberStyles.None, CultureInfo.InvariantCulture, out db)
            && ulong.TryParse(text.Substring(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out cursor);
    }

    /// <summary>The value of the scan's checkpoint for a batch that ends at <paramref name="position"/>.</summary>
    public byte[] FormatCheckpoint(CommitPosition position)
    {
        bool scanning = position.InSnapshot;
        string? cursor = scanning
            ? position.StreamDb.ToString(CultureInfo.InvariantCulture) + "/" + unchecked((ulong)position.DataOffset).ToString(CultureInfo.InvariantCulture)
            : null;
        return new Checkpoint(ScanIdPrefix + RunId, position.Value, scanning ? CheckpointPhase.Snapshot : CheckpointPhase.Streaming, DateTimeOffset.UtcNow,
            _source.Identity, _preparation.OwnsTarget, position.Value, _options.Mode, _started, scanCursor: cursor).Format();
    }

    public void Dispose()
    {
        _verifyStop.Cancel();
        try { _verify?.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _events?.Dispose();
        _reader.Dispose();
        _verifyStop.Dispose();
    }
}
