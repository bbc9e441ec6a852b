using System;
using System.Buffers;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using System.Threading;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Transform;

/// <summary>
/// Turns what the RDB parser reads into commands for one target. Small keys are staged whole and
/// sent as RESTORE of their payload (when the target loads the source's RDB version) or as native
/// commands; big keys stream in bounded commands under a temporary name that is renamed into
/// place when the key is complete, so the target never holds half a key.
/// </summary>
internal sealed class RdbToCommands : RdbVisitor, IDisposable
{
    /// <summary>KEYS[1] is the finished temporary key, KEYS[2] the real one: rename unless it exists.</summary>
    internal const string RenameGuardScript =
        "if redis.call('exists', KEYS[2]) == 1 then redis.call('del', KEYS[1]) " +
        "return redis.error_reply('BUSYKEY Target key name already exists.') end " +
        "return redis.call('rename', KEYS[1], KEYS[2])";

    private static readonly byte[] RenameGuardScriptBytes = System.Text.Encoding.ASCII.GetBytes(RenameGuardScript);
    private static readonly byte[] TempPrefix = System.Text.Encoding.ASCII.GetBytes(ReservedKeys.TemporaryPrefix);
    private static readonly byte[] PlaceholderField = System.Text.Encoding.ASCII.GetBytes("redissync-deleted");

    private readonly ICommandSink _sink;
    private readonly TransformOptions _options;
    private readonly KeyStage _stage = new KeyStage();
    private readonly PooledBuffer _key = new PooledBuffer(256);
    private readonly PooledBuffer _writeKey = new PooledBuffer(256);
    private readonly PooledBuffer _value = new PooledBuffer();
    private readonly PooledBuffer _scratch = new PooledBuffer();
    private readonly List<(long ExpireAt, byte[] Field)> _fieldTtls = new List<(long, byte[])>();
    private readonly List<StreamId> _placeholders = new List<StreamId>();

    private int _rdbVersion;
    private bool _restoreAllowed;
    private int _sourceDb;
    private int _targetDb;

    // The key being read.
    private KeyMode _mode;
    private RedisType _type;
    private RdbType _rdbType;
    private long _expireAt;
    private long _idleSeconds;
    private int _frequency;
    private long _elements;
    private ICommandSink _out;
    private bool _commandOpen;
    private int _commandElements;
    private bool _stringStarted;
    private int _fieldsLeft;
    private bool _streamHasEntries;
    private readonly PooledBuffer _groupName = new PooledBuffer(64);
    private readonly PooledBuffer _consumerName = new PooledBuffer(64);
    private bool _fieldTtlWarned;

    private long _keysRestored;
    private long _keysRebuilt;
    private long _keysExpired;
    private long _keysFiltered;
    private long _keysUnsupported;
    private long _keysEmpty;
    private long _fieldTtlsDropped;
    private long _functions;

    public RdbToCommands(ICommandSink sink, TransformOptions options)
    {
        _sink = sink;
        _options = options;
        _out = sink;
    }

    /// <summary>Raised for what is skipped or changed (a field TTL the target cannot hold, a module value, …).</summary>
    public event Action<SyncWarning>? Warning;

    /// <summary>A key's commands were all handed to the sink (a point where a batch may end).</summary>
    public event Action? KeyWritten;

    /// <summary>
    /// A big key's commands so far stand on their own (they build it under its temporary name, renamed
    /// into place at its end): a point where a batch may end inside the key, so a checkpointed writer's
    /// batch stays bounded while a key of millions of elements streams through it.
    /// </summary>
    public event Action? KeyPartWritten;

    /// <summary>The source file's RDB version (after <see cref="OnStart"/>).</summary>
    public int RdbVersion => _rdbVersion;

    /// <summary>Whether small keys go as RESTORE payloads (the target loads this RDB version).</summary>
    public bool RestoreAllowed => _restoreAllowed;

    public long KeysRestored => Interlocked.Read(ref _keysRestored);

    public long KeysRebuilt => Interlocked.Read(ref _keysRebuilt);

    public long KeysExpired => Interlocked.Read(ref _keysExpired);

    public long KeysFiltered => Interlocked.Read(ref _keysFiltered);

    public long KeysUnsupported => Interlocked.Read(ref _keysUnsupported);

    /// <summary>Empty collections left out, as Redis leaves them out when it loads a file.</summary>
    public long KeysEmpty => Interlocked.Read(ref _keysEmpty);

