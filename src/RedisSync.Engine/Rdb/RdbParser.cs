using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Reads an RDB file (versions 1–12, Valkey 8 included) from a <see cref="PipeReader"/> and pushes
/// what it holds to an <see cref="RdbVisitor"/>, in file order, in bounded memory: a file on disk and
/// the bulk of a PSYNC reply are read by the same code. It never consumes a byte past the RDB's end
/// (what follows on the pipe, such as the replication stream, stays there) and never waits for a
/// byte that the format does not need next. When <see cref="Parse"/> returns, the reader has been
/// advanced to exactly the RDB's last byte (consumed and examined), so the next read returns whatever
/// follows at once.
/// </summary>
internal sealed partial class RdbParser
{
    private const int LatestVersion = 12;

    private readonly PipeReader _reader;
    private readonly RdbVisitor _visitor;
    private readonly RdbParserOptions _options;
    private bool _started;

    private int _db;
    private long _expireAtMs = -1;
    private long _idleSeconds = -1;
    private int _frequency = -1;

    private bool _inKey;
    private RdbType _keyType;
    private byte[] _keyName = new byte[64];
    private int _keyNameLength = -1;
    private string? _moduleType;

    /// <summary>Creates a parser; <see cref="Parse"/> does the work.</summary>
    public RdbParser(PipeReader input, RdbVisitor visitor, RdbParserOptions? options = null)
    {
        _reader = input ?? throw new ArgumentNullException(nameof(input));
        _visitor = visitor ?? throw new ArgumentNullException(nameof(visitor));
        _options = options ?? new RdbParserOptions();
        if (_options.ChunkSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "ChunkSize must be positive.");
        _buf = Array.Empty<byte>();
        _arena = Array.Empty<byte>();
    }

    /// <summary>Bytes of the RDB read so far (updated at least every 128 KB); safe to read from another thread, for progress.</summary>
    public long Position => Interlocked.Read(ref _progress);

    /// <summary>The RDB version from the header (0 until it has been read).</summary>
    public int Version { get; private set; }

