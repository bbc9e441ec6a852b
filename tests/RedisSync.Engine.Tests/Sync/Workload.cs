using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>
/// A mixed write workload on the source, at full speed, covering every command family a replica
/// must follow: strings and counters, expirations, lists and blocking pops, sets, sorted sets,
/// hashes, streams and consumer groups, keyspace moves (RENAME, COPY, MOVE, SWAPDB), deletes and
/// FLUSHDB, MULTI/EXEC, EVAL and FCALL, PUBLISH, several databases. Counts its INCRs exactly.
/// </summary>
internal sealed class Workload
{
    public const int Counters = 20;
    private const string Library = "#!lua name=wl\nredis.register_function('wl_set', function(keys, args) redis.call('SET', keys[1], args[1]) return redis.call('INCR', keys[2]) end)";
    private readonly RedisServer _source;
    private readonly long[] _increments = new long[Counters];
    private long _operations;

    public Workload(RedisServer source)
    {
        _source = source;
        IDatabase db = source.Db();
        db.Execute("FUNCTION", "LOAD", "REPLACE", Library);
        db.Execute("XGROUP", "CREATE", "wl:stream", "g", "$", "MKSTREAM");
    }

    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>How many times each counter key (db 0, "wl:counter:i") was incremented.</summary>
    public long Increments(int i) => Interlocked.Read(ref _increments[i]);

