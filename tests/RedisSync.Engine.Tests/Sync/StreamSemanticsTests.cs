using System;
using System.Diagnostics;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>What the command stream means on the target: transactions stay whole, PUBLISH stays on the source.</summary>
public sealed class StreamSemanticsTests
{
    [Fact]
    public async Task Source_transactions_stay_atomic_on_the_target_even_across_dropped_links()
    {
        using RedisServer source = RedisServer.Start("--repl-backlog-size", "64mb", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        await using var sync = new SyncHarness(SyncHarness.Options(source, target, "atomic"));
        await sync.WaitCaughtUpAsync(source);

        const int transactions = 20000;
        Task writes = Task.Run(async () =>
        {
            IDatabase db = source.Db();
            for (int i = 0; i < transactions; i += 100)
            {
                var batch = new Task[100];
                for (int j = 0; j < 100; j++)
                {
                    ITransaction tx = db.CreateTransaction();
                    _ = tx.StringIncrementAsync("a");
                    _ = tx.StringIncrementAsync("b");
                    batch[j] = tx.ExecuteAsync();
                }
                await Task.WhenAll(batch);
            }
        });
        long reads = 0;
        var clock = Stopwatch.StartNew();
        long lastKill = 0;
        while (!writes.IsCompleted)
        {
            RedisValue[] ab = target.Db().StringGet(new RedisKey[] { "a", "b" });
            Assert.Equal((long?)ab[0], (long?)ab[1]);
            reads++;
            if (clock.ElapsedMilliseconds - lastKill > 500)
            {
                source.Cli("CLIENT", "KILL", "TYPE", "replica");
                lastKill = clock.ElapsedMilliseconds;
            }
        }
        await writes;
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal(transactions, (long)target.Db().StringGet("a"));
        Assert.Equal(transactions, (long)target.Db().StringGet("b"));
        Assert.True(reads > 100, $"only {reads} reads on the target");
        Assert.Equal(1, SyncHarness.Stat(source, "sync_full"));
    }

    [Fact]
    public async Task Published_messages_are_not_replayed_on_the_target()
    {
        using RedisServer source = RedisServer.Start("--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        await using var sync = new SyncHarness(SyncHarness.Options(source, target, "publish"));
        await sync.WaitCaughtUpAsync(source);
        int received = 0;
        int ends = 0;
        ISubscriber subscriber = target.Client().GetSubscriber();
        subscriber.Subscribe(RedisChannel.Literal("news"), (_, message) =>
        {
            if (message == "end") Interlocked.Increment(ref ends);
            else Interlocked.Increment(ref received);
        });
        for (int i = 0; i < 100; i++) source.Db().Publish(RedisChannel.Literal("news"), "m" + i);
        source.Db().StringSet("marker", "1");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("1", (string?)target.Db().StringGet("marker"));
        // A marker published on the target itself, after the source's messages would have been: once it
        // arrives, any of theirs would have arrived before it.
        target.Db().Publish(RedisChannel.Literal("news"), "end");
        await SyncHarness.WaitUntilAsync(() => Volatile.Read(ref ends) == 1, "the marker message");
        Assert.Equal(0, received);
    }
}
