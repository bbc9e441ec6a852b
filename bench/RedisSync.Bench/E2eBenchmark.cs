using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Bench;

/// <summary>
/// RedisSync against Redis's own replication, end to end on two local servers, each copy into an
/// empty target: native replication (REPLICAOF), a RedisSync full copy (in a child process, whose peak
/// RSS is its own), the target's ingestion limit (the same data piped through redis-cli --pipe), and
/// the incremental phase under a redis-benchmark write load. Prints markdown tables with ratios to
/// native replication. Every copy is checked (DBSIZE and DEBUG DIGEST against the source).
/// </summary>
public sealed class E2eBenchmark : IBenchmark
{
    private const string SyncName = "bench";

    public string Name => "e2e";

    public string Description => "RedisSync vs REPLICAOF vs redis-cli --pipe, full and incremental (--keys, --big-fields, --runs, --load-seconds, --only mixed|big|incremental, --no-incremental, --no-scan: without the scan reader's rows, --keep: the logs and samples, --child-env NAME=VALUE,…, --child-module path/RedisSync.psd1: the syncs run by a pwsh that imports the module, --cluster-masters N: the cluster target's size, odd, 0 for none, --baseline path/RedisSync.Bench.dll [--baseline-label text]: another build's sync beside this one in every RedisSync row, e.g. the previous commit)";

    private readonly List<CopyResult> _copies = new List<CopyResult>();
    private readonly List<LoadResult> _loads = new List<LoadResult>();
    private string _logDir = string.Empty;
    private int _childRuns;
    private int _clusterMasters = 3;
    private bool _scan = true;
    private string? _baseline;
    private static string _baselineLabel = "the baseline";

