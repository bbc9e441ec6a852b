using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

/// <summary>The dispatcher of a cluster target: rounds of units to the masters, redirects, lost links, the low-water mark.</summary>
internal sealed partial class ClusterTarget
{
    /// <summary>How often the slot map is read again even when no redirect asked for it.</summary>
    internal static readonly TimeSpan SlotMapRefresh = TimeSpan.FromSeconds(30);

    /// <summary>How long WAIT gives a replica to confirm a flight before the flight counts as applied anyway.</summary>
    private const int ReplicaWaitMs = 2000;

    private readonly object _gate = new object();
    private readonly LinkedList<SlotUnit> _queue = new LinkedList<SlotUnit>();
    private readonly LinkedList<BatchTrack> _tracks = new LinkedList<BatchTrack>();
    private readonly Dictionary<long, BatchTrack> _trackBySeq = new Dictionary<long, BatchTrack>();
    private readonly NodeLink?[] _owners = new NodeLink?[ClusterSlots.Count];
    private readonly Dictionary<string, NodeLink> _links = new Dictionary<string, NodeLink>(StringComparer.Ordinal);
    private readonly SemaphoreSlim _signal = new SemaphoreSlim(0);
    private readonly CancellationTokenSource _disposeCts = new CancellationTokenSource();
    private long _queuedFrames;
    private long _queuedBytes;
    private CommitPosition? _acknowledgedPosition;
    private byte[]? _acknowledgedValue;
    private byte[]? _writtenValue;
    private TaskCompletionSource<bool>? _drained;
    private volatile SyncException? _fault;
    private volatile ServerInfo _server;
    private bool _disposed;
    private Task? _run;

    private sealed class BatchTrack
    {
        public long Seq;
        public CommitPosition? Position;
        public byte[]? Value;
        public int Remaining;
    }

    private string GlobalKey => _options.CheckpointKey!;

    private string SlotKey(int slot) => _options.CheckpointKey + ":{" + ClusterSlots.Tag(slot) + "}";

    private void Enqueue(long seq, CommitPosition? position, byte[]? value, List<SlotUnit> broadcasts, List<SlotUnit> units)
    {
        lock (_gate)
        {
            while (true)
            {
                if (_fault != null) throw _fault;
                if (_disposed) throw new ObjectDisposedException(nameof(ClusterTarget));
                if (_queuedFrames == 0 || (_queuedFrames < _options.MaxInFlightCommands && _queuedBytes < _options.MaxInFlightBytes)) break;
                Monitor.Wait(_gate);
            }
            var track = new BatchTrack { Seq = seq, Position = position, Value = value, Remaining = broadcasts.Count + units.Count };
            _tracks.AddLast(track);
            _trackBySeq[seq] = track;
            foreach (SlotUnit unit in broadcasts.Concat(units))
            {
                unit.Seq = seq;
                _queue.AddLast(unit);
                _queuedFrames += unit.Frames(_transactional);
                _queuedBytes += unit.Body.Length;
            }
            Statistics.InFlight(_queuedFrames, _queuedBytes);
        }
        _signal.Release();
    }

    /// <inheritdoc/>
    public async Task DrainAsync(CancellationToken ct)
    {
        Flush();
        Task drained;
        lock (_gate)
        {
            if (_fault != null) throw _fault;
            if (IsDrainedLocked()) return;
            _drained ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            drained = _drained.Task;
        }
        _signal.Release();
        var cancelled = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using (ct.Register(() => cancelled.TrySetCanceled(ct)))
        {
            await Task.WhenAny(drained, cancelled.Task).ConfigureAwait(false);
        }
        ct.ThrowIfCancellationRequested();
        await drained.ConfigureAwait(false);
    }

    private bool IsDrainedLocked() =>
        _queue.Count == 0 && _tracks.Count == 0 && (!_transactional || _acknowledgedValue == null || ReferenceEquals(_acknowledgedValue, _writtenValue));

    private void Stop(SyncException error)
    {
        lock (_gate)
        {
            if (_fault != null) return;
            _fault = error;
            Statistics.Error(error);
            _drained?.TrySetException(error);
            _drained = null;
            Monitor.PulseAll(_gate);
        }
        _signal.Release();
    }

