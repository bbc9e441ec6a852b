using BenchmarkDotNet.Running;

namespace RedisSync.Microbench;

/// <summary>
/// <c>dotnet run -c Release --project bench/RedisSync.Microbench</c> runs every benchmark (a short job,
/// in process); BenchmarkDotNet's own options (<c>--filter *Rdb*</c>, …) narrow it down.
/// </summary>
public static class Program
{
    public static void Main(string[] args)
    {
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args.Length == 0 ? new[] { "--filter", "*" } : args, new MicrobenchConfig());
    }
}
