using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>The filter's globs and key positions agree with Redis itself: KEYS for the globs, COMMAND GETKEYS for the keys.</summary>
public sealed class KeyFilterTests : IClassFixture<KeyFilterTests.SharedServer>
{
    private readonly SharedServer _shared;

    public KeyFilterTests(SharedServer shared) => _shared = shared;

    /// <summary>One server for the many GETKEYS questions; it holds no data.</summary>
    public sealed class SharedServer : IDisposable
    {
        public RedisServer Server { get; } = RedisServer.Start();

        public void Dispose() => Server.Dispose();
    }

    private static readonly string[] Keys =
    {
        "user:1", "user:10", "user:", "User:1", "a*b", "a?b", "axb", "a[b", "a]b", "a\\b", "hello", "hallo", "hxllo", "heeeello",
        "", "*", "?", "[", "x-y", "b", "-", "abc:def:ghi", "\u00e9t\u00e9",
    };

    private static readonly string[] Patterns =
    {
        "*", "user:*", "user:?", "user:??", "[uU]ser:*", "h?llo", "h*llo", "h[ae]llo", "h[^e]llo", "h[a-b]llo", "h[b-a]llo", "a\\*b", "a\\?b",
        "a[*]b", "a[\\]]b", "a[\\\\]b", "*:*:*", "[", "[a-", "a[", "\\", "x\\-y", "[-]", "?*", "**", "*?*", "[^a-z]*", "\u00e9*",
    };

    [Fact]
    public void Globs_match_the_keys_that_KEYS_returns()
    {
        using RedisServer server = RedisServer.Start();
        IDatabase db = server.Db();
        foreach (string key in Keys) db.StringSet(key, "1");
        foreach (string pattern in Patterns)
        {
            var expected = ((RedisResult[])db.Execute("KEYS", pattern)!).Select(r => (string)r!).OrderBy(k => k, StringComparer.Ordinal).ToArray();
            var pattern2 = new KeyPattern(pattern);
            var actual = Keys.Where(k => pattern2.IsMatch(Encoding.UTF8.GetBytes(k))).OrderBy(k => k, StringComparer.Ordinal).ToArray();
            Assert.True(expected.SequenceEqual(actual), $"pattern {pattern}: KEYS {string.Join(",", expected)}; ours {string.Join(",", actual)}");
        }
    }

    public static IEnumerable<object[]> Commands() => new[]
    {
        "SET k v", "MSET a 1 b 2 c 3", "MSETNX a 1 b 2", "DEL a b c", "UNLINK a b", "EXISTS a b c", "TOUCH a b", "RENAME a b", "RENAMENX a b",
        "COPY a b DB 1 REPLACE", "SMOVE a b m", "LMOVE a b LEFT RIGHT", "BLMOVE a b LEFT RIGHT 0", "RPOPLPUSH a b", "BRPOPLPUSH a b 0",
        "BLPOP a b 0", "BZPOPMIN a b 0", "LMPOP 2 a b LEFT", "BLMPOP 0 2 a b LEFT COUNT 2", "ZMPOP 1 a MIN", "ZUNIONSTORE d 2 a b WEIGHTS 1 2",
        "ZINTERSTORE d 2 a b", "ZDIFFSTORE d 2 a b", "ZUNION 2 a b", "ZRANGESTORE d s 0 -1", "SINTERSTORE d a b", "SUNIONSTORE d a b", "SINTERCARD 2 a b",
        "BITOP AND d a b", "PFMERGE d a b", "PFCOUNT a b", "EVAL return 2 a b x y", "EVALSHA 0123456789012345678901234567890123456789 1 a x",
        "FCALL f 2 a b x", "XADD s * f v", "XGROUP CREATE s g $", "XREADGROUP GROUP g c COUNT 1 STREAMS s1 s2 > >", "XREAD COUNT 1 STREAMS a b 0 0",
        "XACK s g 1-0", "XCLAIM s g c 0 1-0", "XAUTOCLAIM s g c 0 0", "XSETID s 1-0", "HSET h f v", "HDEL h f", "ZADD z 1 m", "SADD s m", "LPUSH l x",
        "GEOADD g 1 2 m", "GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km", "GEORADIUS g 1 2 3 km STORE d", "SORT a STORE d", "SORT a BY w GET #",
        "EXPIRE k 10", "PEXPIREAT k 1", "PERSIST k", "MOVE k 1", "RESTORE k 0 x", "SETRANGE k 0 v", "APPEND k v", "INCRBY k 1", "GETDEL k",
        "LCS a b", "OBJECT ENCODING k", "MIGRATE h 1 k 0 5", "MIGRATE h 1 \"\" 0 5 KEYS a b", "FLUSHDB", "SWAPDB 0 1", "PUBLISH c m",
    }.Select(c => new object[] { c });

    [Theory]
    [MemberData(nameof(Commands))]
    public void Key_positions_are_the_keys_COMMAND_GETKEYS_names(string command)
    {
        RedisServer server = _shared.Server;
        string[] args = Split(command);
        var expected = new List<string>();
        try
        {
            RedisResult reply = server.Db().Execute("COMMAND", new object[] { "GETKEYS" }.Concat(args).ToArray());
            expected.AddRange(((RedisResult[])reply!).Select(r => (string)r!));
        }
        catch (RedisServerException ex) when (ex.Message.Contains("key", StringComparison.OrdinalIgnoreCase))
        {
            // "The command has no key arguments" (FLUSHDB, SWAPDB, PUBLISH).
        }
        CommandSpec? spec = CommandKeys.Find(args[0]);
        Assert.NotNull(spec);
        var sequences = args.Select(a => new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(a))).ToList();
        var indexes = new List<int>();
        CommandKeys.KeyIndexes(spec!, sequences, indexes);
        Assert.Equal(expected, indexes.Select(i => args[i]));
    }

    [Fact]
    public void Every_group_of_exclude_command_is_a_group_redis_reports()
    {
        RedisServer server = _shared.Server;
        RedisResult[] docs = (RedisResult[])server.Db().Execute("COMMAND", "DOCS", "SET", "EVAL", "ZADD", "GEOADD", "PFADD", "SETBIT", "XADD", "HSET", "SADD", "LPUSH", "DEL", "FLUSHDB", "PUBLISH", "MULTI", "SELECT")!;
        for (int i = 0; i < docs.Length; i += 2)
        {
            string name = ((string)docs[i]!).ToUpperInvariant();
            var fields = (RedisResult[])docs[i + 1]!;
            string group = Enumerable.Range(0, fields.Length / 2).Where(j => (string)fields[2 * j]! == "group").Select(j => (string)fields[2 * j + 1]!).Single();
            Assert.Equal(group, CommandKeys.Find(name)!.Group);
            Assert.Contains(group, CommandKeys.Groups);
        }
    }

    private static string[] Split(string command)
    {
        var parts = new List<string>();
        foreach (string part in command.Split(' ')) parts.Add(part == "\"\"" ? string.Empty : part);
        return parts.ToArray();
    }

}
