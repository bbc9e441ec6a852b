using System;
using System.Collections.Generic;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Writers;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Writers;

/// <summary>Transactional mode: the checkpoint key moves with the data, and a lost link or a restarted target is recovered exactly once.</summary>
public sealed class TargetWriterCheckpointTests
{
    private const string CheckpointKey = "redissync:checkpoint";

    [Fact]
    public async Task The_checkpoint_key_matches_the_data_after_every_drain()
    {
        using var server = RedisServer.Start();
        var options = new TargetWriterOptions { CheckpointKey = CheckpointKey, CheckpointDb = 1, MaxBatchCommands = 7 };
        var expected = new Dictionary<(int Db, string Key), long>();
        var random = new Random(42);
        long sequence = 0;
        long commands = 0;
        using (TargetWriter writer = await WriterHelpers.Connect(server, options))
        {
            Assert.True(writer.IsTransactional);
            Assert.Null(writer.AcknowledgedCheckpoint);
            for (int round = 0; round < 40; round++)
            {
                int units = random.Next(1, 30);
                for (int unit = 0; unit < units; unit++)
                {
                    int size = random.Next(1, 4);
                    for (int j = 0; j < size; j++)
                    {
                        int db = random.Next(3);
                        string key = "c" + random.Next(10);
                        writer.SelectDb(db);
                        writer.Command("INCR", key);
                        expected[(db, key)] = expected.GetValueOrDefault((db, key)) + 1;
                        commands++;
                        // Sometimes in the middle of a unit: only what precedes the last commit point goes.
                        if (random.Next(6) == 0) writer.Flush();
                    }
                    writer.Commit(++sequence);
                }
                await writer.DrainAsync(CancellationToken.None);

                Assert.Equal("seq:" + sequence, server.Db(1).Get(CheckpointKey));
                Assert.Equal("seq:" + sequence, Encoding.ASCII.GetString(writer.AcknowledgedCheckpoint!));
                foreach (var ((db, key), count) in expected) Assert.Equal(count.ToString(), server.Db(db).Get(key));
                Assert.Equal(commands, writer.Statistics.CommandsAcknowledged);
            }
        }
        // A writer that connects later starts from what the target holds.
        using (TargetWriter again = await WriterHelpers.Connect(server, options))
        {
            Assert.Equal("seq:" + sequence, Encoding.ASCII.GetString(again.AcknowledgedCheckpoint!));
        }
    }

    [Fact]
    public async Task Killing_the_link_in_a_stream_of_increments_loses_nothing_and_applies_nothing_twice()
    {
        using var server = RedisServer.Start();
        var options = new TargetWriterOptions { CheckpointKey = CheckpointKey, ClientName = "writer-killed", MaxBatchCommands = 200 };
        using TargetWriter writer = await WriterHelpers.Connect(server, options);
        const int total = 200_000;
        const int kills = 5;
        Thread producer = StartIncrements(writer, total, counters: 100);
        for (int kill = 1; kill <= kills; kill++)
        {
            WriterHelpers.WaitFor(() => writer.Statistics.CommandsAcknowledged >= kill * total / (kills + 1) || writer.Fault != null, "progress");
            Assert.Null(writer.Fault);
            WriterHelpers.KillClient(server, "writer-killed");
            WriterHelpers.WaitFor(() => writer.Statistics.Reconnects == kill || writer.Fault != null, "the writer to reconnect");
        }
        Assert.True(producer.Join(TimeSpan.FromSeconds(120)));
        await writer.DrainAsync(CancellationToken.None);

        AssertCounters(server, total, counters: 100);
        Assert.Equal("seq:" + total, server.Db().Get(CheckpointKey));
        Assert.Equal(kills, writer.Statistics.Reconnects);
        Assert.Equal(kills, writer.Statistics.ErrorCount(SyncErrorKind.Retry));
        Assert.Equal(total, writer.Statistics.CommandsAcknowledged);
        Assert.True(writer.Statistics.CommandsSent >= total);
    }

