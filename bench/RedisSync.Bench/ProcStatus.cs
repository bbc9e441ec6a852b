using System;
using System.Globalization;
using System.IO;

namespace RedisSync.Bench;

/// <summary>Reads a process's memory counters from <c>/proc/&lt;pid&gt;/status</c> (VmRSS, VmHWM: the peak resident set).</summary>
public static class ProcStatus
{
    /// <summary>The field in bytes, or -1 when the process or the field is gone.</summary>
    public static long Read(int pid, string field) => Parse(TryReadAll($"/proc/{pid}/status"), field);

    /// <summary>This process's own field, in bytes.</summary>
    public static long Self(string field) => Parse(TryReadAll("/proc/self/status"), field);

    private static string? TryReadAll(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Parse(string? status, string field)
    {
        if (status == null) return -1;
        foreach (string line in status.Split('\n'))
        {
            if (!line.StartsWith(field + ":", StringComparison.Ordinal)) continue;
            string[] parts = line.Substring(field.Length + 1).Trim().Split(' ');
            return long.Parse(parts[0], CultureInfo.InvariantCulture) * (parts.Length > 1 && parts[1] == "kB" ? 1024 : 1);
        }
        return -1;
    }
}
