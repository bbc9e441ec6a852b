using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Writers;

/// <summary>
/// Writes commands to one target over one pipelined connection: the producer formats RESP into
/// pooled batches, a send loop writes them, a receive loop matches replies to commands in FIFO
/// order and classifies errors; a bounded in-flight window blocks the producer, which bounds memory.
/// With a checkpoint key every batch is a MULTI … EXEC that also records its commit point, so a
/// lost link is recovered by resending exactly the batches the target did not apply.
/// </summary>
/// <remarks>
/// The <see cref="ICommandSink"/> members, <c>CommitPoint</c>, <see cref="Flush"/> and
/// <see cref="DrainAsync"/> belong to one producer thread. <see cref="Statistics"/>, <see cref="Fault"/>
/// and <see cref="AcknowledgedCheckpoint"/> may be read from any thread.
/// </remarks>
internal sealed partial class TargetWriter : ITarget
{
    /// <summary>Room kept for a command's <c>*N\r\n</c>, which is written once its arguments are counted (N up to 9 fits).</summary>
    private const int HeaderReserve = 4;

    /// <summary>Room above <see cref="TargetWriterOptions.MaxBatchBytes"/> so that the command that fills a batch rarely grows it.</summary>
    private const int BatchSlack = 16 * 1024;

    private readonly RedisEndpoint _endpoint;
    private readonly TargetWriterOptions _options;
    private readonly bool _transactional;
    private readonly byte[] _checkpointKey;
    private readonly int _connectionDb;
    private readonly int _spareLimit;

    // Shared between the producer, the send loop and the receive loop: guarded by _gate.
    private readonly object _gate = new object();
    private readonly Queue<Batch> _unsent = new Queue<Batch>();
    private readonly Queue<Batch> _unacked = new Queue<Batch>();
    private readonly Stack<Batch> _spare = new Stack<Batch>();
    private long _inFlightFrames;
    private long _inFlightBytes;
    private int _queuedEndDb;
    private bool _disposed;
    private TaskCompletionSource<bool>? _drained;
    private byte[] _acknowledged = new byte[64];
    private int _acknowledgedLength = -1; // -1: no value (the key did not exist)
    private CommitPosition? _acknowledgedPosition;
    private byte[] _enqueuedValue = new byte[64];
    private int _enqueuedLength = -1; // the checkpoint the target holds once every queued batch ran; -1: none
    private long _lastEnqueueTicks;
    private LeaseGuard? _lease;
    private Timer? _heartbeat;

    private readonly SemaphoreSlim _sendSignal = new SemaphoreSlim(0);
    private readonly CancellationTokenSource _disposeCts = new CancellationTokenSource();
    private volatile SyncException? _fault;
    private volatile ServerInfo _server;
    private volatile RedisConnection? _connection;
    private long _clientId; // the current connection's CLIENT ID at the target, -1 if unknown
    private Task? _runTask;

    // The producer's own state.
    private Batch? _batch;
    private int _streamDb;
    private int _wantedDb;
    private bool _inCommand;
    private int _commandStart;
    private int _commandArgs;
    private byte[] _commitValue = new byte[64];
    private int _commitValueLength;
    private CommitPosition? _commitPosition; // set when the last commit point was given as a position
    private byte[] _lastSealedValue = new byte[64];
    private int _lastSealedLength = -1; // -1: none
    private readonly PooledBuffer _prefix = new PooledBuffer(1024);

    private TargetWriter(RedisEndpoint endpoint, TargetWriterOptions options, ServerInfo server)
    {
        _endpoint = endpoint;
        _options = options;
        _server = server;
        _transactional = options.CheckpointKey != null;
        _checkpointKey = Encoding.UTF8.GetBytes(options.CheckpointKey ?? string.Empty);
        _connectionDb = endpoint.Database ?? 0;
        _streamDb = _wantedDb = _queuedEndDb = _connectionDb;
        _spareLimit = (int)Math.Min(256, options.MaxInFlightBytes / options.MaxBatchBytes + 2);
    }

