using System;
using System.Collections.Concurrent;
using System.IO;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// A sync as a host runs it: the session works on the engine's threads and publishes into a queue;
/// the host drains the queue on its own thread (<see cref="Drain"/>), so a cmdlet writes output,
/// progress and warnings only from the pipeline thread. Also keeps the status file up to date.
/// </summary>
public sealed class SyncRun : IDisposable
{
    /// <summary>Warnings shown one by one; later ones are only counted (SkippedErrors), so a flood cannot fill memory.</summary>
    public const int MaxWarnings = 100;

    private static int s_activities;

    private readonly SyncSession _session;
    private readonly BlockingCollection<RunEvent> _events = new BlockingCollection<RunEvent>();
    private readonly ManualResetEventSlim _ended = new ManualResetEventSlim(false);
    private readonly object _lock = new object();
    private DateTimeOffset _lastStatusAt;
    private int _warnings;
    private bool _started;
    private bool _closed;
    private bool _endHandled;
    private bool _statusFileFailed;
    private SyncPhase? _lastWrittenPhase;
    private SyncStatus? _final;
    private SyncException? _error;
    private Task? _task;
    private IDisposable? _tlsWarnings;
    private long _sourceKeys;

    /// <summary>Checks the options (a <see cref="SyncException"/> names what is wrong); nothing connects before <see cref="Start"/>.</summary>
    public SyncRun(SyncOptions options, string? statusPath = null)
    {
        if (options == null) throw new ArgumentNullException(nameof(options));
        options.Validate();
        _session = new SyncSession(options);
        StatusPath = statusPath;
        ActivityId = Interlocked.Increment(ref s_activities);
    }

    /// <summary>The sync's name.</summary>
    public string Name => _session.Name;

    /// <summary>The options the run was started with.</summary>
    public SyncOptions Options => _session.Options;

    /// <summary>The JSON status file kept up to date, or null.</summary>
    public string? StatusPath { get; }

    /// <summary>The progress bar's id, distinct for every run in the process.</summary>
    public int ActivityId { get; }

    /// <summary>What hosts the run (the PowerShell job), so a command that finds the run by name finds its job.</summary>
    public object? Owner { get; set; }

    /// <summary>Started and not yet ended.</summary>
    public bool IsRunning => _started && !_ended.IsSet;

    /// <summary>Set when the session has ended (before the host has drained the end).</summary>
    public WaitHandle Ended => _ended.WaitHandle;

    /// <summary>The last status, once ended (set with the end event, so a host that drained the end sees it).</summary>
    public SyncStatus? FinalStatus
    {
        get
        {
            lock (_lock) return _closed ? _final : null;
        }
    }

    /// <summary>Why the sync failed, once ended (set with the end event, before Ended is signalled); null when it completed or was stopped.</summary>
    public SyncException? Error
    {
        get
        {
            lock (_lock) return _closed ? _error : null;
        }
    }

    /// <summary>A snapshot of the state: live while running, the final one after.</summary>
    public SyncStatus GetStatus() => (_ended.IsSet ? _final : null) ?? _session.GetStatus();

