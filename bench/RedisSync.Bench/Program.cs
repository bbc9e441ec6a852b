using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;

namespace RedisSync.Bench;

/// <summary>Benchmarks as subcommands: <c>dotnet run -c Release --project bench/RedisSync.Bench -- compare [options]</c>.</summary>
public static class Program
{
    private static readonly IReadOnlyList<IBenchmark> Benchmarks = new IBenchmark[]
    {
        new CompareBenchmark(),
        new E2eBenchmark(),
        new SyncChild(),
    };

    public static async Task<int> Main(string[] args)
    {
        IBenchmark? benchmark = args.Length > 0 ? Benchmarks.FirstOrDefault(b => b.Name == args[0]) : null;
        if (benchmark == null)
        {
            Console.Error.WriteLine("usage: RedisSync.Bench <benchmark> [options]");
            foreach (IBenchmark b in Benchmarks) Console.Error.WriteLine($"  {b.Name,-10} {b.Description}");
            return 2;
        }
        try
        {
            return await benchmark.RunAsync(BenchArgs.Parse(args.Skip(1)));
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return 2;
        }
    }
}

/// <summary>One benchmark, run as a subcommand.</summary>
public interface IBenchmark
{
    /// <summary>The subcommand.</summary>
    string Name { get; }

    /// <summary>One line for the usage text.</summary>
    string Description { get; }

    Task<int> RunAsync(BenchArgs args);
}

/// <summary><c>--name value</c> options.</summary>
public sealed class BenchArgs
{
    private readonly Dictionary<string, string> _values;

    private BenchArgs(Dictionary<string, string> values) => _values = values;

    public static BenchArgs Parse(IEnumerable<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? name = null;
        foreach (string arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (name != null) values[name] = "true";
                name = arg.Substring(2);
            }
            else if (name != null)
            {
                values[name] = arg;
                name = null;
            }
            else
            {
                throw new ArgumentException($"Unexpected argument '{arg}'.");
            }
        }
        if (name != null) values[name] = "true";
        return new BenchArgs(values);
    }

    public int Int(string name, int fallback) => _values.TryGetValue(name, out string? v) ? int.Parse(v) : fallback;

    public string String(string name, string fallback) => _values.TryGetValue(name, out string? v) ? v : fallback;

    public bool Flag(string name) => _values.ContainsKey(name);
}