    public long FieldTtlsDropped => Interlocked.Read(ref _fieldTtlsDropped);

    public long Functions => Interlocked.Read(ref _functions);

    private enum KeyMode
    {
        Skip,
        Restore,
        Staged,
        Streamed,
    }

    public override void OnStart(int rdbVersion)
    {
        _rdbVersion = rdbVersion;
        _restoreAllowed = _options.UseRestore && rdbVersion <= _options.Target.RdbVersion;
        if (_options.ParserOptions != null) _options.ParserOptions.CaptureRawValues = _restoreAllowed;
    }

    public override void OnSelectDb(int db)
    {
        _sourceDb = db;
        _targetDb = _options.DatabaseMap?.Map(db) ?? db;
    }

    public override void OnFunction(ReadOnlySpan<byte> code)
    {
        if (!_options.Target.SupportsFunctions)
        {
            Warn("FunctionDropped", $"The target ({_options.Target}) has no functions: a function library was not copied.");
            return;
        }
        _sink.BeginCommand();
        _sink.Arg("FUNCTION"u8);
        _sink.Arg("LOAD"u8);
        _sink.Arg("REPLACE"u8);
        _sink.Arg(code);
        _sink.EndCommand();
        Interlocked.Increment(ref _functions);
    }

    /// <summary>Module-wide state (aux_save): no command writes it, so it is named and left to the target's module.</summary>
    public override void OnModuleAux(ulong moduleId, string moduleName, ReadOnlySpan<byte> raw) =>
        Warn("ModuleAuxNotCopied", $"The source holds AUX data of module type '{moduleName}' (module-wide state, such as settings or index definitions): " +
            "no command copies it, so the target's module keeps its own.");

    [MethodImpl(HotPath.Compile)]
    public override bool OnKey(in RdbKey key)
    {
        _mode = KeyMode.Skip;
        _key.Clear();
        _key.Write(key.Name);
        if (ReservedKeys.IsReserved(key.Name)) return false;
        if (_options.Filter != null && !_options.Filter.Keeps(key.Db, key.Name, key.Type.ToRedisType()))
        {
            Interlocked.Increment(ref _keysFiltered);
            return false;
        }
        if (key.ExpireAtMs >= 0 && key.ExpireAtMs <= _options.Now())
        {
            Interlocked.Increment(ref _keysExpired);
            return false;
        }
        if (_options.Rename?.Rename(key.Name) is { } renamed)
        {
            _key.Clear();
            _key.Write(renamed);
        }

        _type = key.Type.ToRedisType();
        _rdbType = key.Type;
        _expireAt = key.ExpireAtMs;
        _idleSeconds = key.IdleSeconds;
        _frequency = key.Frequency;
        _elements = 0;
        _commandOpen = false;
        _stringStarted = false;
        _fieldsLeft = 0;
        _streamHasEntries = false;
        _fieldTtls.Clear();
        _placeholders.Clear();
        _fieldTtlWarned = false;
        _value.Clear();
        _sink.SelectDb(_targetDb);

        if (_type == RedisType.Module)
        {
            return RestoreModule(key);
        }

        if (_restoreAllowed && key.HasRawValue && _type != RedisType.String)
        {
            // The payload goes out at the key's end, once the parser has read the value whole: a value
            // that is corrupt (or empty) inside fails (or is skipped) before the target sees it.
            StagePayload(key, _rdbVersion);
            return true;
        }

        bool small = key.HasRawValue || (_type == RedisType.String && key.ValueLength <= _options.MaxCommandBytes);
        bool guarded = !_options.TargetIsEmpty && _options.OnConflict != ConflictPolicy.Replace;
        _writeKey.Clear();
        if (small)
        {
            _mode = KeyMode.Staged;
            _writeKey.Write(_key.WrittenSpan);
            _stage.Reset(guarded);
            _out = _stage;
            if (!_options.TargetIsEmpty && _options.OnConflict == ConflictPolicy.Replace && _type != RedisType.String)
            {
                Command("DEL"u8);
            }
        }
        else
        {
            _mode = KeyMode.Streamed;
            _writeKey.Write(TempPrefix);
            if (_options.Target.IsCluster)
            {
                // The key under construction must be in its key's slot, or a cluster refuses the RENAME into place.
                _writeKey.Write(System.Text.Encoding.ASCII.GetBytes("{" + Writers.ClusterSlots.Tag(Writers.ClusterSlots.Of(_key.WrittenSpan)) + "}"));
            }
            _writeKey.Write(_key.WrittenSpan);
            _out = _sink;
            Command("DEL"u8); // a leftover from an interrupted earlier run
        }
        return true;
    }

