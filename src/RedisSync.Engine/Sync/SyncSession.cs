using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Scan;
using RedisSync.Engine.Status;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// One sync: checks the target and the source before anything is copied, takes the sync's lease on
/// the target, then wires source → transform → writer (a shard of a live source, or an RDB file) and
/// keeps the status any host can read.
/// </summary>
internal sealed class SyncSession : IDisposable
{
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromSeconds(1);

    private readonly SyncOptions _options;
    private readonly CancellationTokenSource _stop = new CancellationTokenSource();
    private readonly SyncStatusTracker _tracker = new SyncStatusTracker(DateTimeOffset.UtcNow);
    private readonly CatchUpEstimate _catchUp = new CatchUpEstimate();
    private readonly WriteRateLimit? _rateLimit;
    private readonly CancellationTokenSource _verifyStop = new CancellationTokenSource();
    private readonly CancellationTokenSource _ended = new CancellationTokenSource();
    private volatile StreamVerifier? _verifier;
    private RedisConnection? _control;
    private ITarget? _writer;
    private Lease? _lease;
    private volatile ShardSync[] _shards = Array.Empty<ShardSync>();
    private readonly List<ITarget> _shardWriters = new List<ITarget>();
    private SourceLocator? _source;
    private volatile SnapshotCopy? _file;
    private volatile ScanSync? _scan;
    private long _fileBytes = -1;
    private DateTimeOffset? _checkpointStarted;
    private Func<CommitPosition, byte[]>? _formatter;
    private bool _leaseFenced;
    private bool _clusterTarget;
    private (ClusterNode Master, IReadOnlyList<ClusterNode> Nodes)? _shardTask;
    private string? _shardId;

