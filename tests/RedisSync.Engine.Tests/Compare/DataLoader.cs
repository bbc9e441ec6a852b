using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using RedisSync.Engine.Tests.Infrastructure;

namespace RedisSync.Engine.Tests.Compare;

/// <summary>Loads many commands fast: formats them as RESP into a file and feeds it to <c>redis-cli --pipe</c>.</summary>
internal static class DataLoader
{
    public static void Pipe(RedisServer server, IEnumerable<object[]> commands)
    {
        string path = Path.Combine(server.Dir, "load-" + Guid.NewGuid().ToString("N") + ".resp");
        using (var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            foreach (object[] command in commands)
            {
                Write(file, "*" + command.Length + "\r\n");
                foreach (object arg in command)
                {
                    byte[] bytes = arg as byte[] ?? Encoding.UTF8.GetBytes(Convert.ToString(arg, System.Globalization.CultureInfo.InvariantCulture)!);
                    Write(file, "$" + bytes.Length + "\r\n");
                    file.Write(bytes);
                    Write(file, "\r\n");
                }
            }
        }
        string output = server.Shell($"redis-cli -p $PORT --pipe < '{path}'");
        File.Delete(path);
        if (!output.Contains("errors: 0,", StringComparison.Ordinal)) throw new InvalidOperationException("redis-cli --pipe reported errors: " + output);
    }

    private static void Write(Stream stream, string text) => stream.Write(Encoding.ASCII.GetBytes(text));
}