    private async Task DispatchAsync()
    {
        CancellationToken ct = _disposeCts.Token;
        long refreshed = Stopwatch.GetTimestamp();
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await _signal.WaitAsync(TimeSpan.FromSeconds(1), ct).ConfigureAwait(false);
                while (_fault == null)
                {
                    if (Stopwatch.GetTimestamp() - refreshed > SlotMapRefresh.TotalSeconds * Stopwatch.Frequency)
                    {
                        // Besides MOVED and lost links: a master added or slots moved with no write of ours to them yet.
                        refreshed = Stopwatch.GetTimestamp();
                        try
                        {
                            await RefreshAsync(ct).ConfigureAwait(false);
                        }
                        catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
                        {
                        }
                    }
                    List<SlotUnit> round = PickRound();
                    if (round.Count == 0) break;
                    await RunRoundAsync(round, ct).ConfigureAwait(false);
                    await AdvanceAsync(ct).ConfigureAwait(false);
                }
                if (_fault != null) return;
                await AdvanceAsync(ct).ConfigureAwait(false);
                lock (_gate)
                {
                    if (_drained != null && IsDrainedLocked())
                    {
                        _drained.TrySetResult(true);
                        _drained = null;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (SyncException ex)
        {
            Stop(ex);
        }
        catch (Exception ex)
        {
            Stop(new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop, $"Writing to the target cluster {_login} failed unexpectedly (a defect in RedisSync; please report it): {ex.Message}", ex));
        }
    }

    /// <summary>The next units to send: at most one per slot (a slot's next unit waits for its previous one), or a broadcast alone.</summary>
    private List<SlotUnit> PickRound()
    {
        var picked = new List<SlotUnit>();
        var slots = new HashSet<int>();
        long frames = 0, bytes = 0;
        lock (_gate)
        {
            LinkedListNode<SlotUnit>? node = _queue.First;
            int scanned = 0;
            while (node != null && scanned++ < 50_000)
            {
                SlotUnit unit = node.Value;
                LinkedListNode<SlotUnit>? next = node.Next;
                if (unit.IsBroadcast)
                {
                    if (picked.Count == 0)
                    {
                        _queue.Remove(node);
                        picked.Add(unit);
                    }
                    break;
                }
                if (slots.Add(unit.Slot))
                {
                    int f = unit.Frames(_transactional);
                    if (picked.Count > 0 && (frames + f > _options.MaxInFlightCommands || bytes + unit.Body.Length > _options.MaxInFlightBytes)) break;
                    frames += f;
                    bytes += unit.Body.Length;
                    _queue.Remove(node);
                    picked.Add(unit);
                }
                node = next;
            }
        }
        return picked;
    }

    private async Task RunRoundAsync(List<SlotUnit> round, CancellationToken ct)
    {
        if (round[0].IsBroadcast)
        {
            await BroadcastAsync(round[0], ct).ConfigureAwait(false);
            return;
        }
        var groups = new Dictionary<NodeLink, List<SlotUnit>>();
        var waiting = new List<SlotUnit>();
        lock (_gate)
        {
            foreach (SlotUnit unit in round)
            {
                unit.Outcome = UnitOutcome.None;
                NodeLink? link = unit.AskNode ?? _owners[unit.Slot];
                if (link == null)
                {
                    unit.Outcome = UnitOutcome.Retry;
                    continue;
                }
                if (!groups.TryGetValue(link, out List<SlotUnit>? list)) groups[link] = list = new List<SlotUnit>();
                list.Add(unit);
            }
        }
        await Task.WhenAll(groups.Select(g => FlightAsync(g.Key, g.Value, ct))).ConfigureAwait(false);
        bool refresh = false, pause = false;
        var back = new List<SlotUnit>();
        var unstamped = new List<int>();
        foreach (SlotUnit unit in round)
        {
            switch (unit.Outcome)
            {
                case UnitOutcome.Applied:
                    unit.AskNode = null;
                    unit.Verify = false;
                    Applied(unit);
                    continue;
                case UnitOutcome.Failed:
                    throw unit.Error!;
                case UnitOutcome.Fenced:
                    throw LeaseLost(unit.Slot);
                case UnitOutcome.Unstamped:
                    unit.AskNode = null;
                    unstamped.Add(unit.Slot);
                    break;
                case UnitOutcome.Moved:
                    unit.AskNode = null;
                    refresh = true;
                    break;
                case UnitOutcome.Ask:
                    unit.AskNode = LinkFor(unit.RedirectAddress!);
                    break;
                case UnitOutcome.Unknown:
                    unit.Verify = true;
                    unit.AskNode = null;
                    refresh = pause = true;
                    break;
                default:
                    unit.AskNode = null;
                    pause = true;
                    break;
            }
            if (unit.FirstFailureTicks == 0) unit.FirstFailureTicks = Stopwatch.GetTimestamp();
            else if (Stopwatch.GetTimestamp() - unit.FirstFailureTicks > _options.ReconnectTimeout.TotalSeconds * Stopwatch.Frequency)
            {
                throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop,
                    $"The target cluster {_login} did not take the writes of slot {unit.Slot} for {_options.ReconnectTimeout.TotalSeconds:0} s ({unit.Outcome}{(unit.Error != null ? ": " + unit.Error.Message : string.Empty)}): " +
                    "its master for that slot is down and no replica took over, or the cluster is not healthy (CLUSTER INFO). Fix the cluster, then start the sync again: it resumes from its checkpoint.");
            }
            back.Add(unit);
        }
        if (back.Count == 0) return;
        lock (_gate)
        {
            for (int i = back.Count - 1; i >= 0; i--) _queue.AddFirst(back[i]);
        }
        if (unstamped.Count > 0) await RestampAsync(unstamped, ct).ConfigureAwait(false);
        if (pause) await Task.Delay(100, ct).ConfigureAwait(false);
        if (refresh)
        {
            try
            {
                await RefreshAsync(ct).ConfigureAwait(false);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
            {
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }
    }

    private void Applied(SlotUnit unit)
    {
        lock (_gate)
        {
            _queuedFrames -= unit.Frames(_transactional);
            _queuedBytes -= unit.Body.Length;
            Statistics.InFlight(_queuedFrames, _queuedBytes);
            if (!unit.IsBroadcast) Statistics.Acknowledged(unit.Commands, unit.Keys);
            if (_trackBySeq.TryGetValue(unit.Seq, out BatchTrack? track)) track.Remaining--;
            Monitor.PulseAll(_gate);
        }
        unit.Body.Dispose();
    }

    /// <summary>The low-water mark: every batch before it fully applied; written to the sync's checkpoint key.</summary>
    private async Task AdvanceAsync(CancellationToken ct)
    {
        byte[]? value;
        lock (_gate)
        {
            while (_tracks.First != null && _tracks.First.Value.Remaining <= 0)
            {
                BatchTrack done = _tracks.First.Value;
                _tracks.RemoveFirst();
                _trackBySeq.Remove(done.Seq);
                if (done.Position != null) _acknowledgedPosition = done.Position;
                if (done.Value != null) _acknowledgedValue = done.Value;
            }
            value = _acknowledgedValue;
            if (!_transactional || value == null || ReferenceEquals(value, _writtenValue)) return;
        }
        await WriteGlobalAsync(value, ct).ConfigureAwait(false);
    }

    /// <summary>SET of the sync's checkpoint key on the master of its slot, following a moved slot; a lost link leaves it for the next round.</summary>
    private async Task WriteGlobalAsync(byte[] value, CancellationToken ct)
    {
        int slot = ClusterSlots.Of(Encoding.UTF8.GetBytes(GlobalKey));
        for (int attempt = 0; attempt < 3; attempt++)
        {
            NodeLink? link;
            lock (_gate) link = _owners[slot];
            if (link == null) break;
            RespValue? reply = Fenced
                ? await link.TryExecuteAsync(ct, "EVAL", SlotFence.SetGlobal, 2, GlobalKey, SlotKey(slot), value, _lease!.Epoch).ConfigureAwait(false)
                : await link.TryExecuteAsync(ct, "SET", GlobalKey, value).ConfigureAwait(false);
            if (reply != null && Fenced && reply.Kind == RespKind.Integer)
            {
                if (reply.Integer == 0) throw LeaseLost(slot);
                if (reply.Integer == 2)
                {
                    await RestampAsync(new[] { slot }, ct).ConfigureAwait(false);
                    continue;
                }
            }
            if (reply != null && !reply.IsError)
            {
                lock (_gate) _writtenValue = value;
                return;
            }
            if (reply != null && reply.IsError && reply.ErrorCode != "MOVED" && reply.ErrorCode != "CLUSTERDOWN" && reply.ErrorCode != "TRYAGAIN" && reply.ErrorCode != "ASK")
            {
                throw new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop, $"The target {link.Endpoint} refused SET of the sync's checkpoint {GlobalKey}: {reply.AsString()}") { Command = "SET", Key = GlobalKey };
            }
            try
            {
                await RefreshAsync(ct).ConfigureAwait(false);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
            {
                await Task.Delay(200, ct).ConfigureAwait(false);
            }
        }
    }

    /// <summary>A command for every master (FLUSHALL …), then, after a flush, the lease and the sync's checkpoint written again.</summary>
    private async Task BroadcastAsync(SlotUnit unit, CancellationToken ct)
    {
        var args = new List<ReadOnlySequence<byte>>();
        var rest = new ReadOnlySequence<byte>(unit.Body.WrittenSpan.ToArray());
        RespParser.TryReadCommand(ref rest, args, out _);
        object[] command = args.Select(a => (object)a.ToArray()).ToArray();
        string name = Encoding.ASCII.GetString(args[0].ToArray()).ToUpperInvariant();
        bool flush = name == "FLUSHALL" || name == "FLUSHDB";
        var flushed = new HashSet<NodeLink>();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            List<NodeLink> masters;
            lock (_gate) masters = _owners.Where(o => o != null).Distinct().ToList()!;
            bool done = true;
            foreach (NodeLink link in masters)
            {
                if (flushed.Contains(link)) continue;
                RespValue? reply = flush && Fenced
                    ? await FencedFlushAsync(link, command, ct).ConfigureAwait(false)
                    : await link.TryExecuteAsync(ct, command).ConfigureAwait(false);
                if (reply == null || (reply.IsError && (reply.ErrorCode == "CLUSTERDOWN" || reply.ErrorCode == "TRYAGAIN" || reply.ErrorCode == "LOADING")))
                {
                    done = false;
                    continue;
                }
                if (reply.IsError)
                {
                    throw new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop, $"The target {link.Endpoint} refused {name} ({reply.AsString()}), which every master of the cluster must run.") { Command = name };
                }
                flushed.Add(link);
            }
            if (done) break;
            if (clock.Elapsed > _options.ReconnectTimeout)
            {
                throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop, $"Not every master of the target cluster {_login} ran {name} within {_options.ReconnectTimeout.TotalSeconds:0} s.") { Command = name };
            }
            await Task.Delay(200, ct).ConfigureAwait(false);
            await RefreshAsync(ct).ConfigureAwait(false);
        }
        if (flush)
        {
            byte[]? written;
            lock (_gate)
            {
                written = _writtenValue;
                _writtenValue = null;
            }
            if (_lease != null) await SetOnOwnerAsync(ct, _lease.Key, _lease.Value, "PX", _lease.TimeToLiveMs).ConfigureAwait(false);
            if (Fenced)
            {
                // The flush took the epoch counter and the stamps with it: this run's epoch goes back on every slot.
                if (_lease!.EpochKey != null) await SetOnOwnerAsync(ct, Encoding.UTF8.GetBytes(_lease.EpochKey), _lease.Epoch).ConfigureAwait(false);
                (_, long higher) = await StampAsync(Enumerable.Range(0, ClusterSlots.Count).ToList(), ct).ConfigureAwait(false);
                if (higher > 0) throw LeaseLost(-1);
            }
            if (written != null) await WriteGlobalAsync(written, ct).ConfigureAwait(false);
        }
        Applied(unit);
    }

    private async Task SetOnOwnerAsync(CancellationToken ct, byte[] key, params object[] rest)
    {
        NodeLink? link;
        lock (_gate) link = _owners[ClusterSlots.Of(key)];
        if (link == null) return;
        var args = new List<object> { "SET", key };
        args.AddRange(rest);
        await link.TryExecuteAsync(ct, args.ToArray()).ConfigureAwait(false);
    }

    /// <summary>Sends one master its share of a round and sorts out what became of each unit; never throws.</summary>
    private async Task FlightAsync(NodeLink link, List<SlotUnit> units, CancellationToken ct)
    {
        RedisConnection connection;
        try
        {
            connection = await link.ConnectAsync(ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SyncException || ex is IOException || ex is System.Net.Sockets.SocketException)
        {
            foreach (SlotUnit unit in units)
            {
                unit.Outcome = UnitOutcome.Unknown;
                unit.Error = ex as SyncException;
            }
            return;
        }
        try
        {
            var send = new List<SlotUnit>();
            foreach (SlotUnit unit in units)
            {
                if (unit.Verify && _transactional && !await CheckAppliedAsync(connection, unit, ct).ConfigureAwait(false))
                {
                    if (unit.Outcome != UnitOutcome.None) continue;
                }
                if (unit.Outcome == UnitOutcome.Applied) continue;
                send.Add(unit);
            }
            if (send.Count == 0) return;
            // -MaxWriteRate: the one budget of the sync, shared by every master's flights.
            if (_options.RateLimit != null) await _options.RateLimit.TakeAsync(send.Sum(u => u.Commands), ct).ConfigureAwait(false);
            link.SetInFlight(send.Sum(u => (long)u.Commands));
            foreach (SlotUnit unit in send) WriteUnit(connection.Output, unit);
            bool wait = _transactional && link.Replicas > 0;
            if (wait) RespFormatter.WriteCommand(connection.Output, "WAIT", 1, ReplicaWaitMs);
            FlushResult flushed = await connection.Output.FlushAsync(ct).ConfigureAwait(false);
            if (flushed.IsCompleted) throw connection.LinkLost(null);
            foreach (SlotUnit unit in send)
            {
                unit.Outcome = UnitOutcome.Unknown;
                await ReadUnitAsync(connection, link, unit, ct).ConfigureAwait(false);
            }
            if (wait) await connection.ReadReplyAsync(ct).ConfigureAwait(false);
            if (send.Any(u => u.Outcome == UnitOutcome.Moved || u.Outcome == UnitOutcome.Ask)) link.CountRedirects(send.Count(u => u.Outcome == UnitOutcome.Moved || u.Outcome == UnitOutcome.Ask));
            foreach (SlotUnit unit in send)
            {
                if (unit.Outcome != UnitOutcome.Applied) continue;
                link.CountAcknowledged(unit.Commands);
                // A unit of the stream records its offset first in its slot's checkpoint value ("o <offset> …").
                if (unit.Value is byte[] value && value.Length > 2 && value[0] == (byte)'o' && System.Buffers.Text.Utf8Parser.TryParse(value.AsSpan(2), out long offset, out _)) link.Reached(offset);
            }
        }
        catch (Exception ex) when (ex is SyncException || ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException)
        {
            if (ex is SyncException sync && sync.Kind != SyncErrorKind.Retry)
            {
                foreach (SlotUnit unit in units.Where(u => u.Outcome == UnitOutcome.None || u.Outcome == UnitOutcome.Unknown)) { unit.Outcome = UnitOutcome.Failed; unit.Error = sync; }
            }
            else
            {
                foreach (SlotUnit unit in units.Where(u => u.Outcome == UnitOutcome.None)) unit.Outcome = UnitOutcome.Unknown;
            }
            link.Drop();
        }
        finally
        {
            link.SetInFlight(0);
        }
    }

    /// <summary>After a lost link: whether the unit ran, from its slot's checkpoint key (this run's token and a batch at least the unit's).</summary>
    private async Task<bool> CheckAppliedAsync(RedisConnection connection, SlotUnit unit, CancellationToken ct)
    {
        if (unit.AskNode != null) await connection.ExecuteAsync(ct, "ASKING").ConfigureAwait(false);
        RespValue reply = await connection.ExecuteAsync(ct, "GET", SlotKey(unit.Slot)).ConfigureAwait(false);
        if (reply.IsError)
        {
            Redirect(unit, reply.ErrorCode, reply.AsString() ?? string.Empty);
            return false;
        }
        string[] parts = (reply.AsString() ?? string.Empty).Split(' ');
        if (parts.Length >= 3)
        {
            string[] run = parts[2].Split(':');
            if (run.Length == 2 && run[0] == _token && long.TryParse(run[1], NumberStyles.None, CultureInfo.InvariantCulture, out long seq) && seq >= unit.Seq)
            {
                unit.Outcome = UnitOutcome.Applied;
                return true;
            }
        }
        unit.Verify = false;
        return false;
    }

    private void WriteUnit(IBufferWriter<byte> output, SlotUnit unit)
    {
        if (!_transactional)
        {
            RespFormatter.WriteRaw(output, unit.Body.WrittenSpan);
            return;
        }
        if (Fenced)
        {
            // ASKING holds for one command outside a transaction: before each of WATCH, the guard and MULTI.
            if (unit.AskNode != null) RespFormatter.WriteRaw(output, "*1\r\n$6\r\nASKING\r\n"u8);
            RespFormatter.WriteCommand(output, "WATCH", SlotKey(unit.Slot));
            if (unit.AskNode != null) RespFormatter.WriteRaw(output, "*1\r\n$6\r\nASKING\r\n"u8);
            RespFormatter.WriteCommand(output, "EVAL", SlotFence.GuardBytes, 1, SlotKey(unit.Slot), _lease!.Epoch);
        }
        if (unit.AskNode != null) RespFormatter.WriteRaw(output, "*1\r\n$6\r\nASKING\r\n"u8);
        RespFormatter.WriteRaw(output, "*1\r\n$5\r\nMULTI\r\n"u8);
        RespFormatter.WriteRaw(output, unit.Body.WrittenSpan);
        RespFormatter.WriteArrayHeader(output, 3);
        RespFormatter.WriteBulk(output, "SET"u8);
        RespFormatter.WriteBulk(output, SlotKey(unit.Slot));
        RespFormatter.WriteBulk(output, unit.Value!);
        RespFormatter.WriteRaw(output, "*1\r\n$4\r\nEXEC\r\n"u8);
        Statistics.Sent(unit.Commands, unit.Body.Length, unit.FirstFailureTicks != 0);
    }

    /// <summary>Reads a unit's replies and classifies them: applied, redirected (MOVED, ASK), to retry (TRYAGAIN, CLUSTERDOWN, a slot half migrated) or failed.</summary>
    private async Task ReadUnitAsync(RedisConnection connection, NodeLink link, SlotUnit unit, CancellationToken ct)
    {
        if (!_transactional)
        {
            for (int i = 0; i < unit.Commands; i++)
            {
                RespValue reply = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                if (reply.IsError) CommandError(link, unit, i, reply, applied: false);
            }
            if (unit.Outcome == UnitOutcome.Unknown) unit.Outcome = UnitOutcome.Applied;
            return;
        }
        int queuedOk = 0, asks = 0, moved = 0, unstable = 0;
        string? address = null;
        SyncException? failed = null;
        long guard = 1;
        if (Fenced)
        {
            for (int i = 0; i < 2; i++)
            {
                if (unit.AskNode != null) await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                RespValue reply = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                if (reply.IsError) Classify(reply, i == 0 ? "WATCH" : "EVAL");
                else if (i == 1) guard = reply.Integer;
            }
        }
        if (unit.AskNode != null) await connection.ReadReplyAsync(ct).ConfigureAwait(false);
        RespValue multi = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
        for (int i = 0; i <= unit.Commands; i++)
        {
            RespValue reply = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
            if (!reply.IsError)
            {
                queuedOk++;
                continue;
            }
            Classify(reply, null, i);
        }
        RespValue exec = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
        if (multi.IsError)
        {
            failed ??= new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop, $"The target {link.Endpoint} refused MULTI ({multi.AsString()}), which RedisSync needs for its checkpoints; the sync cannot go on.") { Command = "MULTI" };
        }
        if (exec.Kind == RespKind.Array && !exec.IsNull)
        {
            unit.Outcome = UnitOutcome.Applied;
            for (int i = 0; i < exec.Items.Length; i++)
            {
                if (exec.Items[i].IsError) CommandError(link, unit, i, exec.Items[i], applied: true);
            }
            return;
        }
        if (guard == 0 || guard == 2)
        {
            // The guard discarded the transaction (its slot's epoch is a newer run's, or gone with a flush).
            unit.Outcome = guard == 0 ? UnitOutcome.Fenced : UnitOutcome.Unstamped;
            return;
        }
        if (exec.IsError && exec.ErrorCode != "EXECABORT") Redirect(unit, exec.ErrorCode, exec.AsString() ?? string.Empty);
        if (failed != null)
        {
            unit.Outcome = UnitOutcome.Failed;
            unit.Error = failed;
        }
        else if (moved > 0 || unit.Outcome == UnitOutcome.Moved)
        {
            unit.Outcome = UnitOutcome.Moved;
            unit.RedirectAddress = address ?? unit.RedirectAddress;
        }
        else if (asks > 0 && queuedOk == 0)
        {
            unit.Outcome = UnitOutcome.Ask;
            unit.RedirectAddress = address;
        }
        else if (asks > 0 || unstable > 0 || unit.Outcome == UnitOutcome.Retry || unit.Outcome == UnitOutcome.Ask)
        {
            // Part of the slot's keys moved already and part did not: wait until its migration is over.
            if (unit.Outcome != UnitOutcome.Ask) unit.Outcome = UnitOutcome.Retry;
        }
        else if (Fenced && exec.IsNull)
        {
            // The watched checkpoint changed between WATCH and EXEC (its key migrated, or an older run's guard touched it): again.
            unit.Outcome = UnitOutcome.Retry;
        }
        else
        {
            unit.Outcome = UnitOutcome.Failed;
            unit.Error = new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop, $"EXEC on the target {link.Endpoint} answered {exec.AsString() ?? exec.Kind.ToString()} where the results of a transaction were expected.") { Command = "EXEC" };
        }

        void Classify(RespValue reply, string? fence, int index = 0)
        {
            string code = reply.ErrorCode;
            string text = reply.AsString() ?? string.Empty;
            if (code == "MOVED") { moved++; address = AddressOf(text); }
            else if (code == "ASK") { asks++; address ??= AddressOf(text); }
            else if (code == "TRYAGAIN" || code == "CLUSTERDOWN" || code == "LOADING" || code == "MASTERDOWN") unstable++;
            else if (fence != null)
            {
                failed ??= new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                    $"The target {link.Endpoint} refused {fence} of the lease's fence on slot {unit.Slot} ({text}); it ran scripts when the sync began. Let the sync's user run EVAL and WATCH, then start it again.") { Command = fence };
            }
            else failed ??= QueuedError(link, unit, index, text);
        }
    }

    private static void Redirect(SlotUnit unit, string code, string text)
    {
        switch (code)
        {
            case "MOVED":
                unit.Outcome = UnitOutcome.Moved;
                unit.RedirectAddress = AddressOf(text);
                break;
            case "ASK":
                unit.Outcome = UnitOutcome.Ask;
                unit.RedirectAddress = AddressOf(text);
                break;
            default:
                unit.Outcome = UnitOutcome.Retry;
                break;
        }
    }

    private static string AddressOf(string error)
    {
        string[] parts = error.Split(' ');
        return parts.Length >= 3 ? parts[2] : string.Empty;
    }

    private SyncException QueuedError(NodeLink link, SlotUnit unit, int index, string text)
    {
        (string command, string? key) = NameCommand(unit, index);
        return new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
            $"The target {link.Endpoint} refused {command}{(key != null ? " to key " + key : string.Empty)} ({text}) before running it, which discards its whole transaction. Fix its cause (a command the target does not know: a module, or an older version).")
        { Command = command, Key = key };
    }

    /// <summary>A command that ran and failed: a warning under -SkipFailedCommands (or a BUSYKEY under -OnConflict Skip), else the end of the sync.</summary>
    private void CommandError(NodeLink link, SlotUnit unit, int index, RespValue reply, bool applied)
    {
        if (index >= unit.Commands) return;
        string code = reply.ErrorCode;
        string text = reply.AsString() ?? string.Empty;
        (string command, string? key) = NameCommand(unit, index);
        string what = command + (key != null ? " to key " + key : string.Empty);
        SyncException error;
        if (code == "BUSYKEY")
        {
            error = _options.BusyKeyPolicy == BusyKeyPolicy.Skip
                ? Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Skip, $"The key {key} already exists on the target {link.Endpoint}: it was not copied, and the target keeps its own value (-OnConflict Skip).")
                : Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Stop, $"The key {key} already exists on the target {link.Endpoint}, so the copy stops (-OnConflict Stop, the default). Start again with -OnConflict Replace, -OnConflict Skip, or -FlushTarget.");
        }
        else if (!applied && (code == "MOVED" || code == "ASK" || code == "TRYAGAIN" || code == "CLUSTERDOWN"))
        {
            error = Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                $"The target cluster {_login} redirected {what} ({text}) while an RDB file was copied without checkpoints: slots moved during the copy. Copy the file again when the cluster is stable.");
        }
        else
        {
            error = _options.CommandErrorPolicy == CommandErrorPolicy.Skip
                ? Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Skip, $"The target {link.Endpoint} refused {what} ({text}); it was skipped (-SkipFailedCommands).")
                : Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop, $"The target {link.Endpoint} refused {what} ({text}). Fix the cause, or start again with -SkipFailedCommands to go on without such commands.");
        }
        if (error.Kind == SyncErrorKind.Skip)
        {
            Statistics.Error(error);
            Warning?.Invoke(new SyncWarning(error.ErrorId, error.Kind, error.Key, error.Command, error.Message));
            return;
        }
        unit.Outcome = UnitOutcome.Failed;
        unit.Error = error;

        SyncException Error(string id, SyncErrorKind kind, string message) => new SyncException(id, kind, message) { Command = command, Key = key };
    }

    private static (string Command, string? Key) NameCommand(SlotUnit unit, int index)
    {
        var rest = new ReadOnlySequence<byte>(unit.Body.WrittenSpan.ToArray());
        var args = new List<ReadOnlySequence<byte>>();
        for (int i = 0; i <= index; i++)
        {
            if (!RespParser.TryReadCommand(ref rest, args, out _)) return ("the checkpoint SET", null);
        }
        string command = Encoding.UTF8.GetString(args[0].ToArray()).ToUpperInvariant();
        return (command, TargetWriter.KeyOf(command, args));
    }

    /// <summary>Reads the slot map (CLUSTER SLOTS) from a master it knows, or from the node the user gave; links to new masters.</summary>
    private async Task RefreshAsync(CancellationToken ct)
    {
        var seeds = new List<RedisEndpoint>();
        lock (_gate) seeds.AddRange(_links.Values.Select(l => l.Endpoint));
        seeds.Add(_login);
        var errors = new List<string>();
        foreach (RedisEndpoint seed in seeds.Distinct())
        {
            RespValue reply;
            try
            {
                using RedisConnection connection = await RedisConnection.ConnectAsync(seed, EndpointRole.Target, ct, TimeSpan.FromSeconds(2)).ConfigureAwait(false);
                reply = await connection.ExecuteAsync(ct, "CLUSTER", "SLOTS").ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is SyncException || ex is IOException || ex is System.Net.Sockets.SocketException)
            {
                errors.Add(seed + ": " + ex.Message);
                continue;
            }
            if (reply.IsError || reply.Items.Length == 0)
            {
                errors.Add(seed + ": " + (reply.AsString() ?? "no slots"));
                continue;
            }
            lock (_gate)
            {
                Array.Clear(_owners, 0, _owners.Length);
                foreach (RespValue range in reply.Items)
                {
                    if (range.Items.Length < 3) continue;
                    RespValue master = range.Items[2];
                    string host = master.Items[0].AsString() ?? string.Empty;
                    if (host.Length == 0) host = seed.Host;
                    NodeLink link = LinkForLocked(host, (int)master.Items[1].Integer);
                    link.Replicas = range.Items.Length - 3;
                    for (long s = range.Items[0].Integer; s <= range.Items[1].Integer; s++) _owners[s] = link;
                }
            }
            return;
        }
        throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Retry, $"No node of the target cluster {_login} gave its slot map: " + string.Join("; ", errors));
    }

    private NodeLink LinkFor(string address)
    {
        int colon = address.LastIndexOf(':');
        string host = colon > 0 ? address.Substring(0, colon) : address;
        int port = colon > 0 && int.TryParse(address.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 6379;
        lock (_gate) return LinkForLocked(host, port);
    }

    private NodeLink LinkForLocked(string host, int port)
    {
        string address = host + ":" + port.ToString(CultureInfo.InvariantCulture);
        if (_links.TryGetValue(address, out NodeLink? link)) return link;
        var endpoint = _login.At(host, port);
        link = new NodeLink(endpoint, _options.ClientName);
        _links[address] = link;
        return link;
    }

    /// <summary>At connect: the sync's checkpoint, and what every slot's checkpoint says it applied (for a resumed stream).</summary>
    private async Task ReadCheckpointsAsync(CancellationToken ct)
    {
        int slot = ClusterSlots.Of(Encoding.UTF8.GetBytes(GlobalKey));
        NodeLink owner = _owners[slot] ?? throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop, $"No master of the target cluster {_login} serves slot {slot}.");
        RedisConnection connection = await owner.ConnectAsync(ct).ConfigureAwait(false);
        RespValue value = await connection.ExecuteOrThrowAsync(ct, "GET", GlobalKey).ConfigureAwait(false);
        if (value.IsNull) return;
        InitialCheckpoint = value.Bytes;
        _writtenValue = _acknowledgedValue = value.Bytes;
        var resume = new long[ClusterSlots.Count];
        foreach (IGrouping<NodeLink?, int> group in Enumerable.Range(0, ClusterSlots.Count).GroupBy(s => _owners[s]))
        {
            if (group.Key == null) continue;
            RedisConnection link = await group.Key.ConnectAsync(ct).ConfigureAwait(false);
            int[] slots = group.ToArray();
            foreach (int s in slots) RespFormatter.WriteCommand(link.Output, "GET", SlotKey(s));
            await link.Output.FlushAsync(ct).ConfigureAwait(false);
            foreach (int s in slots)
            {
                RespValue reply = await link.ReadReplyAsync(ct).ConfigureAwait(false);
                resume[s] = reply.IsNull || reply.IsError ? -1 : SlotFence.OffsetOf(reply.AsString());
            }
        }
        _resume = resume;
    }

    /// <summary>The master that serves <paramref name="key"/>'s slot now (with the login of the node the user gave).</summary>
    public RedisEndpoint MasterOf(string key)
    {
        lock (_gate)
        {
            return _owners[ClusterSlots.Of(Encoding.UTF8.GetBytes(key))]?.Endpoint
                ?? throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop, $"No master of the target cluster {_login} serves the slot of {key}.");
        }
    }

    /// <summary>Reads the slot map again and names the master that serves <paramref name="key"/> now.</summary>
    public async Task<RedisEndpoint> LocateAsync(string key, CancellationToken ct)
    {
        await RefreshAsync(ct).ConfigureAwait(false);
        return MasterOf(key);
    }

    /// <summary>Keys on every master, RedisSync's own (checkpoints, lease) left out.</summary>
    public async Task<long> CountUserKeysAsync(CancellationToken ct)
    {
        List<NodeLink> masters;
        lock (_gate) masters = _owners.Where(o => o != null).Distinct().ToList()!;
        long total = 0;
        foreach (NodeLink master in masters)
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(master.Endpoint, EndpointRole.Target, ct).ConfigureAwait(false);
            long keys = (await connection.ExecuteOrThrowAsync(ct, "DBSIZE").ConfigureAwait(false)).Integer;
            if (keys == 0) continue;
            string cursor = "0";
            do
            {
                RespValue page = await connection.ExecuteOrThrowAsync(ct, "SCAN", cursor, "MATCH", ReservedKeys.Prefix + "*", "COUNT", 1000).ConfigureAwait(false);
                cursor = page.Items[0].AsString() ?? "0";
                foreach (RespValue key in page.Items[1].Items)
                {
                    if (key.Bytes != null && ReservedKeys.IsReserved(key.Bytes)) keys--;
                }
            }
            while (cursor != "0");
            total += keys;
        }
        return total;
    }

    /// <summary>Closes every link; what was not acknowledged is abandoned (the checkpoints say what to send again).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _drained?.TrySetException(new ObjectDisposedException(nameof(ClusterTarget)));
            _drained = null;
            Monitor.PulseAll(_gate);
        }
        _disposeCts.Cancel();
        DisposeReaders();
        try
        {
            _run?.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        lock (_gate)
        {
            foreach (NodeLink link in _links.Values) link.Drop();
            foreach (SlotUnit unit in _queue) unit.Body.Dispose();
            _queue.Clear();
        }
        foreach (SlotUnit unit in _open.Values) unit.Body.Dispose();
        _open.Clear();
        _args.Dispose();
    }
}

