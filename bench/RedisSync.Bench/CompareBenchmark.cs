using System;
using System.Diagnostics;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;

namespace RedisSync.Bench;

/// <summary>
/// Compare-RedisData's engine on two local servers holding the same small keys (DEBUG POPULATE):
/// keys per second in Quick and Full mode, with the CPU each process used.
/// Options: --keys N (1000000), --mode Quick|Full|Both, --parallelism N, --scan-count N, --runs N, --stats (the servers' INFO commandstats), --no-warmup (measure with a cold JIT).
/// </summary>
public sealed class CompareBenchmark : IBenchmark
{
    public string Name => "compare";

    public string Description => "Compare-RedisData on two servers with N identical small keys (--keys, --mode, --parallelism, --scan-count, --runs, --stats, --no-warmup)";

    public async Task<int> RunAsync(BenchArgs args)
    {
        int keys = args.Int("keys", 1_000_000);
        string mode = args.String("mode", "Both");
        int runs = args.Int("runs", 1);
        using ServerProcess source = ServerProcess.Start();
        using ServerProcess target = ServerProcess.Start();
        var load = Stopwatch.StartNew();
        source.Cli("DEBUG", "POPULATE", keys.ToString());
        target.Cli("DEBUG", "POPULATE", keys.ToString());
        Console.WriteLine($"loaded {keys:N0} keys into each server in {load.Elapsed.TotalSeconds:0.0} s");
        if (!args.Flag("no-warmup"))
        {
            // A small database 1 compared first, so the measured runs do not pay for the JIT.
            source.Cli("-n", "1", "DEBUG", "POPULATE", "50000");
            target.Cli("-n", "1", "DEBUG", "POPULATE", "50000");
            var warmup = new CompareOptions { Databases = new[] { 1 } };
            var warm = Stopwatch.StartNew();
            foreach (CompareMode m in new[] { CompareMode.Quick, CompareMode.Full, CompareMode.Quick, CompareMode.Full })
            {
                warmup.Mode = m;
                await new DataComparer(RedisEndpoint.Parse(source.Endpoint), RedisEndpoint.Parse(target.Endpoint), warmup).RunAsync(_ => { });
            }
            Console.WriteLine($"warm-up (4 compares of 50,000 keys in db 1) took {warm.Elapsed.TotalSeconds:0.0} s");
        }

        int failures = 0;
        for (int run = 0; run < runs; run++)
        {
            foreach (CompareMode m in new[] { CompareMode.Quick, CompareMode.Full })
            {
                if (mode != "Both" && !string.Equals(mode, m.ToString(), StringComparison.OrdinalIgnoreCase)) continue;
                var options = new CompareOptions
                {
                    Mode = m,
                    Databases = new[] { 0 },
                    Parallelism = args.Int("parallelism", new CompareOptions().Parallelism),
                    ScanCount = args.Int("scan-count", new CompareOptions().ScanCount),
                };
                if (args.Flag("stats"))
                {
                    source.Cli("CONFIG", "RESETSTAT");
                    target.Cli("CONFIG", "RESETSTAT");
                }
                double sourceCpu = source.CpuSeconds(), targetCpu = target.CpuSeconds();
                TimeSpan selfCpu = Process.GetCurrentProcess().TotalProcessorTime;
                long allocated = GC.GetTotalAllocatedBytes(precise: true);
                long differences = 0;
                var comparer = new DataComparer(RedisEndpoint.Parse(source.Endpoint), RedisEndpoint.Parse(target.Endpoint), options);
                RedisSync.CompareSummary summary = await comparer.RunAsync(_ => differences++);
                allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                selfCpu = Process.GetCurrentProcess().TotalProcessorTime - selfCpu;
                Console.WriteLine(
                    $"{m,-5} {summary.KeysCompared,9:N0} keys in {summary.Elapsed.TotalSeconds,6:0.00} s = {summary.KeysPerSecond,9:N0} keys/s" +
                    $" | cpu: compare {selfCpu.TotalSeconds:0.00} s, source {source.CpuSeconds() - sourceCpu:0.00} s, target {target.CpuSeconds() - targetCpu:0.00} s" +
                    $" = {(selfCpu.TotalSeconds + source.CpuSeconds() - sourceCpu + target.CpuSeconds() - targetCpu) * 1e6 / Math.Max(1, summary.KeysCompared):0.0} us/key" +
                    $" | allocated {allocated / 1024.0 / 1024.0:0.0} MB | parallelism {options.Parallelism}, scan count {options.ScanCount}");
                if (args.Flag("stats"))
                {
                    Console.WriteLine("  source " + source.Cli("INFO", "commandstats").Replace("\n", "\n  source "));
                    Console.WriteLine("  target " + target.Cli("INFO", "commandstats").Replace("\n", "\n  target "));
                }
                if (summary.KeysCompared != keys || differences != 0 || !summary.IsEqual)
                {
                    Console.WriteLine($"  unexpected result: {summary} ({differences} differences reported)");
                    failures++;
                }
            }
        }
        return failures == 0 ? 0 : 1;
    }
}
