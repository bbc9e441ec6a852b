using System;
using System.Buffers;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// A key as the parser meets it: where it lives, its type and metadata, and, when the value is small
/// enough to have been captured whole, its serialized value. Valid only during
/// <see cref="RdbVisitor.OnKey"/>.
/// </summary>
internal readonly ref struct RdbKey
{
    public RdbKey(int db, ReadOnlySpan<byte> name, RdbType type, long expireAtMs, long idleSeconds, int frequency,
        ReadOnlySequence<byte> rawValue, bool hasRawValue, long valueLength, long offset, string? moduleType = null)
    {
        Db = db;
        Name = name;
        Type = type;
        ExpireAtMs = expireAtMs;
        IdleSeconds = idleSeconds;
        Frequency = frequency;
        RawValue = rawValue;
        HasRawValue = hasRawValue;
        ValueLength = valueLength;
        Offset = offset;
        ModuleType = moduleType;
    }

    /// <summary>The database (the last SELECTDB).</summary>
    public int Db { get; }

    public ReadOnlySpan<byte> Name { get; }

    public RdbType Type { get; }

    /// <summary>Absolute expiry in Unix milliseconds, or -1 when the key has none.</summary>
    public long ExpireAtMs { get; }

    /// <summary>LRU idle time in seconds from an IDLE opcode, or -1.</summary>
    public long IdleSeconds { get; }

    /// <summary>LFU frequency from a FREQ opcode, or -1.</summary>
    public int Frequency { get; }

    /// <summary>
    /// The value's bytes exactly as serialized after the key (what DUMP returns, without the type byte
    /// and footer). Set only when <see cref="HasRawValue"/>.
    /// </summary>
    public ReadOnlySequence<byte> RawValue { get; }

    /// <summary>True when the whole value was captured (it fit <see cref="RdbParserOptions.RawCaptureLimit"/>).</summary>
    public bool HasRawValue { get; }

    /// <summary>For a string, its length; for a collection, the element count that the file declares first (-1 if unknown).</summary>
    public long ValueLength { get; }

    /// <summary>Byte offset of the key's type byte in the RDB.</summary>
    public long Offset { get; }

    /// <summary>For a module value, its module type's 9-character name (from the module id), to name it in messages; else null.</summary>
    public string? ModuleType { get; }
}
