using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

namespace RedisSync.Microbench;

/// <summary>
/// Real RDB files for the parser benchmarks: a local redis-server is filled with generated keys
/// (sent with redis-cli --pipe), SAVEs, and its dump.rdb is read into memory. Made once per
/// process and kept, so every benchmark case parses the same bytes.
/// </summary>
public static class RdbFiles
{
    private static readonly Dictionary<string, byte[]> Made = new Dictionary<string, byte[]>();

    /// <summary>The names of the RDBs <see cref="Get"/> makes.</summary>
    public static readonly string[] Names = { "strings", "collections" };

    public static byte[] Get(string name)
    {
        lock (Made)
        {
            if (!Made.TryGetValue(name, out byte[]? rdb))
            {
                rdb = Save(name == "strings" ? Strings() : Collections());
                Made[name] = rdb;
            }
            return rdb;
        }
    }

    /// <summary>200,000 strings of 64–100 bytes (what most caches hold).</summary>
    private static byte[] Strings()
    {
        var rng = new Random(1);
        var commands = new CommandFile();
        for (int i = 0; i < 200_000; i++)
        {
            commands.Command("SET", "key:" + i.ToString("D12"), Text(rng, 64 + rng.Next(37)));
        }
        return commands.ToArray();
    }

    /// <summary>
    /// 20,000 hashes, lists, sets and sorted sets: three in four small (10–50 elements, listpack
    /// encoded), one in four large (200–400 elements: hash tables, quicklists and skiplists).
    /// </summary>
    private static byte[] Collections()
    {
        var rng = new Random(2);
        var commands = new CommandFile();
        for (int i = 0; i < 20_000; i++)
        {
            int count = i % 4 == 3 ? 200 + rng.Next(201) : 10 + rng.Next(41);
            string key = "key:" + i.ToString("D12");
            var args = new List<string>();
            switch (i / 4 % 4)
            {
                case 0:
                    args.Add("HSET");
                    args.Add(key);
                    for (int j = 0; j < count; j++)
                    {
                        args.Add("field:" + j);
                        args.Add(Text(rng, 8 + rng.Next(33)));
                    }
                    break;
                case 1:
                    args.Add("RPUSH");
                    args.Add(key);
                    for (int j = 0; j < count; j++) args.Add(Text(rng, 8 + rng.Next(33)));
                    break;
                case 2:
                    args.Add("SADD");
                    args.Add(key);
                    for (int j = 0; j < count; j++) args.Add(Text(rng, 8 + rng.Next(25)) + j);
                    break;
                default:
                    args.Add("ZADD");
                    args.Add(key);
                    for (int j = 0; j < count; j++)
                    {
                        args.Add((rng.Next(1_000_000) / 8.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                        args.Add("member:" + j);
                    }
                    break;
            }
            commands.Command(args.ToArray());
        }
        return commands.ToArray();
    }

    private static string Text(Random rng, int length)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        var chars = new char[length];
        for (int i = 0; i < length; i++) chars[i] = alphabet[rng.Next(64)];
        return new string(chars);
    }

    /// <summary>Loads the commands into a fresh redis-server, SAVEs, and returns its dump.rdb.</summary>
    private static byte[] Save(byte[] commands)
    {
        string dir = Path.Combine(Path.GetTempPath(), "redissync-microbench-" + Guid.NewGuid().ToString("N").Substring(0, 8));
        Directory.CreateDirectory(dir);
        int port = FreePort();
        var server = Process.Start(new ProcessStartInfo("redis-server",
            $"--port {port} --bind 127.0.0.1 --dir {dir} --save \"\" --appendonly no --logfile redis.log") { UseShellExecute = false })!;
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (Cli(port, null, "PING").Trim() != "PONG")
            {
                if (DateTime.UtcNow > deadline) throw new InvalidOperationException("redis-server did not start");
                Thread.Sleep(50);
            }
            string piped = Cli(port, commands, "--pipe");
            if (!piped.Contains("errors: 0,", StringComparison.Ordinal)) throw new InvalidOperationException("Loading the benchmark data failed: " + piped);
            Cli(port, null, "SAVE");
            return File.ReadAllBytes(Path.Combine(dir, "dump.rdb"));
        }
        finally
        {
            server.Kill();
            server.WaitForExit();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string Cli(int port, byte[]? input, params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardInput = input != null };
        foreach (string a in new[] { "-p", port.ToString() }) psi.ArgumentList.Add(a);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        if (input != null)
        {
            p.StandardInput.BaseStream.Write(input);
            p.StandardInput.Close();
        }
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return output;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Commands as RESP, for redis-cli --pipe.</summary>
    private sealed class CommandFile
    {
        private readonly MemoryStream _bytes = new MemoryStream();

        public void Command(params string[] args)
        {
            Append("*" + args.Length + "\r\n");
            foreach (string arg in args)
            {
                byte[] value = Encoding.UTF8.GetBytes(arg);
                Append("$" + value.Length + "\r\n");
                _bytes.Write(value);
                Append("\r\n");
            }
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void Append(string text) => _bytes.Write(Encoding.ASCII.GetBytes(text));
    }
}
