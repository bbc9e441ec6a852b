using System.Collections.Generic;
using System.Linq;
using System.Text;
using RedisSync.Engine.Config;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>The [rename_key] table of RedisSync's settings file (as -RenameKey: <c>"old:*" = "new:*"</c>), also kept in a sync's filter record.</summary>
internal static class RenameSettings
{
    public static IReadOnlyDictionary<string, string> Read(SettingsTable table)
    {
        var map = new Dictionary<string, string>();
        foreach (string key in table.Keys) map[key] = table.GetString(key) ?? string.Empty;
        try
        {
            KeyRename.Compile(map);
        }
        catch (SyncException ex)
        {
            throw table.Error(ex.Message.TrimEnd('.'));
        }
        return map;
    }

    public static string ToToml(IReadOnlyDictionary<string, string> map)
    {
        var toml = new StringBuilder("[rename_key]\n");
        foreach (KeyValuePair<string, string> pair in map.OrderBy(p => p.Key, System.StringComparer.Ordinal))
        {
            toml.Append(Quote(pair.Key)).Append(" = ").Append(Quote(pair.Value)).Append('\n');
        }
        return toml.ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