    [Fact]
    public async Task Batches_applied_whose_replies_were_lost_are_not_sent_again_and_the_others_are()
    {
        using var server = RedisServer.Start();
        using var proxy = new TcpProxy(server.Port);
        var options = new TargetWriterOptions { CheckpointKey = CheckpointKey, MaxBatchCommands = 100 };
        using TargetWriter writer = await WriterHelpers.Connect(proxy.Port, options);
        long sequence = 0;
        void Increments(int count)
        {
            for (int i = 0; i < count; i++)
            {
                writer.Command("INCR", "n");
                writer.Commit(++sequence);
            }
            writer.Flush();
        }
        Increments(10);
        await writer.DrainAsync(CancellationToken.None);

        // The target applies these batches, but their replies never arrive.
        proxy.DropReplies = true;
        Increments(1000);
        WriterHelpers.WaitFor(() => server.Db().Get(CheckpointKey) == "seq:1010", "the target to apply the batches");
        // These never reach the target.
        proxy.DropRequests = true;
        Increments(250);
        WriterHelpers.WaitFor(() => writer.Statistics.CommandsSent == 1260, "the last batches to be sent");
        Assert.Equal(10, writer.Statistics.CommandsAcknowledged);

        // Cut first: a link that dropped the start of a batch must not deliver its rest (TCP never would), as the
        // rest without its MULTI would run its commands one by one and set the checkpoint.
        proxy.CutAll();
        proxy.DropReplies = proxy.DropRequests = false;
        await writer.DrainAsync(CancellationToken.None);

        Assert.Equal("1260", server.Db().Get("n"));
        Assert.Equal("seq:1260", server.Db().Get(CheckpointKey));
        Assert.Equal("seq:1260", Encoding.ASCII.GetString(writer.AcknowledgedCheckpoint!));
        Assert.Equal(1, writer.Statistics.Reconnects);
        // 250 increments in batches of at most 100 commands (MULTI, SET and EXEC included): 3 batches went again.
        Assert.Equal(3, writer.Statistics.BatchesResent);
        Assert.Equal(1260, writer.Statistics.CommandsAcknowledged);
    }

    [Fact]
    public async Task Batches_left_queued_on_a_lost_connection_at_a_paused_target_do_not_run_next_to_their_resent_copies()
    {
        using var server = RedisServer.Start();
        using var proxy = new TcpProxy(server.Port);
        var options = new TargetWriterOptions { CheckpointKey = CheckpointKey, MaxBatchCommands = 100, ClientName = "writer-paused" };
        using TargetWriter writer = await WriterHelpers.Connect(proxy.Port, options);
        for (int i = 1; i <= 10; i++)
        {
            writer.Command("INCR", "n");
            writer.Commit(i);
        }
        await writer.DrainAsync(CancellationToken.None);

        // A failover pauses writes: the batches wait in the target's query buffer of this connection.
        server.Db().Execute("CLIENT", "PAUSE", "60000", "WRITE");
        long delivered = proxy.RequestBytes;
        long sent = writer.Statistics.BytesSent;
        for (int i = 11; i <= 110; i++)
        {
            writer.Command("INCR", "n");
            writer.Commit(i);
        }
        writer.Flush();
        WriterHelpers.WaitFor(() => proxy.RequestBytes - delivered == writer.Statistics.BytesSent - sent && writer.Statistics.CommandsSent == 110, "the batches to reach the target");
        // The link breaks near the writer; the target keeps the old connection and its queued batches.
        proxy.AbandonClients();
        WriterHelpers.WaitFor(() => writer.Statistics.Reconnects == 1 || writer.Fault != null, "the writer to reconnect");
        server.Db().Execute("CLIENT", "UNPAUSE");
        await writer.DrainAsync(CancellationToken.None);

        Assert.Equal("110", server.Db().Get("n"));
        Assert.Equal("seq:110", server.Db().Get(CheckpointKey));
        Assert.True(writer.Statistics.BatchesResent >= 2);
    }

    [Fact]
    public async Task A_target_restarted_with_persistence_in_a_stream_of_increments_ends_with_exact_counters()
    {
        using var server = RedisServer.Start("--appendonly", "yes");
        var options = new TargetWriterOptions { CheckpointKey = CheckpointKey, MaxBatchCommands = 200, ReconnectTimeout = TimeSpan.FromSeconds(60) };
        using TargetWriter writer = await WriterHelpers.Connect(server, options);
        const int total = 100_000;
        Thread producer = StartIncrements(writer, total, counters: 50);
        for (int restart = 1; restart <= 2; restart++)
        {
            WriterHelpers.WaitFor(() => writer.Statistics.CommandsAcknowledged >= restart * total / 3 || writer.Fault != null, "progress");
            Assert.Null(writer.Fault);
            server.Stop();
            server.Restart();
            WriterHelpers.WaitFor(() => writer.Statistics.Reconnects == restart || writer.Fault != null, "the writer to reconnect");
        }
        Assert.True(producer.Join(TimeSpan.FromSeconds(120)));
        await writer.DrainAsync(CancellationToken.None);

        AssertCounters(server, total, counters: 50);
        Assert.Equal("seq:" + total, server.Db().Get(CheckpointKey));
        Assert.Equal(2, writer.Statistics.Reconnects);
    }

