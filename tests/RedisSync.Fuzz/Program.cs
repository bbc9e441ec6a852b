using System;
using System.IO;
using SharpFuzz;

namespace RedisSync.Fuzz;

/// <summary>
/// <c>RedisSync.Fuzz &lt;target&gt;</c>: runs one target under AFL (through SharpFuzz; without AFL it
/// reads one input from standard input). <c>RedisSync.Fuzz &lt;target&gt; &lt;file-or-folder&gt;...</c>
/// replays inputs and prints each one's outcome.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length == 0 || Array.IndexOf(FuzzTargets.Names, args[0]) < 0)
        {
            Console.Error.WriteLine($"usage: RedisSync.Fuzz <{string.Join("|", FuzzTargets.Names)}> [input file or folder...]");
            return 2;
        }
        string target = args[0];
        if (args.Length == 1)
        {
            Fuzzer.OutOfProcess.Run(stream =>
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                FuzzTargets.Run(target, copy.ToArray());
            });
            return 0;
        }
        for (int i = 1; i < args.Length; i++)
        {
            string[] files = Directory.Exists(args[i]) ? Directory.GetFiles(args[i]) : new[] { args[i] };
            Array.Sort(files, StringComparer.Ordinal);
            foreach (string file in files)
            {
                Console.WriteLine($"{file}: {FuzzTargets.Run(target, File.ReadAllBytes(file)) ?? "accepted"}");
            }
        }
        return 0;
    }
}