/// <summary>The connection to one master of a cluster target, opened when first needed and again after it broke.</summary>
internal sealed class NodeLink
{
    private readonly string? _clientName;
    private RedisConnection? _connection;
    private long _acknowledged;
    private long _redirects;
    private long _inFlight;
    private long _acknowledgedOffset = -1;

    public NodeLink(RedisEndpoint endpoint, string? clientName)
    {
        Endpoint = endpoint;
        _clientName = clientName;
    }

    public RedisEndpoint Endpoint { get; }

    /// <summary>Replicas CLUSTER SLOTS listed for the master (WAIT 1 after each flight when there is one).</summary>
    public int Replicas { get; set; }

    public long Acknowledged => Interlocked.Read(ref _acknowledged);

    public long Redirects => Interlocked.Read(ref _redirects);

    /// <summary>Commands of the flight sent to this master and not yet answered.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    public void SetInFlight(long commands) => Interlocked.Exchange(ref _inFlight, commands);

    public void CountAcknowledged(int commands) => Interlocked.Add(ref _acknowledged, commands);

    public void CountRedirects(int count) => Interlocked.Add(ref _redirects, count);

    /// <summary>The newest stream offset of a unit this master acknowledged, or null.</summary>
    public long? AcknowledgedOffset
    {
        get
        {
            long offset = Interlocked.Read(ref _acknowledgedOffset);
            return offset < 0 ? null : offset;
        }
    }

