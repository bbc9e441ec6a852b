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

/// <summary>Every class of error a real target produces: its id, its message (naming key and command), and what landed before it.</summary>
public sealed class TargetWriterErrorTests
{
    [Fact]
    public async Task A_target_out_of_memory_stops_the_writer_naming_the_key_and_the_command()
    {
        using var server = RedisServer.Start("--maxmemory", "2mb", "--maxmemory-policy", "noeviction");
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { MaxBatchCommands = 10 });
        for (int i = 0; i < 10; i++) writer.Command("SET", "small:" + i, i);
        await writer.DrainAsync(CancellationToken.None);

        byte[] value = new byte[1024];
        SyncException e = await Assert.ThrowsAsync<SyncException>(async () =>
        {
            for (int round = 0; round < 200; round++)
            {
                writer.BeginCommand();
                writer.Arg("HSET"u8);
                writer.Arg("h:big"u8);
                for (int f = 0; f < 100; f++)
                {
                    writer.Arg(Encoding.ASCII.GetBytes($"f{round}:{f}"));
                    writer.Arg(value);
                }
                writer.EndCommand();
            }
            await writer.DrainAsync(CancellationToken.None);
        });
        Assert.Equal(SyncErrorIds.TargetOutOfMemory, e.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, e.Kind);
        Assert.Equal("HSET", e.Command);
        Assert.Equal("\"h:big\"", e.Key);
        Assert.Equal($"The target 127.0.0.1:{server.Port} is out of memory (OOM command not allowed when used memory > 'maxmemory'.) and refused HSET to key \"h:big\". " +
            "Raise maxmemory on the target, free memory there, or choose a maxmemory-policy that evicts keys; then start the sync again.", e.Message);
        Assert.Same(e, writer.Fault);
        Assert.Same(e, Assert.Throws<SyncException>(() => writer.BeginCommand()));
        Assert.True(writer.Statistics.ErrorCount(SyncErrorIds.TargetOutOfMemory) >= 1);
        Assert.Equal(SyncErrorIds.TargetOutOfMemory, writer.Statistics.LastError!.ErrorId);
        for (int i = 0; i < 10; i++) Assert.Equal(i.ToString(), server.Db().Get("small:" + i));
    }

    [Fact]
    public async Task A_target_turned_replica_stops_the_writer_with_TargetReadOnly()
    {
        using var server = RedisServer.Start();
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions());
        for (int i = 0; i < 100; i++) writer.Command("SET", "k" + i, i);
        await writer.DrainAsync(CancellationToken.None);
        // A replica of a primary that does not answer keeps its data and refuses writes.
        using (var unused = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            unused.Start();
            int deadPort = ((System.Net.IPEndPoint)unused.LocalEndpoint).Port;
            unused.Stop();
            server.Db().Execute("REPLICAOF", "127.0.0.1", deadPort.ToString());
        }

        writer.Command("SET", "k100", 100);
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => writer.DrainAsync(CancellationToken.None));
        Assert.Equal(SyncErrorIds.TargetReadOnly, e.ErrorId);
        Assert.Equal($"The target 127.0.0.1:{server.Port} is a read-only replica (READONLY You can't write against a read only replica.) and refused SET to key \"k100\". " +
            "Point -Target at its primary, or make the target a primary (REPLICAOF NO ONE).", e.Message);
        for (int i = 0; i < 100; i++) Assert.Equal(i.ToString(), server.Db().Get("k" + i));
        Assert.Equal("(nil)", server.Db().Get("k100"));
    }

    [Fact]
    public async Task A_target_that_requires_a_password_refuses_a_writer_without_one_with_TargetNoAuth()
    {
        using var server = RedisServer.Start("--requirepass", "s3cret-pw");
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => WriterHelpers.Connect(server, new TargetWriterOptions()));
        Assert.Equal(SyncErrorIds.TargetNoAuth, e.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, e.Kind);
        Assert.Equal($"The target 127.0.0.1:{server.Port} requires a login (NOAUTH Authentication required.). Give its user and password with -TargetCredential (or [target] password in a settings file).", e.Message);

        e = await Assert.ThrowsAsync<SyncException>(() => WriterHelpers.Connect(server, new TargetWriterOptions(), password: "wrong-pw"));
        Assert.Equal(SyncErrorIds.TargetAuthFailed, e.ErrorId);
        Assert.DoesNotContain("wrong-pw", e.Message);

        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions(), password: "s3cret-pw");
        writer.Command("SET", "k", "v");
        await writer.DrainAsync(CancellationToken.None);
        Assert.Equal("v", server.Client("s3cret-pw").GetDatabase().Get("k"));
    }

    [Fact]
    public async Task A_password_set_on_the_target_during_the_sync_stops_the_reconnecting_writer_with_TargetNoAuth()
    {
        using var server = RedisServer.Start();
        var options = new TargetWriterOptions { CheckpointKey = "redissync:checkpoint", ClientName = "writer-noauth" };
        using TargetWriter writer = await WriterHelpers.Connect(server, options);
        for (int i = 0; i < 100; i++)
        {
            writer.Command("SET", "k" + i, i);
            writer.Commit(i);
        }
        await writer.DrainAsync(CancellationToken.None);
        server.Db().Execute("CONFIG", "SET", "requirepass", "s3cret-pw");
        WriterHelpers.KillClient(server, "writer-noauth");

        writer.Command("SET", "k100", 100);
        writer.Commit(100);
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => writer.DrainAsync(CancellationToken.None));
        Assert.Equal(SyncErrorIds.TargetNoAuth, e.ErrorId);
        Assert.Contains("requires a login (NOAUTH Authentication required.)", e.Message);
        IDatabase db = server.Client("s3cret-pw").GetDatabase();
        for (int i = 0; i < 100; i++) Assert.Equal(i.ToString(), db.Get("k" + i));
        Assert.Equal("seq:99", db.Get("redissync:checkpoint"));
        Assert.Equal("seq:99", Encoding.ASCII.GetString(writer.AcknowledgedCheckpoint!));
    }

    [Fact]
    public async Task A_user_without_permission_for_a_command_stops_the_writer_with_TargetNoPermission()
    {
        using var server = RedisServer.Start();
        server.Cli("ACL", "SETUSER", "writer", "on", ">s3cret-pw", "~*", "+@all", "-set");
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions(), "writer", "s3cret-pw");
        for (int i = 0; i < 10; i++) writer.Command("HSET", "h", "f" + i, i);
        writer.Command("SET", "plain", "v");
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => writer.DrainAsync(CancellationToken.None));
        Assert.Equal(SyncErrorIds.TargetNoPermission, e.ErrorId);
        Assert.Equal("SET", e.Command);
        Assert.Equal("\"plain\"", e.Key);
        Assert.Equal($"The target writer@127.0.0.1:{server.Port} does not let this user run SET to key \"plain\" (NOPERM this user has no permissions to run the 'set' command). " +
            "Grant it (ACL SETUSER <user> +set and the key pattern), or sync as another user.", e.Message);
        Assert.DoesNotContain("s3cret-pw", e.Message);
        Assert.Equal(10, server.Db().HashLength("h"));
    }

    public static IEnumerable<object[]> BusyKeyCases()
    {
        foreach (bool transactional in new[] { false, true })
        {
            foreach (BusyKeyPolicy policy in Enum.GetValues<BusyKeyPolicy>()) yield return new object[] { policy.ToString(), transactional };
        }
    }

    [Theory]
    [MemberData(nameof(BusyKeyCases))]
    public async Task A_restore_onto_an_existing_key_follows_the_busy_key_policy(string policyName, bool transactional)
    {
        BusyKeyPolicy policy = Enum.Parse<BusyKeyPolicy>(policyName);
        using var server = RedisServer.Start();
        IDatabase db = server.Db();
        db.StringSet("source", "restored-value");
        byte[] payload = db.KeyDump("source")!;
        db.StringSet("busy", "target-value");
        var options = new TargetWriterOptions { BusyKeyPolicy = policy, CheckpointKey = transactional ? "ck" : null };
        using TargetWriter writer = await WriterHelpers.Connect(server, options);
        var warnings = new List<SyncWarning>();
        writer.Warning += w => { lock (warnings) warnings.Add(w); };

        writer.Command("RESTORE", "before", 0, payload);
        writer.Commit(1);
        writer.Command("RESTORE", "busy", 0, payload);
        writer.Command("RESTORE", "after", 0, payload);
        writer.Commit(2);
        Task drain = writer.DrainAsync(CancellationToken.None);

        string busyKey = "The key \"busy\" already exists on the target 127.0.0.1:" + server.Port;
        if (policy == BusyKeyPolicy.Skip)
        {
            await drain;
            SyncWarning w = Assert.Single(warnings);
            Assert.Equal(new SyncWarning(SyncErrorIds.TargetBusyKey, SyncErrorKind.Skip, "\"busy\"", "RESTORE",
                busyKey + ": it was not copied, and the target keeps its own value (-OnConflict Skip, on_conflict = \"Skip\" in a settings file)."), w);
            Assert.Equal(1, writer.Statistics.CommandsSkipped);
            Assert.Equal(1, writer.Statistics.ErrorCount(SyncErrorKind.Skip));
            Assert.Equal(3, writer.Statistics.CommandsAcknowledged);
            Assert.Equal("restored-value", db.Get("after"));
        }
        else
        {
            SyncException e = await Assert.ThrowsAsync<SyncException>(() => drain);
            Assert.Equal(SyncErrorIds.TargetBusyKey, e.ErrorId);
            Assert.Equal(SyncErrorKind.Stop, e.Kind);
            Assert.Equal("RESTORE", e.Command);
            Assert.StartsWith(busyKey, e.Message);
            Assert.Contains(policy == BusyKeyPolicy.Replace ? "although -OnConflict is Replace" : "Start again with -OnConflict Replace to overwrite the target's keys, -OnConflict Skip to keep them, or -FlushTarget", e.Message);
            Assert.Empty(warnings);
        }
        Assert.Equal("restored-value", db.Get("before"));
        Assert.Equal("target-value", db.Get("busy"));
        if (transactional)
        {
            // The transaction ran (RESTORE's error does not undo the others): the checkpoint says so.
            Assert.Equal("seq:2", db.Get("ck"));
            Assert.Equal("seq:2", Encoding.ASCII.GetString(writer.AcknowledgedCheckpoint!));
        }
    }

    [Theory]
    [InlineData("Skip", false)]
    [InlineData("Stop", false)]
    [InlineData("Skip", true)]
    [InlineData("Stop", true)]
    public async Task A_command_on_a_key_of_another_type_follows_the_command_error_policy(string policyName, bool transactional)
    {
        CommandErrorPolicy policy = Enum.Parse<CommandErrorPolicy>(policyName);
        using var server = RedisServer.Start();
        IDatabase db = server.Db();
        db.StringSet("s", "a string");
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { CommandErrorPolicy = policy, CheckpointKey = transactional ? "ck" : null });
        var warnings = new List<SyncWarning>();
        writer.Warning += w => { lock (warnings) warnings.Add(w); };
        writer.Command("SET", "a", "1");
        writer.Command("HSET", "s", "f", "v");
        writer.Command("SET", "b", "2");
        writer.Commit(1);
        Task drain = writer.DrainAsync(CancellationToken.None);

        string refused = $"The target 127.0.0.1:{server.Port} refused HSET to key \"s\" (WRONGTYPE Operation against a key holding the wrong kind of value)";
        if (policy == CommandErrorPolicy.Skip)
        {
            await drain;
            SyncWarning w = Assert.Single(warnings);
            Assert.Equal(SyncErrorIds.TargetCommandFailed, w.ErrorId);
            Assert.Equal("\"s\"", w.Key);
            Assert.Equal("HSET", w.Command);
            Assert.Equal(refused + "; it was skipped (-SkipFailedCommands).", w.Message);
            Assert.Equal("2", db.Get("b"));
            Assert.Equal(1, writer.Statistics.CommandsSkipped);
        }
        else
        {
            SyncException e = await Assert.ThrowsAsync<SyncException>(() => drain);
            Assert.Equal(SyncErrorIds.TargetCommandFailed, e.ErrorId);
            Assert.Equal(refused + ". Fix the cause, or start again with -SkipFailedCommands (skip_failed_commands = true in a settings file) to go on without such commands.", e.Message);
            Assert.Equal(1, writer.Statistics.ErrorCount(SyncErrorKind.Stop));
        }
        Assert.Equal("1", db.Get("a"));
        Assert.Equal("a string", db.Get("s"));
    }

    [Fact]
    public async Task A_command_the_target_refuses_while_queueing_stops_a_transactional_writer_even_under_skip()
    {
        using var server = RedisServer.Start();
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { CommandErrorPolicy = CommandErrorPolicy.Skip, CheckpointKey = "ck" });
        writer.Command("SET", "a", "1");
        writer.Commit(1);
        writer.Flush();
        writer.Command("SET", "b", "2");
        writer.Command("NOSUCHCOMMAND", "x");
        writer.Commit(2);
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => writer.DrainAsync(CancellationToken.None));
        Assert.Equal(SyncErrorIds.TargetCommandFailed, e.ErrorId);
        Assert.Equal("NOSUCHCOMMAND", e.Command);
        Assert.Contains("before running it, which discards its whole transaction", e.Message);
        Assert.Contains("ERR unknown command 'NOSUCHCOMMAND'", e.Message);
        IDatabase db = server.Db();
        Assert.Equal("1", db.Get("a"));
        Assert.Equal("(nil)", db.Get("b"));
        Assert.Equal("seq:1", db.Get("ck"));
        Assert.Equal("seq:1", Encoding.ASCII.GetString(writer.AcknowledgedCheckpoint!));
    }

    [Fact]
    public async Task A_database_the_target_lacks_is_refused_before_anything_is_written_there()
    {
        using var server = RedisServer.Start("--databases", "4");
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { CommandErrorPolicy = CommandErrorPolicy.Skip });
        Assert.Equal(4, writer.DatabaseCount);
        writer.Command("SET", "a", "1");
        SyncException e = Assert.Throws<SyncException>(() => writer.SelectDb(9));
        Assert.Equal(SyncErrorIds.TargetDatabaseMissing, e.ErrorId);
        Assert.Equal($"The target 127.0.0.1:{server.Port} has no database 9: it has 4 (0 to 3).", e.Message);
        writer.Command("SET", "b", "2");
        await writer.DrainAsync(CancellationToken.None);
        // Both writes landed in the database the writer was in; none in any other.
        Assert.Equal("1", server.Db().Get("a"));
        Assert.Equal("2", server.Db().Get("b"));
        for (int db = 1; db < 4; db++) Assert.Equal(0L, (long)server.Db(db).Execute("DBSIZE"));
    }

    [Fact]
    public async Task A_target_that_refuses_CONFIG_has_its_databases_counted_by_SELECT()
    {
        using var server = RedisServer.Start("--databases", "37", "--rename-command", "CONFIG", "\"\"");
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions());
        Assert.Equal(37, writer.DatabaseCount);
        writer.Command("SET", "a", "1");
        await writer.DrainAsync(CancellationToken.None);
        Assert.Equal("1", server.Db().Get("a"));
    }

    [Fact]
    public async Task A_lost_link_with_unanswered_commands_stops_a_plain_writer_with_TargetLinkLost()
    {
        using var server = RedisServer.Start();
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { ClientName = "writer-lost" });
        writer.Command("SET", "a", "1");
        await writer.DrainAsync(CancellationToken.None);
        // Paused writes stay unanswered: the kill then surely catches commands in flight.
        server.Db().Execute("CLIENT", "PAUSE", "30000", "WRITE");
        for (int i = 0; i < 10; i++) writer.Command("INCR", "n");
        writer.Flush();
        WriterHelpers.WaitFor(() => writer.Statistics.CommandsSent == 11, "the commands to be sent");
        WriterHelpers.KillClient(server, "writer-lost");
        server.Db().Execute("CLIENT", "UNPAUSE");

        SyncException e = await Assert.ThrowsAsync<SyncException>(() => writer.DrainAsync(CancellationToken.None));
        Assert.Equal(SyncErrorIds.TargetLinkLost, e.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, e.Kind);
        Assert.StartsWith($"The connection to the target 127.0.0.1:{server.Port} was lost (", e.Message);
        Assert.Contains("with 10 commands sent but not acknowledged", e.Message);
        Assert.Contains("Set a checkpoint key (transactional mode)", e.Message);
        Assert.Equal("1", server.Db().Get("a"));
    }

    [Fact]
    public async Task A_lost_idle_link_is_re_established_without_losing_anything()
    {
        using var server = RedisServer.Start();
        using TargetWriter writer = await WriterHelpers.Connect(server, new TargetWriterOptions { ClientName = "writer-idle" });
        var warnings = new List<SyncWarning>();
        writer.Warning += w => { lock (warnings) warnings.Add(w); };
        writer.SelectDb(3);
        writer.Command("SET", "a", "1");
        await writer.DrainAsync(CancellationToken.None);
        WriterHelpers.KillClient(server, "writer-idle");
        WriterHelpers.WaitFor(() => writer.Statistics.Reconnects == 1, "the writer to reconnect");
        writer.Command("SET", "b", "2");
        await writer.DrainAsync(CancellationToken.None);
        Assert.Equal("2", server.Db(3).Get("b"));
        Assert.Equal("(nil)", server.Db(0).Get("b"));
        SyncWarning w = Assert.Single(warnings);
        Assert.Equal(SyncErrorIds.TargetLinkLost, w.ErrorId);
        Assert.Equal(SyncErrorKind.Retry, w.Kind);
        Assert.Equal(1, writer.Statistics.ErrorCount(SyncErrorKind.Retry));
    }
}
