using System;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace RedisSync.Remoting;

/// <summary>
/// One shard task of a <see cref="RedisSyncShardedJob"/>: a child job whose Location is the session
/// that runs it now. Its output is the task's statuses, its errors and warnings the task's; it moves to
/// another session when its session or process dies.
/// </summary>
public sealed class ShardTaskJob : Job
{
    private readonly RedisSyncShardedJob _parent;

    internal ShardTaskJob(RedisSyncShardedJob parent, string? shard, string command)
        : base(command, shard ?? parent.Name)
    {
        _parent = parent;
        Shard = shard;
        Key = parent.Name + " " + (shard ?? "(all)") + " " + Guid.NewGuid().ToString("N");
        PSJobTypeName = "RedisSyncShardTask";
    }

    /// <summary>The shard (its master's slots), or null when the source is not a cluster and the sync is one task.</summary>
    public string? Shard { get; }

    /// <summary>The session that runs the task now (null while it waits for one).</summary>
    public PSSession? Session => Slot?.Session;

    /// <summary>The process in <see cref="Session"/> that runs the task.</summary>
    public int? ProcessId { get; internal set; }

    /// <summary>How many times the task was started again on another session.</summary>
    public int Restarts { get; internal set; }

    /// <summary>The task's last move (from where to where, and why), or null.</summary>
    public string? LastMove { get; internal set; }

    /// <summary>The session and process that run the task.</summary>
    public override string Location => Slot == null ? "(waiting for a session)" : Slot.Label + (ProcessId != null ? ", process " + ProcessId : string.Empty);

    /// <summary>The task's phase.</summary>
    public override string StatusMessage => Status?.Properties["Phase"]?.Value?.ToString() ?? (Slot == null ? "Waiting" : "Starting");

    /// <inheritdoc />
    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0;

    /// <summary>Stops the whole sync (a shard task is not stopped alone: its shard would stop being copied).</summary>
    public override void StopJob() => _parent.StopJob();

    internal string Key { get; }

    internal SessionSlot? Slot { get; set; }

    /// <summary>The task's latest status as its session sent it.</summary>
    internal PSObject? Status { get; set; }

    internal DateTime NextTry { get; set; }

    /// <summary>The source as the task said while it ran (for a shard, its master), or null before it ran.</summary>
    internal string? SourceText { get; set; }

    /// <summary>The task was started again elsewhere, and the parent has not yet said that it runs there.</summary>
    internal bool MoveToAnnounce { get; set; }

    /// <summary>Until when a moved task keeps trying while the lease of the process that died runs out (for ever when that process may live on, cut off).</summary>
    internal DateTime RetryUntil { get; set; }

    internal bool Ended => JobStateInfo.State == JobState.Completed || JobStateInfo.State == JobState.Failed || JobStateInfo.State == JobState.Stopped;

    internal void SetState(JobState state) => SetJobState(state);
}

/// <summary>A session the shard tasks run in, and whether it is still usable.</summary>
internal sealed class SessionSlot
{
    public SessionSlot(PSSession session, int index)
    {
        Session = session;
        Index = index;
    }

    public PSSession Session { get; }

    public int Index { get; }

    /// <summary>One pipeline at a time runs in a session.</summary>
    public object Lock { get; } = new object();

    public string? DeadBecause { get; set; }

    public bool Usable => DeadBecause == null && Session.Runspace.RunspaceStateInfo.State == RunspaceState.Opened;

    public string Label => $"{Session.ComputerName} (session {Session.Name})";
}

/// <summary>Start-RedisSync -Session refuses sessions it cannot use before it starts anything.</summary>
internal static class SessionSlotCheck
{
    public static void Open(System.Collections.Generic.IReadOnlyList<PSSession> sessions)
    {
        foreach (PSSession session in sessions)
        {
            RunspaceState state = session.Runspace.RunspaceStateInfo.State;
            if (state != RunspaceState.Opened)
            {
                throw RedisSync.Engine.Hosting.HostErrors.InvalidParameter("Session",
                    $"the session {session.Name} to {session.ComputerName} is {state}, not Opened: remove it (Remove-PSSession) and give sessions that are open.");
            }
        }
        var twice = sessions.GroupBy(s => s.InstanceId).FirstOrDefault(g => g.Count() > 1);
        if (twice != null) throw RedisSync.Engine.Hosting.HostErrors.InvalidParameter("Session", $"the session {twice.First().Name} is given {twice.Count()} times: give each session once.");
    }
}
