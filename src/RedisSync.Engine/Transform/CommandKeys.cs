using System;
using System.Buffers;
using System.Collections.Generic;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Transform;

/// <summary>How a command's key arguments are found (the kinds of Redis's key specs that matter here).</summary>
internal enum KeySpecKind : byte
{
    /// <summary>No keys (FLUSHDB, SWAPDB, SCRIPT, FUNCTION, PING, …).</summary>
    None,
    /// <summary>From <see cref="CommandSpec.First"/> to <see cref="CommandSpec.Last"/> (negative: from the end) every <see cref="CommandSpec.Step"/>.</summary>
    Range,
    /// <summary>A key count at <see cref="CommandSpec.NumKeys"/>, then that many keys (after the keys at First…Last, if any, such as ZUNIONSTORE's destination).</summary>
    NumKeys,
    /// <summary>XREAD and XREADGROUP: after STREAMS, the first half of what follows.</summary>
    Streams,
    /// <summary>The first key, plus the key after a STORE or STOREDIST option (SORT, GEORADIUS).</summary>
    Store,
    /// <summary>MIGRATE: the key at 3, or the keys after KEYS when it is empty.</summary>
    Migrate,
}

/// <summary>Where a command's keys are and which of Redis's command groups it belongs to.</summary>
internal sealed class CommandSpec
{
    public CommandSpec(string name, string group, KeySpecKind kind, int first = 1, int last = 1, int step = 1, int numKeys = 0)
    {
        Name = name;
        Group = group;
        Kind = kind;
        First = first;
        Last = last;
        Step = step;
        NumKeys = numKeys;
    }

    public string Name { get; }

    /// <summary>The group of COMMAND DOCS: generic, string, list, set, sorted-set, hash, stream, geo, bitmap, hyperloglog, scripting, pubsub, transactions, connection, server, cluster.</summary>
    public string Group { get; }

    public KeySpecKind Kind { get; }

    public int First { get; }

    public int Last { get; }

    public int Step { get; }

    public int NumKeys { get; }

    /// <summary>The type of the keys the command works on, from its group (None for generic commands: the key's own type).</summary>
    public RedisType KeyType => Group switch
    {
        "string" or "bitmap" or "hyperloglog" => RedisType.String,
        "list" => RedisType.List,
        "set" => RedisType.Set,
        "sorted-set" or "geo" => RedisType.ZSet,
        "hash" => RedisType.Hash,
        "stream" => RedisType.Stream,
        _ => RedisType.None,
    };

    /// <summary>Keys come in key/value pairs (MSET, MSETNX): a key is kept or dropped with the argument after it.</summary>
    public bool KeyValuePairs => Kind == KeySpecKind.Range && Step == 2;
}

/// <summary>
/// Redis's key specs for the commands a source's stream carries and the common ones besides, so that
/// a filter or a rename sees every key of every command: multi-key commands (MSET, DEL, UNLINK, EXISTS),
/// two-key ones (RENAME, COPY, SMOVE, LMOVE), key counts (EVAL, FCALL, ZUNIONSTORE, LMPOP),
/// XREAD(GROUP)'s STREAMS, SORT's STORE and MIGRATE's KEYS. A command it does not know has no keys.
/// </summary>
internal static class CommandKeys
{
    /// <summary>The groups -ExcludeCommand accepts after an @.</summary>
    public static readonly IReadOnlyList<string> Groups = new[]
    {
        "generic", "string", "list", "set", "sorted-set", "hash", "stream", "geo", "bitmap", "hyperloglog", "scripting", "pubsub",
        "transactions", "connection", "server", "cluster", "sentinel", "module",
    };

    private static readonly Dictionary<string, CommandSpec> Specs = Build();

    /// <summary>The spec of a command by name (any case), or null for a command this table does not know.</summary>
    public static CommandSpec? Find(string name) => Specs.TryGetValue(name.ToUpperInvariant(), out CommandSpec? spec) ? spec : null;

    /// <summary>Whether <paramref name="name"/> is a command this table knows (for messages about a mistyped -ExcludeCommand).</summary>
    public static bool IsKnown(string name) => Specs.ContainsKey(name.ToUpperInvariant());

