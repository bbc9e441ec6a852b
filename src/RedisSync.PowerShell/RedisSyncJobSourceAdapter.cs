using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;

namespace RedisSync;

/// <summary>
/// The job repository for <see cref="RedisSyncJob"/> and <see cref="Remoting.RedisSyncShardedJob"/>: PowerShell's JobManager asks it, so Get-Job,
/// Receive-Job, Wait-Job, Stop-Job and Remove-Job find sync jobs like any other.
/// </summary>
public sealed class RedisSyncJobSourceAdapter : JobSourceAdapter
{
    /// <summary>The key under which Start-RedisSync hands its job to <see cref="NewJob"/>.</summary>
    internal const string JobParameter = "RedisSyncJob";

    private readonly ConcurrentDictionary<Guid, Job2> _jobs = new ConcurrentDictionary<Guid, Job2>();

    /// <summary>JobManager creates the adapter by its type.</summary>
    public RedisSyncJobSourceAdapter()
    {
        Name = "RedisSyncJobSourceAdapter";
    }

    /// <summary>Files the job Start-RedisSync built (it is already running).</summary>
    public override Job2 NewJob(JobInvocationInfo specification)
    {
        if (specification?.Parameters.Count > 0 && specification.Parameters[0].Count > 0 && specification.Parameters[0][0].Value is Job2 job && (job is RedisSyncJob || job is Remoting.RedisSyncShardedJob))
        {
            _jobs.TryAdd(job.InstanceId, job);
            return job;
        }
        throw new PSArgumentException("A RedisSync job is started by Start-RedisSync.");
    }

    /// <inheritdoc />
    public override IList<Job2> GetJobs() => _jobs.Values.Cast<Job2>().ToList();

    /// <inheritdoc />
    public override IList<Job2> GetJobsByName(string name, bool recurse) =>
        Where(job => string.Equals(job.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc />
    public override IList<Job2> GetJobsByCommand(string command, bool recurse) =>
        Where(job => string.Equals(job.Command, command, StringComparison.OrdinalIgnoreCase));

    /// <inheritdoc />
    public override IList<Job2> GetJobsByState(JobState state, bool recurse) => Where(job => job.JobStateInfo.State == state);

    /// <summary>No filter applies to sync jobs: nothing matches.</summary>
    public override IList<Job2> GetJobsByFilter(Dictionary<string, object> filter, bool recurse) => new List<Job2>();

    /// <inheritdoc />
    public override Job2? GetJobByInstanceId(Guid instanceId, bool recurse) =>
        _jobs.TryGetValue(instanceId, out Job2? job) ? job : null;

    /// <inheritdoc />
    public override Job2? GetJobBySessionId(int id, bool recurse) => _jobs.Values.FirstOrDefault(job => job.Id == id);

    /// <summary>Remove-Job: stops the sync if it still runs, then forgets the job.</summary>
    public override void RemoveJob(Job2 job)
    {
        if (job != null && _jobs.TryRemove(job.InstanceId, out Job2? removed))
        {
            removed.StopJob();
        }
    }

    private IList<Job2> Where(Func<Job2, bool> match) => _jobs.Values.Where(match).Cast<Job2>().ToList();
}
