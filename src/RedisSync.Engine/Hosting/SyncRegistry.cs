using System;
using System.Collections.Generic;
using System.Linq;

namespace RedisSync.Engine.Hosting;

/// <summary>
/// The syncs of this process by name: what Get-RedisSyncStatus and Stop-RedisSync find. A name runs
/// once at a time (two syncs would write one checkpoint), or once per shard for the shard tasks of a
/// sync (-Shard: each has its own lease and checkpoint, and -Name finds them all); an ended run stays
/// listed, with its final status, until its job is removed or a new run takes its name.
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
            if (_runs.TryGetValue(KeyOf(run), out SyncRun? existing) && existing != run && existing.IsRunning)
            {
                string what = run.Options.Shard == null ? $"A sync named '{run.Name}'" : $"A task of shard '{run.Options.Shard}' of sync '{run.Name}'";
                throw new SyncException(HostErrorIds.SyncAlreadyRunning, SyncErrorKind.Stop,
                    $"{what} is already running in this process ({existing.Options.Target}). Stop it first (Stop-RedisSync -Name {run.Name}) or give the new one another -Name.");
            }
            _runs[KeyOf(run)] = run;
        }
    }

    /// <summary>Unlists a run (not another run that took its name since).</summary>
    public bool Remove(SyncRun run)
    {
        lock (_runs)
        {
            return _runs.TryGetValue(KeyOf(run), out SyncRun? existing) && existing == run && _runs.Remove(KeyOf(run));
        }
    }

    /// <summary>A run's entry: its name, and for a shard task the shard as given (a name never holds a space).</summary>
    private static string KeyOf(SyncRun run) => run.Options.Shard == null ? run.Name : run.Name + " " + run.Options.Shard;

    /// <summary>The run of that name (case-insensitive; not a shard task), or null.</summary>
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
