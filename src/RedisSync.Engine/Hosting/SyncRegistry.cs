using System;
using System.Collections.Generic;
using System.Linq;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// The syncs of this process by name: what Get-RedisSyncStatus and Stop-RedisSync find. A name runs
/// once at a time (two syncs would write one checkpoint); an ended run stays listed, with its final
/// status, until its job is removed or a new run takes its name.
/// </summary>
public sealed class SyncRegistry
{
    private readonly Dictionary<string, SyncRun> _runs = new Dictionary<string, SyncRun>(StringComparer.OrdinalIgnoreCase);

    /// <summary>The registry the cmdlets share.</summary>
    public static SyncRegistry Process { get; } = new SyncRegistry();

    /// <summary>Lists a run; fails with SyncAlreadyRunning when a running sync has its name.</summary>
    public void Add(SyncRun run)
    {
        if (run == null) throw new ArgumentNullException(nameof(run));
        lock (_runs)
        {
            if (_runs.TryGetValue(run.Name, out SyncRun? existing) && existing != run && existing.IsRunning)
            {
                throw new SyncException(HostErrorIds.SyncAlreadyRunning, SyncErrorKind.Stop,
                    $"A sync named '{run.Name}' is already running in this process ({existing.Options.Target}). Stop it first (Stop-RedisSync -Name {run.Name}) or give the new one another -Name.");
            }
            _runs[run.Name] = run;
        }
    }

    /// <summary>Unlists a run (not another run that took its name since).</summary>
    public bool Remove(SyncRun run)
    {
        lock (_runs)
        {
            return _runs.TryGetValue(run.Name, out SyncRun? existing) && existing == run && _runs.Remove(run.Name);
        }
    }

    /// <summary>The run of that name (case-insensitive), or null.</summary>
    public SyncRun? Find(string name)
    {
        lock (_runs)
        {
            return _runs.TryGetValue(name, out SyncRun? run) ? run : null;
        }
    }

    /// <summary>Every listed run, by name.</summary>
    public IReadOnlyList<SyncRun> List()
    {
        lock (_runs)
        {
            return _runs.Values.OrderBy(run => run.Name, StringComparer.OrdinalIgnoreCase).ToList();
        }
    }
}
