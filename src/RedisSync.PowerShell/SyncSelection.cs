using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Remoting;

namespace RedisSync;

/// <summary>Finds this process's syncs by a name that may hold wildcards, as Get-Job finds jobs.</summary>
internal static class SyncSelection
{
    /// <summary>The runs whose name matches; a plain name that matches nothing writes a SyncNotFound error.</summary>
    public static IReadOnlyList<SyncRun> Select(PSCmdlet cmdlet, string? name)
    {
        IReadOnlyList<SyncRun> all = SyncRegistry.Process.List();
        if (string.IsNullOrEmpty(name)) return all;
        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
        List<SyncRun> found = all.Where(run => pattern.IsMatch(run.Name)).ToList();
        if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name) && SelectSharded(name).Count == 0)
        {
            var error = new SyncException(HostErrorIds.SyncNotFound, SyncErrorKind.Stop,
                $"No sync named '{name}' runs in this process. For a sync in another process, use Get-RedisSyncStatus -Target <target> -Name {name}.");
            cmdlet.WriteError(ErrorRecords.From(error, name));
        }
        return found;
    }

    /// <summary>The syncs started over sessions (Start-RedisSync -Session) whose name matches; all when no name is given.</summary>
    public static IReadOnlyList<RedisSyncShardedJob> SelectSharded(string? name)
    {
        IReadOnlyList<RedisSyncShardedJob> all = RedisSyncShardedJob.All;
        if (string.IsNullOrEmpty(name)) return all;
        var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
        return all.Where(job => pattern.IsMatch(job.Name)).ToList();
    }
}
