using System;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>The sync in a process of its own (tests/RedisSync.SyncHost), to be killed with SIGKILL.</summary>
internal sealed class HostProcess : IDisposable
{
    private readonly Process _process;
    private readonly System.Text.StringBuilder _output = new System.Text.StringBuilder();

    private HostProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    public static HostProcess Start(RedisServer source, RedisServer target, string name, double? leaseSeconds = null) => Start(source.Endpoint, target, name, leaseSeconds);

    /// <summary>A shard task (-Shard <paramref name="shard"/>) of a sync of the cluster at <paramref name="source"/>, or a whole sync when null.</summary>
    public static HostProcess Start(string source, RedisServer target, string name, double? leaseSeconds = null, string? shard = null) =>
        Start(source, target.Endpoint, name, leaseSeconds, shard);

    /// <summary>As above, the target by its address (a relay in front of it, for example).</summary>
    public static HostProcess Start(string source, string target, string name, double? leaseSeconds = null, string? shard = null)
    {
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RedisSync.SyncHost.dll"));
        psi.ArgumentList.Add(source);
        psi.ArgumentList.Add(target);
        psi.ArgumentList.Add(name);
        if (leaseSeconds != null || shard != null) psi.ArgumentList.Add((leaseSeconds ?? 10).ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (shard != null) psi.ArgumentList.Add(shard);
        return new HostProcess(Process.Start(psi)!);
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>SIGSTOP: the process freezes (as a paused VM or a long GC would), its sockets stay open.</summary>
    public void Pause() => Signal("STOP");

    /// <summary>SIGCONT after <see cref="Pause"/>.</summary>
    public void Resume() => Signal("CONT");

    /// <summary>Waits for the process to end by itself and returns its exit code.</summary>
    public int WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit((int)timeout.TotalMilliseconds)) throw new TimeoutException("the sync process did not end: " + Output);
        _process.WaitForExit();
        return _process.ExitCode;
    }

    private void Signal(string name) => Process.Start("kill", new[] { "-" + name, _process.Id.ToString() })!.WaitForExit();

    public async Task WaitForAsync(string text)
    {
        var clock = Stopwatch.StartNew();
        while (!Output.Contains(text))
        {
            if (_process.HasExited) throw new InvalidOperationException("the sync process ended: " + Output);
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new TimeoutException($"no '{text}' in: {Output}");
            await Task.Delay(50);
        }
    }

    /// <summary>SIGKILL: no chance to drain or checkpoint.</summary>
    public void Kill()
    {
        _process.Kill();
        _process.WaitForExit(10000);
    }

    /// <summary>SIGTERM: the graceful stop.</summary>
    public void Terminate()
    {
        Process.Start("kill", new[] { "-TERM", _process.Id.ToString() })!.WaitForExit();
        _process.WaitForExit(30000);
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
    }
}