    /// <summary>Called by the one dispatcher thread only.</summary>
    public void Reached(long offset)
    {
        if (offset > Interlocked.Read(ref _acknowledgedOffset)) Interlocked.Exchange(ref _acknowledgedOffset, offset);
    }

    public async Task<RedisConnection> ConnectAsync(CancellationToken ct)
    {
        RedisConnection? connection = _connection;
        if (connection != null) return connection;
        connection = await RedisConnection.ConnectAsync(Endpoint, EndpointRole.Target, ct, TimeSpan.FromSeconds(2), hotPath: true).ConfigureAwait(false);
        if (_clientName != null) await connection.ExecuteAsync(ct, "CLIENT", "SETNAME", _clientName).ConfigureAwait(false);
        _connection = connection;
        return connection;
    }

    /// <summary>One command, or null when the link is lost (it is opened again next time).</summary>
    public async Task<RespValue?> TryExecuteAsync(CancellationToken ct, params object[] args)
    {
        try
        {
            RedisConnection connection = await ConnectAsync(ct).ConfigureAwait(false);
            return await connection.ExecuteAsync(ct, args).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException || ex is System.Net.Sockets.SocketException || (ex is SyncException s && s.Kind == SyncErrorKind.Retry) || ex is ObjectDisposedException)
        {
            Drop();
            return null;
        }
    }

    public void Drop()
    {
        RedisConnection? connection = Interlocked.Exchange(ref _connection, null);
        connection?.Dispose();
    }
}
