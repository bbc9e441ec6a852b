using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Bench;

/// <summary>The lag that marker keys showed: the largest and the median, and how many were timed.</summary>
internal readonly record struct MarkerLag(double MaxMs, double MedianMs, int Count);

/// <summary>
/// A lag figure that does not depend on the copier's own bookkeeping (its checkpoint, a replica's
/// offset): a marker key is SET on the source every 20 ms to a counter, and the target is read every
/// 2 ms; a marker's lag is the time from the source's reply to its SET until the target first holds
/// that counter or a later one (the replication stream keeps the source's order, so a later counter
/// means the earlier one has been applied too). Markers still missing when the probe is cancelled are
/// waited for, up to a minute, so a copier that falls behind at the end is not flattered.
/// </summary>
internal static class MarkerProbe
{
    public static async Task<MarkerLag> RunAsync(ServerProcess source, ServerProcess target, Stopwatch clock, CancellationToken stop)
    {
        using Probe writer = await Probe.ConnectAsync(source);
        using Probe reader = await Probe.ConnectAsync(target);
        var written = new List<double>();
        var lags = new List<double>();
        long seen = 0;
        // A key of its own for each measurement: the source keeps its keys from one measurement to the next.
        string key = "redissync-bench:marker:" + Guid.NewGuid().ToString("N");
        double nextWrite = clock.Elapsed.TotalMilliseconds;

        async Task ReadAsync()
        {
            string? value = (await reader.RunAsync("GET", key)).AsString();
            if (value == null || !long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long counter)) return;
            double now = clock.Elapsed.TotalMilliseconds;
            // The counters are 1-based indexes into the write times.
            for (long m = seen + 1; m <= Math.Min(counter, written.Count); m++) lags.Add(now - written[(int)m - 1]);
            seen = Math.Max(seen, Math.Min(counter, written.Count));
        }

        while (!stop.IsCancellationRequested)
        {
            if (clock.Elapsed.TotalMilliseconds >= nextWrite)
            {
                long counter = written.Count + 1;
                await writer.RunAsync("SET", key, counter.ToString(CultureInfo.InvariantCulture));
                written.Add(clock.Elapsed.TotalMilliseconds);
                nextWrite += 20;
            }
            await ReadAsync();
            try
            {
                await Task.Delay(2, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        var deadline = Stopwatch.StartNew();
        while (seen < written.Count && deadline.Elapsed < TimeSpan.FromMinutes(1))
        {
            await ReadAsync();
            await Task.Delay(2);
        }
        // A marker never seen counts with the time waited for it.
        double end = clock.Elapsed.TotalMilliseconds;
        for (long m = seen + 1; m <= written.Count; m++) lags.Add(end - written[(int)m - 1]);
        if (lags.Count == 0) return new MarkerLag(0, 0, 0);
        List<double> sorted = lags.OrderBy(x => x).ToList();
        return new MarkerLag(sorted[sorted.Count - 1], sorted[sorted.Count / 2], sorted.Count);
    }
}
