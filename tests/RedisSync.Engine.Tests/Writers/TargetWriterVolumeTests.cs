using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Writers;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Writers;

/// <summary>Volume, batching, the in-flight window and database switching, against a real redis-server.</summary>
public sealed class TargetWriterVolumeTests
{
    [Fact]
    public async Task A_million_sets_land_exactly_and_the_window_bounds_what_is_in_flight()
    {
        using var server = RedisServer.Start();
        var options = new TargetWriterOptions { MaxBatchCommands = 500, MaxBatchBytes = 32 * 1024, MaxInFlightCommands = 4000, MaxInFlightBytes = 256 * 1024 };
        const int count = 1_000_000;
        using (TargetWriter writer = await WriterHelpers.Connect(server, options))
        {
            Assert.Equal(7, writer.Server.Version.Major);
            for (int i = 0; i < count; i++)
            {
                writer.Command("SET", "key:" + i, "value:" + i);
                writer.KeyDone();
            }
            await writer.DrainAsync(CancellationToken.None);

            WriterStatistics stats = writer.Statistics;
            Assert.Equal(count, stats.CommandsSent);
            Assert.Equal(count, stats.CommandsAcknowledged);
            Assert.Equal(count, stats.KeysAcknowledged);
            Assert.Equal(0, stats.CommandsSkipped);
            Assert.Equal(stats.BatchesSent, stats.BatchesAcknowledged);
            Assert.True(stats.BatchesSent >= count / 500, $"{stats.BatchesSent} batches");
            Assert.InRange(stats.PeakInFlightCommands, 1, options.MaxInFlightCommands);
            Assert.InRange(stats.PeakInFlightBytes, 1, options.MaxInFlightBytes);
            Assert.Equal(0, stats.InFlightCommands);
            Assert.Equal(0, stats.InFlightBytes);
            Assert.Null(writer.Fault);
        }

        IDatabase db = server.Db();
        Assert.Equal(count, (long)db.Execute("DBSIZE"));
        for (int start = 0; start < count; start += 1000)
        {
            RedisKey[] keys = Enumerable.Range(start, 1000).Select(i => (RedisKey)("key:" + i)).ToArray();
            RedisValue[] values = db.StringGet(keys);
            for (int i = 0; i < keys.Length; i++) Assert.Equal("value:" + (start + i), (string?)values[i]);
        }
    }

