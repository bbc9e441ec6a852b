using System;
using System.Globalization;
using System.IO;
using System.Text;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// The status a scheduled task leaves behind: <see cref="SyncStatus"/> as one JSON object, replaced
/// whole on every update (written beside the file, then renamed over it), so a reader never sees half of one.
/// </summary>
public static class SyncStatusFile
{
    /// <summary>Writes <paramref name="status"/> to <paramref name="path"/>, creating its folder.</summary>
    public static void Write(string path, SyncStatus status)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        string temp = full + ".tmp";
        File.WriteAllText(temp, ToJson(status), new UTF8Encoding(false));
        if (File.Exists(full)) File.Replace(temp, full, null);
        else File.Move(temp, full);
    }

    /// <summary>The JSON text: every property of <see cref="SyncStatus"/>, enums as names, times in ISO 8601.</summary>
    public static string ToJson(SyncStatus status)
    {
        var json = new StringBuilder(1024);
        json.Append("{\n");
        Field(json, "Name", status.Name);
        Field(json, "Phase", status.Phase.ToString());
        Field(json, "Mode", status.Mode.ToString());
        Field(json, "Source", status.Source);
        Field(json, "Shard", status.Shard);
        Field(json, "Target", status.Target);
        Field(json, "Filter", status.Filter);
        Field(json, "Timestamp", Time(status.Timestamp));
        Field(json, "StartTime", Time(status.StartTime));
        Field(json, "ReplicationId", status.ReplicationId);
        Number(json, "SourceOffset", status.SourceOffset);
        Number(json, "AppliedOffset", status.AppliedOffset);
        Number(json, "LagBytes", status.LagBytes);
        Number(json, "LagMilliseconds", status.LagMilliseconds);
        Number(json, "SnapshotBytesReceived", status.SnapshotBytesReceived);
        Number(json, "SnapshotBytesTotal", status.SnapshotBytesTotal);
        Raw(json, "SnapshotPercent", status.SnapshotPercent is double p ? Real(p) : "null");
        Number(json, "KeysWritten", status.KeysWritten);
        Number(json, "CommandsWritten", status.CommandsWritten);
        Raw(json, "KeysPerSecond", Real(status.KeysPerSecond));
        Raw(json, "CommandsPerSecond", Real(status.CommandsPerSecond));
        Number(json, "FullResyncs", status.FullResyncs);
        Number(json, "PartialResyncs", status.PartialResyncs);
        Number(json, "RetriedErrors", status.RetriedErrors);
        Number(json, "SkippedErrors", status.SkippedErrors);
        Number(json, "StopErrors", status.StopErrors);
        Field(json, "LastError", status.LastError);
        Field(json, "LastErrorId", status.LastErrorId, last: true);
        json.Append("}\n");
        return json.ToString();
    }

    private static string Time(DateTimeOffset time) => time.ToString("o", CultureInfo.InvariantCulture);

    private static string Real(double value) =>
        double.IsNaN(value) || double.IsInfinity(value) ? "null" : Math.Round(value, 3).ToString("R", CultureInfo.InvariantCulture);

    private static void Number(StringBuilder json, string name, long? value, bool last = false) =>
        Raw(json, name, value?.ToString(CultureInfo.InvariantCulture) ?? "null", last);

    private static void Field(StringBuilder json, string name, string? value, bool last = false) =>
        Raw(json, name, value == null ? "null" : Quote(value), last);

    private static void Raw(StringBuilder json, string name, string value, bool last = false)
    {
        json.Append("  \"").Append(name).Append("\": ").Append(value);
        json.Append(last ? "\n" : ",\n");
    }

    private static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }
}
