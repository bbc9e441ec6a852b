using System.Collections.Generic;
using System.Threading;

namespace RedisSync.Engine.Writers;

/// <summary>
/// What a <see cref="TargetWriter"/> has done, readable from any thread at any time (status
/// snapshots, progress bars); the counters only grow, except the in-flight gauges.
/// </summary>
internal sealed class WriterStatistics
{
    private readonly object _errorsGate = new object();
    private readonly Dictionary<string, long> _errorsById = new Dictionary<string, long>();
    private readonly long[] _errorsByKind = new long[3];
    private long _commandsSent;
    private long _commandsAcknowledged;
    private long _commandsSkipped;
    private long _keysAcknowledged;
    private long _bytesSent;
    private long _batchesSent;
    private long _batchesAcknowledged;
    private long _batchesResent;
    private long _reconnects;
    private long _inFlightCommands;
    private long _inFlightBytes;
    private long _peakInFlightCommands;
    private long _peakInFlightBytes;
    private SyncException? _lastError;

    /// <summary>The caller's commands handed to the socket (a resent command counts again).</summary>
    public long CommandsSent => Volatile.Read(ref _commandsSent);

    /// <summary>The caller's commands the target has answered, skipped ones included.</summary>
    public long CommandsAcknowledged => Volatile.Read(ref _commandsAcknowledged);

    /// <summary>Commands the target refused and the policy skipped.</summary>
    public long CommandsSkipped => Volatile.Read(ref _commandsSkipped);

    /// <summary>Keys (<c>KeyDone</c> calls) whose every command the target has answered.</summary>
    public long KeysAcknowledged => Volatile.Read(ref _keysAcknowledged);

    /// <summary>Bytes handed to the socket.</summary>
    public long BytesSent => Volatile.Read(ref _bytesSent);

    /// <summary>Batches handed to the socket (a resent batch counts again).</summary>
    public long BatchesSent => Volatile.Read(ref _batchesSent);

    /// <summary>Batches whose every reply has arrived (or that a recovery found applied).</summary>
    public long BatchesAcknowledged => Volatile.Read(ref _batchesAcknowledged);

    /// <summary>Batches sent again after a reconnect because the target had not applied them.</summary>
    public long BatchesResent => Volatile.Read(ref _batchesResent);

    /// <summary>Links to the target re-established after a loss.</summary>
    public long Reconnects => Volatile.Read(ref _reconnects);

    /// <summary>Commands (the writer's own included) queued or sent and not yet answered.</summary>
    public long InFlightCommands => Volatile.Read(ref _inFlightCommands);

    /// <summary>Bytes queued or sent and not yet answered.</summary>
    public long InFlightBytes => Volatile.Read(ref _inFlightBytes);

    /// <summary>The most commands ever in flight: shows that the window bounded the writer's memory.</summary>
    public long PeakInFlightCommands => Volatile.Read(ref _peakInFlightCommands);

    /// <summary>The most bytes ever in flight.</summary>
    public long PeakInFlightBytes => Volatile.Read(ref _peakInFlightBytes);

    /// <summary>The last error (skipped or stopping), for a status display.</summary>
    public SyncException? LastError => Volatile.Read(ref _lastError);

    /// <summary>Errors of one kind: Skip (skipped commands), Retry (recovered link losses), Stop.</summary>
    public long ErrorCount(SyncErrorKind kind) => Volatile.Read(ref _errorsByKind[(int)kind]);

    /// <summary>Errors with one id (for example <see cref="SyncErrorIds.TargetBusyKey"/>).</summary>
    public long ErrorCount(string errorId)
    {
        lock (_errorsGate) return _errorsById.TryGetValue(errorId, out long n) ? n : 0;
    }

    internal void Sent(int commands, int bytes, bool resent)
    {
        Interlocked.Add(ref _commandsSent, commands);
        Interlocked.Add(ref _bytesSent, bytes);
        Interlocked.Increment(ref _batchesSent);
        if (resent) Interlocked.Increment(ref _batchesResent);
    }

    internal void Acknowledged(int commands, int keys)
    {
        Interlocked.Add(ref _commandsAcknowledged, commands);
        Interlocked.Add(ref _keysAcknowledged, keys);
        Interlocked.Increment(ref _batchesAcknowledged);
    }

    internal void Reconnected() => Interlocked.Increment(ref _reconnects);

    /// <summary>Sets the in-flight gauges (called under the writer's lock) and raises the peaks.</summary>
    internal void InFlight(long commands, long bytes)
    {
        Volatile.Write(ref _inFlightCommands, commands);
        Volatile.Write(ref _inFlightBytes, bytes);
        if (commands > _peakInFlightCommands) Volatile.Write(ref _peakInFlightCommands, commands);
        if (bytes > _peakInFlightBytes) Volatile.Write(ref _peakInFlightBytes, bytes);
    }

    internal void Error(SyncException error)
    {
        if (error.Kind == SyncErrorKind.Skip) Interlocked.Increment(ref _commandsSkipped);
        Interlocked.Increment(ref _errorsByKind[(int)error.Kind]);
        lock (_errorsGate) _errorsById[error.ErrorId] = (_errorsById.TryGetValue(error.ErrorId, out long n) ? n : 0) + 1;
        Volatile.Write(ref _lastError, error);
    }
}