    /// <summary>
    /// Connects (AUTH, waiting out LOADING, CLIENT SETNAME, INFO server) and, in transactional
    /// mode, reads the checkpoint the target already holds.
    /// </summary>
    public static async Task<TargetWriter> ConnectAsync(RedisEndpoint endpoint, TargetWriterOptions options, CancellationToken ct)
    {
        if (endpoint == null) throw new ArgumentNullException(nameof(endpoint));
        if (options == null) throw new ArgumentNullException(nameof(options));
        options = options.Clone();
        options.Validate();
        var (connection, server, clientId, databases) = await HandshakeAsync(endpoint, options, ct).ConfigureAwait(false);
        var writer = new TargetWriter(endpoint, options, server) { _clientId = clientId, DatabaseCount = databases };
        try
        {
            if (writer._transactional)
            {
                byte[]? value = await writer.ReadCheckpointAsync(connection, ct).ConfigureAwait(false);
                writer.InitialCheckpoint = value;
                writer.SetAcknowledged(value);
                if (value != null)
                {
                    writer.RememberSealed(value);
                    writer.SetEnqueued(value);
                }
                if (options.CheckpointDb != writer._connectionDb)
                {
                    await connection.ExecuteOrThrowAsync(ct, "SELECT", writer._connectionDb).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            connection.Dispose();
            writer.Dispose();
            throw;
        }
        writer._connection = connection;
        writer._runTask = Task.Run(() => writer.RunAsync(connection));
        return writer;
    }

    /// <summary>The target as INFO server described it at the last (re)connect: version, RDB version, features.</summary>
    public ServerInfo Server => _server;

    /// <summary>How many databases the target has (0 to DatabaseCount − 1); 1 on a cluster node.</summary>
    public int DatabaseCount { get; private set; } = 16;

    /// <summary>The checkpoint key's value when the writer connected (null if the key did not exist): what a sync resumes from.</summary>
    public byte[]? InitialCheckpoint { get; private set; }

    /// <summary>The position of the last batch the target applied that was marked by position, or null.</summary>
    public CommitPosition? AcknowledgedPosition
    {
        get
        {
            lock (_gate) return _acknowledgedPosition;
        }
    }

    /// <summary>Counters for status displays and for checking that memory stayed bounded.</summary>
    public WriterStatistics Statistics { get; } = new WriterStatistics();

    /// <summary>The Stop-kind error that ended the writer, or null; the producer's next call throws it.</summary>
    public SyncException? Fault => _fault;

    /// <summary>Whether batches are MULTI … EXEC transactions that record a checkpoint (a checkpoint key was given).</summary>
    public bool IsTransactional => _transactional;

    /// <summary>
    /// The checkpoint value of the last batch the target ran (its EXEC answered, or a recovery found it
    /// applied), which is what the target's checkpoint key holds; at connect, the value the key already
    /// held (null if none). What a restarted sync resumes from.
    /// </summary>
    public byte[]? AcknowledgedCheckpoint
    {
        get
        {
            lock (_gate) return _acknowledgedLength < 0 ? null : _acknowledged.AsSpan(0, _acknowledgedLength).ToArray();
        }
    }

    /// <summary>Raised (on the writer's receive loop; keep handlers short) for each skipped command and each recovered link.</summary>
    public event Action<SyncWarning>? Warning;

    /// <summary>
    /// Guards every batch from now on with the sync's lease (taken already), and renews it while the
    /// writer idles: a run that lost its lease commits nothing more and stops with <c>LeaseLost</c>.
    /// </summary>
    public void UseLease(LeaseGuard lease)
    {
        if (_lease != null) throw Misuse("a second lease");
        _lease = lease ?? throw new ArgumentNullException(nameof(lease));
        long period = Math.Max(50, lease.TimeToLiveMs / 3);
        _heartbeat = new Timer(_ => Heartbeat(), null, period, period);
    }

    /// <inheritdoc/>
    public LeaseGuard? Lease => _lease;

    /// <summary>Ends the writer with an error found outside it (a lease lost on the control connection): nothing more is sent.</summary>
    public void Abort(SyncException error) => Stop(error);

    /// <inheritdoc/>
    /// <exception cref="SyncException">The target has no such database (TargetDatabaseMissing): nothing of the batch that would write there is sent.</exception>
    [MethodImpl(HotPath.Compile)]
    public void SelectDb(int db)
    {
        if (db < 0) throw new ArgumentOutOfRangeException(nameof(db), db, "A database number cannot be negative.");
        if (_inCommand) throw Misuse(nameof(SelectDb) + " inside a command");
        if (db >= DatabaseCount)
        {
            throw new SyncException(SyncErrorIds.TargetDatabaseMissing, SyncErrorKind.Stop,
                $"The target {_endpoint} has no database {db}: it has {DatabaseCount} (0 to {DatabaseCount - 1}).");
        }
        _wantedDb = db;
    }

    /// <summary>
    /// Empties the whole target (FLUSHALL) in the batch being built; the lease is written again in the
    /// same batch, so the run keeps it. In transactional mode the next commit point's checkpoint lands
    /// in the same transaction, so the target is never empty without a checkpoint that says so.
    /// </summary>
    public void FlushAll()
    {
        BeginCommand();
        Arg("FLUSHALL"u8);
        EndCommand();
        if (_lease == null) return;
        int db = _wantedDb;
        _wantedDb = _options.CheckpointDb;
        BeginCommand();
        Arg("SET"u8);
        Arg(_lease.Key);
        Arg(_lease.Value);
        Arg("PX"u8);
        Arg(_lease.TimeToLiveMs);
        EndCommand();
        _wantedDb = db;
    }

    /// <inheritdoc/>
    [MethodImpl(HotPath.Compile)]
    public void BeginCommand()
    {
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(BeginCommand) + " inside a command");
        // A full batch is sealed here rather than at EndCommand, so that the KeyDone which follows
        // a key's last command is counted with that command.
        if (!_transactional && _batch != null && IsDue(_batch)) Seal();
        Batch batch = _batch ?? StartBatch();
        if (_wantedDb != _streamDb)
        {
            WriteSelect(batch, _wantedDb);
            _streamDb = _wantedDb;
        }
        _commandStart = batch.Length;
        batch.Reserve(HeaderReserve);
        batch.Length += HeaderReserve;
        _commandArgs = 0;
        _inCommand = true;
    }

    /// <inheritdoc/>
    [MethodImpl(HotPath.Compile)]
    public void Arg(ReadOnlySpan<byte> value)
    {
        if (!_inCommand) throw Misuse(nameof(Arg) + " outside a command");
        RespFormatter.WriteBulk(_batch!, value);
        _commandArgs++;
    }

    /// <inheritdoc/>
    [MethodImpl(HotPath.Compile)]
    public void Arg(long value)
    {
        if (!_inCommand) throw Misuse(nameof(Arg) + " outside a command");
        RespFormatter.WriteBulk(_batch!, value);
        _commandArgs++;
    }

    /// <inheritdoc/>
    public long PendingCommandBytes => _inCommand ? _batch!.Length - _commandStart - HeaderReserve : 0;

    /// <inheritdoc/>
    [MethodImpl(HotPath.Compile)]
    public void EndCommand()
    {
        if (!_inCommand) throw Misuse(nameof(EndCommand) + " outside a command");
        if (_commandArgs == 0) throw Misuse(nameof(EndCommand) + " without any argument (a command needs at least its name)");
        Batch batch = _batch!;
        WriteCommandHeader(batch, _commandStart, _commandArgs);
        batch.Frames++;
        batch.Commands++;
        _inCommand = false;
    }

    /// <inheritdoc/>
    [MethodImpl(HotPath.Compile)]
    public void WriteCommands(ReadOnlySpan<byte> resp, int commandCount)
    {
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(WriteCommands) + " inside a command");
        if (!_transactional && _batch != null && IsDue(_batch)) Seal();
        Batch batch = _batch ?? StartBatch();
        if (_wantedDb != _streamDb)
        {
            WriteSelect(batch, _wantedDb);
            _streamDb = _wantedDb;
        }
        batch.Write(resp);
        batch.Frames += commandCount;
        batch.Commands += commandCount;
    }

