using System;
using System.Buffers;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>TYPE replies and the commands that go with each type.</summary>
internal static class KeyTypes
{
    /// <summary>Reads a TYPE reply without allocating (a module type's name is allocated, rarely).</summary>
    public static RedisType Parse(in ReadOnlySequence<byte> payload, out string? otherName)
    {
        otherName = null;
        Span<byte> scratch = stackalloc byte[16];
        ReadOnlySpan<byte> name = Bytes.Small(payload, scratch);
        if (payload.Length <= 6)
        {
            switch (name.Length)
            {
                case 3 when name[0] == (byte)'s' && name[1] == (byte)'e' && name[2] == (byte)'t': return RedisType.Set;
                case 4 when name.SequenceEqual("none"u8): return RedisType.None;
                case 4 when name.SequenceEqual("list"u8): return RedisType.List;
                case 4 when name.SequenceEqual("hash"u8): return RedisType.Hash;
                case 4 when name.SequenceEqual("zset"u8): return RedisType.ZSet;
                case 6 when name.SequenceEqual("string"u8): return RedisType.String;
                case 6 when name.SequenceEqual("stream"u8): return RedisType.Stream;
            }
        }
        otherName = Bytes.Text(payload);
        return RedisType.Module;
    }

    /// <summary>The name TYPE gives, for output.</summary>
    public static string? Name(RedisType type, string? otherName)
    {
        switch (type)
        {
            case RedisType.String: return "string";
            case RedisType.List: return "list";
            case RedisType.Set: return "set";
            case RedisType.ZSet: return "zset";
            case RedisType.Hash: return "hash";
            case RedisType.Stream: return "stream";
            case RedisType.Module: return otherName;
            default: return null;
        }
    }

    /// <summary>The length command's head (STRLEN, LLEN, …), or null for a module type.</summary>
    public static byte[]? LengthCommand(RedisType type)
    {
        switch (type)
        {
            case RedisType.String: return CommandText.Strlen;
            case RedisType.List: return CommandText.Llen;
            case RedisType.Set: return CommandText.Scard;
            case RedisType.ZSet: return CommandText.Zcard;
            case RedisType.Hash: return CommandText.Hlen;
            case RedisType.Stream: return CommandText.Xlen;
            default: return null;
        }
    }

    /// <summary>The length command's name, for messages.</summary>
    public static string LengthCommandName(RedisType type)
    {
        switch (type)
        {
            case RedisType.String: return "STRLEN";
            case RedisType.List: return "LLEN";
            case RedisType.Set: return "SCARD";
            case RedisType.ZSet: return "ZCARD";
            case RedisType.Hash: return "HLEN";
            default: return "XLEN";
        }
    }

    /// <summary>What the length of a type is called, for messages.</summary>
    public static string LengthWord(RedisType type) => type == RedisType.String ? "length" : type == RedisType.Stream ? "entries" : "elements";
}