    [Fact]
    public async Task A_target_that_lost_acknowledged_writes_stops_the_writer_with_CheckpointInvalid()
    {
        using var server = RedisServer.Start();
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { CheckpointKey = CheckpointKey, ClientName = "writer-flushed" });
        writer.Command("SET", "a", "1");
        writer.Commit(1);
        await writer.DrainAsync(CancellationToken.None);
        server.Db().Execute("FLUSHALL");
        WriterHelpers.KillClient(server, "writer-flushed");
        WriterHelpers.WaitFor(() => writer.Fault != null, "the writer to stop");

        SyncException e = writer.Fault!;
        Assert.Equal(SyncErrorIds.CheckpointInvalid, e.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, e.Kind);
        Assert.StartsWith($"After reconnecting, the checkpoint key \"{CheckpointKey}\" on the target 127.0.0.1:{server.Port} holds nothing, " +
            "which is neither the last acknowledged checkpoint (\"seq:1\") nor that of a batch in flight.", e.Message);
        Assert.Same(e, Assert.Throws<SyncException>(() => writer.Command("SET", "b", "2")));
    }

    [Fact]
    public async Task A_frozen_target_ends_the_reconnect_attempts_with_TargetLinkLost()
    {
        using var server = RedisServer.Start();
        using var proxy = new TcpProxy(server.Port);
        var options = new TargetWriterOptions { CheckpointKey = CheckpointKey, ReconnectTimeout = TimeSpan.FromSeconds(2), LoadingTimeout = TimeSpan.FromSeconds(1) };
        using TargetWriter writer = await WriterHelpers.Connect(proxy.Port, options);
        writer.Command("SET", "a", "1");
        writer.Commit(1);
        await writer.DrainAsync(CancellationToken.None);
        // The process stops answering, but its kernel still accepts connections.
        server.Shell("kill -STOP " + server.Pid);
        try
        {
            proxy.CutAll();
            WriterHelpers.WaitFor(() => writer.Fault != null, "the writer to give up", seconds: 30);
        }
        finally
        {
            server.Shell("kill -CONT " + server.Pid);
        }
        SyncException e = writer.Fault!;
        Assert.Equal(SyncErrorIds.TargetLinkLost, e.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, e.Kind);
        Assert.StartsWith($"The connection to the target 127.0.0.1:{proxy.Port} was lost (", e.Message);
        Assert.EndsWith("could not be re-established within 00:00:02: TimeoutException: the target did not answer within 00:00:03", e.Message);
    }

    [Fact]
    public async Task Two_commit_points_with_the_same_value_are_refused()
    {
        using var server = RedisServer.Start();
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { CheckpointKey = CheckpointKey });
        writer.Command("SET", "a", "1");
        writer.Commit(1);
        writer.Flush();
        // The same commit point again with nothing new: nothing to send, no error.
        writer.Commit(1);
        await writer.DrainAsync(CancellationToken.None);
        Assert.Equal(1, writer.Statistics.BatchesSent);
        writer.Command("SET", "b", "2");
        writer.Commit(1);
        InvalidOperationException e = Assert.Throws<InvalidOperationException>(() => writer.Flush());
        Assert.Contains("two batches with the same checkpoint value \"seq:1\"", e.Message);
    }

    /// <summary>A producer thread (like the parser's) writing INCRs round-robin over counters in two databases, a commit point after each.</summary>
    private static Thread StartIncrements(TargetWriter writer, int total, int counters)
    {
        var thread = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < total; i++)
                {
                    int counter = i % counters;
                    writer.SelectDb(counter % 2);
                    writer.Command("INCR", "counter:" + counter);
                    writer.KeyDone();
                    writer.Commit(i + 1);
                }
                writer.Flush();
            }
            catch (SyncException)
            {
                // The test sees the fault through writer.Fault.
            }
        });
        thread.Start();
        return thread;
    }

    private static void AssertCounters(RedisServer server, int total, int counters)
    {
        for (int counter = 0; counter < counters; counter++)
        {
            Assert.Equal((total / counters).ToString(), server.Db(counter % 2).Get("counter:" + counter));
        }
    }
}