    public async Task RunAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        using ConnectionMultiplexer mux = ConnectionMultiplexer.Connect($"{_source.Endpoint},allowAdmin=true,syncTimeout=30000,abortConnect=false");
        using ConnectionMultiplexer blocking = ConnectionMultiplexer.Connect($"{_source.Endpoint},syncTimeout=30000,abortConnect=false");
        var until = DateTime.UtcNow + duration;
        Task pops = Task.Run(async () =>
        {
            IDatabase b = blocking.GetDatabase(0);
            while (DateTime.UtcNow < until && !cancellationToken.IsCancellationRequested)
            {
                try { await b.ExecuteAsync("BLPOP", "wl:queue", 1); } catch (RedisException) { }
            }
        });
        var random = new Random(7);
        var pending = new List<Task>(256);
        long round = 0;
        while (DateTime.UtcNow < until && !cancellationToken.IsCancellationRequested)
        {
            round++;
            for (int i = 0; i < 200; i++) pending.Add(One(mux, random, round * 200 + i));
            try { await Task.WhenAll(pending); } catch (RedisServerException) { } catch (RedisConnectionException) { } catch (RedisTimeoutException) { }
            pending.Clear();
        }
        await pops;
    }

    private Task One(ConnectionMultiplexer mux, Random random, long n)
    {
        Interlocked.Increment(ref _operations);
        int dbNo = random.Next(10) < 7 ? 0 : random.Next(1, 4);
        IDatabase db = mux.GetDatabase(dbNo);
        IDatabase db0 = mux.GetDatabase(0);
        string k = "wl:" + random.Next(200);
        switch (random.Next(40))
        {
            case 0: return db.StringSetAsync("wl:s:" + random.Next(500), "v" + n);
            case 1: return db.StringSetAsync("wl:ttl:" + random.Next(200), "t", TimeSpan.FromMilliseconds(random.Next(50, 1500)));
            case 2:
            {
                int c = random.Next(Counters);
                Interlocked.Increment(ref _increments[c]);
                return db0.StringIncrementAsync("wl:counter:" + c);
            }
            case 3: return db.StringAppendAsync("wl:s:" + random.Next(500), "+");
            case 4: return db.ExecuteAsync("SETRANGE", "wl:range:" + random.Next(50), random.Next(100), "xyz");
            case 5: return db.ExecuteAsync("INCRBYFLOAT", "wl:float:" + random.Next(20), "0.1");
            case 6: return db.ListLeftPushAsync("wl:list:" + random.Next(50), "l" + n);
            case 7: return db.ListRightPopAsync("wl:list:" + random.Next(50));
            case 8: return db.ExecuteAsync("LMOVE", "wl:list:" + random.Next(50), "wl:list:" + random.Next(50), "LEFT", "RIGHT");
            case 9: return db0.ListRightPushAsync("wl:queue", "job" + n);
            case 10: return db.SetAddAsync("wl:set:" + random.Next(50), "m" + random.Next(1000));
            case 11: return db.SetRemoveAsync("wl:set:" + random.Next(50), "m" + random.Next(1000));
            case 12: return db.ExecuteAsync("SPOP", "wl:set:" + random.Next(50));
            case 13: return db.ExecuteAsync("ZADD", "wl:z:" + random.Next(50), random.Next(3) == 0 ? "inf" : (random.NextDouble() * 1000 - 500).ToString("R"), "m" + random.Next(300));
            case 14: return db.SortedSetIncrementAsync("wl:z:" + random.Next(50), "m" + random.Next(300), 0.25);
            case 15: return db.ExecuteAsync("ZPOPMIN", "wl:z:" + random.Next(50));
            case 16: return db.HashSetAsync("wl:h:" + random.Next(50), "f" + random.Next(100), "v" + n);
            case 17: return db.HashDeleteAsync("wl:h:" + random.Next(50), "f" + random.Next(100));
            case 18: return db.HashIncrementAsync("wl:h:" + random.Next(50), "n", 1);
            case 19: return db0.ExecuteAsync("XADD", "wl:stream", "MAXLEN", "~", "2000", "*", "n", n.ToString(), "p", new string('x', random.Next(20)));
            case 20: return db0.ExecuteAsync("XREADGROUP", "GROUP", "g", "c" + random.Next(3), "COUNT", "5", "STREAMS", "wl:stream", ">");
            case 21: return XAckSomeAsync(db0);
            case 22: return db0.ExecuteAsync("XAUTOCLAIM", "wl:stream", "g", "c9", "0", "0-0", "COUNT", "3");
            case 23: return db.KeyExpireAsync(k, TimeSpan.FromMilliseconds(random.Next(100, 3000)));
            case 24: return db.KeyPersistAsync(k);
            case 25: return db.ExecuteAsync("RENAME", "wl:s:" + random.Next(500), "wl:s:" + random.Next(500));
            case 26: return db.ExecuteAsync("COPY", "wl:h:" + random.Next(50), "wl:copy:" + random.Next(20), "DB", random.Next(4).ToString(), "REPLACE");
            case 27: return db0.ExecuteAsync("MOVE", "wl:s:" + random.Next(500), "1");
            case 28: return random.Next(50) == 0 ? db0.ExecuteAsync("SWAPDB", "2", "3") : Task.CompletedTask;
            case 29: return db.KeyDeleteAsync("wl:set:" + random.Next(50));
            case 30: return db.ExecuteAsync("UNLINK", "wl:z:" + random.Next(50));
            case 31: return random.Next(200) == 0 ? mux.GetDatabase(4).ExecuteAsync("FLUSHDB") : mux.GetDatabase(4).StringSetAsync("wl:db4:" + random.Next(100), "v");
            case 32:
            {
                ITransaction tx = db0.CreateTransaction();
                int c = random.Next(Counters);
                Interlocked.Increment(ref _increments[c]);
                _ = tx.StringIncrementAsync("wl:counter:" + c);
                _ = tx.ListLeftPushAsync("wl:list:" + random.Next(50), "tx" + n);
                _ = tx.HashSetAsync("wl:h:" + random.Next(50), "tx", n);
                return tx.ExecuteAsync();
            }
            case 33:
            {
                int c = random.Next(Counters);
                Interlocked.Increment(ref _increments[c]);
                return db0.ScriptEvaluateAsync("redis.call('SET', KEYS[1], ARGV[1]) return redis.call('INCR', KEYS[2])",
                    new RedisKey[] { "wl:eval:" + random.Next(20), "wl:counter:" + c }, new RedisValue[] { n });
            }
            case 34:
            {
                int c = random.Next(Counters);
                Interlocked.Increment(ref _increments[c]);
                return db0.ExecuteAsync("FCALL", "wl_set", "2", "wl:fcall:" + random.Next(20), "wl:counter:" + c, n.ToString());
            }
            case 35: return db0.PublishAsync(RedisChannel.Literal("wl:channel"), "message " + n);
            case 36: return db.ExecuteAsync("GETDEL", "wl:s:" + random.Next(500));
            case 37: return db.ExecuteAsync("MSET", "wl:m:" + random.Next(100), "a", "wl:m:" + random.Next(100), "b");
            case 38: return db.ExecuteAsync("SINTERSTORE", "wl:set:inter", "wl:set:" + random.Next(50), "wl:set:" + random.Next(50));
            default: return db.ExecuteAsync("ZUNIONSTORE", "wl:z:union", "2", "wl:z:" + random.Next(50), "wl:z:" + random.Next(50));
        }
    }

    private static async Task XAckSomeAsync(IDatabase db)
    {
        RedisResult pending = await db.ExecuteAsync("XPENDING", "wl:stream", "g", "-", "+", "5");
        foreach (RedisResult entry in (RedisResult[])pending!)
        {
            await db.ExecuteAsync("XACK", "wl:stream", "g", (string)((RedisResult[])entry!)[0]!);
        }
    }
}