    private bool RestoreModule(in RdbKey key)
    {
        int footerVersion = Math.Min(_rdbVersion, _options.Target.RdbVersion);
        if (!key.HasRawValue || footerVersion < RdbType.Module2.MinimumRdbVersion())
        {
            Interlocked.Increment(ref _keysUnsupported);
            string why = key.HasRawValue ? $"the target ({_options.Target}) loads no module values" : "it is larger than a module value can be captured";
            Warn("ModuleValueSkipped", $"The value of key {KeyText.Format(key.Name)} (module type '{key.ModuleType}') was not copied: {why}.", key.Name);
            return false;
        }
        // A module value's encoding does not depend on the RDB version, so the footer may name the target's.
        StagePayload(key, footerVersion);
        return false;
    }

    /// <summary>Builds the key's RESTORE payload from the captured value; <see cref="OnKeyEnd"/> sends it.</summary>
    [MethodImpl(HotPath.Compile)]
    private void StagePayload(in RdbKey key, int footerVersion)
    {
        _scratch.Clear();
        DumpPayload.Write(_scratch, key.Type, key.RawValue, footerVersion);
        _mode = KeyMode.Restore;
    }

    [MethodImpl(HotPath.Compile)]
    private void Restore()
    {
        ReadOnlySpan<byte> payload = _scratch.WrittenSpan;
        // Built here, its CRC computed as it was written: only its version can be one the target does not load.
        string? wrong = DumpPayload.Check(payload, _options.Target.RdbVersion, verifyCrc: false);
        if (wrong != null)
        {
            string key = KeyText.Format(_key.WrittenSpan);
            throw new SyncException(SyncErrorIds.RdbCorrupt, SyncErrorKind.Stop, $"The RESTORE payload of key {key} is not one the target loads: {wrong}.") { Key = key };
        }
        _sink.BeginCommand();
        _sink.Arg("RESTORE"u8);
        _sink.Arg(_key.WrittenSpan);
        _sink.Arg(_expireAt >= 0 ? _expireAt : 0);
        _sink.Arg(payload);
        if (_options.OnConflict == ConflictPolicy.Replace) _sink.Arg("REPLACE"u8);
        if (_expireAt >= 0) _sink.Arg("ABSTTL"u8);
        if (_idleSeconds >= 0)
        {
            _sink.Arg("IDLETIME"u8);
            _sink.Arg(_idleSeconds);
        }
        else if (_frequency >= 0)
        {
            _sink.Arg("FREQ"u8);
            _sink.Arg(_frequency);
        }
        _sink.EndCommand();
        _sink.KeyDone();
        Interlocked.Increment(ref _keysRestored);
        KeyWritten?.Invoke();
    }

    /// <summary>
    /// A collection without elements: Redis skips such a key when it loads a file (rdbLoadObject's
    /// "skipping empty key"), and a target would refuse its RESTORE payload or never create it from
    /// commands, so it is left out, counted and named.
    /// </summary>
    private void SkipEmpty()
    {
        Interlocked.Increment(ref _keysEmpty);
        Warn("EmptyKeySkipped", $"Key {KeyText.Format(_key.WrittenSpan)} in database {_sourceDb} is an empty {_type.ToString().ToLowerInvariant()} ({_rdbType.Name()}): " +
            "Redis skips empty keys when it loads a file, so it was not copied.", _key.WrittenSpan);
    }

    /// <summary>A value that goes out as a RESTORE payload is checked by the parser and only counted (an empty one is skipped).</summary>
    public override bool CountOnly => _mode == KeyMode.Restore;

    public override void OnElementsCounted(long elements) => _elements += elements;

    private bool IsCollection => _type == RedisType.List || _type == RedisType.Set || _type == RedisType.ZSet || _type == RedisType.Hash;

    // ---- strings

    [MethodImpl(HotPath.Compile)]
    public override void OnStringChunk(ReadOnlySpan<byte> chunk, long offset, long totalLength, RdbStringEncoding encoding)
    {
        if (_mode != KeyMode.Staged && _mode != KeyMode.Streamed) return;
        _value.Write(chunk);
        if (_value.Length >= _options.MaxCommandBytes) FlushString(final: false);
    }