    [Fact]
    public async Task The_producer_blocks_while_the_window_is_full_and_goes_on_when_replies_come()
    {
        using var server = RedisServer.Start();
        var options = new TargetWriterOptions { MaxBatchCommands = 100, MaxInFlightCommands = 1000 };
        using TargetWriter writer = await WriterHelpers.Connect(server, options);
        server.Db().Execute("CLIENT", "PAUSE", "60000", "WRITE");
        int produced = 0;
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 20_000; i++)
            {
                writer.Command("SET", "k" + i, i);
                Interlocked.Increment(ref produced);
            }
            writer.Flush();
        });
        producer.Start();
        WriterHelpers.WaitFor(() => writer.Statistics.InFlightCommands >= options.MaxInFlightCommands - options.MaxBatchCommands, "the window to fill");
        // The producer waits for room in the window, blocked (a producer that did not block would run through all 20,000 commands).
        WriterHelpers.WaitFor(() => (producer.ThreadState & ThreadState.WaitSleepJoin) != 0, "the producer to block");
        Assert.True(producer.IsAlive);
        Assert.InRange(Volatile.Read(ref produced), 1, options.MaxInFlightCommands + options.MaxBatchCommands);
        Assert.Equal(0, writer.Statistics.CommandsAcknowledged);

        server.Db().Execute("CLIENT", "UNPAUSE");
        Assert.True(producer.Join(TimeSpan.FromSeconds(60)));
        await writer.DrainAsync(CancellationToken.None);
        Assert.Equal(20_000, writer.Statistics.CommandsAcknowledged);
        Assert.InRange(writer.Statistics.PeakInFlightCommands, 1, options.MaxInFlightCommands);
        Assert.Equal("19999", server.Db().Get("k19999"));
    }

    [Fact]
    public async Task Disposing_the_writer_releases_a_producer_blocked_on_the_window()
    {
        using var server = RedisServer.Start();
        TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { MaxBatchCommands = 10, MaxInFlightCommands = 100 });
        server.Db().Execute("CLIENT", "PAUSE", "60000", "WRITE");
        Exception? thrown = null;
        var producer = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < 10_000; i++) writer.Command("SET", "k" + i, i);
            }
            catch (Exception e)
            {
                thrown = e;
            }
        });
        producer.Start();
        WriterHelpers.WaitFor(() => writer.Statistics.InFlightCommands >= 90, "the window to fill");
        writer.Dispose();
        Assert.True(producer.Join(TimeSpan.FromSeconds(30)));
        Assert.IsType<ObjectDisposedException>(thrown);
        server.Db().Execute("CLIENT", "UNPAUSE");
    }

    [Fact]
    public async Task Writing_commands_allocates_nothing_per_command_once_the_batches_are_pooled()
    {
        using var server = RedisServer.Start();
        var options = new TargetWriterOptions { MaxInFlightCommands = 10_000 };
        using TargetWriter writer = await WriterHelpers.Connect(server, options);
        byte[][] keys = Enumerable.Range(0, 1000).Select(i => Encoding.ASCII.GetBytes("key:" + i)).ToArray();
        byte[] value = new byte[100];
        void Write(int count)
        {
            for (int i = 0; i < count; i++)
            {
                writer.SelectDb(i / 10_000 % 2);
                writer.BeginCommand();
                writer.Arg("SET"u8);
                writer.Arg(keys[i % keys.Length]);
                writer.Arg(value);
                writer.EndCommand();
                writer.BeginCommand();
                writer.Arg("PEXPIREAT"u8);
                writer.Arg(keys[i % keys.Length]);
                writer.Arg(4_000_000_000_000L + i);
                writer.EndCommand();
                writer.KeyDone();
            }
            writer.Flush();
        }
        // Warm up with the window full once (writes paused), so that every batch the window can hold
        // exists and only recycled batches serve from then on; JIT and queues warm up too.
        server.Db().Execute("CLIENT", "PAUSE", "60000", "WRITE");
        var warmUp = new Thread(() => Write(200_000));
        warmUp.Start();
        WriterHelpers.WaitFor(() => writer.Statistics.InFlightCommands > options.MaxInFlightCommands - options.MaxBatchCommands, "the window to fill");
        server.Db().Execute("CLIENT", "UNPAUSE");
        Assert.True(warmUp.Join(TimeSpan.FromSeconds(60)));
        await writer.DrainAsync(CancellationToken.None);

        long before = GC.GetAllocatedBytesForCurrentThread();
        Write(200_000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        await writer.DrainAsync(CancellationToken.None);
        Assert.Equal(800_000, writer.Statistics.CommandsAcknowledged);
        Assert.True(allocated < 20_000, $"{allocated} bytes allocated for 400,000 commands");
    }

    [Fact]
    public async Task Big_hash_and_list_commands_built_element_by_element_land_exactly()
    {
        using var server = RedisServer.Start();
        const int fields = 100_000;
        const int elements = 250_000;
        using (TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions()))
        {
            writer.BeginCommand();
            writer.Arg("HSET"u8);
            writer.Arg("h:big"u8);
            for (int i = 0; i < fields; i++)
            {
                writer.Arg(Encoding.ASCII.GetBytes("field:" + i));
                writer.Arg(Encoding.ASCII.GetBytes("value:" + i + new string('x', i % 50)));
            }
            Assert.True(writer.PendingCommandBytes > fields * 20);
            writer.EndCommand();
            writer.KeyDone();

            writer.BeginCommand();
            writer.Arg("RPUSH"u8);
            writer.Arg("l:big"u8);
            for (int i = 0; i < elements; i++) writer.Arg(i);
            writer.EndCommand();
            // The same list again, split into bounded commands as the transform does for big keys.
            for (int start = 0; start < elements; start += 1000)
            {
                writer.BeginCommand();
                writer.Arg("RPUSH"u8);
                writer.Arg("l:split"u8);
                for (int i = start; i < start + 1000; i++) writer.Arg(i);
                writer.EndCommand();
            }
            writer.KeyDone();
            // Argument counts around the header's digit boundaries (9, 10, 99, 100).
            foreach (int n in new[] { 4, 5, 49, 50 })
            {
                writer.BeginCommand();
                writer.Arg("MSET"u8);
                for (int i = 0; i < n; i++)
                {
                    writer.Arg(Encoding.ASCII.GetBytes($"m{n}:{i}"));
                    writer.Arg(i);
                }
                writer.EndCommand();
            }
            await writer.DrainAsync(CancellationToken.None);
            Assert.Equal(2 + elements / 1000 + 4, writer.Statistics.CommandsAcknowledged);
            Assert.Equal(2, writer.Statistics.KeysAcknowledged);
        }

        IDatabase db = server.Db();
        HashEntry[] hash = db.HashGetAll("h:big");
        Assert.Equal(fields, hash.Length);
        var byName = hash.ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        for (int i = 0; i < fields; i++) Assert.Equal("value:" + i + new string('x', i % 50), byName["field:" + i]);
        foreach (string key in new[] { "l:big", "l:split" })
        {
            RedisValue[] list = db.ListRange(key);
            Assert.Equal(Enumerable.Range(0, elements).Select(i => i.ToString()), list.Select(v => (string)v!));
        }
        foreach (int n in new[] { 4, 5, 49, 50 })
        {
            for (int i = 0; i < n; i++) Assert.Equal(i.ToString(), db.Get($"m{n}:{i}"));
        }
    }

    [Fact]
    public async Task Commands_land_in_their_database_and_SELECT_is_sent_only_when_it_changes()
    {
        using var server = RedisServer.Start();
        using (TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { MaxBatchCommands = 64 }))
        {
            foreach (int db in new[] { 1, 2, 1, 0 })
            {
                writer.SelectDb(db);
                for (int i = 0; i < 1000; i++) writer.Command("RPUSH", "list", $"{db}:{i}");
            }
            writer.SelectDb(0);
            writer.Command("SET", "last", "0");
            await writer.DrainAsync(CancellationToken.None);
        }
        // Read before the checking client's own SELECTs count too.
        string stats = server.Cli("INFO", "commandstats");
        Assert.Contains("cmdstat_select:calls=4,", stats);
        Assert.Equal(2000, server.Db(1).ListLength("list"));
        Assert.Equal(1000, server.Db(2).ListLength("list"));
        Assert.Equal(1000, server.Db(0).ListLength("list"));
        Assert.Equal("1:999", (string?)server.Db(1).ListGetByIndex("list", 999));
        Assert.Equal("1:0", (string?)server.Db(1).ListGetByIndex("list", 1000));
    }

    [Fact]
    public async Task Invalid_options_are_refused_before_connecting()
    {
        var bad = new TargetWriterOptions { MaxBatchCommands = 100, MaxInFlightCommands = 50 };
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => WriterHelpers.Connect(1, bad));
        Assert.Equal("TargetWriterOptions.MaxInFlightCommands must be at least MaxBatchCommands (100). (Parameter 'MaxInFlightCommands')", e.Message);
        e = await Assert.ThrowsAsync<ArgumentException>(() => WriterHelpers.Connect(1, new TargetWriterOptions { ClientName = "a b" }));
        Assert.Contains("ClientName", e.Message);
    }
}
