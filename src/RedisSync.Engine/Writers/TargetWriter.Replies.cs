using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

// The replies: matched to commands in FIFO order, errors named from the retained batch and classified.
public sealed partial class TargetWriter
{
    /// <summary>Commands whose first argument is not a key (messages then name no key).</summary>
    private static readonly HashSet<string> NoKeyCommands = new HashSet<string>(StringComparer.Ordinal)
    {
        "SELECT", "MULTI", "EXEC", "DISCARD", "SWAPDB", "FLUSHDB", "FLUSHALL", "PING", "ECHO", "PUBLISH", "SPUBLISH",
        "SCRIPT", "FUNCTION", "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "CONFIG", "CLIENT",
    };

    // The receive loop's own state (reset by a recovery while the loop is stopped).
    private Batch? _replyBatch;
    private int _replyIndex;
    private Batch? _scanBatch;
    private int _scanFrame;
    private ReadOnlySequence<byte> _scanRest;
    private readonly List<ReadOnlySequence<byte>> _scanArgs = new List<ReadOnlySequence<byte>>();

    /// <summary>Consumes every whole reply in <paramref name="buffer"/>; no allocation unless a command failed.</summary>
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
            if (batch.Transactional) OnTransactionReply(batch, index, frame, rest);
            else if (frame.IsError || frame.ErrorCount > 0) OnError(batch, index, frame.FirstError, queued: false);
            if (_replyIndex == batch.Frames) Complete(batch);
        }
    }

    /// <summary>
    /// MULTI answers +OK, each command +QUEUED (or an error, which discards the transaction), EXEC an
    /// array with one reply per queued command (or EXECABORT).
    /// </summary>
    private void OnTransactionReply(Batch batch, int index, RespFrame frame, ReadOnlySequence<byte> rest)
    {
        int exec = batch.Frames - 1;
        if (index < exec)
        {
            if (!frame.IsError) return;
            if (index > 0) batch.QueueErrors++;
            OnError(batch, index, frame.FirstError, queued: index > 0);
            return;
        }
        if (frame.IsError)
        {
            // EXECABORT only repeats the errors already reported for the queued commands.
            if (batch.QueueErrors == 0 || ErrorCode(frame.FirstError) != "EXECABORT") OnError(batch, index, frame.FirstError, queued: false);
            return;
        }
        int queued = exec - 1;
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
            if (element.IsError || element.ErrorCount > 0) OnError(batch, e + 1, element.FirstError, queued: false);
        }
    }

    /// <summary>All replies of the head batch arrived: release it and its window share.</summary>
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
    private void AcknowledgeLocked(Batch batch)
    {
        _inFlightFrames -= batch.Frames;
        _inFlightBytes -= batch.Length;
        Statistics.InFlight(_inFlightFrames, _inFlightBytes);
        Statistics.Acknowledged(batch.Commands, batch.Keys);
        // The transaction ran, errors inside it or not: the target's checkpoint key holds this value now.
        if (batch.Applied) SetAcknowledged(batch.CheckpointValue);
        Recycle(batch);
        Monitor.PulseAll(_gate);
        if (_unsent.Count == 0 && _unacked.Count == 0)
        {
            _drained?.TrySetResult(true);
            _drained = null;
        }
    }

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
        bool own = command == "SELECT" || (batch.Transactional && (index == 0 || index >= batch.Frames - 2));
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
        switch (code)
        {
            case "BUSYKEY":
                if (_options.BusyKeyPolicy == BusyKeyPolicy.Skip && !own)
                {
                    return Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Skip,
                        $"The key {key} already exists on the target {target} ({text}); {command} was skipped and the target keeps its own value (BusyKeyPolicy Skip).");
                }
                if (_options.BusyKeyPolicy == BusyKeyPolicy.Replace)
                {
                    return Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Stop,
                        $"The key {key} already exists on the target {target} ({text}) although BusyKeyPolicy is Replace, so {command} should have replaced it. This is a defect in RedisSync; please report it.");
                }
                return Error(SyncErrorIds.TargetBusyKey, SyncErrorKind.Stop,
                    $"The key {key} already exists on the target {target} ({text}) while writing {command}. Set BusyKeyPolicy to Replace to overwrite existing keys or to Skip to keep them, or empty the target first.");
            case "OOM":
                return Error(SyncErrorIds.TargetOutOfMemory, SyncErrorKind.Stop,
                    $"The target {target} is out of memory ({text}) while writing {command}{toKey}. Raise maxmemory on the target, free memory there, or choose a maxmemory-policy that evicts keys; then start the sync again.");
            case "READONLY":
                return Error(SyncErrorIds.TargetReadOnly, SyncErrorKind.Stop,
                    $"The target {target} is a read-only replica ({text}) and refused {command}{toKey}. Point the sync at the target's primary, or make the target a primary (REPLICAOF NO ONE).");
            case "NOAUTH":
                return Error(SyncErrorIds.TargetNoAuth, SyncErrorKind.Stop,
                    $"The target {target} requires a login ({text}) and refused {command}{toKey}. Give the target's password (and user, with ACLs) in the address or as a credential.");
            case "NOPERM":
                return Error(SyncErrorIds.TargetNoPermission, SyncErrorKind.Stop,
                    $"The target {target} does not let this user run {command}{toKey} ({text}). Grant it (ACL SETUSER <user> +{command.ToLowerInvariant()} and the key pattern), or sync as another user.");
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
                    $"The target {target} cannot take writes now ({text}); it refused {command}{toKey}. Fix the target's state, then start the sync again.");
        }
        if (own)
        {
            return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                $"The target {target} refused {command}{toKey} ({text}), a command the writer needs for itself; the sync cannot go on.");
        }
        if (queued)
        {
            return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                $"The target {target} refused {command}{toKey} ({text}) before running it, which discards its whole transaction. " +
                "The writer stops even under CommandErrorPolicy Skip: the batches after it have already run, and skipping it would reorder writes. Filter the command out, or fix its cause.");
        }
        if (_options.CommandErrorPolicy == CommandErrorPolicy.Skip)
        {
            return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Skip,
                $"The target {target} refused {command}{toKey} ({text}); the command was skipped (CommandErrorPolicy Skip).");
        }
        return Error(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
            $"The target {target} refused {command}{toKey} ({text}). Fix the cause, or set CommandErrorPolicy to Skip to go on without such commands.");

        SyncException Error(string id, SyncErrorKind kind, string message) => new SyncException(id, kind, message) { Key = key, Command = command };
    }

    /// <summary>Re-parses the batch up to command <paramref name="index"/> (continuing from the last lookup in the same batch).</summary>
    private void NameCommand(Batch batch, int index, out string command, out string? key)
    {
        if (_scanBatch != batch || _scanFrame > index)
        {
            _scanBatch = batch;
            _scanFrame = 0;
            _scanRest = new ReadOnlySequence<byte>(batch.Buffer, 0, batch.Length);
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
        if (command == "EVAL" || command == "EVALSHA" || command == "FCALL" || command == "FCALL_RO")
        {
            // A script's first key follows its key count (the transform guards writes with EVAL).
            key = _scanArgs.Count > 3 && _scanArgs[2].First.Span.Length > 0 && _scanArgs[2].First.Span[0] != (byte)'0'
                ? KeyText.Format(_scanArgs[3].First.Span) : null;
            return;
        }
        key = _scanArgs.Count > 1 && !NoKeyCommands.Contains(command) ? KeyText.Format(_scanArgs[1].First.Span) : null;
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
