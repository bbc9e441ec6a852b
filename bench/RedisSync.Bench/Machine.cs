using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.InteropServices;

namespace RedisSync.Bench;

/// <summary>What the numbers were measured on: CPU, cores, memory, OS, runtime and redis versions, and how busy the machine was.</summary>
public static class Machine
{
    public static string Describe()
    {
        string cpu = Field("/proc/cpuinfo", "model name", ':') ?? RuntimeInformation.ProcessArchitecture.ToString();
        string memory = Field("/proc/meminfo", "MemTotal", ':') is string kb && long.TryParse(kb.Split(' ')[0], out long k) ? $"{k / 1024.0 / 1024.0:0.0} GiB RAM" : "RAM unknown";
        string os = Field("/etc/os-release", "PRETTY_NAME", '=')?.Trim('"') ?? RuntimeInformation.OSDescription;
        string kernel = Read("/proc/sys/kernel/osrelease")?.Trim() ?? string.Empty;
        return $"{cpu}, {Environment.ProcessorCount} cores, {memory}; {os} (Linux {kernel}); {RuntimeInformation.FrameworkDescription}; {RedisVersion()}";
    }

    /// <summary>The 1, 5 and 15-minute load averages: other work on the machine shows here.</summary>
    public static string LoadAverage() => string.Join(" ", (Read("/proc/loadavg") ?? "? ? ?").Split(' ').Take(3));

    private static string RedisVersion()
    {
        try
        {
            var psi = new ProcessStartInfo("redis-server", "--version") { RedirectStandardOutput = true, UseShellExecute = false };
            using Process p = Process.Start(psi)!;
            string text = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            string? v = text.Split(' ').FirstOrDefault(t => t.StartsWith("v=", StringComparison.Ordinal));
            return "redis-server " + (v?.Substring(2) ?? text.Trim());
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "redis-server not found";
        }
    }

    private static string? Field(string path, string name, char separator)
    {
        string? text = Read(path);
        if (text == null) return null;
        foreach (string line in text.Split('\n'))
        {
            int at = line.IndexOf(separator);
            if (at > 0 && line.Substring(0, at).Trim() == name) return line.Substring(at + 1).Trim();
        }
        return null;
    }

    private static string? Read(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