    public async Task<int> RunAsync(BenchArgs args)
    {
        int keys = args.Int("keys", 1_000_000);
        int fields = args.Int("big-fields", 5_000_000);
        int runs = args.Int("runs", 3);
        int loadSeconds = args.Int("load-seconds", 10);
        string only = args.String("only", "all");
        SyncProcess.ChildEnvironment = args.String("child-env", string.Empty);
        SyncProcess.ChildModule = args.String("child-module", string.Empty);
        _clusterMasters = args.Int("cluster-masters", 3);
        _scan = !args.Flag("no-scan");
        string baseline = args.String("baseline", string.Empty);
        if (baseline.Length > 0)
        {
            if (!File.Exists(baseline)) throw new ArgumentException($"--baseline: no file {baseline} (give another build's bench/RedisSync.Bench/bin/Release/net10.0/RedisSync.Bench.dll).");
            _baseline = Path.GetFullPath(baseline);
            _baselineLabel = args.String("baseline-label", "the baseline");
        }
        string dir = Path.Combine(Path.GetTempPath(), "redissync-e2e-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        Directory.CreateDirectory(dir);
        _logDir = dir;
        string machine = Machine.Describe();
        string loadBefore = Machine.LoadAverage();
        Console.WriteLine("machine: " + machine);
        if (args.Flag("keep")) Console.WriteLine("logs and samples kept in " + dir);
        Console.WriteLine("load average before: " + loadBefore);
        var total = Stopwatch.StartNew();
        try
        {
            if (only == "all" || only == "mixed" || only == "incremental")
            {
                DataSet mixed = Generate(() => DataSet.Mixed(dir, keys));
                using ServerProcess source = await LoadSourceAsync(mixed);
                if (only != "incremental") await FullCopiesAsync(source, mixed, runs);
                if (!args.Flag("no-incremental")) await IncrementalAsync(source, mixed, runs, loadSeconds);
            }
            if (only == "all" || only == "big")
            {
                DataSet big = Generate(() => DataSet.BigHash(dir, fields));
                using ServerProcess source = await LoadSourceAsync(big);
                await FullCopiesAsync(source, big, runs);
            }
        }
        finally
        {
            if (!args.Flag("keep")) Directory.Delete(dir, recursive: true);
        }
        Console.WriteLine();
        Console.WriteLine($"finished in {total.Elapsed.TotalMinutes:0.0} min; load average before {loadBefore}, after {Machine.LoadAverage()}");
        Console.WriteLine();
        Console.WriteLine($"Machine: {machine}. Median of {runs} runs (min–max in brackets).");
        Console.WriteLine();
        PrintCopyTable();
        if (_loads.Count > 0)
        {
            Console.WriteLine();
            PrintLoadTable();
        }
        Console.WriteLine();
        return PrintGoals() ? 0 : 1;
    }

    // ------------------------------------------------------------------ data

    private static DataSet Generate(Func<DataSet> make)
    {
        var clock = Stopwatch.StartNew();
        DataSet data = make();
        Console.WriteLine($"generated {data.Name}: {data.Keys:N0} keys, {data.Elements:N0} elements, {data.FileBytes / 1048576.0:0} MB of commands in {clock.Elapsed.TotalSeconds:0.0} s");
        return data;
    }

    private static async Task<ServerProcess> LoadSourceAsync(DataSet data)
    {
        ServerProcess source = ServerProcess.Start("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0");
        var clock = Stopwatch.StartNew();
        source.Pipe(data.Path);
        using Probe probe = await Probe.ConnectAsync(source);
        long size = await probe.DbSizeAsync();
        if (size != data.Keys) throw new InvalidOperationException($"The source holds {size} keys after loading, not {data.Keys}.");
        Dictionary<string, string> memory = await probe.InfoAsync("memory");
        Console.WriteLine($"loaded the source in {clock.Elapsed.TotalSeconds:0.0} s: {size:N0} keys, used_memory {memory["used_memory_human"]}");
        return source;
    }

    // ------------------------------------------------------------------ full copies

    private async Task FullCopiesAsync(ServerProcess source, DataSet data, int runs)
    {
        string digest = await DigestAsync(source);
        for (int run = 1; run <= runs; run++)
        {
            Console.WriteLine($"-- {data.Name}, run {run} of {runs} (load average {Machine.LoadAverage()})");
            Record(data, Method.Native, await NativeCopyAsync(source, data, digest), -1);
            // With a baseline, the two builds take turns to go first: the copy right after replication's
            // runs while the replica's memory is given back, which would favour whichever goes second.
            bool baselineFirst = _baseline != null && run % 2 == 0;
            if (baselineFirst) await BaselineCopyAsync(source, data, digest);
            (double seconds, long hwm) = await RedisSyncCopyAsync(source, data, digest);
            Record(data, Method.RedisSync, seconds, hwm);
            if (_baseline != null && !baselineFirst) await BaselineCopyAsync(source, data, digest);
            if (data.Keys > 1 && _clusterMasters > 0)
            {
                (double clusterSeconds, long clusterHwm) = await ClusterCopyAsync(source, data, digest);
                Record(data, Method.Cluster, clusterSeconds, clusterHwm);
            }
            if (_scan)
            {
                (double scanSeconds, long scanHwm) = await RedisSyncCopyAsync(source, data, digest, "Scan");
                Record(data, Method.Scan, scanSeconds, scanHwm);
            }
            Record(data, Method.Pipe, await PipeCopyAsync(data, digest), -1);
        }
    }

    private async Task BaselineCopyAsync(ServerProcess source, DataSet data, string digest)
    {
        (double seconds, long hwm) = await RedisSyncCopyAsync(source, data, digest, "Psync", _baseline);
        Record(data, Method.Baseline, seconds, hwm);
    }

    private void Record(DataSet data, Method method, double seconds, long peakRss)
    {
        CopyResult? row = _copies.FirstOrDefault(r => r.Data == data && r.Method == method);
        if (row == null) _copies.Add(row = new CopyResult(data, method));
        row.Seconds.Add(seconds);
        if (peakRss > 0) row.PeakRss.Add(peakRss);
        Console.WriteLine($"   {Label(method),-44} {seconds,7:0.000} s  {data.Keys / seconds,12:N0} keys/s  {data.Elements / seconds,12:N0} elements/s" +
            (peakRss > 0 ? $"  peak RSS {peakRss / 1048576.0:0} MB" : string.Empty));
    }

    private static async Task<double> NativeCopyAsync(ServerProcess source, DataSet data, string digest)
    {
        using ServerProcess target = ServerProcess.Start();
        using Probe probe = await Probe.ConnectAsync(target);
        var clock = Stopwatch.StartNew();
        await probe.RunAsync("REPLICAOF", "127.0.0.1", source.Port.ToString(CultureInfo.InvariantCulture));
        await WaitForReplicaAsync(probe, data.Keys);
        double seconds = clock.Elapsed.TotalSeconds;
        await VerifyAsync(probe, data.Keys, digest, "REPLICAOF");
        return seconds;
    }

    /// <summary>Until the replica's link is up, its sync is over and it holds every key.</summary>
    private static async Task WaitForReplicaAsync(Probe replica, long keys)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Dictionary<string, string> info = await replica.InfoAsync("replication");
            if (info.TryGetValue("master_link_status", out string? link) && link == "up" &&
                info.TryGetValue("master_sync_in_progress", out string? syncing) && syncing == "0" &&
                await replica.DbSizeAsync() >= keys)
            {
                return;
            }
            if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new TimeoutException("The replica did not finish its sync within 10 minutes.");
            await Task.Delay(2);
        }
    }

    /// <summary>A RedisSync full copy in a process of its own: as a replica (Psync), or by the scan reader (Scan: SCAN + DUMP, then its verify pass).</summary>
    private async Task<(double Seconds, long PeakRss)> RedisSyncCopyAsync(ServerProcess source, DataSet data, string digest, string sourceMode = "Psync", string? build = null)
    {
        using ServerProcess target = ServerProcess.Start();
        var wall = Stopwatch.StartNew();
        using SyncProcess child = SyncProcess.Start(source, target, "Full", SyncName, ChildLog(), sourceMode, build);
        Dictionary<string, string> done = await child.WaitForExitAsync(TimeSpan.FromMinutes(20));
        double processSeconds = wall.Elapsed.TotalSeconds;
        double seconds = double.Parse(done["seconds"], CultureInfo.InvariantCulture);
        long hwm = long.Parse(done["hwm"], CultureInfo.InvariantCulture);
        Console.WriteLine($"   (RedisSync process: {processSeconds:0.000} s from start to exit; allocated {long.Parse(done["allocated"], CultureInfo.InvariantCulture) / 1048576.0:0} MB; GCs {done["gcs"]}; CPU user+system {(done.TryGetValue("cpu", out string? cpu) ? cpu : "?")} s)");
        using Probe probe = await Probe.ConnectAsync(target);
        await probe.RunAsync("DEL", RedisSync.Engine.Sync.Checkpoint.Key(SyncName));
        await VerifyAsync(probe, data.Keys, digest, "RedisSync");
        return (seconds, hwm);
    }

    /// <summary>A RedisSync full copy (PSYNC) into a cluster of masters on this machine, checked with the XOR of the masters' digests.</summary>
    private async Task<(double Seconds, long PeakRss)> ClusterCopyAsync(ServerProcess source, DataSet data, string digest)
    {
        using ClusterProcess cluster = ClusterProcess.Start(_clusterMasters);
        using SyncProcess child = SyncProcess.Start(source, cluster.Seed, "Full", SyncName, ChildLog());
        Dictionary<string, string> done = await child.WaitForExitAsync(TimeSpan.FromMinutes(20));
        double seconds = double.Parse(done["seconds"], CultureInfo.InvariantCulture);
        long hwm = long.Parse(done["hwm"], CultureInfo.InvariantCulture);
        (long keys, string copied) = await cluster.DigestAsync();
        if (keys != data.Keys) throw new InvalidOperationException($"RedisSync into a cluster: the masters hold {keys:N0} keys, not {data.Keys:N0}.");
        if (copied != digest) throw new InvalidOperationException($"RedisSync into a cluster: the XOR of the masters' DEBUG DIGESTs {copied} differs from the source's {digest}.");
        return (seconds, hwm);
    }

    private static async Task<double> PipeCopyAsync(DataSet data, string digest)
    {
        using ServerProcess target = ServerProcess.Start();
        var clock = Stopwatch.StartNew();
        target.Pipe(data.Path);
        double seconds = clock.Elapsed.TotalSeconds;
        using Probe probe = await Probe.ConnectAsync(target);
        await VerifyAsync(probe, data.Keys, digest, "redis-cli --pipe");
        return seconds;
    }

    private static async Task<string> DigestAsync(ServerProcess server)
    {
        using Probe probe = await Probe.ConnectAsync(server);
        return (await probe.RunAsync("DEBUG", "DIGEST")).AsString()!;
    }

    /// <summary>The target holds the source's keys and values exactly (DBSIZE, then DEBUG DIGEST of the whole dataset).</summary>
    private static async Task VerifyAsync(Probe target, long keys, string digest, string what)
    {
        long size = await target.DbSizeAsync();
        if (size != keys) throw new InvalidOperationException($"{what}: the target holds {size:N0} keys, not {keys:N0}.");
        string copied = (await target.RunAsync("DEBUG", "DIGEST")).AsString()!;
        if (copied != digest) throw new InvalidOperationException($"{what}: the target's DEBUG DIGEST {copied} differs from the source's {digest}.");
    }

    // ------------------------------------------------------------------ incremental

    private async Task IncrementalAsync(ServerProcess source, DataSet data, int runs, int loadSeconds)
    {
        long requests = 0;
        for (int run = 1; run <= runs; run++)
        {
            Console.WriteLine($"-- incremental, {data.Name}, run {run} of {runs} (load average {Machine.LoadAverage()})");
            using (ServerProcess target = ServerProcess.Start())
            using (Probe probe = await Probe.ConnectAsync(target))
            {
                await probe.RunAsync("REPLICAOF", "127.0.0.1", source.Port.ToString(CultureInfo.InvariantCulture));
                await WaitForReplicaAsync(probe, data.Keys);
                if (requests == 0)
                {
                    // The write rate the source sustains with a replica attached sets the load's size.
                    (double rate, _) = RunWriteLoad(source, 500_000);
                    requests = (long)Math.Round(rate * loadSeconds / 100_000.0) * 100_000;
                    Console.WriteLine($"   calibration: {rate:N0} SET/s with a replica attached: the load is {requests:N0} requests (~{loadSeconds} s)");
                    await WaitAppliedAsync(source, () => probe.ReplicationOffsetAsync(replica: true));
                }
                LoadResult result = await MeasureLoadAsync(source, target, data, Method.Native, requests, () => probe.ReplicationOffsetAsync(replica: true));
                await VerifyAsync(probe, await DbSizeAsync(source), await DigestAsync(source), "REPLICAOF (incremental)");
                Record(result);
            }
            bool baselineFirst = _baseline != null && run % 2 == 0;
            if (baselineFirst) await IncrementalSyncAsync(source, data, requests, Method.Baseline, _baseline);
            await IncrementalSyncAsync(source, data, requests, Method.RedisSync, null);
            if (_baseline != null && !baselineFirst) await IncrementalSyncAsync(source, data, requests, Method.Baseline, _baseline);
        }
    }

    /// <summary>One incremental run of a RedisSync build (this one, or <paramref name="build"/>): a full copy, then the load.</summary>
    private async Task IncrementalSyncAsync(ServerProcess source, DataSet data, long requests, Method method, string? build)
    {
        using ServerProcess target = ServerProcess.Start();
        using SyncProcess child = SyncProcess.Start(source, target, "FullAndIncremental", SyncName, ChildLog(), "Psync", build);
        using Probe probe = await Probe.ConnectAsync(target);
        await child.WaitForPhaseAsync("Streaming", TimeSpan.FromMinutes(10));
        await WaitAppliedAsync(source, () => probe.CheckpointOffsetAsync(SyncName));
        child.ResetLagPeaks();
        LoadResult result = await MeasureLoadAsync(source, target, data, method, requests, () => probe.CheckpointOffsetAsync(SyncName));
        child.Stop();
        Dictionary<string, string> done = await child.WaitForExitAsync(TimeSpan.FromMinutes(2));
        result.PeakRss = long.Parse(done["hwm"], CultureInfo.InvariantCulture);
        Console.WriteLine($"   ({Label(method)}'s own status during the load: peak LagBytes {child.PeakLagBytes:N0}, peak LagMilliseconds {child.PeakLagMilliseconds:N0}; peak RSS {result.PeakRss / 1048576.0:0} MB)");
        await probe.RunAsync("DEL", RedisSync.Engine.Sync.Checkpoint.Key(SyncName));
        await VerifyAsync(probe, await DbSizeAsync(source), await DigestAsync(source), $"{Label(method)} (incremental)");
        Record(result);
    }

    private void Record(LoadResult result)
    {
        _loads.Add(result);
        string csv = Path.Combine(_logDir, $"incremental-{result.Method}-{_loads.Count(r => r.Method == result.Method)}.csv");
        File.WriteAllLines(csv, new[] { "seconds,source_offset,applied_offset" }.Concat(result.Samples.Select(x =>
            string.Create(CultureInfo.InvariantCulture, $"{x.T:0.000},{x.Source},{x.Applied}"))));
        Console.WriteLine($"   {Label(result.Method),-44} load {result.OpsPerSecond,9:N0} SET/s for {result.LoadSeconds:0.0} s; lag max {result.MaxLagBytes,12:N0} bytes / {result.MaxLagMs,6:N0} ms, marker lag max {result.MarkerMaxMs:N0} ms (median {result.MarkerMedianMs:0.0} ms, {result.Markers} markers), at load end {result.EndLagBytes:N0} bytes; caught up {result.CatchUpSeconds:0.000} s after the load");
    }

    private static async Task<long> DbSizeAsync(ServerProcess server)
    {
        using Probe probe = await Probe.ConnectAsync(server);
        return await probe.DbSizeAsync();
    }

    /// <summary>Waits until the applied offset reaches the source's offset (a copy that has caught up before the load).</summary>
    private static async Task WaitAppliedAsync(ServerProcess source, Func<Task<long>> applied)
    {
        using Probe probe = await Probe.ConnectAsync(source);
        long target = await probe.ReplicationOffsetAsync(replica: false);
        var clock = Stopwatch.StartNew();
        while (await applied() < target)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2)) throw new TimeoutException("The copy did not catch up with the source within 2 minutes.");
            await Task.Delay(5);
        }
    }

    /// <summary>
    /// Runs the write load while sampling, every 20 ms, the source's offset and the applied offset;
    /// then polls every 2 ms until the copy has applied everything the source had when the load ended
    /// (the time that takes is the catch-up). Beside the offsets, an independent probe: a marker key
    /// written on the source every 20 ms and polled on the target every 2 ms (see <see cref="MarkerProbe"/>).
    /// </summary>
    private static async Task<LoadResult> MeasureLoadAsync(ServerProcess source, ServerProcess target, DataSet data, Method method, long requests, Func<Task<long>> applied)
    {
        using Probe sourceProbe = await Probe.ConnectAsync(source);
        var samples = new List<(double T, long Source, long Applied)>();
        var clock = Stopwatch.StartNew();
        using var markers = new CancellationTokenSource();
        Task<MarkerLag> markerLag = MarkerProbe.RunAsync(source, target, clock, markers.Token);
        Task<(double Rate, double Seconds)> load = Task.Run(() => RunWriteLoad(source, requests));
        while (!load.IsCompleted)
        {
            long s = await sourceProbe.ReplicationOffsetAsync(replica: false);
            long a = await applied();
            samples.Add((clock.Elapsed.TotalSeconds, s, a));
            await Task.WhenAny(load, Task.Delay(20));
        }
        double loadEnd = clock.Elapsed.TotalSeconds;
        markers.Cancel();
        MarkerLag marker = await markerLag;
        long endOffset = await sourceProbe.ReplicationOffsetAsync(replica: false);
        long endLag = -1;
        double caughtUp;
        while (true)
        {
            long a = await applied();
            double t = clock.Elapsed.TotalSeconds;
            if (endLag < 0) endLag = Math.Max(0, endOffset - a);
            if (a >= endOffset)
            {
                caughtUp = t;
                break;
            }
            if (t - loadEnd > 120) throw new TimeoutException($"{Label(method)} did not catch up within 2 minutes after the load.");
            await Task.Delay(2);
        }
        (double rate, double seconds) = await load;
        var result = new LoadResult(data, method)
        {
            OpsPerSecond = rate,
            LoadSeconds = seconds,
            CatchUpSeconds = caughtUp - loadEnd,
            EndLagBytes = endLag,
            Samples = samples,
            MarkerMaxMs = marker.MaxMs,
            MarkerMedianMs = marker.MedianMs,
            Markers = marker.Count,
        };
        for (int k = 0; k < samples.Count; k++)
        {
            (double t, long s, long a) = samples[k];
            result.MaxLagBytes = Math.Max(result.MaxLagBytes, s - a);
            // The oldest unapplied write reached the source between the last sample that had not yet
            // passed the applied offset and the first that had: its age is taken at the midpoint.
            int j = samples.FindIndex(x => x.Source > a);
            if (j < 0 || j > k) continue;
            double arrived = j == 0 ? samples[0].T : (samples[j - 1].T + samples[j].T) / 2;
            result.MaxLagMs = Math.Max(result.MaxLagMs, (t - arrived) * 1000);
        }
        return result;
    }

    /// <summary>redis-benchmark SETs at full speed (16 pipelined, random keys of the data set's names): the rate and the time it ran.</summary>
    private static (double Rate, double Seconds) RunWriteLoad(ServerProcess source, long requests)
    {
        var psi = new ProcessStartInfo("redis-benchmark") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-h", "127.0.0.1", "-p", source.Port.ToString(CultureInfo.InvariantCulture), "-t", "set", "-P", "16", "-r", "1000000", "-d", "80",
                     "-n", requests.ToString(CultureInfo.InvariantCulture), "-q" })
        {
            psi.ArgumentList.Add(a);
        }
        var clock = Stopwatch.StartNew();
        using Process p = Process.Start(psi)!;
        Task<string> errors = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        double seconds = clock.Elapsed.TotalSeconds;
        MatchCollection rates = Regex.Matches(output, @"SET: ([0-9.]+) requests per second");
        if (p.ExitCode != 0 || rates.Count == 0) throw new InvalidOperationException($"redis-benchmark failed: {output} {errors.Result}");
        return (double.Parse(rates[rates.Count - 1].Groups[1].Value, CultureInfo.InvariantCulture), seconds);
    }

    private string ChildLog() => Path.Combine(_logDir, $"sync-{++_childRuns}.log");

    // ------------------------------------------------------------------ report

    private static string Label(Method method) => method switch
    {
        Method.Native => "Redis replication (REPLICAOF)",
        Method.RedisSync => "RedisSync",
        Method.Baseline => $"RedisSync at {_baselineLabel}",
        Method.Scan => "RedisSync -SourceMode Scan (SCAN + DUMP, verified)",
        Method.Cluster => "RedisSync into a cluster of 3 masters",
        _ => "redis-cli --pipe (target's ingestion limit)",
    };

    private void PrintCopyTable()
    {
        Console.WriteLine("| Data set | Full copy into an empty target | Time (s) | Keys/s | Elements/s | Speed vs replication | Peak RSS of the copier |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|");
        foreach (CopyResult row in _copies)
        {
            double median = Median(row.Seconds);
            CopyResult? native = _copies.FirstOrDefault(r => r.Data == row.Data && r.Method == Method.Native);
            string ratio = native == null ? "–" : $"{Median(native.Seconds) / median:0.00}×";
            string rss = row.PeakRss.Count > 0 ? $"{Median(row.PeakRss.Select(x => (double)x).ToList()) / 1048576.0:0} MB" : "–";
            string keysPerSecond = row.Data.Keys > 1 ? (row.Data.Keys / median).ToString("N0", CultureInfo.InvariantCulture) : "–";
            Console.WriteLine($"| {row.Data.Name} | {Label(row.Method)} | {median:0.00} ({row.Seconds.Min():0.00}–{row.Seconds.Max():0.00}) | " +
                $"{keysPerSecond} | {row.Data.Elements / median:N0} | {ratio} | {rss} |");
        }
    }

    private void PrintLoadTable()
    {
        Console.WriteLine("| Data set | Incremental, under redis-benchmark SET -P 16 | Write load (SET/s) | Write load vs replication | Max lag (bytes) | Max lag (ms) | Marker lag, max (ms) | Marker lag, median (ms) | Lag at load end (bytes) | Caught up after the load (s) | Peak RSS of the copier |");
        Console.WriteLine("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var group in _loads.GroupBy(r => (r.Data, r.Method)))
        {
            List<LoadResult> rows = group.ToList();
            string Stat(Func<LoadResult, double> f, string format) =>
                $"{Median(rows.Select(f).ToList()).ToString(format, CultureInfo.InvariantCulture)} ({rows.Select(f).Min().ToString(format, CultureInfo.InvariantCulture)}–{rows.Select(f).Max().ToString(format, CultureInfo.InvariantCulture)})";
            string rss = rows.Any(r => r.PeakRss > 0) ? $"{Median(rows.Select(r => (double)r.PeakRss).ToList()) / 1048576.0:0} MB" : "–";
            List<double> native = _loads.Where(r => r.Data == group.Key.Data && r.Method == Method.Native).Select(r => r.OpsPerSecond).ToList();
            string ratio = native.Count == 0 ? "–" : $"{Median(rows.Select(r => r.OpsPerSecond).ToList()) / Median(native):0.00}×";
            Console.WriteLine($"| {group.Key.Data.Name} | {Label(group.Key.Method)} | {Stat(r => r.OpsPerSecond, "N0")} | {ratio} | {Stat(r => r.MaxLagBytes, "N0")} | " +
                $"{Stat(r => r.MaxLagMs, "N0")} | {Stat(r => r.MarkerMaxMs, "N0")} | {Stat(r => r.MarkerMedianMs, "0.0")} | {Stat(r => r.EndLagBytes, "N0")} | {Stat(r => r.CatchUpSeconds, "0.000")} | {rss} |");
        }
    }

    /// <summary>The project's goals for this benchmark, each with the measured value: whether each is met.</summary>
    private bool PrintGoals()
    {
        bool all = true;
        void Goal(string text, bool met)
        {
            all &= met;
            Console.WriteLine($"- [{(met ? "x" : " ")}] {text}");
        }
        Console.WriteLine("Goals:");
        foreach (CopyResult row in _copies.Where(r => r.Method == Method.RedisSync))
        {
            double median = Median(row.Seconds);
            double native = Median(_copies.First(r => r.Data == row.Data && r.Method == Method.Native).Seconds);
            double rss = Median(row.PeakRss.Select(x => (double)x).ToList()) / 1048576.0;
            if (row.Data.Keys > 1)
            {
                Goal($"{row.Data.Name}: full copy at ≥ 200,000 keys/s: {row.Data.Keys / median:N0}", row.Data.Keys / median >= 200_000);
                Goal($"{row.Data.Name}: peak RSS < 200 MB: {rss:0} MB", rss < 200);
            }
            else
            {
                Goal($"{row.Data.Name}: peak RSS < 300 MB: {rss:0} MB", rss < 300);
            }
            Goal($"{row.Data.Name}: full copy at ≥ 0.6 × the speed of replication: {native / median:0.00}×", native / median >= 0.6);
        }
        foreach (var group in _loads.Where(r => r.Method == Method.RedisSync).GroupBy(r => r.Data))
        {
            double catchUp = Median(group.Select(r => r.CatchUpSeconds).ToList());
            Goal($"{group.Key.Name}: incremental catches up within 0.1 s after the load: {catchUp:0.000} s", catchUp <= 0.1);
            List<LoadResult> native = _loads.Where(r => r.Data == group.Key && r.Method == Method.Native).ToList();
            if (native.Count == 0) continue;
            double lagMs = Median(group.Select(r => r.MaxLagMs).ToList()), nativeLagMs = Median(native.Select(r => r.MaxLagMs).ToList());
            double markerMs = Median(group.Select(r => r.MarkerMaxMs).ToList()), nativeMarkerMs = Median(native.Select(r => r.MarkerMaxMs).ToList());
            double load = Median(group.Select(r => r.OpsPerSecond).ToList()) / Median(native.Select(r => r.OpsPerSecond).ToList());
            // A floor of 10 ms: the offsets are sampled every 20 ms, so a replica's lag below that is noise.
            Goal($"{group.Key.Name}: largest lag ≤ 3 × the replica's (offsets): {lagMs:N0} ms vs {nativeLagMs:N0} ms", lagMs <= 3 * Math.Max(nativeLagMs, 10));
            Goal($"{group.Key.Name}: largest lag ≤ 3 × the replica's (markers): {markerMs:N0} ms vs {nativeMarkerMs:N0} ms", markerMs <= 3 * Math.Max(nativeMarkerMs, 10));
            Goal($"{group.Key.Name}: write load ≥ 0.95 × what it is with a replica: {load:0.00}×", load >= 0.95);
        }
        return all;
    }

    private static double Median(List<double> values)
    {
        List<double> sorted = values.OrderBy(x => x).ToList();
        int n = sorted.Count;
        return n == 0 ? double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private enum Method
    {
        Native,
        RedisSync,
        Baseline,
        Cluster,
        Scan,
        Pipe,
    }

    private sealed class CopyResult
    {
        public CopyResult(DataSet data, Method method)
        {
            Data = data;
            Method = method;
        }

        public DataSet Data { get; }

        public Method Method { get; }

        public List<double> Seconds { get; } = new List<double>();

        public List<long> PeakRss { get; } = new List<long>();
    }

    private sealed class LoadResult
    {
        public LoadResult(DataSet data, Method method)
        {
            Data = data;
            Method = method;
        }

        public DataSet Data { get; }

        public Method Method { get; }

        public double OpsPerSecond { get; init; }

        public double LoadSeconds { get; init; }

        public long MaxLagBytes { get; set; }

        public double MaxLagMs { get; set; }

        public long EndLagBytes { get; init; }

        public double CatchUpSeconds { get; init; }

        public long PeakRss { get; set; }

        /// <summary>The largest time a marker written on the source took to be readable on the target.</summary>
        public double MarkerMaxMs { get; init; }

        public double MarkerMedianMs { get; init; }

        public int Markers { get; init; }

        /// <summary>Time, the source's offset and the applied offset, every 20 ms of the load (kept in the log folder with --keep).</summary>
        public List<(double T, long Source, long Applied)> Samples { get; init; } = new List<(double, long, long)>();
    }
}
