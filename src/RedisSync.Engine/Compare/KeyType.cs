using System;
using System.Buffers;

namespace RedisSync.Engine.Compare;

/// <summary>A key's type as TYPE reports it; <see cref="Other"/> is a module type (named in the job).</summary>
internal enum KeyType : byte
{
    None,
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
    Other,
}

/// <summary>TYPE replies and the commands that go with each type.</summary>
internal static class KeyTypes
{
    /// <summary>Reads a TYPE reply without allocating (a module type's name is allocated, rarely).</summary>
    public static KeyType Parse(in ReadOnlySequence<byte> payload, out string? otherName)
    {
        otherName = null;
        Span<byte> scratch = stackalloc byte[16];
        ReadOnlySpan<byte> name = Bytes.Small(payload, scratch);
        if (payload.Length <= 6)
        {
            switch (name.Length)
            {
                case 3 when name[0] == (byte)'s' && name[1] == (byte)'e' && name[2] == (byte)'t': return KeyType.Set;
                case 4 when name.SequenceEqual("none"u8): return KeyType.None;
                case 4 when name.SequenceEqual("list"u8): return KeyType.List;
                case 4 when name.SequenceEqual("hash"u8): return KeyType.Hash;
                case 4 when name.SequenceEqual("zset"u8): return KeyType.ZSet;
                case 6 when name.SequenceEqual("string"u8): return KeyType.String;
                case 6 when name.SequenceEqual("stream"u8): return KeyType.Stream;
            }
        }
        otherName = Bytes.Text(payload);
        return KeyType.Other;
    }

    /// <summary>The name TYPE gives, for output.</summary>
    public static string? Name(KeyType type, string? otherName)
    {
        switch (type)
        {
            case KeyType.String: return "string";
            case KeyType.List: return "list";
            case KeyType.Set: return "set";
            case KeyType.ZSet: return "zset";
            case KeyType.Hash: return "hash";
            case KeyType.Stream: return "stream";
            case KeyType.Other: return otherName;
            default: return null;
        }
    }

    /// <summary>The length command's head (STRLEN, LLEN, …), or null for a module type.</summary>
    public static byte[]? LengthCommand(KeyType type)
    {
        switch (type)
        {
            case KeyType.String: return CommandText.Strlen;
            case KeyType.List: return CommandText.Llen;
            case KeyType.Set: return CommandText.Scard;
            case KeyType.ZSet: return CommandText.Zcard;
            case KeyType.Hash: return CommandText.Hlen;
            case KeyType.Stream: return CommandText.Xlen;
            default: return null;
        }
    }

    /// <summary>The length command's name, for messages.</summary>
    public static string LengthCommandName(KeyType type)
    {
        switch (type)
        {
            case KeyType.String: return "STRLEN";
            case KeyType.List: return "LLEN";
            case KeyType.Set: return "SCARD";
            case KeyType.ZSet: return "ZCARD";
            case KeyType.Hash: return "HLEN";
            default: return "XLEN";
        }
    }

    /// <summary>What the length of a type is called, for messages.</summary>
    public static string LengthWord(KeyType type) => type == KeyType.String ? "length" : type == KeyType.Stream ? "entries" : "elements";
}
