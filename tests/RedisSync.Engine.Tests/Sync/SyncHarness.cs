using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>Runs a sync session in the background of a test and waits for what a user would wait for.</summary>
internal sealed class SyncHarness : IAsyncDisposable
{
    private readonly CancellationTokenSource _cts = new CancellationTokenSource();

    public SyncHarness(SyncOptions options)
    {
        Session = new SyncSession(options);
        Session.PhaseChanged += s => Phases.Enqueue(s.Phase);
        Session.Warning += w => Warnings.Enqueue(w);
        Run = Task.Run(() => Session.RunAsync(_cts.Token));
    }

    public SyncSession Session { get; }

    public Task<RedisSync.SyncStatus> Run { get; }

    public ConcurrentQueue<RedisSync.SyncPhase> Phases { get; } = new ConcurrentQueue<RedisSync.SyncPhase>();

    public ConcurrentQueue<SyncWarning> Warnings { get; } = new ConcurrentQueue<SyncWarning>();

    public static SyncOptions Options(RedisServer source, RedisServer target, string name = "test", RedisSync.SyncMode mode = RedisSync.SyncMode.FullAndIncremental) =>
        new SyncOptions
        {
            Name = name,
            Source = RedisEndpoint.Parse(source.Endpoint),
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = mode,
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>Waits until the sync streams and has applied everything the source has written so far.</summary>
    public async Task WaitCaughtUpAsync(RedisServer source, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(60);
        while (true)
        {
            if (Run.IsCompleted) await Run; // surfaces the sync's error
            long master = MasterOffset(source);
            RedisSync.SyncStatus status = Session.GetStatus();
            // The status says so, and the target's own checkpoint agrees (a fresh source is at offset 0
            // before the snapshot's last batches are acknowledged).
            if (status.Phase == RedisSync.SyncPhase.Streaming && status.AppliedOffset >= master && TargetCheckpointOffset() >= master) return;
            if (deadline.Elapsed > limit)
            {
                throw new TimeoutException($"not caught up after {limit}: phase {status.Phase}, applied {status.AppliedOffset}, source at {master}, last error {status.LastError}");
            }
            await Task.Delay(50);
        }
    }

    /// <summary>
    /// As <see cref="WaitCaughtUpAsync"/>, then once more after a write of the test's own: a command the target
    /// refused ends the writer after its batch landed, so only a later write shows it (it never lands).
    /// </summary>
    public async Task WaitCaughtUpAndStillWritingAsync(RedisServer source)
    {
        await WaitCaughtUpAsync(source);
        source.Db().StringIncrement("test:still-writing");
        await WaitCaughtUpAsync(source);
    }

    private StackExchange.Redis.ConnectionMultiplexer? _target;

    /// <summary>The offset of the target's checkpoint for this sync once it is in the streaming phase, else -1.</summary>
    private long TargetCheckpointOffset()
    {
        RedisSync.Engine.Net.RedisEndpoint endpoint = Session.Options.Target;
        _target ??= StackExchange.Redis.ConnectionMultiplexer.Connect(RedisServer.ClientOptions($"{endpoint.Host}:{endpoint.Port}", endpoint.UseTls));
        string? value = _target.GetDatabase(0).StringGet(Checkpoint.Key(Session.Name));
        if (value == null) return -1;
        Checkpoint checkpoint = Checkpoint.Parse(Session.Name, value);
        return checkpoint.Phase == CheckpointPhase.Streaming ? checkpoint.Offset : -1;
    }

    public async Task WaitPhaseAsync(RedisSync.SyncPhase phase, TimeSpan? timeout = null)
    {
        var deadline = Stopwatch.StartNew();
        while (Session.Phase != phase)
        {
            if (Run.IsCompleted && Session.Phase != phase) await Run;
            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(60))) throw new TimeoutException($"phase {Session.Phase}, waited for {phase}");
            await Task.Delay(20);
        }
    }

    /// <summary>Waits (polling, bounded) until a condition holds; fails naming what it waited for.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60))) throw new TimeoutException("Timed out waiting for " + what);
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Waits until no key on the source is about to expire (a TTL under a minute): each key is touched,
    /// so a due key expires now and its DEL goes to the replication stream, and listings taken
    /// afterwards are stable. Keys with long TTLs (fixtures) stay.
    /// </summary>
    public static async Task WaitNoVolatileKeysAsync(RedisServer source, TimeSpan? timeout = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            int soon = 0;
            foreach (int db in Enumerable.Range(0, 16))
            {
                foreach (StackExchange.Redis.RedisKey key in source.Client().GetServer(source.Endpoint).Keys(db, "*", pageSize: 1000))
                {
                    long ttl = (long)source.Db(db).Execute("PTTL", key.ToString());
                    if (ttl >= 0 && ttl < 60_000) soon++;
                }
            }
            if (soon == 0) return;
            if (clock.Elapsed > (timeout ?? TimeSpan.FromSeconds(60))) throw new TimeoutException($"{soon} keys still about to expire on the source");
            await Task.Delay(100);
        }
    }

    public static long MasterOffset(RedisServer source)
    {
        string info = source.Cli("INFO", "replication");
        string line = info.Split('\n').First(l => l.StartsWith("master_repl_offset:", StringComparison.Ordinal));
        return long.Parse(line.Substring("master_repl_offset:".Length).Trim());
    }

    public static long Stat(RedisServer server, string name)
    {
        string info = server.Cli("INFO", "stats");
        string line = info.Split('\n').First(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        return long.Parse(line.Substring(name.Length + 1).Trim());
    }

    /// <summary>
    /// Source and target hold the same keys, values, TTLs, streams and functions (after streamed
    /// stream reads, without the groups' entries-read: see <see cref="Listing.Render"/>).
    /// </summary>
    public static void AssertSame(RedisServer source, RedisServer target, bool withEntriesRead = true)
    {
        List<string> expected = Listing.Render(source, withEntriesRead: withEntriesRead);
        List<string> actual = Listing.Render(target, withEntriesRead: withEntriesRead);
        Listing.AssertEqual(expected, actual, "target vs source");
    }

    public async Task<RedisSync.SyncStatus> StopAsync()
    {
        Session.Stop();
        return await Run;
    }

    public async ValueTask DisposeAsync()
    {
        _cts.Cancel();
        try { await Run; } catch (Exception) { }
        Session.Dispose();
        _target?.Dispose();
    }
}