    /// <summary>
    /// Whether the batch being built is full: a producer that marks commit points sparingly (formatting
    /// a checkpoint value costs more than a command) marks one when this turns true, and when it idles.
    /// </summary>
    public bool BatchDue => _batch != null && IsDue(_batch);

    /// <summary>
    /// Drops what was written after the last commit point (the start of a source transaction cut
    /// off by a full resync, or a stop): it will be sent again from the source, or never ran there.
    /// </summary>
    public void DiscardUncommitted()
    {
        if (!_transactional || _batch == null) return;
        _inCommand = false;
        Batch batch = _batch;
        if (batch.HasCommit)
        {
            batch.TruncateToCommit();
            _streamDb = _wantedDb = batch.CommitDb;
            return;
        }
        _streamDb = _wantedDb = batch.StartDb;
        _batch = null;
        lock (_gate) Recycle(batch);
    }

    /// <inheritdoc/>
    [MethodImpl(HotPath.Compile)]
    public void KeyDone()
    {
        if (_inCommand) throw Misuse(nameof(KeyDone) + " inside a command");
        (_batch ?? StartBatch()).Keys++;
    }

    /// <summary>
    /// Marks a place where a batch may end (after a whole source command or key, never inside a source
    /// transaction) and the checkpoint value that the batch ending here records on the target. Each
    /// value must differ from the previous one (a replication offset does). Ignored outside transactional mode.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public void CommitPoint(ReadOnlySpan<byte> checkpointValue)
    {
        if (!_transactional) return;
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(CommitPoint) + " inside a command");
        if (_commitValue.Length < checkpointValue.Length) _commitValue = new byte[Math.Max(checkpointValue.Length, _commitValue.Length * 2)];
        checkpointValue.CopyTo(_commitValue);
        _commitValueLength = checkpointValue.Length;
        _commitPosition = null;
        Batch batch = _batch ?? StartBatch();
        batch.MarkCommit(_streamDb);
        if (IsDue(batch)) Seal();
    }

    /// <summary>
    /// Marks a place where a batch may end, by a position (a replication offset, a key count) that
    /// <see cref="TargetWriterOptions.CheckpointFormatter"/> turns into the checkpoint value only when
    /// a batch is sealed here, and that <see cref="AcknowledgedPosition"/> gives back once the target
    /// applied the batch. Positions must grow. Ignored outside transactional mode.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public void CommitPoint(CommitPosition position)
    {
        if (!_transactional) return;
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(CommitPoint) + " inside a command");
        if (_options.CheckpointFormatter == null) throw Misuse("a commit point by position needs a CheckpointFormatter");
        _commitPosition = position;
        Batch batch = _batch ?? StartBatch();
        batch.MarkCommit(_streamDb);
        if (IsDue(batch)) Seal();
    }

    /// <summary>
    /// Seals what is buffered and hands it to the send loop; call it when the input runs dry so that
    /// nothing waits for a full batch. In transactional mode only what precedes the last commit point goes.
    /// </summary>
    public void Flush()
    {
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(Flush) + " inside a command");
        if (_batch != null) Seal();
    }

    /// <summary>Flushes, then waits until the target has answered every command sent (throws the writer's fault if it stopped).</summary>
    public async Task DrainAsync(CancellationToken ct)
    {
        Flush();
        Task drained;
        lock (_gate)
        {
            if (_fault != null) throw _fault;
            if (_disposed) throw new ObjectDisposedException(nameof(TargetWriter));
            if (_unsent.Count == 0 && _unacked.Count == 0) return;
            _drained ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            drained = _drained.Task;
        }
        if (ct.CanBeCanceled)
        {
            var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            using (ct.Register(() => cancelled.TrySetCanceled(ct)))
            {
                await Task.WhenAny(drained, cancelled.Task).ConfigureAwait(false);
            }
            ct.ThrowIfCancellationRequested();
        }
        await drained.ConfigureAwait(false);
    }

    /// <summary>Closes the connection and returns the pooled buffers; commands not yet answered are abandoned.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            Monitor.PulseAll(_gate);
            _drained?.TrySetException(new ObjectDisposedException(nameof(TargetWriter)));
            _drained = null;
        }
        _heartbeat?.Dispose();
        _disposeCts.Cancel();
        _connection?.Dispose();
        try
        {
            _runTask?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        lock (_gate)
        {
            foreach (Batch batch in _unsent) batch.Release();
            foreach (Batch batch in _unacked) batch.Release();
            foreach (Batch batch in _spare) batch.Release();
            _unsent.Clear();
            _unacked.Clear();
            _spare.Clear();
        }
        _batch?.Release();
        _batch = null;
        _prefix.Dispose();
    }

    [MethodImpl(HotPath.Compile)]
    private Batch StartBatch()
    {
        Batch batch = RentBatch(_streamDb);
        _batch = batch;
        return batch;
    }

    [MethodImpl(HotPath.Compile)]
    private Batch RentBatch(int startDb)
    {
        Batch? batch;
        lock (_gate) batch = _spare.Count > 0 ? _spare.Pop() : null;
        batch ??= new Batch();
        batch.Start(_options.MaxBatchBytes + BatchSlack, startDb, _transactional);
        return batch;
    }

    /// <summary>Keeps a finished batch for reuse (called under <see cref="_gate"/>).</summary>
    [MethodImpl(HotPath.Compile)]
    private void Recycle(Batch batch)
    {
        if (_spare.Count >= _spareLimit || batch.Buffer.Length > 2 * (_options.MaxBatchBytes + BatchSlack))
        {
            batch.Release();
        }
        if (_spare.Count < _spareLimit) _spare.Push(batch);
    }

    private bool IsDue(Batch batch) => batch.Frames + (_transactional ? 1 : 0) >= _options.MaxBatchCommands || batch.Length >= _options.MaxBatchBytes; // MULTI counts too

    /// <summary>Closes the current batch (at its last commit point in transactional mode) and queues it for sending.</summary>
    [MethodImpl(HotPath.Compile)]
    private void Seal()
    {
        Batch batch = _batch!;
        Batch? tail = null;
        if (_transactional)
        {
            if (!batch.HasCommit) return;
            if (_commitPosition is CommitPosition position)
            {
                byte[] formatted = _options.CheckpointFormatter!(position);
                if (_commitValue.Length < formatted.Length) _commitValue = new byte[Math.Max(formatted.Length, _commitValue.Length * 2)];
                formatted.CopyTo(_commitValue, 0);
                _commitValueLength = formatted.Length;
            }
            ReadOnlySpan<byte> value = _commitValue.AsSpan(0, _commitValueLength);
            if (_lastSealedLength >= 0 && value.SequenceEqual(_lastSealedValue.AsSpan(0, _lastSealedLength)))
            {
                // The same commit point again with nothing new before it: nothing to record.
                if (batch.CommitCommands == 0) return;
                throw Misuse($"two batches with the same checkpoint value {KeyText.Format(value)}: each CommitPoint needs a new value (a replication offset, say), or a recovery cannot tell which batches the target applied");
            }
            if (batch.Length > batch.CommitLength) tail = SplitTail(batch);
            batch.TruncateToCommit();
            if (batch.CommitDb != _options.CheckpointDb) WriteSelect(batch, _options.CheckpointDb);
            batch.Write("*3\r\n$3\r\nSET\r\n"u8);
            RespFormatter.WriteBulk(batch, _checkpointKey);
            RespFormatter.WriteBulk(batch, value);
            batch.CheckpointOffset = batch.Length - 2 - value.Length;
            batch.CheckpointLength = value.Length;
            batch.Write("*1\r\n$4\r\nEXEC\r\n"u8);
            batch.Frames += 2;
            batch.EndDb = _options.CheckpointDb;
            batch.Position = _commitPosition;
            if (tail == null) _streamDb = _options.CheckpointDb;
            WriteTransactionPrefix(batch, _lastSealedLength < 0 ? ReadOnlySpan<byte>.Empty : _lastSealedValue.AsSpan(0, _lastSealedLength));
            RememberSealed(value);
        }
        else
        {
            if (batch.Frames == 0) return;
            batch.EndDb = _streamDb;
        }
        _batch = tail;
        Enqueue(batch);
    }

    /// <summary>Moves what follows the last commit point into a new batch that starts where the sealed one ends.</summary>
    private Batch SplitTail(Batch batch)
    {
        Batch tail = RentBatch(_options.CheckpointDb);
        if (batch.CommitDb != _options.CheckpointDb) WriteSelect(tail, batch.CommitDb);
        tail.Write(batch.Buffer.AsSpan(batch.CommitLength, batch.Length - batch.CommitLength));
        tail.Frames += batch.Frames - batch.CommitFrames;
        tail.Commands += batch.Commands - batch.CommitCommands;
        tail.Keys += batch.Keys - batch.CommitKeys;
        return tail;
    }

    [MethodImpl(HotPath.Compile)]
    private void RememberSealed(ReadOnlySpan<byte> value)
    {
        if (_lastSealedValue.Length < value.Length) _lastSealedValue = new byte[Math.Max(value.Length, _lastSealedValue.Length * 2)];
        value.CopyTo(_lastSealedValue);
        _lastSealedLength = value.Length;
    }

    /// <summary>Waits for room in the in-flight window (never busy), then hands the batch to the send loop.</summary>
    [MethodImpl(HotPath.Compile)]
    private void Enqueue(Batch batch)
    {
        lock (_gate)
        {
            while (true)
            {
                if (_fault != null || _disposed)
                {
                    Recycle(batch);
                    if (_fault != null) throw _fault;
                    throw new ObjectDisposedException(nameof(TargetWriter));
                }
                // A batch larger than the whole window still goes, alone; a heartbeat never waits.
                if (_inFlightFrames == 0 || batch.Heartbeat) break;
                if (_inFlightFrames + batch.TotalFrames <= _options.MaxInFlightCommands && _inFlightBytes + batch.TotalLength <= _options.MaxInFlightBytes) break;
                Monitor.Wait(_gate);
            }
            _unsent.Enqueue(batch);
            _inFlightFrames += batch.TotalFrames;
            _inFlightBytes += batch.TotalLength;
            _queuedEndDb = batch.EndDb;
            if (batch.Transactional && !batch.Heartbeat) SetEnqueued(batch.CheckpointValue);
            _lastEnqueueTicks = Environment.TickCount;
            Statistics.InFlight(_inFlightFrames, _inFlightBytes);
        }
        _sendSignal.Release();
    }

    /// <summary>
    /// MULTI, and before it the lease guard: <c>WATCH fence</c> and the guard script, which renews the
    /// lease or, when it is another run's, touches the fence so that the target discards the transaction.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private void WriteTransactionPrefix(Batch batch, ReadOnlySpan<byte> previousCheckpoint)
    {
        _prefix.Clear();
        int frames = 0;
        int guard = -1;
        if (_lease != null)
        {
            bool away = batch.StartDb != _options.CheckpointDb;
            if (away) frames += WriteSelect(_prefix, _options.CheckpointDb);
            RespFormatter.WriteArrayHeader(_prefix, 2);
            RespFormatter.WriteBulk(_prefix, "WATCH"u8);
            RespFormatter.WriteBulk(_prefix, _lease.FenceKey);
            frames++;
            guard = frames;
            frames += WriteGuard(_prefix, _lease, previousCheckpoint);
            if (away) frames += WriteSelect(_prefix, batch.StartDb);
        }
        _prefix.Write("*1\r\n$5\r\nMULTI\r\n"u8);
        frames++;
        batch.SetPrefix(_prefix.WrittenSpan, frames, guard);
    }

    [MethodImpl(HotPath.Compile)]
    private int WriteGuard(IBufferWriter<byte> output, LeaseGuard lease, ReadOnlySpan<byte> previousCheckpoint)
    {
        RespFormatter.WriteArrayHeader(output, 9);
        RespFormatter.WriteBulk(output, "EVAL"u8);
        RespFormatter.WriteBulk(output, LeaseGuard.ScriptBytes);
        RespFormatter.WriteBulk(output, 3);
        RespFormatter.WriteBulk(output, lease.Key);
        // Without a checkpoint key the guard's "no other run committed" test must fail: the lease itself never holds "\u0001".
        RespFormatter.WriteBulk(output, _transactional ? _checkpointKey : lease.Key);
        RespFormatter.WriteBulk(output, lease.FenceKey);
        RespFormatter.WriteBulk(output, lease.Value);
        RespFormatter.WriteBulk(output, _transactional ? previousCheckpoint : "\u0001"u8);
        RespFormatter.WriteBulk(output, lease.TimeToLiveMs);
        return 1;
    }

    /// <summary>
    /// Renews the lease when nothing else does: a transactional writer that sent no batch for a third of
    /// the lease's time; a plain writer always (its batches do not renew it). A guard alone, in the
    /// checkpoint database, that leaves the connection where it found it.
    /// </summary>
    private void Heartbeat()
    {
        LeaseGuard? lease = _lease;
        if (lease == null) return;
        try
        {
            lock (_gate)
            {
                if (_disposed || _fault != null) return;
                if (_transactional && unchecked(Environment.TickCount - _lastEnqueueTicks) < lease.TimeToLiveMs / 3) return;
                int db = _queuedEndDb;
                var prefix = new PooledBuffer(512);
                try
                {
                    int frames = 0;
                    if (db != _options.CheckpointDb) frames += WriteSelect(prefix, _options.CheckpointDb);
                    int guard = frames;
                    frames += WriteGuard(prefix, lease, _enqueuedLength < 0 ? ReadOnlySpan<byte>.Empty : _enqueuedValue.AsSpan(0, _enqueuedLength));
                    if (db != _options.CheckpointDb) frames += WriteSelect(prefix, db);
                    Batch batch = _spare.Count > 0 ? _spare.Pop() : new Batch();
                    batch.Start(0, db, _transactional);
                    batch.Heartbeat = true;
                    batch.SetPrefix(prefix.WrittenSpan, frames, guard);
                    batch.EndDb = db;
                    _unsent.Enqueue(batch);
                    _inFlightFrames += batch.TotalFrames;
                    _inFlightBytes += batch.TotalLength;
                    _lastEnqueueTicks = Environment.TickCount;
                    Statistics.InFlight(_inFlightFrames, _inFlightBytes);
                }
                finally
                {
                    prefix.Dispose();
                }
            }
            _sendSignal.Release();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private static void WriteSelect(Batch batch, int db) => batch.Frames += WriteSelect((IBufferWriter<byte>)batch, db);

    private static int WriteSelect(IBufferWriter<byte> output, int db)
    {
        RespFormatter.WriteRaw(output, "*2\r\n$6\r\nSELECT\r\n"u8);
        RespFormatter.WriteBulk(output, db);
        return 1;
    }

    /// <summary>Writes <c>*N\r\n</c> into the room kept at the command's start, moving the arguments if N needs more digits.</summary>
    [MethodImpl(HotPath.Compile)]
    private static void WriteCommandHeader(Batch batch, int start, int args)
    {
        int digits = args < 10 ? 1 : args < 100 ? 2 : args < 1000 ? 3 : args < 10000 ? 4 : args < 100000 ? 5 : args < 1000000 ? 6 : args < 10000000 ? 7 : args < 100000000 ? 8 : args < 1000000000 ? 9 : 10;
        int extra = digits + 3 - HeaderReserve;
        if (extra > 0)
        {
            batch.Reserve(extra);
            int from = start + HeaderReserve;
            Buffer.BlockCopy(batch.Buffer, from, batch.Buffer, from + extra, batch.Length - from);
            batch.Length += extra;
        }
        Span<byte> header = batch.Buffer.AsSpan(start, digits + 3);
        header[0] = (byte)'*';
        Utf8Formatter.TryFormat(args, header.Slice(1), out _);
        header[digits + 1] = (byte)'\r';
        header[digits + 2] = (byte)'\n';
    }

    /// <summary>Records the checkpoint of an acknowledged batch, or the one found at connect (called under <see cref="_gate"/> or before the loops start).</summary>
    [MethodImpl(HotPath.Compile)]
    private void SetAcknowledged(ReadOnlySpan<byte> value, bool isNull = false)
    {
        if (isNull)
        {
            _acknowledgedLength = -1;
            return;
        }
        if (_acknowledged.Length < value.Length) _acknowledged = new byte[Math.Max(value.Length, _acknowledged.Length * 2)];
        value.CopyTo(_acknowledged);
        _acknowledgedLength = value.Length;
    }

    /// <summary>Records the checkpoint the target will hold once every queued batch ran (under <see cref="_gate"/> or before the loops start).</summary>
    [MethodImpl(HotPath.Compile)]
    private void SetEnqueued(ReadOnlySpan<byte> value)
    {
        if (_enqueuedValue.Length < value.Length) _enqueuedValue = new byte[Math.Max(value.Length, _enqueuedValue.Length * 2)];
        value.CopyTo(_enqueuedValue);
        _enqueuedLength = value.Length;
    }

    [MethodImpl(HotPath.Compile)]
    private void SetAcknowledged(byte[]? value)
    {
        if (value == null) SetAcknowledged(default, isNull: true);
        else SetAcknowledged(value.AsSpan());
    }

    private static InvalidOperationException Misuse(string what) => new InvalidOperationException($"TargetWriter: {what}.");
}
