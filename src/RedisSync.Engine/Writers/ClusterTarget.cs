using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

/// <summary>
/// A Redis Cluster as the target: routes every command to the master that serves the slot of its keys
/// (splitting DEL, UNLINK, TOUCH, EXISTS and MSET by slot, rewriting RENAME, COPY, SMOVE, LMOVE, the *STORE commands (SORT and
/// GEORADIUS with STORE too) and MSETNX across slots with the same end result (ClusterTarget.CrossSlot.cs), refusing other commands whose keys span slots),
/// and writes each slot's share of a batch as its own atomic unit.
/// </summary>
/// <remarks>
/// Exactly once on a cluster. MULTI/EXEC cannot span slots, so a batch (the commands between two commit
/// points that the producer chose, as for <see cref="TargetWriter"/>) becomes one unit per slot it touches:
/// <c>MULTI</c>, that slot's commands, <c>SET redissync:checkpoint:&lt;name&gt;:{tag} &lt;position&gt;</c>, <c>EXEC</c>,
/// where <c>{tag}</c> is a hash tag of that slot (<see cref="ClusterSlots.Tag"/>). The slot's checkpoint key
/// lives in the slot it describes, so it is replicated with the data (MULTI/EXEC reaches a replica whole),
/// and it moves with the slot when the slot is resharded. Per-slot MULTI/EXEC was chosen over one script
/// per node with <c>allow-cross-slot-keys</c>: a script that fails halfway (a key whose slot just moved) keeps
/// its first writes, a transaction keeps none, so a redirected unit can simply be sent again.
/// The sync's checkpoint <c>redissync:checkpoint:&lt;name&gt;</c> is the low-water mark: the position up to which
/// every slot has applied everything, written once all units of the batches before it were acknowledged.
/// A run resumes there and drops, per slot, what that slot's checkpoint says it applied already.
/// A unit's redirects (MOVED: the map is read again; ASK: ASKING then the unit; TRYAGAIN, CLUSTERDOWN, a
/// slot half migrated: a pause) and a lost link (the slot's checkpoint key says whether the unit ran) are
/// resolved before any later unit of the same slot is sent, so a slot's writes keep their order.
/// After each flight to a master that has replicas the link waits (WAIT 1) until a replica has it, so a
/// master killed after acknowledging loses nothing its promoted replica must have.
/// </remarks>
internal sealed partial class ClusterTarget : ITarget
{
    private readonly RedisEndpoint _login;
    private readonly TargetWriterOptions _options;
    private readonly bool _transactional;
    private readonly string _token;

    // The producer's own state.
    private readonly PooledBuffer _args = new PooledBuffer(1024);
    private readonly List<(int Start, int Length)> _argSpans = new List<(int, int)>();
    private readonly List<ReadOnlySequence<byte>> _parsed = new List<ReadOnlySequence<byte>>();
    private bool _inCommand;
    private readonly Dictionary<int, SlotUnit> _open = new Dictionary<int, SlotUnit>();
    private readonly HashSet<int> _touched = new HashSet<int>();
    private readonly List<SlotUnit> _broadcastsPending = new List<SlotUnit>();
    private int _openCommands;
    private int _commandsSinceCommit;
    private long _openBytes;
    private int _lastSlot = -1;
    private CommitPosition? _commitPosition;
    private long[]? _resume; // per slot: the stream offset its checkpoint says it applied, or -1
    private LeaseGuard? _lease;
    private long _sealed;

    private ClusterTarget(RedisEndpoint login, TargetWriterOptions options, ServerInfo server)
    {
        _login = login;
        _options = options;
        _server = server;
        _transactional = options.CheckpointKey != null;
        byte[] token = new byte[6];
        using (var random = System.Security.Cryptography.RandomNumberGenerator.Create()) random.GetBytes(token);
        _token = BitConverter.ToString(token).Replace("-", string.Empty).ToLowerInvariant();
    }

