using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

// The replies: matched to commands in FIFO order, errors named from the retained batch and classified.
internal sealed partial class TargetWriter
{
    /// <summary>Commands whose first argument is not a key (messages then name no key).</summary>
    private static readonly HashSet<string> NoKeyCommands = new HashSet<string>(StringComparer.Ordinal)
    {
        "SELECT", "MULTI", "EXEC", "DISCARD", "SWAPDB", "FLUSHDB", "FLUSHALL", "PING", "ECHO", "PUBLISH", "SPUBLISH",
        "SCRIPT", "FUNCTION", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "CONFIG", "CLIENT",
    };

    private static readonly byte[] TemporaryKeyPrefix = Encoding.ASCII.GetBytes(ReservedKeys.TemporaryPrefix);

    // The receive loop's own state (reset by a recovery while the loop is stopped).
    private Batch? _replyBatch;
    private int _replyIndex;
    private Batch? _scanBatch;
    private int _scanFrame;
    private ReadOnlySequence<byte> _scanRest;
    private readonly List<ReadOnlySequence<byte>> _scanArgs = new List<ReadOnlySequence<byte>>();

    /// <summary>Consumes every whole reply in <paramref name="buffer"/>; no allocation unless a command failed.</summary>
    [MethodImpl(HotPath.Compile)]
    private void ProcessReplies(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            ReadOnlySequence<byte> rest = buffer;
            if (!RespParser.TrySkip(ref buffer, out RespFrame frame)) return;
            if (frame.Kind == RespKind.Push) continue; // out of band, answers no command
            Batch? batch = _replyBatch;
            if (batch == null)
            {
                lock (_gate) batch = _unacked.Count > 0 ? _unacked.Peek() : null;
                if (batch == null) RespParser.ThrowProtocol($"the target {_endpoint} sent a reply that no command asked for");
                _replyBatch = batch;
            }
            int index = _replyIndex++;
            if (index < batch.PrefixFrames) OnPrefixReply(batch, index, frame);
            else if (batch.Transactional) OnTransactionReply(batch, index, frame, rest);
            else if (frame.IsError || frame.ErrorCount > 0) OnError(batch, index, frame.FirstError, queued: false);
            if (_replyIndex == batch.TotalFrames) Complete(batch);
        }
    }

    /// <summary>
    /// The prefix's replies: SELECT and WATCH answer +OK, the lease guard 1 (the lease is this run's)
    /// or 0 (it is not: the fence is touched and the transaction will be discarded), MULTI +OK.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private void OnPrefixReply(Batch batch, int index, RespFrame frame)
    {
        if (frame.IsError)
        {
            OnError(batch, index, frame.FirstError, queued: false);
            return;
        }
        if (index != batch.GuardFrame) return;
        if (frame.Kind == RespKind.Integer && frame.Integer == 1) return;
        batch.GuardFailed = true;
        if (batch.Heartbeat) Stop(LeaseLost());
    }

    private SyncException LeaseLost() =>
        new SyncException(SyncErrorIds.LeaseLost, SyncErrorKind.Stop,
            $"This run no longer holds its lease {KeyText.Format(_lease!.Key)} on the target {_endpoint}: it expired (the run was paused or cut off " +
            $"for more than {_lease.TimeToLive.TotalSeconds:0.#} s) and another run of the same sync took it, or it was removed. " +
            "Nothing more is written by this run; the other one goes on from the checkpoint.")
        { Key = KeyText.Format(_lease.Key) };

    /// <summary>
    /// Each command answers +QUEUED (or an error, which discards the transaction), EXEC an array with
    /// one reply per queued command (or EXECABORT, or nil when the lease guard touched the fence).
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private void OnTransactionReply(Batch batch, int index, RespFrame frame, ReadOnlySequence<byte> rest)
    {
        int exec = batch.TotalFrames - 1;
        if (index < exec)
        {
            if (!frame.IsError) return;
            batch.QueueErrors++;
            OnError(batch, index, frame.FirstError, queued: true);
            return;
        }
        if (frame.IsError)
        {
            // EXECABORT only repeats the errors already reported for the queued commands.
            if (batch.QueueErrors == 0 || ErrorCode(frame.FirstError) != "EXECABORT") OnError(batch, index, frame.FirstError, queued: false);
            return;
        }
        if ((frame.Kind == RespKind.Array || frame.Kind == RespKind.Null) && frame.Integer == -1)
        {
            // Discarded: a watched key changed, and the only one is the fence the lease guard touches.
            Stop(LeaseLost());
            return;
        }
        int queued = batch.Frames - 1;
        if (frame.Kind != RespKind.Array || frame.Integer != queued)
        {
            RespParser.ThrowProtocol($"EXEC on the target {_endpoint} answered a '{(char)frame.Kind}' frame ({frame.Integer}) where an array of {queued} replies was expected");
        }
        batch.Applied = true;
        if (frame.ErrorCount == 0) return;
        SequencePosition headerEnd = rest.PositionOf((byte)'\n')!.Value;
        ReadOnlySequence<byte> elements = rest.Slice(rest.GetPosition(1, headerEnd));
        for (int e = 0; e < queued; e++)
        {
            RespParser.TrySkip(ref elements, out RespFrame element);
            if (element.IsError || element.ErrorCount > 0) OnError(batch, batch.PrefixFrames + e, element.FirstError, queued: false);
        }
    }

    /// <summary>All replies of the head batch arrived: release it and its window share.</summary>
    [MethodImpl(HotPath.Compile)]
    private void Complete(Batch batch)
    {
        ResetReplyState();
        lock (_gate)
        {
            _unacked.Dequeue();
            AcknowledgeLocked(batch);
        }
    }

    /// <summary>Counts a batch as acknowledged, advances the checkpoint, frees its window share (under <see cref="_gate"/>).</summary>
    [MethodImpl(HotPath.Compile)]
    private void AcknowledgeLocked(Batch batch)
    {
        _inFlightFrames -= batch.TotalFrames;
        _inFlightBytes -= batch.TotalLength;
        Statistics.InFlight(_inFlightFrames, _inFlightBytes);
        if (!batch.Heartbeat) Statistics.Acknowledged(batch.Commands, batch.Keys);
        // The transaction ran, errors inside it or not: the target's checkpoint key holds this value now.
        if (batch.Applied)
        {
            SetAcknowledged(batch.CheckpointValue);
            if (batch.Position != null) _acknowledgedPosition = batch.Position;
        }
        Recycle(batch);
        Monitor.PulseAll(_gate);
        if (_unsent.Count == 0 && _unacked.Count == 0)
        {
            _drained?.TrySetResult(true);
            _drained = null;
        }
    }

    [MethodImpl(HotPath.Compile)]
    private void ResetReplyState()
    {
        _replyBatch = null;
        _replyIndex = 0;
        _scanBatch = null;
        _scanRest = default;
        _scanArgs.Clear();
    }

    /// <summary>Names the failed command from the retained batch, classifies the error, and skips it or stops the writer.</summary>
    private void OnError(Batch batch, int index, ReadOnlySequence<byte> message, bool queued)
    {
        string text = ErrorText(message);
        string code = ErrorCode(message);
        NameCommand(batch, index, out string command, out string? key);
        bool own = index < batch.PrefixFrames || command == "SELECT" || (batch.Transactional && index >= batch.TotalFrames - 2);
        SyncException error = Classify(code, text, command, key, own, queued);
        if (error.Kind == SyncErrorKind.Skip)
        {
            Statistics.Error(error);
            Warning?.Invoke(new SyncWarning(error.ErrorId, error.Kind, error.Key, error.Command, error.Message));
            return;
        }
        Stop(error);
    }

    private SyncException Classify(string code, string text, string command, string? key, bool own, bool queued)
    {
        string target = _endpoint.ToString();
        string toKey = key != null ? " to key " + key : string.Empty;
        // The copy's own commands (RESTORE, the guard scripts) mean nothing to a user: name the key instead.
        // The lease's guard, which opens each batch, is the sync's own bookkeeping: say so.
        string action = key != null && key.TrimStart('"').StartsWith(ReservedKeys.LeasePrefix, StringComparison.Ordinal)
            ? "the batch that renews the sync's lease (key " + key + ") and carries the next writes"
            : (command == "EVAL" || command == "EVALSHA" || command == "RESTORE") && key != null ? "the copy of key " + key : command + toKey;
        switch (code)
        {
            case "BUSYKEY":
                if (_options.BusyKeyPolicy == BusyKeyPolicy.Skip && !own)
                {
                    return Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Skip,
                        $"The key {key} already exists on the target {target}: it was not copied, and the target keeps its own value (-OnConflict Skip, on_conflict = \"Skip\" in a settings file).");
                }
                if (_options.BusyKeyPolicy == BusyKeyPolicy.Replace)
                {
                    return Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Stop,
                        $"The key {key} already exists on the target {target} ({text}) although -OnConflict is Replace, so {action} should have replaced it. This is a defect in RedisSync; please report it.");
                }
                return Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Stop,
                    $"The key {key} already exists on the target {target}, so the copy stops (-OnConflict Stop, the default). Start again with -OnConflict Replace to overwrite the target's keys, -OnConflict Skip to keep them, or -FlushTarget to empty the target first (on_conflict and flush_target in a settings file).");
            case "OOM":
                return Error(ErrorReplies.IdOf(code, EndpointRole.Target), SyncErrorKind.Stop,
                    $"The target {target} is out of memory ({text}) and refused {action}. {ErrorReplies.Advice(code, EndpointRole.Target)}");
            case "READONLY":
                return Error(ErrorReplies.IdOf(code, EndpointRole.Target), SyncErrorKind.Stop,
                    $"The target {target} is a read-only replica ({text}) and refused {action}. {ErrorReplies.Advice(code, EndpointRole.Target)}");
            case "NOAUTH":
                return Error(ErrorReplies.IdOf(code, EndpointRole.Target), SyncErrorKind.Stop,
                    $"The target {target} requires a login ({text}) and refused {action}. {ErrorReplies.Advice(code, EndpointRole.Target)}");
            case "NOPERM":
                return Error(ErrorReplies.IdOf(code, EndpointRole.Target), SyncErrorKind.Stop,
                    $"The target {target} does not let this user run {action} ({text}). Grant it (ACL SETUSER <user> +{command.ToLowerInvariant()} and the key pattern), or sync as another user.");
            case "LOADING":
            case "MISCONF":
            case "MASTERDOWN":
            case "NOREPLICAS":
            case "BUSY":
            case "CLUSTERDOWN":
            case "TRYAGAIN":
            case "MOVED":
            case "ASK":
            case "EXECABORT":
                return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                    $"The target {target} cannot take writes now ({text}); it refused {action}. Fix the target's state, then start the sync again.");
        }
        if (own)
        {
            return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                $"The target {target} refused {command}{toKey} ({text}), a command RedisSync needs for its own bookkeeping (its checkpoint, its lease, a transaction); the sync cannot go on.");
        }
        if (queued)
        {
            return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                $"The target {target} refused {action} ({text}) before running it, which discards its whole transaction. " +
                "The sync stops even with -SkipFailedCommands: the batches after it have already run, and skipping it would reorder writes. Fix its cause (a command the target does not know: a module, or an older version).");
        }
        if (_options.CommandErrorPolicy == CommandErrorPolicy.Skip)
        {
            return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Skip,
                $"The target {target} refused {action} ({text}); it was skipped (-SkipFailedCommands).");
        }
        return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
            $"The target {target} refused {action} ({text}). Fix the cause, or start again with -SkipFailedCommands (skip_failed_commands = true in a settings file) to go on without such commands.");

        SyncException Error(string id, SyncErrorKind kind, string message) => new SyncException(id, kind, message) { Key = key, Command = command };
    }

    /// <summary>
    /// Re-parses the batch up to the command that got reply <paramref name="index"/> (continuing from the
    /// last lookup in the same batch): its prefix's commands first, then its buffer's.
    /// </summary>
    private void NameCommand(Batch batch, int index, out string command, out string? key)
    {
        if (index < batch.PrefixFrames)
        {
            _scanBatch = null;
            _scanFrame = 0;
            _scanRest = new ReadOnlySequence<byte>(batch.Prefix, 0, batch.PrefixLength);
        }
        else
        {
            index -= batch.PrefixFrames;
            if (_scanBatch != batch || _scanFrame > index)
            {
                _scanBatch = batch;
                _scanFrame = 0;
                _scanRest = new ReadOnlySequence<byte>(batch.Buffer, 0, batch.Length);
            }
        }
        while (_scanFrame <= index)
        {
            if (!RespParser.TryReadCommand(ref _scanRest, _scanArgs, out _))
            {
                throw new InvalidOperationException($"A batch of {batch.Frames} commands holds fewer than {index + 1}.");
            }
            _scanFrame++;
        }
        ReadOnlySpan<byte> name = _scanArgs[0].First.Span;
        command = Encoding.UTF8.GetString(name.Slice(0, Math.Min(name.Length, 64)).ToArray()).ToUpperInvariant();
        key = KeyOf(command, _scanArgs);
    }

    /// <summary>The key a command (its name in upper case, and its arguments) writes, as an error names it; null for a command of no key.</summary>
    internal static string? KeyOf(string command, List<ReadOnlySequence<byte>> args)
    {
        if (command == "EVAL" || command == "EVALSHA" || command == "FCALL" || command == "FCALL_RO")
        {
            // A script's first key follows its key count. The transform guards a key's write with a
            // script whose first key is the key under construction and the second the user's key.
            if (args.Count <= 3 || args[2].Length == 0 || args[2].First.Span[0] == (byte)'0') return null;
            byte[] first = args[3].ToArray();
            bool building = first.AsSpan().StartsWith(TemporaryKeyPrefix) && args.Count > 4 && args[2].First.Span[0] != (byte)'1';
            return KeyText.Format(building ? args[4].ToArray() : first);
        }
        return args.Count > 1 && !NoKeyCommands.Contains(command) ? KeyText.Format(args[1].ToArray()) : null;
    }

    private static string ErrorText(ReadOnlySequence<byte> message)
    {
        ReadOnlySequence<byte> shown = message.Length > 400 ? message.Slice(0, 400) : message;
        return Encoding.UTF8.GetString(shown.ToArray()).Trim();
    }

    /// <summary>The first word of an error reply (BUSYKEY, OOM, …).</summary>
    private static string ErrorCode(ReadOnlySequence<byte> message)
    {
        ReadOnlySequence<byte> head = message.Length > 32 ? message.Slice(0, 32) : message;
        SequencePosition? space = head.PositionOf((byte)' ');
        if (space != null) head = head.Slice(0, space.Value);
        return Encoding.ASCII.GetString(head.ToArray());
    }
}
