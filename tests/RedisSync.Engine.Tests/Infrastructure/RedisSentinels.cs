using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>
/// A Sentinel-managed master for one test: a master, its replica, and Sentinels (redis-server
/// --sentinel, each with its own config file in its own temp dir) on free loopback ports, stopped by PID.
/// </summary>
public sealed class RedisSentinels : IDisposable
{
    public const string MasterName = "mymaster";

    private readonly List<SentinelProcess> _sentinels = new List<SentinelProcess>();

    private RedisSentinels(RedisServer master, RedisServer replica)
    {
        Master = master;
        Replica = replica;
    }

    /// <summary>The master when the set began.</summary>
    public RedisServer Master { get; }

    /// <summary>Its replica when the set began.</summary>
    public RedisServer Replica { get; }

    /// <summary>The Sentinels' addresses, as a user gives them.</summary>
    public IReadOnlyList<string> Endpoints => _sentinels.Select(s => s.Endpoint).ToList();

    public static RedisSentinels Start(int sentinels = 3, params string[] serverArgs)
    {
        int at = Array.IndexOf(serverArgs, "--requirepass");
        string? password = at >= 0 ? serverArgs[at + 1] : null;
        string[] args = new[] { "--repl-diskless-sync-delay", "0" }.Concat(serverArgs).ToArray();
        RedisServer master = RedisServer.Start(args);
        RedisServer replica = RedisServer.Start(args.Concat(new[] { "--replicaof", "127.0.0.1", master.Port.ToString() }).ToArray());
        var set = new RedisSentinels(master, replica);
        try
        {
            for (int i = 0; i < sentinels; i++) set._sentinels.Add(SentinelProcess.Start(master.Port, quorum: 2, password));
            set.WaitUntil(() => set._sentinels.All(s => s.Cli("SENTINEL", "REPLICAS", MasterName).Contains(replica.Port.ToString())
                && s.Cli("SENTINEL", "SENTINELS", MasterName).Split('\n').Count(l => l == "name") == sentinels - 1), "the Sentinels to know each other and the replica");
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>The port of the master the Sentinels name now.</summary>
    public int CurrentMasterPort() => int.Parse(_sentinels.First(s => s.Running).Cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName).Split('\n')[1].Trim());

    /// <summary>SENTINEL FAILOVER on a running Sentinel, then waits until the replica is the master and the Sentinels agree.</summary>
    public void Failover()
    {
        int before = CurrentMasterPort();
        _sentinels.First(s => s.Running).Cli("SENTINEL", "FAILOVER", MasterName);
        WaitUntil(() => CurrentMasterPort() != before && _sentinels.Where(s => s.Running).All(s => s.Cli("SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName).Contains("\n" + CurrentMasterPort())),
            "the failover");
    }

    /// <summary>What a Sentinel knows of the master's replicas (SENTINEL REPLICAS), as text.</summary>
    public string Replicas() => _sentinels.First(s => s.Running).Cli("SENTINEL", "REPLICAS", MasterName);

    /// <summary>Kills one Sentinel (SIGKILL).</summary>
    public void KillSentinel(int index) => _sentinels[index].Kill();

    private void WaitUntil(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException("waited for " + what + ": " + string.Join(" | ", _sentinels.Select(s => s.Log())));
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        foreach (SentinelProcess sentinel in _sentinels) sentinel.Dispose();
        Replica.Dispose();
        Master.Dispose();
    }

    private sealed class SentinelProcess : IDisposable
    {
        private Process? _process;

        private SentinelProcess(string dir, int port)
        {
            Dir = dir;
            Port = port;
        }

        public string Dir { get; }

        public int Port { get; }

        public string Endpoint => "127.0.0.1:" + Port;

        public bool Running => _process != null && !_process.HasExited;

        public static SentinelProcess Start(int masterPort, int quorum, string? password)
        {
            string dir = Path.Combine(Path.GetTempPath(), "redissync-sentinel-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(dir);
            int port = RedisServer.FreePort();
            File.WriteAllText(Path.Combine(dir, "sentinel.conf"),
                $"port {port}\nbind 127.0.0.1\ndir {dir}\nlogfile sentinel.log\nprotected-mode no\n" +
                $"sentinel monitor {MasterName} 127.0.0.1 {masterPort} {quorum}\n" +
                $"sentinel down-after-milliseconds {MasterName} 1000\nsentinel failover-timeout {MasterName} 5000\nsentinel parallel-syncs {MasterName} 1\n" +
                (password != null ? $"sentinel auth-pass {MasterName} {password}\n" : ""));
            var psi = new ProcessStartInfo("redis-server") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = dir };
            psi.ArgumentList.Add(Path.Combine(dir, "sentinel.conf"));
            psi.ArgumentList.Add("--sentinel");
            var sentinel = new SentinelProcess(dir, port) { _process = Process.Start(psi) };
            sentinel._process!.OutputDataReceived += (_, _) => { };
            sentinel._process.ErrorDataReceived += (_, _) => { };
            sentinel._process.BeginOutputReadLine();
            sentinel._process.BeginErrorReadLine();
            var clock = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    if (sentinel.Cli("PING").StartsWith("PONG")) return sentinel;
                }
                catch (InvalidOperationException) { }
                if (clock.Elapsed > TimeSpan.FromSeconds(20)) throw new TimeoutException("the Sentinel did not start: " + sentinel.Log());
                Thread.Sleep(20);
            }
        }

        public string Cli(params string[] args)
        {
            var psi = new ProcessStartInfo("redis-cli") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "-h", "127.0.0.1", "-p", Port.ToString() }.Concat(args)) psi.ArgumentList.Add(a);
            using Process p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0) throw new InvalidOperationException("redis-cli failed against the Sentinel " + Endpoint);
            return output;
        }

        public string Log()
        {
            string path = Path.Combine(Dir, "sentinel.log");
            try { return File.Exists(path) ? string.Join("\n", File.ReadAllLines(path).TakeLast(10)) : "(no log)"; }
            catch (IOException) { return "(log unreadable)"; }
        }

        public void Kill()
        {
            if (_process == null) return;
            try
            {
                if (!_process.HasExited) _process.Kill();
                _process.WaitForExit(10000);
            }
            catch (InvalidOperationException) { }
        }

        public void Dispose()
        {
            Kill();
            _process?.Dispose();
            try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