    /// <summary>Whether the server behind <paramref name="connection"/> is a node of a cluster (INFO cluster: cluster_enabled:1).</summary>
    public static async Task<bool> IsClusterAsync(RedisConnection connection, CancellationToken ct)
    {
        RespValue reply = await connection.ExecuteAsync(ct, "INFO", "cluster").ConfigureAwait(false);
        return !reply.IsError && (reply.AsString() ?? string.Empty).Contains("cluster_enabled:1");
    }

    /// <summary>Reads the slot map from <paramref name="seed"/> (any node), connects to every master, and reads the sync's checkpoints.</summary>
    public static async Task<ClusterTarget> ConnectAsync(RedisEndpoint seed, TargetWriterOptions options, CancellationToken ct)
    {
        options = options.Clone();
        options.Validate();
        ServerInfo server;
        using (RedisConnection first = await RedisConnection.ConnectAsync(seed, EndpointRole.Target, ct).ConfigureAwait(false))
        {
            server = await first.GetServerInfoAsync(ct).ConfigureAwait(false);
        }
        var target = new ClusterTarget(seed, options, server);
        try
        {
            await target.RefreshAsync(ct).ConfigureAwait(false);
            if (target._transactional) await target.ReadCheckpointsAsync(ct).ConfigureAwait(false);
            target._run = Task.Run(() => target.DispatchAsync());
        }
        catch
        {
            target.Dispose();
            throw;
        }
        return target;
    }

    /// <inheritdoc/>
    public ServerInfo Server => _server;

    /// <summary>A cluster has database 0 only.</summary>
    public int DatabaseCount => 1;

    /// <inheritdoc/>
    public byte[]? InitialCheckpoint { get; private set; }

    /// <inheritdoc/>
    public CommitPosition? AcknowledgedPosition
    {
        get
        {
            lock (_gate) return _acknowledgedPosition;
        }
    }

    /// <inheritdoc/>
    public WriterStatistics Statistics { get; } = new WriterStatistics();

    /// <inheritdoc/>
    public SyncException? Fault => _fault;

    /// <inheritdoc/>
    public bool BatchDue => _openCommands >= _options.MaxBatchCommands || _openBytes >= _options.MaxBatchBytes;

    /// <inheritdoc/>
    public event Action<SyncWarning>? Warning;

    /// <summary>Every master of the cluster as the router sees it now, with its slots and counters.</summary>
    public IReadOnlyList<ClusterNodeStatus> Nodes
    {
        get
        {
            lock (_gate)
            {
                var rows = new List<ClusterNodeStatus>();
                foreach (NodeLink link in _links.Values)
                {
                    int slots = 0;
                    foreach (NodeLink? owner in _owners) if (owner == link) slots++;
                    if (slots == 0 && link.Acknowledged == 0) continue;
                    rows.Add(new ClusterNodeStatus(link.Endpoint.ToString(), slots, link.InFlight, link.Acknowledged, link.Redirects, link.AcknowledgedOffset));
                }
                rows.Sort((a, b) => string.CompareOrdinal(a.Address, b.Address));
                return rows;
            }
        }
    }

    /// <summary>
    /// The lease is renewed from the sync's control connection on a cluster (its guard script would span slots); it is written again
    /// after a flush. With an epoch (<see cref="LeaseGuard.Epoch"/>) and after <see cref="FenceAsync"/>, every unit is fenced by it (<see cref="SlotFence"/>).
    /// </summary>
    public void UseLease(LeaseGuard lease) => _lease = lease ?? throw new ArgumentNullException(nameof(lease));

    /// <summary>Whether the batches carry checkpoints (not so for an RDB file's copy), which the lease's fence lives in.</summary>
    public bool Checkpointed => _transactional;

    private bool Fenced => _transactional && _lease != null && _lease.Epoch > 0;

    /// <inheritdoc/>
    public LeaseGuard? Lease => _lease;

    /// <inheritdoc/>
    public void Abort(SyncException error) => Stop(error);

