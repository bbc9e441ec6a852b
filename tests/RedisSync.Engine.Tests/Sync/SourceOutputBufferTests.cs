using System;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>The warning before the source drops the sync's replica link at its client-output-buffer-limit.</summary>
[RunsLong(30)]
public sealed class SourceOutputBufferTests
{
    [Fact]
    public async Task A_target_that_holds_writes_back_while_the_source_writes_fast_warns_SourceOutputBufferNearLimit_naming_usage_and_limit()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        // Soft 16 MB for a minute (so the source does not drop the link during the test), hard 64 MB.
        source.Cli("CONFIG", "SET", "client-output-buffer-limit", "replica 64mb 16mb 60");
        await using var sync = new SyncHarness(SyncHarness.Options(source, target, "buffer"));
        await sync.WaitCaughtUpAsync(source);

        // The target takes no writes for a while: the writer's window fills, then the link's socket, then the source's buffer.
        target.Cli("CLIENT", "PAUSE", "60000", "WRITE");
        try
        {
            byte[] value = new byte[64 * 1024];
            new Random(7).NextBytes(value);
            IDatabase db = source.Db(0);
            // 4 MB a round, until the warning comes (each round waits up to three of the watcher's reads for it); the
            // sync takes some of it into its own buffers before the target holds it back, so how many rounds that needs varies.
            bool Warned() => sync.Warnings.Any(w => w.ErrorId == ReplicaOutputBuffer.WarningId);
            for (int round = 0; round < 30 && !Warned(); round++)
            {
                IBatch batch = db.CreateBatch();
                Task[] writes = Enumerable.Range(0, 64).Select(i => (Task)batch.StringSetAsync($"big:{round}:{i}", value)).ToArray();
                batch.Execute();
                await Task.WhenAll(writes);
                try
                {
                    await SyncHarness.WaitUntilAsync(Warned, "the warning", TimeSpan.FromTicks(ReplicaOutputBuffer.Period.Ticks * 3));
                }
                catch (TimeoutException)
                {
                }
            }
            Assert.True(Warned(), "the warning came: " + source.Cli("CLIENT", "LIST", "TYPE", "replica"));
        }
        finally
        {
            target.Cli("CLIENT", "UNPAUSE");
        }

        SyncWarning warning = sync.Warnings.Where(w => w.ErrorId == ReplicaOutputBuffer.WarningId).ToList() is { Count: 1 } once ? once[0] : throw new Xunit.Sdk.XunitException("the warning came more than once while the buffer stayed full");
        Assert.Contains("client-output-buffer-limit for replicas (hard 64.0 MiB, soft 16.0 MiB for 60 s)", warning.Message);
        Assert.Matches(@"holds \d+\.\d MiB of replication output", warning.Message);
        Assert.DoesNotContain(sync.Warnings, w => w.ErrorId is "SnapshotRetried" or "FullResyncRequired");
        await sync.WaitCaughtUpAsync(source, TimeSpan.FromSeconds(120));
        Assert.Equal(1, sync.Session.GetStatus().FullResyncs);
        sync.Session.Stop();
        await sync.Run;
    }

    [Fact]
    public void The_replica_class_of_the_limit_and_a_client_s_omem_are_read_from_the_servers_replies()
    {
        Assert.Equal(new ReplicaOutputBuffer.Limit(268435456, 67108864, 60), ReplicaOutputBuffer.ParseLimit("normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"));
        Assert.Equal(new ReplicaOutputBuffer.Limit(0, 1024, 10), ReplicaOutputBuffer.ParseLimit("normal 0 0 0 replica 0 1024 10 pubsub 0 0 0"));
        Assert.Null(ReplicaOutputBuffer.ParseLimit("normal 0 0 0"));
        Assert.Equal(1024, new ReplicaOutputBuffer.Limit(0, 1024, 10).Lowest);
        const string list = "id=7 addr=127.0.0.1:50321 laddr=127.0.0.1:6 fd=9 name= age=1 idle=0 flags=S db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=3 omem=61440 tot-mem=82944 events=rw cmd=psync user=default redir=-1 resp=2\n" +
            "id=71 addr=[::1]:321 fd=10 omem=5 cmd=psync\n";
        Assert.Equal(61440, ReplicaOutputBuffer.OutputMemory(list, 50321));
        Assert.Equal(5, ReplicaOutputBuffer.OutputMemory(list, 321));
        Assert.Null(ReplicaOutputBuffer.OutputMemory(list, 6));
    }
}