    [MethodImpl(HotPath.Compile)]
    private void FlushString(bool final)
    {
        bool whole = !_stringStarted && final;
        _out.BeginCommand();
        _out.Arg(_stringStarted ? "APPEND"u8 : "SET"u8);
        _out.Arg(_writeKey.WrittenSpan);
        _out.Arg(_value.WrittenSpan);
        if (whole && _expireAt >= 0 && _options.Target.SupportsSetPxat)
        {
            _out.Arg("PXAT"u8);
            _out.Arg(_expireAt);
            _expireAt = -1; // applied
        }
        _out.EndCommand();
        _stringStarted = true;
        _value.Clear();
        if (!final) PartWritten();
    }

    // ---- collections

    public override void OnListElement(ReadOnlySpan<byte> element)
    {
        _elements++;
        if (_mode < KeyMode.Staged) return;
        Element("RPUSH"u8, element.Length);
        _out.Arg(element);
    }

    [MethodImpl(HotPath.Compile)]
    public override void OnSetMember(ReadOnlySpan<byte> member)
    {
        _elements++;
        if (_mode < KeyMode.Staged) return;
        Element("SADD"u8, member.Length);
        _out.Arg(member);
    }

    public override void OnZSetMember(ReadOnlySpan<byte> member, double score)
    {
        _elements++;
        if (_mode < KeyMode.Staged) return;
        Span<byte> text = stackalloc byte[ScoreText.MaxLength];
        int n = ScoreText.Format(score, text);
        Element("ZADD"u8, member.Length + n);
        _out.Arg(text.Slice(0, n));
        _out.Arg(member);
    }