    /// <summary>Adds the indexes of <paramref name="args"/> (the command name at 0) that hold keys.</summary>
    public static void KeyIndexes(CommandSpec spec, IReadOnlyList<ReadOnlySequence<byte>> args, List<int> indexes)
    {
        int count = args.Count;
        switch (spec.Kind)
        {
            case KeySpecKind.None:
                return;
            case KeySpecKind.Range:
            {
                int last = spec.Last < 0 ? count + spec.Last : Math.Min(spec.Last, count - 1);
                for (int i = spec.First; i <= last && i < count; i += spec.Step) indexes.Add(i);
                return;
            }
            case KeySpecKind.NumKeys:
            {
                if (spec.First > 0)
                {
                    for (int i = spec.First; i <= spec.Last && i < count; i++) indexes.Add(i);
                }
                if (spec.NumKeys >= count || !TryInt(args[spec.NumKeys], out int n) || n < 0) return;
                for (int i = spec.NumKeys + 1; i <= spec.NumKeys + n && i < count; i++) indexes.Add(i);
                return;
            }
            case KeySpecKind.Streams:
            {
                for (int i = 1; i < count; i++)
                {
                    if (!Is(args[i], "STREAMS")) continue;
                    int rest = count - i - 1;
                    for (int k = i + 1; k <= i + rest / 2; k++) indexes.Add(k);
                    return;
                }
                return;
            }
            case KeySpecKind.Store:
            {
                if (count > spec.First) indexes.Add(spec.First);
                for (int i = spec.First + 1; i + 1 < count; i++)
                {
                    if (Is(args[i], "STORE") || Is(args[i], "STOREDIST")) indexes.Add(++i);
                }
                return;
            }
            case KeySpecKind.Migrate:
            {
                if (count > 3 && args[3].Length > 0)
                {
                    indexes.Add(3);
                    return;
                }
                for (int i = 6; i < count; i++)
                {
                    if (!Is(args[i], "KEYS")) continue;
                    for (int k = i + 1; k < count; k++) indexes.Add(k);
                    return;
                }
                return;
            }
        }
    }

    private static bool Is(in ReadOnlySequence<byte> arg, string word)
    {
        if (arg.Length != word.Length) return false;
        Span<byte> buffer = stackalloc byte[16];
        arg.CopyTo(buffer);
        for (int i = 0; i < word.Length; i++)
        {
            int b = buffer[i];
            if (b >= 'a' && b <= 'z') b -= 32;
            if (b != word[i]) return false;
        }
        return true;
    }

    private static bool TryInt(in ReadOnlySequence<byte> arg, out int value)
    {
        value = 0;
        if (arg.Length == 0 || arg.Length > 10) return false;
        Span<byte> buffer = stackalloc byte[10];
        arg.CopyTo(buffer);
        return System.Buffers.Text.Utf8Parser.TryParse(buffer.Slice(0, (int)arg.Length), out value, out int used) && used == arg.Length;
    }