    public SyncSession(SyncOptions options)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _tracker.Compose = GetStatus;
        if (options.MaxWriteRate is long rate && rate > 0) _rateLimit = new WriteRateLimit(rate);
    }

    public string Name => _options.Name;

    public SyncOptions Options => _options;

    /// <summary>The phase changed (raised on the engine's threads: hosts queue it).</summary>
    public event Action<SyncStatus>? PhaseChanged
    {
        add => _tracker.PhaseChanged += value;
        remove => _tracker.PhaseChanged -= value;
    }

    /// <summary>About once a second while the sync runs.</summary>
    public event Action<SyncStatus>? Progress;

    /// <summary>Something was skipped or changed without stopping the sync.</summary>
    public event Action<SyncWarning>? Warning
    {
        add => _tracker.Warning += value;
        remove => _tracker.Warning -= value;
    }

    public SyncPhase Phase => _tracker.Phase;

    /// <summary>The writer's counters (for tests that check memory stayed bounded).</summary>
    internal WriterStatistics? WriterStatistics => _writer?.Statistics;

    /// <summary>Every writer of the run: the main one, and one per shard of a cluster source.</summary>
    private IEnumerable<ITarget> Writers
    {
        get
        {
            if (_writer != null) yield return _writer;
            lock (_shardWriters)
            {
                foreach (ITarget writer in _shardWriters.ToArray()) yield return writer;
            }
        }
    }

    /// <summary>The master each shard reads now; empty before the shards exist (an RDB file has none).</summary>
    public async Task<IReadOnlyList<RedisEndpoint>> LocateMastersAsync(CancellationToken cancellationToken)
    {
        var masters = new List<RedisEndpoint>();
        foreach (ShardSync shard in _shards) masters.Add(await shard.LocateMasterAsync(cancellationToken).ConfigureAwait(false));
        return masters;
    }

    /// <summary>Asks the sync to stop: it stops reading, drains what is in flight, checkpoints, and ends Stopped.</summary>
    public void Stop() => _stop.Cancel();

    /// <summary>A stop asked through the target (Complete-RedisSync from another process).</summary>
    private void StopAsked()
    {
        _tracker.Note($"Stopping: asked through the target ({ReservedKeys.Stop(Name, _shardId)}), by Complete-RedisSync from another process.", SyncErrorIds.Stopped);
        Stop();
    }

    /// <summary>A consistent snapshot of the state; cheap, callable from any thread.</summary>
    public SyncStatus GetStatus()
    {
        SyncStatusTracker.Reading run = _tracker.Read();
        ShardSync[] shards = _shards;
        SnapshotCopy? file = _file;
        long keysWritten = 0, commandsWritten = 0;
        foreach (ITarget writer in Writers)
        {
            keysWritten += writer.Statistics.KeysAcknowledged;
            commandsWritten += writer.Statistics.CommandsAcknowledged;
        }
        var rows = new ShardStatus[shards.Length];
        long applied = 0, received = 0, lagMs = 0, bytes = 0, total = 0, keys = 0, keysTotal = 0;
        int full = 0, partial = 0;
        for (int i = 0; i < shards.Length; i++)
        {
            ShardSync shard = shards[i];
            long a = shard.AppliedOffset, r = shard.ReceivedOffset, lag = shard.LagMilliseconds(a, r);
            (long b, long t, long k, long kt) = shard.SnapshotProgress;
            rows[i] = new ShardStatus
            {
                Source = shard.Source,
                Phase = shard.Phase,
                ReplicationId = shard.ReplicationId,
                SourceOffset = r,
                AppliedOffset = a,
                LagBytes = Math.Max(0, r - a),
                LagMilliseconds = lag,
                FullResyncs = shard.FullResyncs,
                PartialResyncs = shard.PartialResyncs,
            };
            applied += a;
            received += r;
            lagMs = Math.Max(lagMs, lag);
            bytes += b;
            total = t < 0 || total < 0 ? -1 : total + t;
            keys += k;
            keysTotal += kt;
            full += shard.FullResyncs;
            partial += shard.PartialResyncs;
        }
        ScanSync? scan = _scan;
        if (shards.Length == 0 && scan != null)
        {
            keys = scan.KeysScanned;
        }
        else if (shards.Length == 0)
        {
            bytes = file?.BytesRead ?? 0;
            total = Interlocked.Read(ref _fileBytes);
            keys = file?.KeysRead ?? 0;
        }
        return new SyncStatus
        {
            Name = _options.Name,
            Phase = run.Phase,
            Mode = _options.Mode,
            Source = shards.Length > 1 ? $"{shards.Length} shards of the cluster {_options.Source}"
                : _shardId != null && shards.Length == 1 ? shards[0].Source
                : _source?.Describe() ?? _options.Source?.ToString() ?? _options.RdbPath ?? string.Empty,
            Shard = _shardId ?? _options.Shard,
            Target = _options.Target.ToString(),
            Filter = Describe(_options.Filter, _options.RenameKey),
            Timestamp = DateTimeOffset.UtcNow,
            StartTime = _checkpointStarted ?? _tracker.StartTime,
            ReplicationId = shards.Length == 1 ? shards[0].ReplicationId : scan != null ? ScanSync.ScanIdPrefix + scan.RunId : null,
            SourceMode = _options.RdbPath != null ? null : scan != null ? RedisSync.SourceMode.Scan : RedisSync.SourceMode.Psync,
            KeysScanned = scan?.KeysScanned ?? 0,
            KeyspaceEvents = scan?.EventsSeen ?? 0,
            Rescans = scan?.Rescans ?? 0,
            Repairs = scan?.Repairs ?? 0,
            SourceOffset = received,
            AppliedOffset = applied,
            LagBytes = Math.Max(0, received - applied),
            LagMilliseconds = lagMs,
            CatchUpSeconds = run.Phase == SyncPhase.Streaming ? _catchUp.Seconds(Math.Max(0, received - applied)) : null,
            SnapshotBytesReceived = bytes,
            SnapshotBytesTotal = total,
            SnapshotPercent = SnapshotPercent(bytes, total, keys, keysTotal),
            KeysWritten = keysWritten,
            CommandsWritten = commandsWritten,
            KeysPerSecond = run.KeysPerSecond,
            CommandsPerSecond = run.CommandsPerSecond,
            FullResyncs = full,
            PartialResyncs = partial,
            RetriedErrors = run.Retried,
            SkippedErrors = run.Skipped,
            StopErrors = run.StopErrors,
            HeldBack = (_rateLimit?.HeldBack ?? false) || (scan?.HeldBack ?? false),
            KeysVerified = _verifier?.Verified ?? 0,
            Mismatches = _verifier?.Mismatches ?? 0,
            LastError = run.LastError,
            LastErrorId = run.LastErrorId,
            Shards = rows,
            TargetNodes = TargetNodes(),
        };
    }

    /// <summary>A cluster target's masters, summed over the sync's writers (one per source shard), by address.</summary>
    private TargetNodeStatus[] TargetNodes()
    {
        var nodes = new SortedDictionary<string, (int Slots, long InFlight, long Acknowledged, long Redirects, long? Offset)>(StringComparer.Ordinal);
        foreach (ITarget writer in Writers)
        {
            if (writer is not ClusterTarget cluster) continue;
            foreach (ClusterNodeStatus node in cluster.Nodes)
            {
                nodes.TryGetValue(node.Address, out var sum);
                long? offset = node.AcknowledgedOffset == null ? sum.Offset : (sum.Offset ?? 0) + node.AcknowledgedOffset;
                nodes[node.Address] = (Math.Max(sum.Slots, node.Slots), sum.InFlight + node.InFlight, sum.Acknowledged + node.Acknowledged, sum.Redirects + node.Redirects, offset);
            }
        }
        return nodes.Select(n => new TargetNodeStatus
        {
            Address = n.Key, Slots = n.Value.Slots, InFlightCommands = n.Value.InFlight, AcknowledgedCommands = n.Value.Acknowledged, Redirects = n.Value.Redirects,
            AcknowledgedOffset = n.Value.Offset,
        }).ToArray();
    }

    /// <summary>The filter and the renames as Start-RedisSync's parameters say them (empty when it copies everything under its own name).</summary>
    internal static string Describe(SyncFilter? filter, IReadOnlyDictionary<string, string>? renames)
    {
        string text = filter?.ToString() ?? string.Empty;
        if (renames == null || renames.Count == 0) return text;
        string map = "-RenameKey @{ " + string.Join("; ", renames.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"'{p.Key}' = '{p.Value}'")) + " }";
        return text.Length == 0 ? map : text + " " + map;
    }

    /// <summary>
    /// Percent of the snapshot done: by bytes when its size is known; for a diskless transfer (no size
    /// announced) by keys against the source's key count when the transfer began.
    /// </summary>
    private static double? SnapshotPercent(long bytes, long total, long keys, long keysTotal)
    {
        if (total > 0) return Math.Min(100.0, 100.0 * bytes / total);
        if (keysTotal > 0) return Math.Min(99.9, 100.0 * keys / keysTotal);
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
            await RunStagesAsync(_stop.Token).ConfigureAwait(false);
            return GetStatus();
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            await DrainOnStopAsync().ConfigureAwait(false);
            _tracker.SetPhase(SyncPhase.Stopped);
            return GetStatus();
        }
        catch (Exception ex)
        {
            SyncException error = Classify(ex);
            _tracker.Failed(error);
            if (ReferenceEquals(error, ex)) throw;
            throw error;
        }
        finally
        {
            progressCts.Cancel();
            try { await progress.ConfigureAwait(false); } catch (OperationCanceledException) { }
            await EndAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The whole flow: target, plan, lease, pre-flight, then the source's stages.</summary>
    private async Task RunStagesAsync(CancellationToken cancellationToken)
    {
        bool live = _options.RdbPath == null;
        RdbFileSummary? file = null;
        if (live)
        {
            _source = _options.Sentinels != null
                ? new SentinelSource(_options.Sentinels, _options.MasterName!, _options.MasterLogin ?? new RedisEndpoint("master", 0))
                : new FixedSource(_options.Source!);
        }
        else
        {
            if (!File.Exists(_options.RdbPath))
            {
                throw new SyncException(SyncErrorIds.RdbNotFound, SyncErrorKind.Stop, $"The RDB file '{_options.RdbPath}' does not exist.");
            }
            // The whole file is checked before the target is touched: a broken file leaves the target as it was.
            file = await RdbFileCheck.RunAsync(_options.RdbPath!, cancellationToken).ConfigureAwait(false);
        }
        _control = await RedisConnection.ConnectAsync(_options.Target, EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        _clusterTarget = await ClusterTarget.IsClusterAsync(_control, cancellationToken).ConfigureAwait(false);
        if (!_clusterTarget) await Preflight.CheckTargetAsync(_control, cancellationToken).ConfigureAwait(false);
        _writer = await ConnectWriterAsync(live ? Checkpoint.Key(Name) : null, () => _formatter, cancellationToken).ConfigureAwait(false);
        if (_options.Shard != null)
        {
            // A shard task: which master it reads decides its lease, so it is found first (CLUSTER NODES only: nothing forks the source).
            _shardTask = await ShardSelection.Parse(_options.Shard).ResolveAsync(_options.Source!, cancellationToken).ConfigureAwait(false);
            _shardId = ShardSelection.IdentityOf(_shardTask.Value.Master);
        }
        if (_writer is ClusterTarget cluster)
        {
            // The lease and its renewals go to the master of the lease key's slot.
            _control.Dispose();
            _control = await RedisConnection.ConnectAsync(cluster.MasterOf(ReservedKeys.Lease(Name, _shardId)), EndpointRole.Target, cancellationToken).ConfigureAwait(false);
        }
        Checkpoint? checkpoint = live ? ReadCheckpoint(_writer.InitialCheckpoint) : null;
        var databases = new DatabaseMap(_options.DatabaseMap, _writer.DatabaseCount, _options.Target.ToString());
        if (file != null)
        {
            databases.CheckAll(file.KeysPerDatabase.Keys);
            await RdbFileCheck.RequireModulesAsync(file, _options.Target, cancellationToken).ConfigureAwait(false);
        }
        _lease = await Lease.AcquireAsync(_control, Name, _shardId, _options.LeaseTime, cancellationToken).ConfigureAwait(false);
        if (_shardId != null)
        {
            // Listed before the whole sync's lease is looked at, as a whole run takes its lease before it reads the list
            // and the shard leases: whichever of the two comes second sees the other.
            await OnTargetKeyAsync(ReservedKeys.Shards(Name), cancellationToken, "SADD", ReservedKeys.Shards(Name), _shardId).ConfigureAwait(false);
            await ThrowIfLeaseHeldAsync(null, cancellationToken).ConfigureAwait(false);
        }
        _ = StopRequest.WatchAsync(_options.Target, _lease, StopAsked, _ended.Token);
        await GuardWithLeaseAsync(cancellationToken).ConfigureAwait(false);
        if (file != null)
        {
            await WriteFilterRecordAsync(cancellationToken).ConfigureAwait(false);
            await CopyFileAsync(databases, cancellationToken).ConfigureAwait(false);
            return;
        }
        SourceLocator source = _source!;
        ReplicaLink first = await Preflight.CheckSourceAsync(source, databases, _control, _options.FlushTarget, _tracker.Warn, cancellationToken).ConfigureAwait(false);
        // After the pre-flight checks: a run they refuse leaves nothing on the target.
        await WriteFilterRecordAsync(cancellationToken).ConfigureAwait(false);
        if (first.Server.IsCluster && _options.Sentinels == null)
        {
            first.Dispose();
            if (_options.SourceMode == RedisSync.SourceMode.Scan)
            {
                throw new SyncException(SyncErrorIds.InvalidOptions, SyncErrorKind.Stop,
                    $"The source {_options.Source} is a cluster: -SourceMode Scan reads one server; sync a cluster with -SourceMode Psync, or each of its masters as a sync of its own.");
            }
            await RunClusterSourceAsync(databases, cancellationToken).ConfigureAwait(false);
            return;
        }
        PlanRun(checkpoint);
        Checkpoint? own = checkpoint != null && checkpoint.Source == source.Identity ? checkpoint : null;
        bool resume = own != null && own.Phase == CheckpointPhase.Streaming && !_options.FlushTarget && _options.Mode != RedisSync.SyncMode.Full;
        if (own != null) _checkpointStarted = own.Started;
        if (_options.SourceMode == RedisSync.SourceMode.Scan)
        {
            first.Dispose();
            await RunScanAsync(databases, own, cancellationToken).ConfigureAwait(false);
            return;
        }
        var preparation = new TargetPreparation(_options, _writer, own, _tracker.Warn);
        var shard = new ShardSync(_options, source, _writer, databases, preparation, _tracker, resume ? own : null, _checkpointStarted ?? _tracker.StartTime, first);
        _formatter = shard.FormatCheckpoint;
        try
        {
            if (_options.VerifyRate is long verifyRate) StartVerifier(shard, verifyRate);
            await RunShardsAsync(new[] { shard }, cancellationToken).ConfigureAwait(false);
        }
        catch (SyncException ex) when (ex.ErrorId == SyncErrorIds.ReplicationRefused && _options.SourceMode == RedisSync.SourceMode.Auto
            && shard.FullResyncs == 0 && shard.PartialResyncs == 0 && !cancellationToken.IsCancellationRequested)
        {
            // Refused at the first PSYNC: nothing was written to the target yet.
            _tracker.Warn(new SyncWarning(SyncErrorIds.SwitchedToScan, SyncErrorKind.Retry, null, ex.Command,
                ex.Message + " The sync reads the source by SCAN and keyspace events instead (-SourceMode Auto); give -SourceMode Psync to stop here instead."));
            _shards = Array.Empty<ShardSync>();
            shard.Dispose();
            _writer.DiscardUncommitted();
            await RunScanAsync(databases, own, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A source read by SCAN and keyspace events (it refuses replication, or -SourceMode Scan asked for it).</summary>
    /// <remarks>
    /// A link to the source that drops once the scan has begun is retried with backoff (bounded by
    /// ReconnectTimeout): the scan starts again from the checkpoint its target holds, at the cursor
    /// of its last committed batch, or, once it followed the events, with a verify-and-repair pass.
    /// </remarks>
    private async Task RunScanAsync(DatabaseMap databases, Checkpoint? own, CancellationToken cancellationToken)
    {
        if (_options.KeyFilter != null || _options.KeyRename != null)
        {
            string what = Describe(_options.Filter, _options.RenameKey);
            if (_options.Where != null) what = (what + " -Where { ... }").Trim();
            throw new SyncException(SyncErrorIds.ScanFilterUnsupported, SyncErrorKind.Stop,
                $"Sync '{Name}' has filters or key renames ({what}), and its source {_source!.Describe()} would be read by SCAN, which does not apply them yet: " +
                "it would copy keys the filter leaves out. No key was copied. Sync from a source that allows replication (PSYNC), or without the filters.");
        }
        Checkpoint? checkpoint = own;
        TimeSpan backoff = TimeSpan.FromMilliseconds(100);
        DateTime deadline = DateTime.MaxValue;
        bool begun = false; // a source never reached is an error at once, not a reconnect loop
        while (true)
        {
            var preparation = new TargetPreparation(_options, _writer!, checkpoint, _tracker.Warn);
            var scan = new ScanSync(_options, _source!, _writer!, databases, preparation, _tracker, checkpoint, _checkpointStarted ?? _tracker.StartTime);
            _formatter = scan.FormatCheckpoint;
            scan.PhaseChanged += s =>
            {
                if (s.Phase == SyncPhase.LoadingSnapshot || s.Phase == SyncPhase.Streaming) begun = true;
                _tracker.SetPhase(s.Phase);
            };
            _scan = scan;
            try
            {
                await scan.RunAsync(cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SyncException ex) when (begun && ex.Kind == SyncErrorKind.Retry && !cancellationToken.IsCancellationRequested
                && (ex.ErrorId == SyncErrorIds.SourceLinkLost || ex.ErrorId == SyncErrorIds.SourceUnreachable || ex.ErrorId == SyncErrorIds.SourceLoading))
            {
                _tracker.Retried(ex);
                if (deadline == DateTime.MaxValue) deadline = DateTime.UtcNow + _options.ReconnectTimeout;
                if (DateTime.UtcNow > deadline)
                {
                    throw new SyncException(ex.ErrorId, SyncErrorKind.Stop,
                        $"Gave up after {_options.ReconnectTimeout.TotalSeconds:0} s of trying to reach the source again: {ex.Message}", ex);
                }
                scan.Dispose();
                // What was committed stays; the scan goes on from the checkpoint the target holds now.
                _writer!.DiscardUncommitted();
                await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
                using (RedisConnection control = await RedisConnection.ConnectAsync(_options.Target, EndpointRole.Target, cancellationToken).ConfigureAwait(false))
                {
                    checkpoint = await Checkpoint.ReadAsync(control, Name, cancellationToken).ConfigureAwait(false) ?? checkpoint;
                }
                _tracker.SetPhase(SyncPhase.Reconnecting);
                await Task.Delay(backoff, cancellationToken).ConfigureAwait(false);
                backoff = TimeSpan.FromMilliseconds(Math.Min(backoff.TotalMilliseconds * 2, 5000));
            }
        }
    }

    /// <summary>
    /// A cluster source: a shard per master, each with its own replica link, writer and checkpoint
    /// (<c>redissync:checkpoint:&lt;name&gt;:&lt;shard&gt;</c>, listed in <c>redissync:shards:&lt;name&gt;</c>), all under the
    /// sync's one lease. A restart finds each shard's checkpoint by the replication id its master
    /// carries now (its own, or as replid2 after a failover) and resumes it with a partial resync.
    /// </summary>
    private async Task RunClusterSourceAsync(DatabaseMap databases, CancellationToken cancellationToken)
    {
        RedisEndpoint login = _options.Source!;
        IReadOnlyList<ClusterNode> nodes = _shardTask?.Nodes ?? await ClusterNode.ReadAsync(new[] { login }, cancellationToken).ConfigureAwait(false);
        List<ClusterNode> masters = _shardTask != null
            ? new List<ClusterNode> { _shardTask.Value.Master }
            : nodes.Where(n => n.IsMaster && !n.Failed && n.Slots > 0).OrderBy(n => n.Port).ToList();
        if (masters.Count == 0) throw new SyncException(SyncErrorIds.SourceUnreachable, SyncErrorKind.Stop, $"The source cluster {login} has no master that serves slots.");
        if (!_clusterTarget) await _control!.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        var saved = new List<(string Id, Checkpoint Checkpoint)>();
        RespValue ids = await OnTargetKeyAsync(ReservedKeys.Shards(Name), cancellationToken, "SMEMBERS", ReservedKeys.Shards(Name)).ConfigureAwait(false);
        foreach (RespValue id in ids.Items)
        {
            string shardId = id.AsString() ?? string.Empty;
            // A whole run refuses to run while a shard task of the same sync holds its shard's lease.
            if (_shardId == null) await ThrowIfLeaseHeldAsync(shardId, cancellationToken).ConfigureAwait(false);
            RespValue value = await OnTargetKeyAsync(ReservedKeys.Checkpoint(Name, shardId), cancellationToken, "GET", ReservedKeys.Checkpoint(Name, shardId)).ConfigureAwait(false);
            if (!value.IsNull) saved.Add((shardId, Checkpoint.Parse(Name, value.AsString() ?? string.Empty)));
        }
        bool fresh = _options.FlushTarget || _options.Mode == RedisSync.SyncMode.Full;
        // Every shard that has a checkpoint of any phase wrote keys of its own on the target (a copy that ended, or one cut
        // off mid-snapshot): a new copy of it replaces them, and does not stop at the first key it finds there.
        var written = new HashSet<string>(saved.Select(c => c.Id), StringComparer.Ordinal);
        var plan = new List<(ClusterNode Master, string Id, Checkpoint? Checkpoint)>();
        foreach (ClusterNode master in masters)
        {
            (string replid, string replid2) = await ReplicationIdsAsync(master.Endpoint(login), cancellationToken).ConfigureAwait(false);
            // The furthest checkpoint of this master's history: a shard copied under two ids (by a whole run, then as a
            // shard task) must not continue from the older one, which would apply its later writes twice.
            (string Id, Checkpoint Checkpoint) match = saved.Where(c => c.Checkpoint.Phase == CheckpointPhase.Streaming
                && (c.Checkpoint.ReplicationId == replid || c.Checkpoint.ReplicationId == replid2)).OrderByDescending(c => c.Checkpoint.Offset).FirstOrDefault();
            if (match.Id != null) saved.Remove(match);
            if (_shardId != null && match.Id != null && match.Id != _shardId)
            {
                // The shard's checkpoint was written under another id (a whole run's): it moves to this task's key.
                string from = ReservedKeys.Checkpoint(Name, match.Id), to = ReservedKeys.Checkpoint(Name, _shardId);
                await OnTargetKeyAsync(to, cancellationToken, "SET", to, match.Checkpoint.Format()).ConfigureAwait(false);
                await OnTargetKeyAsync(from, cancellationToken, "DEL", from).ConfigureAwait(false);
                await OnTargetKeyAsync(ReservedKeys.Shards(Name), cancellationToken, "SREM", ReservedKeys.Shards(Name), match.Id).ConfigureAwait(false);
            }
            if (match.Id == null && _options.Mode == RedisSync.SyncMode.Incremental)
            {
                throw new SyncException(SyncErrorIds.NoCheckpoint, SyncErrorKind.Stop,
                    $"Sync '{Name}' has no checkpoint for the shard of the source cluster whose master is {master.Host}:{master.Port}: an incremental sync continues from one. " +
                    "Run it with -Mode Full or FullAndIncremental first.");
            }
            plan.Add((master, _shardId ?? match.Id ?? master.Id.Substring(0, Math.Min(12, master.Id.Length)), fresh ? null : match.Checkpoint));
        }
        if (plan.Any(p => p.Checkpoint != null)) _checkpointStarted = plan.Where(p => p.Checkpoint != null).Min(p => p.Checkpoint!.Started);
        bool flushed = false;
        if (_options.FlushTarget)
        {
            // Once for every shard, before any writes: the lease is written again with the flush.
            if (_clusterTarget)
            {
                // FLUSHALL on every master, through the writer that knows them.
                _writer!.FlushAll();
                await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await _control!.ExecuteOrThrowAsync(cancellationToken, "FLUSHALL").ConfigureAwait(false);
            }
            await OnTargetKeyAsync(_lease!.Key, cancellationToken, "SET", _lease.Key, _lease.Value, "PX", (long)_options.LeaseTime.TotalMilliseconds).ConfigureAwait(false);
            flushed = true;
        }
        else if (_shardId == null)
        {
            foreach ((string Id, Checkpoint _) gone in saved) await OnTargetKeyAsync(ReservedKeys.Checkpoint(Name, gone.Id), cancellationToken, "DEL", ReservedKeys.Checkpoint(Name, gone.Id)).ConfigureAwait(false);
        }
        if (_shardId == null)
        {
            // A whole run owns the list; a shard task listed itself when it took its lease, and leaves the other shards' entries.
            await OnTargetKeyAsync(ReservedKeys.Shards(Name), cancellationToken, "DEL", ReservedKeys.Shards(Name)).ConfigureAwait(false);
            var sadd = new List<object> { "SADD", ReservedKeys.Shards(Name) };
            sadd.AddRange(plan.Select(p => (object)p.Id));
            await OnTargetKeyAsync(ReservedKeys.Shards(Name), cancellationToken, sadd.ToArray()).ConfigureAwait(false);
        }

        if (_options.VerifyRate != null)
        {
            _tracker.Warn(new SyncWarning("VerifyNotSupported", SyncErrorKind.Skip, null, null,
                $"-Verify is not done for a cluster source ({login}): compare it with Compare-RedisData -KeyPattern per shard, or at the cut-over."));
        }
        var shards = new List<ShardSync>();
        var migrations = new SlotMigrations();
        foreach ((ClusterNode master, string id, Checkpoint? checkpoint) in plan)
        {
            ShardSync? shard = null;
            ITarget writer = await ConnectWriterAsync(ReservedKeys.Checkpoint(Name, id), () => shard == null ? null : shard.FormatCheckpoint, cancellationToken).ConfigureAwait(false);
            lock (_shardWriters) _shardWriters.Add(writer);
            if (_lease != null && _leaseFenced)
            {
                writer.UseLease(_lease.Guard);
                if (writer is ClusterTarget fenced && await fenced.FenceAsync(cancellationToken).ConfigureAwait(false) > 0) throw FencedOut();
            }
            var locator = new ClusterShardSource(id, master, nodes, login);
            var preparation = new TargetPreparation(_options, writer, checkpoint, _tracker.Warn, flushedForAll: flushed, overOwnCopy: written.Contains(id));
            shard = new ShardSync(_options, locator, writer, databases, preparation, _tracker, checkpoint, _checkpointStarted ?? _tracker.StartTime, null, migrations);
            shards.Add(shard);
        }
        await RunShardsAsync(shards, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>SyncAlreadyRunning when another run holds the lease of this sync's shard <paramref name="shard"/> (the whole sync's when null).</summary>
    private async Task ThrowIfLeaseHeldAsync(string? shard, CancellationToken cancellationToken)
    {
        if (!_clusterTarget)
        {
            await Lease.ThrowIfHeldAsync(_control!, _options.Target, Name, shard, cancellationToken).ConfigureAwait(false);
            return;
        }
        using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(_options.Target, ReservedKeys.Lease(Name, shard), cancellationToken).ConfigureAwait(false);
        await Lease.ThrowIfHeldAsync(node, _options.Target, Name, shard, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>-Verify: a verifier beside the shard's stream, until the session ends.</summary>
    private void StartVerifier(ShardSync shard, long keysPerSecond)
    {
        var verifier = new StreamVerifier(shard.LocateMasterAsync, _options.Target, _options.DatabaseMap, () => shard.AppliedOffset,
            () => shard.Phase == SyncPhase.Streaming, keysPerSecond, _options.RepairMismatches, _tracker.Warn);
        _verifier = verifier;
        _ = Task.Run(() => verifier.RunAsync(_verifyStop.Token));
    }

    private static async Task<(string ReplicationId, string ReplicationId2)> ReplicationIdsAsync(RedisEndpoint master, CancellationToken cancellationToken)
    {
        using RedisConnection connection = await RedisConnection.ConnectAsync(master, EndpointRole.Source, cancellationToken).ConfigureAwait(false);
        RespValue reply = await connection.ExecuteOrThrowAsync(cancellationToken, "INFO", "replication").ConfigureAwait(false);
        ServerInfo info = ServerInfo.Parse(reply.AsString() ?? string.Empty);
        info.Fields.TryGetValue("master_replid", out string? replid);
        info.Fields.TryGetValue("master_replid2", out string? replid2);
        return (replid ?? string.Empty, replid2 ?? string.Empty);
    }

    /// <summary>
    /// Runs the shards together: the sync's phase follows theirs, a Full copy completes when every
    /// shard has, and the first shard that fails stops the others.
    /// </summary>
    private async Task RunShardsAsync(IReadOnlyList<ShardSync> shards, CancellationToken cancellationToken)
    {
        foreach (ShardSync shard in shards) shard.PhaseChanged += _ => _tracker.SetPhase(Aggregate(_shards));
        _shards = shards.ToArray();
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var running = shards.Select(async shard =>
        {
            try
            {
                await shard.RunAsync(failed.Token).ConfigureAwait(false);
            }
            catch
            {
                failed.Cancel();
                throw;
            }
        }).ToList();
        try
        {
            await Task.WhenAll(running).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // The first real error, not the cancellations it caused in the other shards.
            Exception? first = running.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException).FirstOrDefault(e => e is not OperationCanceledException);
            if (first != null) ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
        _tracker.SetPhase(Aggregate(_shards));
    }

    /// <summary>The sync's phase from its shards': reconnecting if one is, else the one furthest behind.</summary>
    private static SyncPhase Aggregate(IReadOnlyList<ShardSync> shards)
    {
        if (shards.Count == 0) return SyncPhase.Connecting;
        SyncPhase[] phases = shards.Select(s => s.Phase).ToArray();
        if (phases.Contains(SyncPhase.Reconnecting)) return SyncPhase.Reconnecting;
        SyncPhase[] order = { SyncPhase.Connecting, SyncPhase.WaitingForSnapshot, SyncPhase.LoadingSnapshot, SyncPhase.Streaming, SyncPhase.Completed };
        return order.First(p => phases.Contains(p));
    }

    /// <summary>
    /// What the mode, the checkpoint and -FlushTarget mean together (the table in Start-RedisSync's help):
    /// Full always copies afresh and ends; FullAndIncremental resumes from a streaming checkpoint of the
    /// same source unless -FlushTarget asks for a fresh copy; Incremental needs a streaming checkpoint.
    /// </summary>
    private void PlanRun(Checkpoint? checkpoint)
    {
        if (_options.Mode != RedisSync.SyncMode.Incremental) return;
        if (checkpoint == null || checkpoint.Phase != CheckpointPhase.Streaming)
        {
            string what = checkpoint == null ? "has no checkpoint" : "holds only the checkpoint of a full copy that did not finish";
            throw new SyncException(SyncErrorIds.NoCheckpoint, SyncErrorKind.Stop,
                $"Sync '{Name}' {what} on the target {_options.Target}: an incremental sync continues from one. " +
                "Run it with -Mode Full or FullAndIncremental first.");
        }
        if (checkpoint.Source != _source!.Identity)
        {
            throw new SyncException(SyncErrorIds.NoCheckpoint, SyncErrorKind.Stop,
                $"The checkpoint of sync '{Name}' on the target {_options.Target} was written by a sync from {checkpoint.Source}, not from {_source.Identity}: " +
                "an incremental sync continues only from its own source. Give the sync another -Name, or run it with -Mode FullAndIncremental.");
        }
    }

    /// <summary>A command on one of the sync's own keys: on the control connection, or on a cluster target on the master that serves the key.</summary>
    private async Task<RespValue> OnTargetKeyAsync(string key, CancellationToken cancellationToken, params object[] args)
    {
        if (!_clusterTarget) return await _control!.ExecuteOrThrowAsync(cancellationToken, args).ConfigureAwait(false);
        using RedisConnection node = await ClusterKeys.ConnectForKeyAsync(_options.Target, key, cancellationToken).ConfigureAwait(false);
        return await node.ExecuteOrThrowAsync(cancellationToken, args).ConfigureAwait(false);
    }

    /// <summary>The sync's filter, renames and database map as the target keeps them (Compare-RedisData -SyncName and the cut-over read them).</summary>
    private async Task WriteFilterRecordAsync(CancellationToken cancellationToken)
    {
        if (_clusterTarget)
        {
            // On a cluster target the filter key lives on the master that serves its slot.
            using RedisConnection filterNode = await ClusterKeys.ConnectForKeyAsync(_options.Target, ReservedKeys.Filter(Name), cancellationToken).ConfigureAwait(false);
            await FilterRecord.WriteAsync(filterNode, Name, _options, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await FilterRecord.WriteAsync(_control!, Name, _options, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The lease guards every batch where the target runs scripts; elsewhere it is renewed from the control connection, with a warning.</summary>
    private async Task GuardWithLeaseAsync(CancellationToken cancellationToken)
    {
        if (_clusterTarget)
        {
            // The single target's guard reads the lease, the checkpoint and the fence, three keys in three slots: on a cluster each
            // slot's checkpoint carries this run's epoch instead (SlotFence), and the lease is renewed from the control connection.
            if (_writer is ClusterTarget cluster && cluster.Checkpointed && await Lease.TargetRunsScriptsAsync(_control!, cancellationToken).ConfigureAwait(false))
            {
                using RedisConnection epochNode = await ClusterKeys.ConnectForKeyAsync(_options.Target, _lease!.EpochKey, cancellationToken).ConfigureAwait(false);
                long above = 0;
                for (int attempt = 0; ; attempt++)
                {
                    await _lease.TakeEpochAsync(epochNode, _control!, above, cancellationToken).ConfigureAwait(false);
                    cluster.UseLease(_lease.Guard);
                    // A slot with a higher epoch while this run holds the lease: the counter was reset (a flush), so it draws above it.
                    above = await cluster.FenceAsync(cancellationToken).ConfigureAwait(false);
                    if (above == 0) break;
                    if (attempt == 2) throw FencedOut();
                }
                _leaseFenced = true;
            }
            else
            {
                _writer!.UseLease(_lease!.Guard);
                _tracker.Warn(new SyncWarning("LeaseNotFenced", SyncErrorKind.Skip, null, null,
                    $"The target {_options.Target} is a Redis Cluster that does not run scripts (EVAL), or the copy of an RDB file, which has no checkpoints: the batches are not fenced by the sync's lease. " +
                    "The lease is taken and renewed, but a run that was paused longer than the lease could still write once after another run took over."));
            }
            _ = RenewLeaseAsync(cancellationToken);
            return;
        }
        if (await Lease.TargetRunsScriptsAsync(_control!, cancellationToken).ConfigureAwait(false))
        {
            _leaseFenced = true;
            _writer!.UseLease(_lease!.Guard);
            return;
        }
        _tracker.Warn(new SyncWarning("LeaseNotFenced", SyncErrorKind.Skip, null, null,
            $"The target {_options.Target} does not run scripts (EVAL), so the batches are not fenced by the sync's lease: the lease is taken and renewed, " +
            "but a run that was paused longer than the lease could still write once after another run took over. Allow EVAL for the sync's user to fence them."));
        _ = RenewLeaseAsync(cancellationToken);
    }

    private SyncException FencedOut() => new SyncException(SyncErrorIds.LeaseLost, SyncErrorKind.Stop,
        $"This run no longer holds its lease {_lease!.Key} on the target {_options.Target}: another run of the same sync took it (the target's slots carry a newer run's epoch). Nothing more is written by this run.");

    private async Task RenewLeaseAsync(CancellationToken cancellationToken)
    {
        TimeSpan period = TimeSpan.FromMilliseconds(Math.Max(50, _options.LeaseTime.TotalMilliseconds / 3));
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(period, cancellationToken).ConfigureAwait(false);
                bool renewed;
                try
                {
                    renewed = await _lease!.RenewAsync(_control!, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (_writer is ClusterTarget cluster && (ex is SyncException || ex is IOException || ex is SocketException))
                {
                    // The lease key's master failed over, or its slot moved: renew it where it is served now.
                    await ReconnectControlAsync(cluster, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                if (!renewed)
                {
                    foreach (ITarget writer in Writers.ToList()) writer.Abort(new SyncException(SyncErrorIds.LeaseLost, SyncErrorKind.Stop,
                        $"This run no longer holds its lease {_lease.Key} on the target {_options.Target}: another run of the same sync took it. Nothing more is written by this run."));
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || ex is SyncException || ex is ObjectDisposedException)
        {
        }
    }

    private async Task ReconnectControlAsync(ClusterTarget cluster, CancellationToken cancellationToken)
    {
        try
        {
            RedisEndpoint master = await cluster.LocateAsync(_lease!.Key, cancellationToken).ConfigureAwait(false);
            RedisConnection control = await RedisConnection.ConnectAsync(master, EndpointRole.Target, cancellationToken, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            Interlocked.Exchange(ref _control, control)?.Dispose();
        }
        catch (Exception ex) when (ex is SyncException || ex is IOException || ex is SocketException)
        {
            // Still failing over: the next renewal tries again.
        }
    }

    /// <summary>An RDB file into the target: the file checked whole first, then copied with a plain (not checkpointed) writer.</summary>
    private async Task CopyFileAsync(DatabaseMap databases, CancellationToken cancellationToken)
    {
        string path = _options.RdbPath!;
        var preparation = new TargetPreparation(_options, _writer!, null, _tracker.Warn);
        (bool empty, ConflictPolicy policy) = await preparation.PrepareAsync(1, transactional: false, cancellationToken).ConfigureAwait(false);
        _tracker.SetPhase(SyncPhase.LoadingSnapshot);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        Interlocked.Exchange(ref _fileBytes, stream.Length);
        PipeReader input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024));
        var parserOptions = new RdbParserOptions();
        var transform = new TransformOptions(_writer!.Server)
        {
            DatabaseMap = databases,
            Filter = _options.KeyFilter,
            Rename = _options.KeyRename,
            OnConflict = policy,
            TargetIsEmpty = empty,
            ParserOptions = parserOptions,
        };
        var copy = new SnapshotCopy(_writer, transform, parserOptions, commitPoints: false, 1, _tracker.Warn);
        _file = copy;
        // The file was checked whole: what can still go wrong is reading it (a disk error, the file changed meanwhile).
        await copy.RunAsync(input, "redissync-snapshot-" + Name, ex => ex as SyncException ?? new SyncException(SyncErrorIds.RdbUnreadable, SyncErrorKind.Stop,
            $"The RDB file '{path}' could not be read to the end: {ex.Message}", ex), cancellationToken).ConfigureAwait(false);
        await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
        _tracker.SetPhase(SyncPhase.Completed);
    }

    /// <summary>A writer to the target; with a checkpoint key every batch records the position the formatter (once there is one) turns into its value.</summary>
    private async Task<ITarget> ConnectWriterAsync(string? checkpointKey, Func<Func<CommitPosition, byte[]>?> formatter, CancellationToken cancellationToken)
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
            RateLimit = _rateLimit,
        };
        // Smaller batches under a rate limit, so that the rate holds over short spans too, and about a second of
        // writes in flight, so that a stop (which drains them) does not wait out a long queue.
        if (_rateLimit != null)
        {
            options.MaxBatchCommands = (int)Math.Max(10, Math.Min(options.MaxBatchCommands, _rateLimit.CommandsPerSecond / 20));
            options.MaxInFlightCommands = (int)Math.Max(options.MaxBatchCommands, Math.Min(options.MaxInFlightCommands, _rateLimit.CommandsPerSecond));
        }
        if (checkpointKey != null)
        {
            options.CheckpointKey = checkpointKey;
            // The shard formats its checkpoint; until it exists (nothing is committed before), nothing is formatted.
            options.CheckpointFormatter = position => (formatter() ?? throw new InvalidOperationException("A commit point before the shard began."))(position);
        }
        ITarget writer = _clusterTarget
            ? await ClusterTarget.ConnectAsync(_options.Target, options, cancellationToken).ConfigureAwait(false)
            : await TargetWriter.ConnectAsync(_options.Target, options, cancellationToken).ConfigureAwait(false);
        writer.Warning += _tracker.Warn;
        return writer;
    }

    private Checkpoint? ReadCheckpoint(byte[]? value) => value == null ? null : Checkpoint.Parse(Name, Encoding.UTF8.GetString(value));

    private async Task DrainOnStopAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            foreach (ITarget writer in Writers.Where(w => w.Fault == null).ToList())
            {
                writer.DiscardUncommitted();
                await writer.DrainAsync(timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is SyncException || ex is OperationCanceledException)
        {
            _tracker.Note("Stopping: " + ex.Message, (ex as SyncException)?.ErrorId ?? SyncErrorIds.Stopped);
        }
    }

    /// <summary>Closes the writer, then gives the lease back (unless it was lost to another run): the next run need not wait for it to expire.</summary>
    private async Task EndAsync()
    {
        _verifyStop.Cancel();
        _ended.Cancel();
        bool leaseLost = Writers.Any(w => w.Fault?.ErrorId == SyncErrorIds.LeaseLost);
        _scan?.Dispose();
        foreach (ITarget writer in Writers.ToList()) writer.Dispose();
        if (_lease != null && _control != null && !leaseLost)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _lease.ReleaseAsync(_control, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SyncException || ex is OperationCanceledException || ex is IOException || ex is ObjectDisposedException)
            {
                // The target is gone: the lease expires by itself.
            }
        }
        _control?.Dispose();
    }

    /// <summary>Every exception as an error with an id: I/O on a link as that link's loss, anything else as a defect.</summary>
    private SyncException Classify(Exception ex)
    {
        switch (ex)
        {
            case SyncException sync:
                return sync;
            case IOException or SocketException:
                return new SyncException(SyncErrorIds.SourceLinkLost, SyncErrorKind.Stop, $"The connection to the source {_options.Source} broke: {ex.Message}", ex);
            default:
                return new SyncException("InternalError", SyncErrorKind.Stop, "The sync failed unexpectedly (a defect in RedisSync; please report it): " + ex.Message, ex);
        }
    }

    private async Task ReportProgressAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(ProgressInterval, cancellationToken).ConfigureAwait(false);
            _tracker.SampleRates(Writers.Sum(w => w.Statistics.KeysAcknowledged), Writers.Sum(w => w.Statistics.CommandsAcknowledged));
            ShardSync[] shards = _shards;
            _catchUp.Sample(shards.Sum(s => s.ReceivedOffset), shards.Sum(s => s.AppliedOffset), DateTimeOffset.UtcNow);
            Progress?.Invoke(GetStatus());
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        foreach (ITarget writer in Writers.ToList()) writer.Dispose();
        foreach (ShardSync shard in _shards) shard.Dispose();
        _source?.Dispose();
        _control?.Dispose();
        _stop.Dispose();
        _ended.Cancel();
    }
}
