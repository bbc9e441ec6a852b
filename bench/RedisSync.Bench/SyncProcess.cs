using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Bench;

/// <summary>
/// The parent's side of <see cref="SyncChild"/>: starts this executable again with the <c>sync</c>
/// subcommand, follows its phase and status lines, and reads its last line.
/// </summary>
public sealed class SyncProcess : IDisposable
{
    private readonly Process _process;
    private readonly Thread _reader;
    private readonly object _lock = new object();
    private readonly List<string> _phases = new List<string>();
    private readonly TaskCompletionSource<bool> _exited = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly StreamWriter? _log;

    private SyncProcess(Process process, string? logPath)
    {
        _process = process;
        if (logPath != null) _log = new StreamWriter(logPath) { AutoFlush = true };
        _reader = new Thread(ReadLines) { IsBackground = true, Name = "sync-child-output" };
        _reader.Start();
    }

    public int Pid => _process.Id;

    /// <summary>The highest LagBytes and LagMilliseconds the sync's own status reported since <see cref="ResetLagPeaks"/>.</summary>
    public long PeakLagBytes { get; private set; }

    public long PeakLagMilliseconds { get; private set; }

    /// <summary>The child's last line, once it exited: <c>done phase=… seconds=… keys=… hwm=…</c>.</summary>
    public Dictionary<string, string>? Done { get; private set; }

    public string? Failure { get; private set; }

    /// <summary>Extra environment variables for every child (NAME=VALUE,…), to try runtime settings such as DOTNET_TieredCompilation=0.</summary>
    public static string ChildEnvironment { get; set; } = string.Empty;

    /// <summary>
    /// A module manifest (RedisSync.psd1) to run the PSYNC syncs with instead of this executable: a pwsh
    /// that imports it and runs Start-RedisSync (sync-child.ps1), as users run it.
    /// </summary>
    public static string ChildModule { get; set; } = string.Empty;

    /// <param name="build">Another build's RedisSync.Bench.dll to run the sync with (its own child, never the module).</param>
    public static SyncProcess Start(ServerProcess source, ServerProcess target, string mode, string name, string? logPath, string sourceMode = "Psync", string? build = null)
    {
        ProcessStartInfo psi;
        if (build != null)
        {
            psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            foreach (string a in new[] { build, "sync", "--source", source.Endpoint, "--target", target.Endpoint, "--mode", mode, "--name", name, "--source-mode", sourceMode }) psi.ArgumentList.Add(a);
        }
        else if (ChildModule.Length > 0 && sourceMode == "Psync")
        {
            psi = new ProcessStartInfo("pwsh") { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            foreach (string a in new[] { "-NoProfile", "-NonInteractive", "-File", Path.Combine(AppContext.BaseDirectory, "sync-child.ps1"),
                         "-Module", Path.GetFullPath(ChildModule), "-Source", source.Endpoint, "-Target", target.Endpoint, "-Name", name, "-Mode", mode })
            {
                psi.ArgumentList.Add(a);
            }
        }
        else
        {
            string self = Environment.ProcessPath ?? throw new InvalidOperationException("The benchmark cannot find its own executable.");
            psi = new ProcessStartInfo(self) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(SyncProcess).Assembly.Location);
            foreach (string a in new[] { "sync", "--source", source.Endpoint, "--target", target.Endpoint, "--mode", mode, "--name", name, "--source-mode", sourceMode }) psi.ArgumentList.Add(a);
        }
        foreach (string pair in ChildEnvironment.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0) throw new ArgumentException($"--child-env wants NAME=VALUE pairs, not '{pair}'.");
            psi.Environment[pair.Substring(0, eq)] = pair.Substring(eq + 1);
        }
        return new SyncProcess(Process.Start(psi) ?? throw new InvalidOperationException("The sync process did not start."), logPath);
    }

    /// <summary>Waits until the child reports <paramref name="phase"/> (throws if it ends first).</summary>
    public async Task WaitForPhaseAsync(string phase, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            lock (_lock)
            {
                if (_phases.Contains(phase)) return;
            }
            if (_exited.Task.IsCompleted) throw new InvalidOperationException($"The sync process ended before phase {phase}: {Failure ?? "no error printed"}");
            if (clock.Elapsed > timeout) throw new TimeoutException($"The sync process did not reach phase {phase} within {timeout}.");
            await Task.Delay(5);
        }
    }

    public void ResetLagPeaks()
    {
        lock (_lock)
        {
            PeakLagBytes = 0;
            PeakLagMilliseconds = 0;
        }
    }

    /// <summary>Asks the child to stop (it drains, checkpoints and prints its last line).</summary>
    public void Stop()
    {
        try
        {
            _process.StandardInput.WriteLine("stop");
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Waits for the child to exit and returns its last line's fields.</summary>
    public async Task<Dictionary<string, string>> WaitForExitAsync(TimeSpan timeout)
    {
        Task done = await Task.WhenAny(_exited.Task, Task.Delay(timeout));
        if (done != _exited.Task) throw new TimeoutException($"The sync process did not end within {timeout}.");
        await _process.WaitForExitAsync();
        if (Done == null) throw new InvalidOperationException("The sync process ended without its last line: " + (Failure ?? "no error printed"));
        if (Failure != null || _process.ExitCode != 0) throw new InvalidOperationException($"The sync failed: {Failure} (exit code {_process.ExitCode})");
        return Done;
    }

    private void ReadLines()
    {
        try
        {
            string? line;
            while ((line = _process.StandardOutput.ReadLine()) != null)
            {
                _log?.WriteLine(line);
                if (line.StartsWith("phase ", StringComparison.Ordinal))
                {
                    lock (_lock) _phases.Add(line.Split(' ')[1]);
                }
                else if (line.StartsWith("status ", StringComparison.Ordinal))
                {
                    Dictionary<string, string> f = Fields(line);
                    lock (_lock)
                    {
                        PeakLagBytes = Math.Max(PeakLagBytes, long.Parse(f["lagbytes"], CultureInfo.InvariantCulture));
                        PeakLagMilliseconds = Math.Max(PeakLagMilliseconds, long.Parse(f["lagms"], CultureInfo.InvariantCulture));
                    }
                }
                else if (line.StartsWith("done ", StringComparison.Ordinal))
                {
                    Done = Fields(line);
                }
                else if (line.StartsWith("failed ", StringComparison.Ordinal) || line.StartsWith("Unhandled", StringComparison.Ordinal))
                {
                    Failure = line;
                }
            }
        }
        finally
        {
            _exited.TrySetResult(true);
        }
    }

    private static Dictionary<string, string> Fields(string line)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in line.Split(' '))
        {
            int eq = part.IndexOf('=');
            if (eq > 0) fields[part.Substring(0, eq)] = part.Substring(eq + 1);
        }
        return fields;
    }

    public void Dispose()
    {
        ServerProcess.End(_process);
        _log?.Dispose();
    }
}
