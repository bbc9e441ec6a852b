using System;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;

namespace RedisSync.Bench;

/// <summary>A redis-server of the benchmark's own: a free loopback port, a temp dir, stopped by PID.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process _process;

    private ServerProcess(Process process, int port, string dir)
    {
        _process = process;
        Port = port;
        Dir = dir;
    }

    public int Port { get; }

    public string Dir { get; }

    public string Endpoint => "127.0.0.1:" + Port;

    public int Pid => _process.Id;

    /// <summary>Resident memory now (VmRSS), in bytes.</summary>
    public long RssBytes => ProcStatus.Read(Pid, "VmRSS");

    /// <summary>Starts a server; <paramref name="config"/> adds <c>--name value</c> pairs to the command line.</summary>
    public static ServerProcess Start(params string[] config)
    {
        int port = FreePort();
        string dir = Path.Combine(Path.GetTempPath(), "redissync-bench-" + Guid.NewGuid().ToString("N").Substring(0, 12));
        Directory.CreateDirectory(dir);
        var psi = new ProcessStartInfo("redis-server") { UseShellExecute = false, WorkingDirectory = dir };
        foreach (string a in new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--logfile", "redis.log", "--save", "",
                     "--appendonly", "no", "--protected-mode", "no", "--enable-debug-command", "local" })
        {
            psi.ArgumentList.Add(a);
        }
        foreach (string a in config) psi.ArgumentList.Add(a);
        Process process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        var server = new ServerProcess(process, port, dir);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (server.TryCli("PING") != "PONG")
        {
            if (DateTime.UtcNow > deadline || process.HasExited) throw new InvalidOperationException($"redis-server on port {port} did not start");
            Thread.Sleep(50);
        }
        return server;
    }

    /// <summary>Runs redis-cli against this server and returns its output.</summary>
    public string Cli(params string[] args) => TryCli(args) ?? throw new InvalidOperationException("redis-cli failed: " + string.Join(" ", args));

    private string? TryCli(params string[] args)
    {
        var psi = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-h", "127.0.0.1", "-p", Port.ToString() }) psi.ArgumentList.Add(a);
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        return p.ExitCode == 0 ? output : null;
    }

    /// <summary>Sends a file of RESP commands with <c>redis-cli --pipe</c>; throws unless every reply was a success.</summary>
    public string Pipe(string path)
    {
        var psi = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "-h", "127.0.0.1", "-p", Port.ToString(), "--pipe" }) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        System.Threading.Tasks.Task<string> output = p.StandardOutput.ReadToEndAsync();
        System.Threading.Tasks.Task<string> errors = p.StandardError.ReadToEndAsync();
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20))
        {
            file.CopyTo(p.StandardInput.BaseStream, 1 << 20);
        }
        p.StandardInput.Close();
        p.WaitForExit();
        string text = output.Result + errors.Result;
        if (p.ExitCode != 0 || !text.Contains("errors: 0,", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"redis-cli --pipe into port {Port} failed: {text.Trim()}");
        }
        return text;
    }

    /// <summary>CPU seconds the server has used (user + system), from INFO cpu.</summary>
    public double CpuSeconds()
    {
        double total = 0;
        foreach (string line in Cli("INFO", "cpu").Split('\n'))
        {
            string[] parts = line.Trim().Split(':');
            if (parts.Length == 2 && (parts[0] == "used_cpu_user" || parts[0] == "used_cpu_sys")) total += double.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        }
        return total;
    }

    public void Dispose()
    {
        End(_process);
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { }
    }

    /// <summary>Kills a process the benchmark started (by its own handle), waits for it and releases it.</summary>
    internal static void End(Process process)
    {
        try
        {
            if (!process.HasExited) process.Kill();
            process.WaitForExit(10000);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port == 6379 ? FreePort() : port;
    }
}
