using System;
using System.Diagnostics;
using System.Globalization;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;

namespace RedisSync.Bench;

/// <summary>
/// One sync in a process of its own, so that its peak RSS (VmHWM) is the sync's alone: the e2e
/// benchmark starts it. Prints its phases, a status line every --status-ms, and a last line with the
/// time, the keys and the peak RSS. Stops when standard input closes or says "stop" (unless --ignore-stdin).
/// </summary>
public sealed class SyncChild : IBenchmark
{
    public string Name => "sync";

    public string Description => "(used by e2e) one sync in this process: --source, --target, --mode Full|FullAndIncremental, --source-mode Psync|Scan, --name, --status-ms, --ignore-stdin";

    public async Task<int> RunAsync(BenchArgs args)
    {
        var session = new SyncSession(new SyncOptions
        {
            Name = args.String("name", "bench"),
            Source = RedisEndpoint.Parse(args.String("source", "127.0.0.1:6379")),
            Target = RedisEndpoint.Parse(args.String("target", "127.0.0.1:6380")),
            Mode = Enum.Parse<RedisSync.SyncMode>(args.String("mode", "Full"), ignoreCase: true),
            SourceMode = Enum.Parse<RedisSync.SourceMode>(args.String("source-mode", "Psync"), ignoreCase: true),
        });
        session.PhaseChanged += s => Console.WriteLine($"phase {s.Phase} keys={s.KeysWritten}");
        session.Warning += w => Console.WriteLine($"warning {w.ErrorId}: {w.Message}");
        var clock = Stopwatch.StartNew();
        var stdin = new Thread(() =>
        {
            string? line;
            while ((line = Console.ReadLine()) != null && line.Trim() != "stop")
            {
            }
            session.Stop();
        }) { IsBackground = true, Name = "stdin" };
        if (!args.Flag("ignore-stdin")) stdin.Start();
        int interval = args.Int("status-ms", 100);
        using var reporting = new CancellationTokenSource();
        Task reporter = Task.Run(async () =>
        {
            while (!reporting.IsCancellationRequested)
            {
                RedisSync.SyncStatus s = session.GetStatus();
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"status ms={clock.ElapsedMilliseconds} phase={s.Phase} keys={s.KeysWritten} source={s.SourceOffset} applied={s.AppliedOffset} lagbytes={s.LagBytes} lagms={s.LagMilliseconds} rss={ProcStatus.Self("VmRSS")}"));
                try { await Task.Delay(interval, reporting.Token); } catch (OperationCanceledException) { }
            }
        });
        int exitCode = 0;
        RedisSync.SyncStatus status;
        try
        {
            status = await session.RunAsync();
        }
        catch (SyncException ex)
        {
            Console.WriteLine($"failed {ex.ErrorId}: {ex.Message}");
            status = session.GetStatus();
            exitCode = 1;
        }
        double seconds = clock.Elapsed.TotalSeconds;
        reporting.Cancel();
        await reporter;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done phase={status.Phase} seconds={seconds:0.000} keys={status.KeysWritten} scanned={status.KeysScanned} repairs={status.Repairs} hwm={ProcStatus.Self("VmHWM")} allocated={GC.GetTotalAllocatedBytes()} gcs={GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)} " +
            $"cpu={Process.GetCurrentProcess().UserProcessorTime.TotalSeconds:0.00}+{Process.GetCurrentProcess().PrivilegedProcessorTime.TotalSeconds:0.00} " +
            $"switches={ProcStatus.Self("voluntary_ctxt_switches")}+{ProcStatus.Self("nonvoluntary_ctxt_switches")} threadpool={ThreadPool.CompletedWorkItemCount}"));
        session.Dispose();
        return exitCode;
    }
}