    /// <summary>Starts the sync in the background; a status file that cannot be written fails here, before anything connects.</summary>
    public void Start()
    {
        lock (_lock)
        {
            if (_started) throw new InvalidOperationException($"Sync '{Name}' was already started.");
            _started = true;
        }
        SyncStatus first = _session.GetStatus();
        if (StatusPath != null)
        {
            try
            {
                SyncStatusFile.Write(StatusPath, first);
            }
            catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException || ex is NotSupportedException)
            {
                _started = false;
                throw new SyncException(HostErrorIds.StatusFileFailed, SyncErrorKind.Stop, $"Cannot write the status file '{StatusPath}': {ex.Message}", ex);
            }
        }
        _lastStatusAt = first.Timestamp;
        Post(RunEvent.ForStatus(first, StatusReason.PhaseChanged));
        _session.PhaseChanged += OnPhaseChanged;
        _session.Progress += OnProgress;
        _session.Warning += OnWarning;
        _tlsWarnings = TlsOptions.ForwardSkipped(OnWarning, Options.Source, Options.Target);
        _task = Task.Run(RunAsync);
        if (Options.Source != null) _ = CountSourceKeysAsync(Options.Source);
    }

    /// <summary>The source's key count when the sync began (INFO keyspace), for the bar of a diskless snapshot; null until known.</summary>
    public long? SourceKeys
    {
        get
        {
            long keys = Interlocked.Read(ref _sourceKeys);
            return keys > 0 ? keys : null;
        }
    }

    /// <summary>The masters the sync's shards read now (one, or every master of a cluster source), with their logins: where a cut-over pauses writes.</summary>
    public Task<System.Collections.Generic.IReadOnlyList<RedisEndpoint>> LocateSourceMastersAsync(CancellationToken cancellationToken) =>
        _session.LocateMastersAsync(cancellationToken);

    /// <summary>Asks the sync to stop gracefully (drain, checkpoint, phase Stopped); returns at once. Callable from any thread.</summary>
    public void Stop() => _session.Stop();

    /// <summary>
    /// Handles what the sync published, on the calling thread: waits up to <paramref name="wait"/> for
    /// the first event, then takes whatever else is queued. True once the end has been handled.
    /// </summary>
    public bool Drain(ISyncOutput output, TimeSpan wait)
    {
        if (output == null) throw new ArgumentNullException(nameof(output));
        if (_endHandled) return true;
        if (!_events.TryTake(out RunEvent? next, wait)) return false;
        do
        {
            if (Handle(next, output)) return true;
        }
        while (_events.TryTake(out next));
        return false;
    }

    /// <summary>Drains until the sync ends; returns its final status or throws its error (a <see cref="SyncException"/>).</summary>
    public SyncStatus RunToEnd(ISyncOutput output)
    {
        while (!Drain(output, Timeout.InfiniteTimeSpan))
        {
        }
        if (_error != null) ExceptionDispatchInfo.Capture(_error).Throw();
        return _final!;
    }

    private bool Handle(RunEvent e, ISyncOutput output)
    {
        switch (e.Kind)
        {
            case RunEventKind.Status:
                WriteStatusFile(e.Status!, output);
                _lastWrittenPhase = e.Status!.Phase;
                output.WriteStatus(e.Status, e.Reason);
                return false;
            case RunEventKind.Progress:
                output.WriteProgress(e.Progress!);
                return false;
            case RunEventKind.Warning:
                output.WriteWarning(e.Warning!);
                return false;
            default:
                SyncStatus final = e.Status!;
                WriteStatusFile(final, output);
                if (_lastWrittenPhase != final.Phase) output.WriteStatus(final, StatusReason.Final);
                _lastWrittenPhase = final.Phase;
                output.WriteProgress(SyncProgress.From(final, ActivityId, SourceKeys));
                _endHandled = true;
                return true;
        }
    }

    private void WriteStatusFile(SyncStatus status, ISyncOutput output)
    {
        if (StatusPath == null || _statusFileFailed) return;
        try
        {
            SyncStatusFile.Write(StatusPath, status);
        }
        catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException)
        {
            _statusFileFailed = true;
            output.WriteWarning(new SyncWarning(HostErrorIds.StatusFileFailed, SyncErrorKind.Skip, null, null,
                $"Cannot write the status file '{StatusPath}' (the sync goes on; the file is no longer updated): {ex.Message}"));
        }
    }

    /// <summary>Best effort: without the count, a diskless snapshot's bar shows bytes and keys only.</summary>
    private async Task CountSourceKeysAsync(RedisEndpoint source)
    {
        try
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(source, EndpointRole.Source, CancellationToken.None).ConfigureAwait(false);
            RespValue info = await connection.ExecuteOrThrowAsync(CancellationToken.None, "INFO", "keyspace").ConfigureAwait(false);
            Interlocked.Exchange(ref _sourceKeys, Keyspace.CountKeys(info.AsString() ?? string.Empty));
        }
        catch (Exception ex) when (ex is SyncException || ex is IOException || ex is System.Net.Sockets.SocketException || ex is OperationCanceledException)
        {
            // The sync itself reports what is wrong with the source.
        }
    }

    private async Task RunAsync()
    {
        SyncStatus final;
        SyncException? error = null;
        try
        {
            final = await _session.RunAsync(CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            error = HostErrors.Wrap(ex);
            final = _session.GetStatus();
        }
        lock (_lock)
        {
            _final = final;
            _error = error;
            _closed = true;
            _events.Add(RunEvent.ForEnd(final));
            _events.CompleteAdding();
        }
        _ended.Set();
    }

    private void OnPhaseChanged(SyncStatus status)
    {
        lock (_lock) _lastStatusAt = status.Timestamp;
        Post(RunEvent.ForStatus(status, StatusReason.PhaseChanged));
        Post(RunEvent.ForProgress(SyncProgress.From(status, ActivityId, SourceKeys)));
    }

    private void OnProgress(SyncStatus status)
    {
        bool due;
        lock (_lock)
        {
            due = status.Timestamp - _lastStatusAt >= Options.StatusInterval;
            if (due) _lastStatusAt = status.Timestamp;
        }
        Post(RunEvent.ForProgress(SyncProgress.From(status, ActivityId, SourceKeys)));
        if (due) Post(RunEvent.ForStatus(status, StatusReason.Interval));
    }

    private void OnWarning(SyncWarning warning)
    {
        int count = Interlocked.Increment(ref _warnings);
        if (count <= MaxWarnings)
        {
            Post(RunEvent.ForWarning(warning));
        }
        else if (count == MaxWarnings + 1)
        {
            Post(RunEvent.ForWarning(new SyncWarning(warning.ErrorId, warning.Kind, null, null,
                $"More than {MaxWarnings} warnings: the next ones are counted in the status (SkippedErrors, LastError) but not shown.")));
        }
    }

    private void Post(RunEvent e)
    {
        lock (_lock)
        {
            if (!_closed) _events.Add(e);
        }
    }

    /// <summary>Stops the sync if it runs, waits for it (at most a minute) and releases it.</summary>
    public void Dispose()
    {
        Stop();
        try
        {
            _task?.Wait(TimeSpan.FromMinutes(1));
        }
        catch (AggregateException)
        {
        }
        _session.PhaseChanged -= OnPhaseChanged;
        _session.Progress -= OnProgress;
        _session.Warning -= OnWarning;
        _tlsWarnings?.Dispose();
        if (_task == null || _task.IsCompleted) _session.Dispose();
    }

    private enum RunEventKind
    {
        Status,
        Progress,
        Warning,
        End,
    }

    private sealed class RunEvent
    {
        private RunEvent(RunEventKind kind) => Kind = kind;

        public RunEventKind Kind { get; }
        public SyncStatus? Status { get; private set; }
        public StatusReason Reason { get; private set; }
        public SyncProgress? Progress { get; private set; }
        public SyncWarning? Warning { get; private set; }

        public static RunEvent ForStatus(SyncStatus status, StatusReason reason) => new RunEvent(RunEventKind.Status) { Status = status, Reason = reason };
        public static RunEvent ForProgress(SyncProgress progress) => new RunEvent(RunEventKind.Progress) { Progress = progress };
        public static RunEvent ForWarning(SyncWarning warning) => new RunEvent(RunEventKind.Warning) { Warning = warning };
        public static RunEvent ForEnd(SyncStatus status) => new RunEvent(RunEventKind.End) { Status = status };
    }
}