    public override void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs)
    {
        if (expireAtMs >= 0 && expireAtMs <= _options.Now()) return; // expired already: the source would not show it either
        _elements++;
        if (_mode < KeyMode.Staged) return;
        if (expireAtMs >= 0)
        {
            if (!_options.Target.SupportsHashFieldTtl)
            {
                Interlocked.Increment(ref _fieldTtlsDropped);
                if (!_fieldTtlWarned)
                {
                    _fieldTtlWarned = true;
                    Warn("FieldTtlDropped", $"The target ({_options.Target}) cannot expire hash fields: key {KeyText.Format(_key.WrittenSpan)} was copied without its field TTLs.", _key.WrittenSpan);
                }
            }
            else
            {
                _fieldTtls.Add((expireAtMs, field.ToArray()));
            }
        }
        Element("HSET"u8, field.Length + value.Length);
        _out.Arg(field);
        _out.Arg(value);
        if (_fieldTtls.Count >= _options.MaxElementsPerCommand)
        {
            EndElementCommand();
            PartWritten();
        }
    }

    /// <summary>Opens a command for the key if none is open, and closes it when it is full.</summary>
    private void Element(ReadOnlySpan<byte> command, int size)
    {
        if (_commandOpen && (_commandElements >= _options.MaxElementsPerCommand || _out.PendingCommandBytes + size >= _options.MaxCommandBytes))
        {
            EndElementCommand();
            PartWritten();
        }
        if (!_commandOpen)
        {
            _out.BeginCommand();
            _out.Arg(command);
            _out.Arg(_writeKey.WrittenSpan);
            _commandOpen = true;
            _commandElements = 0;
        }
        _commandElements++;
    }

    [MethodImpl(HotPath.Compile)]
    private void EndElementCommand()
    {
        if (!_commandOpen) return;
        _out.EndCommand();
        _commandOpen = false;
        if (_fieldTtls.Count > 0)
        {
            foreach ((long at, byte[] field) in _fieldTtls)
            {
                _out.BeginCommand();
                _out.Arg("HPEXPIREAT"u8);
                _out.Arg(_writeKey.WrittenSpan);
                _out.Arg(at);
                _out.Arg("FIELDS"u8);
                _out.Arg(1);
                _out.Arg(field);
                _out.EndCommand();
            }
            _fieldTtls.Clear();
        }
    }

    // ---- streams

    public override void OnStreamEntry(StreamId id, int fieldCount)
    {
        if (_mode < KeyMode.Staged) return;
        _out.BeginCommand();
        _out.Arg("XADD"u8);
        _out.Arg(_writeKey.WrittenSpan);
        WriteId(id);
        _streamHasEntries = true;
        _fieldsLeft = fieldCount;
        if (fieldCount == 0)
        {
            _out.EndCommand();
            PartWritten();
        }
    }

    public override void OnStreamField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        if (_mode < KeyMode.Staged) return;
        _out.Arg(field);
        _out.Arg(value);
        if (--_fieldsLeft == 0)
        {
            _out.EndCommand();
            PartWritten();
        }
    }

    /// <summary>
    /// A deleted entry still in the file: it may still be pending in a group, and XCLAIM can only
    /// create a pending entry for an entry that exists, so a placeholder is added and deleted again
    /// once the groups are restored.
    /// </summary>
    public override void OnStreamDeletedEntry(StreamId id)
    {
        if (_mode < KeyMode.Staged) return;
        _out.BeginCommand();
        _out.Arg("XADD"u8);
        _out.Arg(_writeKey.WrittenSpan);
        WriteId(id);
        _out.Arg(PlaceholderField);
        _out.Arg("1"u8);
        _out.EndCommand();
        _placeholders.Add(id);
        _streamHasEntries = true;
        PartWritten();
    }

    public override void OnStreamMetadata(in StreamMetadata metadata)
    {
        if (_mode < KeyMode.Staged) return;
        if (!_streamHasEntries)
        {
            // An empty stream: MKSTREAM through a group that is dropped at once.
            Command("XGROUP"u8, "CREATE"u8, InitGroupBytes, "$"u8, "MKSTREAM"u8);
            Command("XGROUP"u8, "DESTROY"u8, InitGroupBytes);
        }
        _out.BeginCommand();
        _out.Arg("XSETID"u8);
        _out.Arg(_writeKey.WrittenSpan);
        WriteId(metadata.LastId);
        if (metadata.HasV2Fields && _options.Target.SupportsStreamMetadata)
        {
            _out.Arg("ENTRIESADDED"u8);
            _out.Arg(metadata.EntriesAdded);
            if (metadata.MaxDeletedId != StreamId.Zero)
            {
                _out.Arg("MAXDELETEDID"u8);
                WriteId(metadata.MaxDeletedId);
            }
        }
        _out.EndCommand();
    }

    private static ReadOnlySpan<byte> InitGroupBytes => "redissync-init"u8;

    public override void OnStreamGroup(ReadOnlySpan<byte> name, StreamId lastDeliveredId, long entriesRead, long pendingCount, long consumerCount)
    {
        if (_mode < KeyMode.Staged) return;
        _groupName.Clear();
        _groupName.Write(name);
        _out.BeginCommand();
        _out.Arg("XGROUP"u8);
        _out.Arg("CREATE"u8);
        _out.Arg(_writeKey.WrittenSpan);
        _out.Arg(name);
        WriteId(lastDeliveredId);
        if (entriesRead >= 0 && _options.Target.SupportsStreamMetadata)
        {
            _out.Arg("ENTRIESREAD"u8);
            _out.Arg(entriesRead);
        }
        _out.EndCommand();
    }

    public override void OnStreamConsumer(ReadOnlySpan<byte> name, long seenTimeMs, long activeTimeMs, long pendingCount)
    {
        if (_mode < KeyMode.Staged) return;
        _consumerName.Clear();
        _consumerName.Write(name);
        _out.BeginCommand();
        _out.Arg("XGROUP"u8);
        _out.Arg("CREATECONSUMER"u8);
        _out.Arg(_writeKey.WrittenSpan);
        _out.Arg(_groupName.WrittenSpan);
        _out.Arg(name);
        _out.EndCommand();
    }

    public override void OnStreamPending(StreamId id, long deliveryTimeMs, long deliveryCount)
    {
        if (_mode < KeyMode.Staged) return;
        _out.BeginCommand();
        _out.Arg("XCLAIM"u8);
        _out.Arg(_writeKey.WrittenSpan);
        _out.Arg(_groupName.WrittenSpan);
        _out.Arg(_consumerName.WrittenSpan);
        _out.Arg("0"u8);
        WriteId(id);
        _out.Arg("TIME"u8);
        _out.Arg(deliveryTimeMs);
        _out.Arg("RETRYCOUNT"u8);
        _out.Arg(deliveryCount);
        _out.Arg("FORCE"u8);
        _out.Arg("JUSTID"u8);
        _out.EndCommand();
    }

    // ---- end of a key

    [MethodImpl(HotPath.Compile)]
    public override void OnKeyEnd()
    {
        if (_mode == KeyMode.Skip) return;
        if (_elements == 0 && IsCollection)
        {
            SkipEmpty();
            _out = _sink;
            _mode = KeyMode.Skip;
            return;
        }
        if (_mode == KeyMode.Restore)
        {
            _mode = KeyMode.Skip;
            Restore();
            return;
        }
        if (_type == RedisType.String && (_value.Length > 0 || !_stringStarted)) FlushString(final: true);
        EndElementCommand();
        if (_placeholders.Count > 0)
        {
            for (int i = 0; i < _placeholders.Count; i += _options.MaxElementsPerCommand)
            {
                _out.BeginCommand();
                _out.Arg("XDEL"u8);
                _out.Arg(_writeKey.WrittenSpan);
                for (int j = i; j < Math.Min(_placeholders.Count, i + _options.MaxElementsPerCommand); j++) WriteId(_placeholders[j]);
                _out.EndCommand();
            }
        }
        if (_expireAt >= 0)
        {
            _out.BeginCommand();
            _out.Arg("PEXPIREAT"u8);
            _out.Arg(_writeKey.WrittenSpan);
            _out.Arg(_expireAt);
            _out.EndCommand();
        }
        if (_mode == KeyMode.Staged)
        {
            _stage.FlushTo(_sink, _key.WrittenSpan);
        }
        else
        {
            bool guarded = !_options.TargetIsEmpty && _options.OnConflict != ConflictPolicy.Replace;
            _sink.BeginCommand();
            if (guarded)
            {
                _sink.Arg("EVAL"u8);
                _sink.Arg(RenameGuardScriptBytes);
                _sink.Arg(2);
                _sink.Arg(_writeKey.WrittenSpan);
                _sink.Arg(_key.WrittenSpan);
            }
            else
            {
                _sink.Arg("RENAME"u8);
                _sink.Arg(_writeKey.WrittenSpan);
                _sink.Arg(_key.WrittenSpan);
            }
            _sink.EndCommand();
        }
        _sink.KeyDone();
        _out = _sink;
        _mode = KeyMode.Skip;
        Interlocked.Increment(ref _keysRebuilt);
        KeyWritten?.Invoke();
    }

    /// <summary>
    /// The parse failed inside a key: drop what was built of it, so the target keeps only complete
    /// keys (a staged key was never sent; a streamed one is deleted from under its temporary name).
    /// </summary>
    public void AbortKey()
    {
        if (_mode == KeyMode.Streamed)
        {
            if (_commandOpen) _sink.EndCommand();
            _sink.BeginCommand();
            _sink.Arg("DEL"u8);
            _sink.Arg(_writeKey.WrittenSpan);
            _sink.EndCommand();
        }
        _commandOpen = false;
        _out = _sink;
        _mode = KeyMode.Skip;
    }

    private void PartWritten()
    {
        if (_mode == KeyMode.Streamed) KeyPartWritten?.Invoke();
    }

    private void Command(ReadOnlySpan<byte> name)
    {
        _out.BeginCommand();
        _out.Arg(name);
        _out.Arg(_writeKey.WrittenSpan);
        _out.EndCommand();
    }

    private void Command(ReadOnlySpan<byte> name, ReadOnlySpan<byte> sub, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default, ReadOnlySpan<byte> c = default)
    {
        _out.BeginCommand();
        _out.Arg(name);
        _out.Arg(sub);
        _out.Arg(_writeKey.WrittenSpan);
        _out.Arg(a);
        if (!b.IsEmpty) _out.Arg(b);
        if (!c.IsEmpty) _out.Arg(c);
        _out.EndCommand();
    }

    private void WriteId(StreamId id)
    {
        Span<byte> text = stackalloc byte[48];
        _out.Arg(text.Slice(0, id.Format(text)));
    }

    private void Warn(string id, string message, ReadOnlySpan<byte> key = default) =>
        Warning?.Invoke(new SyncWarning(id, SyncErrorKind.Skip, key.IsEmpty ? null : KeyText.Format(key), null, message));

    public void Dispose()
    {
        _stage.Dispose();
        _key.Dispose();
        _writeKey.Dispose();
        _value.Dispose();
        _scratch.Dispose();
        _groupName.Dispose();
        _consumerName.Dispose();
    }
}