    private static Dictionary<string, CommandSpec> Build()
    {
        var specs = new Dictionary<string, CommandSpec>(StringComparer.Ordinal);
        void One(string group, params string[] names)
        {
            foreach (string name in names) specs[name] = new CommandSpec(name, group, KeySpecKind.Range);
        }
        void Range(string group, int first, int last, int step, params string[] names)
        {
            foreach (string name in names) specs[name] = new CommandSpec(name, group, KeySpecKind.Range, first, last, step);
        }
        void NumKeys(string group, int first, int last, int numKeys, params string[] names)
        {
            foreach (string name in names) specs[name] = new CommandSpec(name, group, KeySpecKind.NumKeys, first, last, 1, numKeys);
        }
        void None(string group, params string[] names)
        {
            foreach (string name in names) specs[name] = new CommandSpec(name, group, KeySpecKind.None, 0, 0, 0);
        }

        One("generic", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "TYPE", "TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME", "DUMP",
            "RESTORE", "RESTORE-ASKING", "MOVE", "SORT_RO");
        Range("generic", 1, -1, 1, "DEL", "UNLINK", "EXISTS", "TOUCH");
        Range("generic", 1, 2, 1, "RENAME", "RENAMENX", "COPY");
        Range("generic", 2, 2, 1, "OBJECT");
        specs["SORT"] = new CommandSpec("SORT", "generic", KeySpecKind.Store);
        specs["MIGRATE"] = new CommandSpec("MIGRATE", "generic", KeySpecKind.Migrate);
        None("generic", "SCAN", "KEYS", "RANDOMKEY", "WAIT", "WAITAOF");

        One("string", "APPEND", "DECR", "DECRBY", "GET", "GETDEL", "GETEX", "GETRANGE", "GETSET", "INCR", "INCRBY", "INCRBYFLOAT",
            "PSETEX", "SET", "SETEX", "SETNX", "SETRANGE", "STRLEN", "SUBSTR");
        Range("string", 1, -1, 2, "MSET", "MSETNX");
        Range("string", 1, -1, 1, "MGET");
        Range("string", 1, 2, 1, "LCS");

        One("bitmap", "SETBIT", "GETBIT", "BITCOUNT", "BITPOS", "BITFIELD", "BITFIELD_RO");
        Range("bitmap", 2, -1, 1, "BITOP");

        One("hyperloglog", "PFADD");
        Range("hyperloglog", 1, -1, 1, "PFMERGE", "PFCOUNT");
        Range("hyperloglog", 2, 2, 1, "PFDEBUG");

        One("list", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LINSERT", "LSET", "LREM", "LTRIM", "LPOP", "RPOP", "LINDEX", "LLEN", "LRANGE", "LPOS");
        Range("list", 1, 2, 1, "RPOPLPUSH", "LMOVE", "BLMOVE", "BRPOPLPUSH");
        Range("list", 1, -2, 1, "BLPOP", "BRPOP");
        NumKeys("list", 0, 0, 1, "LMPOP");
        NumKeys("list", 0, 0, 2, "BLMPOP");

        One("set", "SADD", "SREM", "SPOP", "SMEMBERS", "SCARD", "SISMEMBER", "SMISMEMBER", "SRANDMEMBER", "SSCAN");
        Range("set", 1, 2, 1, "SMOVE");
        Range("set", 1, -1, 1, "SDIFF", "SINTER", "SUNION", "SDIFFSTORE", "SINTERSTORE", "SUNIONSTORE");
        NumKeys("set", 0, 0, 1, "SINTERCARD");

        One("sorted-set", "ZADD", "ZINCRBY", "ZREM", "ZREMRANGEBYSCORE", "ZREMRANGEBYRANK", "ZREMRANGEBYLEX", "ZPOPMIN", "ZPOPMAX",
            "ZRANGE", "ZRANGEBYSCORE", "ZRANGEBYLEX", "ZREVRANGE", "ZREVRANGEBYSCORE", "ZREVRANGEBYLEX", "ZCARD", "ZCOUNT", "ZLEXCOUNT",
            "ZSCORE", "ZMSCORE", "ZRANK", "ZREVRANK", "ZSCAN", "ZRANDMEMBER");
        Range("sorted-set", 1, 2, 1, "ZRANGESTORE");
        Range("sorted-set", 1, -2, 1, "BZPOPMIN", "BZPOPMAX");
        NumKeys("sorted-set", 1, 1, 2, "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE");
        NumKeys("sorted-set", 0, 0, 1, "ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD", "ZMPOP");
        NumKeys("sorted-set", 0, 0, 2, "BZMPOP");

        One("geo", "GEOADD", "GEODIST", "GEOHASH", "GEOPOS", "GEOSEARCH", "GEORADIUS_RO", "GEORADIUSBYMEMBER_RO");
        Range("geo", 1, 2, 1, "GEOSEARCHSTORE");
        specs["GEORADIUS"] = new CommandSpec("GEORADIUS", "geo", KeySpecKind.Store);
        specs["GEORADIUSBYMEMBER"] = new CommandSpec("GEORADIUSBYMEMBER", "geo", KeySpecKind.Store);

        One("hash", "HSET", "HSETNX", "HMSET", "HDEL", "HINCRBY", "HINCRBYFLOAT", "HGET", "HMGET", "HGETALL", "HKEYS", "HVALS", "HLEN",
            "HEXISTS", "HSTRLEN", "HSCAN", "HRANDFIELD", "HEXPIRE", "HPEXPIRE", "HEXPIREAT", "HPEXPIREAT", "HPERSIST", "HTTL", "HPTTL",
            "HEXPIRETIME", "HPEXPIRETIME", "HGETDEL", "HGETEX", "HSETEX");

        One("stream", "XADD", "XDEL", "XTRIM", "XSETID", "XACK", "XCLAIM", "XAUTOCLAIM", "XLEN", "XRANGE", "XREVRANGE", "XPENDING");
        Range("stream", 2, 2, 1, "XGROUP", "XINFO");
        specs["XREAD"] = new CommandSpec("XREAD", "stream", KeySpecKind.Streams);
        specs["XREADGROUP"] = new CommandSpec("XREADGROUP", "stream", KeySpecKind.Streams);

        NumKeys("scripting", 0, 0, 2, "EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO");
        None("scripting", "SCRIPT", "FUNCTION");

        None("pubsub", "PUBLISH", "SPUBLISH", "SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE", "PUBSUB");
        None("transactions", "MULTI", "EXEC", "DISCARD", "UNWATCH");
        Range("transactions", 1, -1, 1, "WATCH");
        None("connection", "SELECT", "PING", "ECHO", "AUTH", "HELLO", "CLIENT", "RESET", "QUIT");
        None("server", "FLUSHDB", "FLUSHALL", "SWAPDB", "REPLCONF", "PSYNC", "SYNC", "INFO", "CONFIG", "DBSIZE", "SAVE", "BGSAVE",
            "BGREWRITEAOF", "LASTSAVE", "DEBUG", "MEMORY", "ACL", "COMMAND", "TIME", "SHUTDOWN", "SLAVEOF", "REPLICAOF", "MONITOR", "LATENCY", "SLOWLOG");
        None("cluster", "CLUSTER", "ASKING", "READONLY", "READWRITE");
        return specs;
    }
}