    /// <summary>Database 0 only: a cluster has no other (TargetDatabaseMissing otherwise, before anything of it is written).</summary>
    public void SelectDb(int db)
    {
        if (db == 0) return;
        throw new SyncException(SyncErrorIds.TargetDatabaseMissing, SyncErrorKind.Stop,
            $"The target {_login} is a Redis Cluster, which has only database 0, but the copy writes to database {db}. " +
            $"Map the source's databases to 0, for example -DatabaseMap @{{ {db} = 0 }} (database_map in a settings file). Nothing of database {db} was written.");
    }

    /// <inheritdoc/>
    public void BeginCommand()
    {
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(BeginCommand) + " inside a command");
        if (!_transactional && BatchDue) Seal();
        _args.Clear();
        _argSpans.Clear();
        _inCommand = true;
    }

    /// <inheritdoc/>
    public void Arg(ReadOnlySpan<byte> value)
    {
        if (!_inCommand) throw Misuse(nameof(Arg) + " outside a command");
        _argSpans.Add((_args.Length, value.Length));
        _args.Write(value);
    }

    /// <inheritdoc/>
    public void Arg(long value)
    {
        Span<byte> digits = stackalloc byte[24];
        Utf8Formatter.TryFormat(value, digits, out int written);
        Arg(digits.Slice(0, written));
    }

    /// <inheritdoc/>
    public long PendingCommandBytes => _inCommand ? _args.Length : 0;

    /// <inheritdoc/>
    public void EndCommand()
    {
        if (!_inCommand) throw Misuse(nameof(EndCommand) + " outside a command");
        if (_argSpans.Count == 0) throw Misuse(nameof(EndCommand) + " without any argument");
        _inCommand = false;
        _commandsSinceCommit++;
        Route();
    }

    /// <inheritdoc/>
    public void WriteCommands(ReadOnlySpan<byte> resp, int commandCount)
    {
        var rest = new ReadOnlySequence<byte>(resp.ToArray());
        for (int i = 0; i < commandCount; i++)
        {
            if (!RespParser.TryReadCommand(ref rest, _parsed, out _)) throw Misuse("WriteCommands with fewer commands than it says");
            BeginCommand();
            foreach (ReadOnlySequence<byte> arg in _parsed)
            {
                _argSpans.Add((_args.Length, (int)arg.Length));
                foreach (ReadOnlyMemory<byte> segment in arg) _args.Write(segment.Span);
            }
            EndCommand();
        }
    }

    /// <inheritdoc/>
    public void KeyDone()
    {
        if (_inCommand) throw Misuse(nameof(KeyDone) + " inside a command");
        if (_lastSlot >= 0 && _open.TryGetValue(_lastSlot, out SlotUnit? unit)) unit.Keys++;
    }

    /// <inheritdoc/>
    public void CommitPoint(CommitPosition position)
    {
        if (!_transactional) return;
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(CommitPoint) + " inside a command");
        if (position.InSnapshot) _resume = null; // a new full copy: what earlier runs applied no longer matters
        // Outside a transaction the stream commits after each of its commands: more than one command here is a source
        // transaction (MULTI/EXEC, or a script's effects), which a cluster can only apply slot by slot.
        if (!position.InSnapshot && _commandsSinceCommit > 1 && _touched.Count > 1) WarnSplit(position, _commandsSinceCommit, _touched.Count);
        _commandsSinceCommit = 0;
        MarkTouched(position);
        _commitPosition = position;
        if (_deferred.Count > 0)
        {
            // The parts of a cross-slot rewrite that wait for its copy: after it is acknowledged, at the same position.
            ApplyDeferred();
            MarkTouched(position);
        }
        if (BatchDue) Seal();
    }

    private void MarkTouched(CommitPosition position)
    {
        foreach (int slot in _touched)
        {
            SlotUnit unit = _open[slot];
            // What this slot's checkpoint says it applied in an earlier run is not applied again.
            if (_resume != null && _resume[slot] >= position.Value) Truncate(unit);
            else unit.MarkCommit();
        }
        _touched.Clear();
    }

    private void WarnSplit(CommitPosition position, int commands, int slots) =>
        Warning?.Invoke(new SyncWarning(SyncErrorIds.TargetTransactionSplit, SyncErrorKind.Skip, null, "EXEC",
            string.Format(CultureInfo.InvariantCulture,
                "A transaction of the source (MULTI/EXEC, or a script's effects) ending at offset {0} wrote {1} commands to keys in {2} slots of the target cluster {3}: " +
                "a cluster runs a transaction in one slot only, so each slot's share was applied as a transaction of its own, exactly once, but not at the same instant " +
                "(a reader of the target can see one slot's part before another's). Give the transaction's keys a common hash tag ({{…}}) on the source to keep it whole.",
                position.Value, commands, slots, _login)));

    /// <inheritdoc/>
    public void DiscardUncommitted()
    {
        _inCommand = false;
        _commandsSinceCommit = 0;
        _deferred.Clear();
        foreach (int slot in _touched) Truncate(_open[slot]);
        _touched.Clear();
    }

    /// <summary>Empties every master (FLUSHALL on each, after what was sent before), then writes the lease again.</summary>
    public void FlushAll()
    {
        Seal();
        _broadcastsPending.Add(SlotUnit.Broadcast("*1\r\n$8\r\nFLUSHALL\r\n"u8.ToArray(), 1));
        if (_lease == null) return;
        BeginCommand();
        Arg("SET"u8);
        Arg(_lease.Key);
        Arg(_lease.Value);
        Arg("PX"u8);
        Arg(_lease.TimeToLiveMs);
        EndCommand();
        if (_transactional && _commitPosition is CommitPosition position) CommitPoint(position);
    }

    /// <inheritdoc/>
    public void Flush()
    {
        SyncException? fault = _fault;
        if (fault != null) throw fault;
        if (_inCommand) throw Misuse(nameof(Flush) + " inside a command");
        Seal();
    }

    /// <summary>The command built in <see cref="_args"/> to the unit(s) of its slot(s).</summary>
    private void Route()
    {
        string name = Encoding.ASCII.GetString(ArgSpan(0).ToArray()).ToUpperInvariant();
        int count = _argSpans.Count;
        switch (ClusterSlots.ShapeOf(name))
        {
            case ClusterSlots.KeyShape.None:
                if (name == "FLUSHALL" || name == "FLUSHDB" || name == "SCRIPT" || name == "FUNCTION")
                {
                    Seal();
                    _broadcastsPending.Add(SlotUnit.Broadcast(FormatArgs(0, count, 1), 1));
                }
                return;
            case ClusterSlots.KeyShape.AllSplit:
                Split(name, 1, 1);
                return;
            case ClusterSlots.KeyShape.PairsSplit:
                Split(name, 1, 2);
                return;
            case ClusterSlots.KeyShape.First:
                Add(count > 1 ? ClusterSlots.Of(ArgSpan(1)) : -1, name, FormatArgs(0, count, 1));
                return;
        }
        int slot = SameSlot(name, KeyIndexes(name, count), out SyncException? crossSlot);
        if (crossSlot != null)
        {
            if (IsRewritable(name) && RewriteCrossSlot(name, count)) return;
            throw crossSlot;
        }
        Add(slot, name, FormatArgs(0, count, 1));
    }

    /// <summary>A DEL/UNLINK/TOUCH/EXISTS (keys one by one) or MSET (key, value pairs) as one command per slot, the keys in their order.</summary>
    private void Split(string name, int first, int stride)
    {
        var groups = new Dictionary<int, List<int>>();
        var order = new List<int>();
        for (int i = first; i + stride - 1 < _argSpans.Count; i += stride)
        {
            int slot = ClusterSlots.Of(ArgSpan(i));
            if (!groups.TryGetValue(slot, out List<int>? list))
            {
                groups[slot] = list = new List<int>();
                order.Add(slot);
            }
            list.Add(i);
        }
        foreach (int slot in order)
        {
            var bytes = new PooledBuffer(256);
            List<int> list = groups[slot];
            RespFormatter.WriteArrayHeader(bytes, 1 + list.Count * stride);
            RespFormatter.WriteBulk(bytes, ArgSpan(0));
            foreach (int i in list)
            {
                for (int j = 0; j < stride; j++) RespFormatter.WriteBulk(bytes, ArgSpan(i + j));
            }
            Add(slot, name, bytes.WrittenSpan.ToArray());
            bytes.Dispose();
        }
    }

    private IEnumerable<int> KeyIndexes(string name, int count)
    {
        switch (ClusterSlots.ShapeOf(name))
        {
            case ClusterSlots.KeyShape.Pairs:
                for (int i = 1; i < count; i += 2) yield return i;
                break;
            case ClusterSlots.KeyShape.All:
                for (int i = 1; i < count; i++) yield return i;
                break;
            case ClusterSlots.KeyShape.FirstTwo:
                if (count > 1) yield return 1;
                if (count > 2) yield return 2;
                break;
            case ClusterSlots.KeyShape.FromSecond:
                for (int i = 2; i < count; i++) yield return i;
                break;
            case ClusterSlots.KeyShape.CountAt2:
            case ClusterSlots.KeyShape.DestAndCountAt2:
            {
                if (ClusterSlots.ShapeOf(name) == ClusterSlots.KeyShape.DestAndCountAt2 && count > 1) yield return 1;
                int keys = count > 2 ? Number(2) : 0;
                for (int i = 3; i < Math.Min(count, 3 + keys); i++) yield return i;
                break;
            }
            case ClusterSlots.KeyShape.CountAt1:
            {
                int keys = count > 1 ? Number(1) : 0;
                for (int i = 2; i < Math.Min(count, 2 + keys); i++) yield return i;
                break;
            }
            case ClusterSlots.KeyShape.FirstAndStore:
                if (count > 1) yield return 1;
                for (int i = 2; i + 1 < count; i++)
                {
                    string word = Encoding.ASCII.GetString(ArgSpan(i).ToArray()).ToUpperInvariant();
                    if (word == "STORE" || word == "STOREDIST") yield return i + 1;
                }
                break;
        }
    }

    private int Number(int index) =>
        Utf8Parser.TryParse(ArgSpan(index), out int value, out int used) && used == ArgSpan(index).Length && value >= 0 ? value : 0;

    /// <summary>The one slot of the given keys (-1 when none), or TargetCrossSlot (in <paramref name="crossSlot"/>) when they span slots.</summary>
    private int SameSlot(string name, IEnumerable<int> keys, out SyncException? crossSlot)
    {
        crossSlot = null;
        int slot = -1;
        string? firstKey = null;
        foreach (int i in keys)
        {
            int s = ClusterSlots.Of(ArgSpan(i));
            if (slot < 0)
            {
                slot = s;
                firstKey = KeyText.Format(ArgSpan(i));
                continue;
            }
            if (s == slot) continue;
            string why = IsRewritable(name)
                ? $"RedisSync rewrites {name} across slots, but not here: the keys it reads were written earlier in the same source transaction, whose writes are not applied yet" +
                  (name == "SORT" ? ", or it reads other keys (a BY pattern, or GET)" : string.Empty)
                : $"a cluster cannot run {name} across slots, and RedisSync does not rewrite it";
            crossSlot = new SyncException(SyncErrorIds.TargetCrossSlot, SyncErrorKind.Stop,
                $"The source ran {name} on the keys {firstKey} and {KeyText.Format(ArgSpan(i))}, which are in different slots of the target cluster {_login} (slots {slot} and {s}): " +
                $"{why}. Give the keys a common hash tag ({{…}}) on the source, or sync to a standalone target.")
            { Command = name, Key = firstKey };
            return -1;
        }
        return slot;
    }

    /// <summary>Appends a formatted command to the open unit of <paramref name="slot"/>.</summary>
    private void Add(int slot, string name, byte[] command)
    {
        if (slot < 0) return; // a command without a key that a cluster has no master for (PING …)
        if (_deferred.Count > 0 && !ReferenceEquals(name, DeferredPart)) ApplyDeferred(slot);
        if (!_open.TryGetValue(slot, out SlotUnit? unit)) _open[slot] = unit = new SlotUnit(slot);
        unit.Body.Write(command);
        unit.Commands++;
        _openCommands++;
        _openBytes += command.Length;
        _lastSlot = slot;
        if (_transactional) _touched.Add(slot);
        else unit.MarkCommit();
        _ = name;
    }

    private void Truncate(SlotUnit unit)
    {
        _openCommands -= unit.Commands - unit.CommitCommands;
        _openBytes -= unit.Body.Length - unit.CommitLength;
        unit.TruncateToCommit();
    }

    private ReadOnlySpan<byte> ArgSpan(int index)
    {
        (int start, int length) = _argSpans[index];
        return _args.WrittenSpan.Slice(start, length);
    }

    private byte[] FormatArgs(int from, int to, int _)
    {
        var bytes = new PooledBuffer(_args.Length + 16 * (to - from) + 16);
        RespFormatter.WriteArrayHeader(bytes, to - from);
        for (int i = from; i < to; i++) RespFormatter.WriteBulk(bytes, ArgSpan(i));
        byte[] result = bytes.WrittenSpan.ToArray();
        bytes.Dispose();
        return result;
    }

    /// <summary>Hands the batch's committed units (and flushes queued before them) to the dispatcher, waiting for room in the window.</summary>
    private void Seal()
    {
        if (_inCommand) throw Misuse("a batch sealed inside a command");
        var units = new List<SlotUnit>();
        foreach (SlotUnit unit in _open.Values)
        {
            if (unit.CommitCommands == 0) continue;
            units.Add(unit);
        }
        if (units.Count == 0 && _broadcastsPending.Count == 0 && (!_transactional || _commitPosition == null || _commitPosition == _lastSealedPosition)) return;
        long seq = ++_sealed;
        byte[]? value = _transactional && _commitPosition is CommitPosition p ? _options.CheckpointFormatter!(p) : null;
        byte[]? slotValue = _transactional && _commitPosition is CommitPosition q
            ? Encoding.ASCII.GetBytes(string.Format(CultureInfo.InvariantCulture, Fenced ? "{0} {1} {2}:{3} {4}" : "{0} {1} {2}:{3}", q.InSnapshot ? 's' : 'o', q.Value, _token, seq, _lease?.Epoch ?? 0))
            : null;
        var sealedUnits = new List<SlotUnit>();
        foreach (SlotUnit unit in units)
        {
            SlotUnit tail = unit.SplitTail();
            _open.Remove(unit.Slot);
            if (tail.Commands > 0) _open[unit.Slot] = tail;
            unit.Seq = seq;
            unit.Value = slotValue;
            sealedUnits.Add(unit);
            _openCommands -= unit.Commands;
            _openBytes -= unit.Body.Length;
        }
        _lastSealedPosition = _commitPosition;
        Enqueue(seq, _commitPosition, value, _broadcastsPending, sealedUnits);
        _broadcastsPending.Clear();
    }

    private CommitPosition? _lastSealedPosition;

    private static InvalidOperationException Misuse(string what) => new InvalidOperationException($"ClusterTarget: {what}.");
}

/// <summary>One master of a cluster target as the status shows it.</summary>
/// <param name="Address">host:port.</param>
/// <param name="Slots">Slots it serves now.</param>
/// <param name="InFlight">Commands sent to it and not yet answered.</param>
/// <param name="Acknowledged">Commands it acknowledged.</param>
/// <param name="Redirects">MOVED and ASK replies it sent that were followed.</param>
/// <param name="AcknowledgedOffset">The newest stream offset of a unit it acknowledged, or null (none yet, or a snapshot's only).</param>
internal sealed record ClusterNodeStatus(string Address, int Slots, long InFlight, long Acknowledged, long Redirects, long? AcknowledgedOffset);