    /// <summary>Parses a file on disk (RdbNotFound when it does not exist, RdbUnreadable when it cannot be opened or read).</summary>
    public static void ParseFile(string path, RdbVisitor visitor, RdbParserOptions? options = null)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is FileNotFoundException || e is DirectoryNotFoundException)
        {
            throw new SyncException(SyncErrorIds.RdbNotFound, SyncErrorKind.Stop, $"RDB file not found: {path}", e);
        }
        catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException || e is NotSupportedException)
        {
            throw new SyncException(SyncErrorIds.RdbUnreadable, SyncErrorKind.Stop, $"The RDB file '{path}' cannot be opened: {e.Message}", e);
        }
        using (stream)
        {
            PipeReader reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 256 * 1024, minimumReadSize: 64 * 1024, leaveOpen: true));
            var parser = new RdbParser(reader, visitor, options);
            try
            {
                parser.Parse();
            }
            catch (IOException e)
            {
                throw new SyncException(SyncErrorIds.RdbUnreadable, SyncErrorKind.Stop, $"The RDB file '{path}' could not be read after byte {parser.Position}: {e.Message}", e)
                {
                    Offset = parser.Position,
                };
            }
            finally
            {
                reader.Complete();
            }
        }
    }

    /// <summary>
    /// Reads the whole RDB, synchronously: call it on a thread of its own, it blocks on the
    /// <see cref="PipeReader"/> when it needs bytes. Throws <see cref="SyncException"/> on bad input.
    /// </summary>
    public void Parse()
    {
        if (_started) throw new InvalidOperationException("An RdbParser reads one RDB; create another for the next.");
        _started = true;
        _buf = ArrayPool<byte>.Shared.Rent(DefaultWindow);
        _arena = ArrayPool<byte>.Shared.Rent(4096);
        bool done = false;
        try
        {
            ReadHeader();
            _visitor.OnStart(Version);
            ReadBody();
            done = true;
        }
        catch (Exception e) when (IsParserFault(e))
        {
            ThrowError(SyncErrorIds.RdbCorrupt, $"the data cannot be read ({e.GetType().Name}: {e.Message})", Abs);
        }
        finally
        {
            if (done) ReleaseInputAtEnd();
            else ReleaseInputAfterError();
            ReturnBuffers();
        }
    }

    /// <summary>
    /// An arithmetic, index or argument error raised by the parser's own code (not by the visitor):
    /// input that no check caught yet, reported as a corrupt file at the position reached.
    /// </summary>
    internal static bool IsParserFault(Exception e)
    {
        if (!(e is ArithmeticException || e is IndexOutOfRangeException || e is ArgumentException || e is FormatException || e is InvalidCastException)) return false;
        foreach (System.Diagnostics.StackFrame frame in new System.Diagnostics.StackTrace(e, false).GetFrames() ?? Array.Empty<System.Diagnostics.StackFrame>())
        {
            Type? type = frame.GetMethod()?.DeclaringType;
            if (type == null || type.Assembly == typeof(object).Assembly || (type.Assembly.GetName().Name ?? "System.").StartsWith("System.", StringComparison.Ordinal)) continue;
            return type == typeof(RdbParser) || type == typeof(PackedReader) || type == typeof(ZipmapReader) || type == typeof(Lzf);
        }
        return false;
    }

    private void ReadHeader()
    {
        ReadOnlySpan<byte> head = ReadRaw(9);
        if (head.Slice(0, 5).SequenceEqual("REDIS"u8))
        {
            int version = 0;
            for (int i = 5; i < 9; i++)
            {
                int digit = head[i] - '0';
                if (digit < 0 || digit > 9) ThrowError(SyncErrorIds.RdbCorrupt, $"the header {KeyText.Format(head)} has no RDB version number", 0);
                version = version * 10 + digit;
            }
            if (version < 1 || version > LatestVersion)
            {
                ThrowError(SyncErrorIds.RdbUnsupportedVersion, $"the header {KeyText.Format(head)} is RDB version {version}; this parser reads versions 1 to {LatestVersion}", 0);
            }
            Version = version;
        }
        else if (head.Slice(0, 6).SequenceEqual("VALKEY"u8))
        {
            ThrowError(SyncErrorIds.RdbUnsupportedVersion, $"the header {KeyText.Format(head)} is Valkey 9's RDB format, which this parser does not read (it reads REDIS0001 to REDIS00{LatestVersion})", 0);
        }
        else
        {
            ThrowError(SyncErrorIds.RdbCorrupt, $"not an RDB file: it starts with {KeyText.Format(head)} instead of \"REDIS\" and a version", 0);
        }
        ReportProgress(9);
    }

    [MethodImpl(HotPath.Compile)]
    private void ReadBody()
    {
        while (true)
        {
            long offset = Abs;
            byte type = ReadByte();
            switch (type)
            {
                case 0xFF:
                    ReadEnd();
                    return;
                case 0xFE:
                    ulong db = ReadLength();
                    if (db > int.MaxValue) ThrowError(SyncErrorIds.RdbCorrupt, $"SELECTDB names database {db}, more than any server has (at most {int.MaxValue})", offset);
                    _db = (int)db;
                    _visitor.OnSelectDb(_db);
                    break;
                case 0xFD:
                    _expireAtMs = ReadInt32LE() * 1000L;
                    break;
                case 0xFC:
                    _expireAtMs = ReadInt64LE();
                    break;
                case 0xFB:
                    long keys = (long)ReadLength();
                    long expires = (long)ReadLength();
                    _visitor.OnResizeDb(keys, expires);
                    break;
                case 0xFA:
                    NewElement();
                    ReadOnlySpan<byte> auxName = ReadStringElement();
                    ReadOnlySpan<byte> auxValue = ReadStringElement();
                    _visitor.OnAux(auxName, auxValue);
                    EndElement();
                    break;
                case 0xF9:
                    _frequency = ReadByte();
                    break;
                case 0xF8:
                    _idleSeconds = (long)ReadLength();
                    break;
                case 0xF7:
                    ReadModuleAux();
                    break;
                case 0xF6:
                    ReadFunctionPreGa();
                    break;
                case 0xF5:
                    NewElement();
                    _visitor.OnFunction(ReadStringElement());
                    EndElement();
                    break;
                case 0xF4:
                    long slot = (long)ReadLength();
                    long slotKeys = (long)ReadLength();
                    long slotExpires = (long)ReadLength();
                    _visitor.OnSlotInfo(slot, slotKeys, slotExpires);
                    break;
                default:
                    ReadKey((RdbType)type, offset);
                    _expireAtMs = -1;
                    _idleSeconds = -1;
                    _frequency = -1;
                    break;
            }
        }
    }

    private void ReadEnd()
    {
        ulong stored = 0;
        if (Version >= 5)
        {
            Ensure(8);
            if (_options.VerifyChecksum) _crc = Crc64.Update(_crc, new ReadOnlySpan<byte>(_buf, 0, _pos));
            stored = (ulong)ReadInt64LE();
            if (_options.VerifyChecksum && stored != 0 && stored != _crc)
            {
                ThrowError(SyncErrorIds.RdbChecksumMismatch,
                    $"the CRC64 of the file is {_crc:x16} but its footer says {stored:x16}: some byte before it was changed", Abs - 8);
            }
        }
        ReportProgress(Abs);
        _visitor.OnEnd(stored);
    }

    /// <summary>MODULE_AUX: module id, when-opcode, when, then module opcodes up to their EOF; carried raw.</summary>
    private void ReadModuleAux()
    {
        long start = Abs;
        _pinAbs = start;
        ulong moduleId = ReadLength();
        ulong whenOpcode = ReadLength();
        ReadLength();
        if (whenOpcode != 2) ThrowCorrupt($"MODULE_AUX for module {ModuleName(moduleId)} has when-opcode {whenOpcode}, not 2 (UINT)");
        _skimEnd = start + Math.Min(_options.MaxModuleValueLength, MaxElementLength);
        if (!SkipModuleOpcodes(ModuleName(moduleId)))
        {
            ThrowCorrupt($"MODULE_AUX for module {ModuleName(moduleId)} is larger than MaxModuleValueLength ({_options.MaxModuleValueLength} bytes)");
        }
        int from = (int)(start - _bufAbs);
        _visitor.OnModuleAux(moduleId, ModuleName(moduleId), new ReadOnlySpan<byte>(_buf, from, _pos - from));
        _pinAbs = NoMark;
        _skimEnd = NoMark;
    }

    /// <summary>The 9-character module type name encoded in the upper 54 bits of a module id (module.c).</summary>
    internal static string ModuleName(ulong moduleId)
    {
        const string charset = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var name = new char[9];
        ulong id = moduleId >> 10;
        for (int i = 8; i >= 0; i--)
        {
            name[i] = charset[(int)(id & 63)];
            id >>= 6;
        }
        return new string(name);
    }

    /// <summary>
    /// FUNCTION_PRE_GA (Redis 7.0 release candidates): name, engine, an optional description and the
    /// code, which did not yet carry its "#!engine name=…" line; the code is handed on with that line.
    /// </summary>
    private void ReadFunctionPreGa()
    {
        NewElement();
        ReadOnlySpan<byte> name = ReadStringElement();
        ReadOnlySpan<byte> engine = ReadStringElement();
        if (ReadLength() != 0) ReadStringElement();
        ReadOnlySpan<byte> code = ReadStringElement();
        int length = 2 + engine.Length + 6 + name.Length + 1 + code.Length;
        Span<byte> full = ArenaAlloc(length);
        int at = 0;
        Append(full, ref at, "#!"u8);
        Append(full, ref at, engine);
        Append(full, ref at, " name="u8);
        Append(full, ref at, name);
        Append(full, ref at, "\n"u8);
        Append(full, ref at, code);
        _visitor.OnFunction(full);
        EndElement();
    }

    private static void Append(Span<byte> to, ref int at, ReadOnlySpan<byte> what)
    {
        what.CopyTo(to.Slice(at));
        at += what.Length;
    }

    [MethodImpl(HotPath.Compile)]
    private void ReadKey(RdbType type, long offset)
    {
        if (!IsValueType(type)) ThrowError(SyncErrorIds.RdbUnknownType, $"unknown value type {(int)type} (0x{(int)type:x2})", offset);
        _inKey = true;
        _keyType = type;
        _keyNameLength = -1;

        NewElement();
        ReadOnlySpan<byte> name = ReadStringElement();
        if (_keyName.Length < name.Length) _keyName = new byte[Math.Max(name.Length, _keyName.Length * 2)];
        name.CopyTo(_keyName);
        _keyNameLength = name.Length;
        EndElement();

        if (type == RdbType.ModulePreGa)
        {
            ThrowCorrupt($"value type 6 (MODULE_PRE_GA) of module type '{ModuleName(ReadLength())}' is the Redis 4.0 release-candidate module format, which no released Redis loads");
        }
        _moduleType = null;

        long valueStart = Abs;
        _pinAbs = valueStart;
        long valueLength;
        long rawLength = -1;
        if (type == RdbType.String)
        {
            valueLength = PeekStringValue(out long encodedLength);
            if (_options.CaptureRawValues && encodedLength <= _options.RawCaptureLimit) rawLength = encodedLength;
        }
        else
        {
            valueLength = PeekValueLength(type);
            Rewind(valueStart);
            bool capture = type == RdbType.Module2 || _options.CaptureRawValues;
            if (capture)
            {
                _skimEnd = valueStart + Math.Min(type == RdbType.Module2 ? _options.MaxModuleValueLength : _options.RawCaptureLimit, MaxElementLength);
                if (SkipValue(type)) rawLength = Abs - valueStart;
                Rewind(valueStart);
            }
        }

        bool hasRaw = rawLength >= 0;
        if (hasRaw) Ensure((int)rawLength);
        ReadOnlySequence<byte> raw = hasRaw ? new ReadOnlySequence<byte>(_buf, _pos, (int)rawLength) : default;
        bool wantElements = _visitor.OnKey(new RdbKey(_db, new ReadOnlySpan<byte>(_keyName, 0, _keyNameLength), type, _expireAtMs,
            _idleSeconds, _frequency, raw, hasRaw, valueLength, offset, _moduleType));

        if (!hasRaw) _pinAbs = NoMark;
        if (wantElements && type != RdbType.Module2)
        {
            ReadValue(type);
            if (hasRaw && Abs != valueStart + rawLength) ThrowCorrupt($"the value ended at byte {Abs}, not where its structure said ({valueStart + rawLength})");
        }
        else if (hasRaw)
        {
            _pos += (int)rawLength;
        }
        else
        {
            _skimEnd = NoMark;
            SkipValue(type);
        }
        _pinAbs = NoMark;
        EndElement();
        TrimBuffers();
        _inKey = false;
        _visitor.OnKeyEnd();
    }

    private void Rewind(long abs) => _pos = (int)(abs - _bufAbs);

    private static bool IsValueType(RdbType type) => (byte)type <= 7 || ((byte)type >= 9 && (byte)type <= 25);

    /// <summary>The key being read, printable, for messages (null outside a key or before its name).</summary>
    private string? KeyForMessage =>
        _inKey && _keyNameLength >= 0 ? KeyText.Format(new ReadOnlySpan<byte>(_keyName, 0, _keyNameLength)) : null;

    private string Where(long offset)
    {
        var sb = new StringBuilder("at byte ").Append(offset);
        if (_inKey)
        {
            string? key = KeyForMessage;
            if (key != null) sb.Append(" in key ").Append(key);
            sb.Append(" (type ").Append((int)_keyType).Append(' ').Append(_keyType.Name()).Append(')');
        }
        return sb.ToString();
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowCorrupt(string what) => ThrowError(SyncErrorIds.RdbCorrupt, what, Abs);

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowError(string errorId, string what, long offset)
    {
        string kind = errorId switch
        {
            SyncErrorIds.RdbTruncated => "RDB truncated",
            SyncErrorIds.RdbChecksumMismatch => "RDB checksum mismatch",
            SyncErrorIds.RdbUnsupportedVersion => "RDB version not supported",
            SyncErrorIds.RdbUnknownType => "RDB has an unknown type",
            _ => "RDB corrupt",
        };
        throw new SyncException(errorId, SyncErrorKind.Stop, $"{kind} {Where(offset)}: {what}")
        {
            Key = KeyForMessage,
            Offset = offset,
        };
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    private void ThrowTruncated(int missing) =>
        ThrowError(SyncErrorIds.RdbTruncated, $"the input ended {missing} byte(s) short of what the format needs next", _bufAbs + _end);
}
