using System;
using System.Collections.Concurrent;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace RedisSync.Microbench;

/// <summary>A short job run in process (no project generated per benchmark), allocations, and MB/s of input.</summary>
public sealed class MicrobenchConfig : ManualConfig
{
    public MicrobenchConfig()
    {
        AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance));
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(new ThroughputColumn());
        AddColumnProvider(DefaultColumnProviders.Instance);
        AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default);
    }
}

/// <summary>Megabytes of input handled per second: the bytes a benchmark registered for one operation over its mean time.</summary>
public sealed class ThroughputColumn : IColumn
{
    private static readonly ConcurrentDictionary<string, long> BytesPerOperation = new ConcurrentDictionary<string, long>();

    /// <summary>Called from a benchmark's setup: how many input bytes one call of <paramref name="method"/> handles, for this parameter value.</summary>
    public static void Register(string method, string parameter, long bytes) => BytesPerOperation[method + "|" + parameter] = bytes;

    public string Id => nameof(ThroughputColumn);

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => "Input megabytes (2^20 bytes) per second";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        string parameter = benchmarkCase.Parameters.Items.FirstOrDefault()?.Value?.ToString() ?? string.Empty;
        BenchmarkReport? report = summary[benchmarkCase];
        double? meanNs = report?.ResultStatistics?.Mean;
        if (meanNs == null || !BytesPerOperation.TryGetValue(benchmarkCase.Descriptor.WorkloadMethod.Name + "|" + parameter, out long bytes)) return "-";
        return (bytes / (meanNs.Value / 1e9) / 1048576.0).ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
    }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
