using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.ComponentModel;
using System.Globalization;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Remoting;
using System.Management.Automation.Runspaces;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;

namespace RedisSync.Remoting;

/// <summary>
/// Start-RedisSync -Session: a sync whose shard tasks (one per master of a cluster source) run over
/// PowerShell sessions, as one parent job (PSJobTypeName RedisSyncShardedJob) whose child jobs are the
/// shard tasks. A supervisor thread places the tasks over the sessions (the fewest tasks first, at most
/// -ThrottleLimit at once), reads each task's state every half second, and when a session breaks or its
/// process dies starts that session's tasks again on the others: each resumes from its checkpoint on the
/// target once the dead process's lease is gone, so nothing is lost and nothing applied twice.
/// </summary>
public sealed class RedisSyncShardedJob : SyncJobBase
{
    /// <summary>The type name that Get-Job shows and filters on.</summary>
    public const string TypeName = "RedisSyncShardedJob";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private static readonly List<RedisSyncShardedJob> Jobs = new List<RedisSyncShardedJob>();

    private readonly IReadOnlyList<SessionSlot> _slots;
    private readonly List<ShardTaskJob> _tasks = new List<ShardTaskJob>();
    private readonly Hashtable _parameters;
    private readonly int _throttleLimit;
    private readonly TimeSpan _restartWindow;
    private readonly TimeSpan _pollDeadline;
    private readonly ManualResetEventSlim _wake = new ManualResetEventSlim(false);
    private readonly string _source;
    private readonly string _target;
    private readonly SyncMode _mode;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private bool _stopRequested;

    internal RedisSyncShardedJob(string command, string name, IReadOnlyList<PSSession> sessions, IReadOnlyList<string> shards, Hashtable parameters,
        int throttleLimit, TimeSpan leaseTime, string source, string target, SyncMode mode)
        : base(command, name)
    {
        PSJobTypeName = TypeName;
        _slots = sessions.Select((s, i) => new SessionSlot(s, i)).ToList();
        _parameters = parameters;
        _throttleLimit = throttleLimit;
        // A moved task waits for the dead process's lease to run out (at once when that process is known dead on its host).
        _restartWindow = TimeSpan.FromTicks(leaseTime.Ticks * 3) + TimeSpan.FromSeconds(30);
        // A host that has not answered a poll for a lease time and 5 s is frozen or cut off: its tasks move. Starting a
        // task imports the module there, and stopping one drains it: those get longer.
        _pollDeadline = leaseTime + TimeSpan.FromSeconds(5);
        _source = source;
        _target = target;
        _mode = mode;
        foreach (string? shard in shards.Count == 0 ? new string?[] { null } : shards.Select(s => (string?)s))
        {
            var task = new ShardTaskJob(this, shard, command + (shard != null ? " -Shard " + shard : string.Empty));
            _tasks.Add(task);
            ChildJobs.Add(task);
        }
    }

    /// <summary>The sharded jobs of this process that have not been removed (Get-RedisSyncStatus and Stop-RedisSync find them by name).</summary>
    internal static IReadOnlyList<RedisSyncShardedJob> All
    {
        get
        {
            lock (Jobs) return Jobs.ToList();
        }
    }

    /// <summary>The sync's options as this process resolved them (its source or Sentinels and target, with their logins and TLS): Complete-RedisSync goes through them.</summary>
    internal RedisSync.Engine.Sync.SyncOptions? Options { get; set; }

    /// <summary>The SHA-256 of the settings file (-ConfigPath) as this process read it, or null: each task's host must hold the same file at the same path.</summary>
    internal string? ConfigHash { get; set; }

    /// <summary>The -Where predicate the tasks choose their keys with, as its text, or null.</summary>
    internal string? WhereText => _parameters["Where"] as string;

    /// <summary>The sync's name (also the job's name).</summary>
    public string SyncName => Name;

    /// <summary>The shard tasks.</summary>
    public IReadOnlyList<ShardTaskJob> Tasks => _tasks;

    /// <summary>The whole sync's status: a row per shard task (where it runs, its phase, lag and rates) and their total.</summary>
    public SyncStatus Status => BuildStatus();

    /// <summary>The target the sync writes to.</summary>
    public override string Location => _target;

    /// <summary>The sync's phase.</summary>
    public override string StatusMessage => BuildStatus().Phase.ToString();

    /// <inheritdoc />
    public override bool HasMoreData => Output.Count > 0 || Error.Count > 0 || Warning.Count > 0 || _tasks.Any(t => t.HasMoreData);

    /// <summary>Starts the supervisor, which places the shard tasks.</summary>
    public override void StartJob()
    {
        if (JobStateInfo.State != JobState.NotStarted) throw new InvalidOperationException($"Job '{Name}' has already been started.");
        lock (Jobs)
        {
            Jobs.RemoveAll(j => j.Name == Name && j.IsFinished);
            Jobs.Add(this);
        }
        SetJobState(JobState.Running);
        StartWorker(Supervise, "redissync-shards-" + Name);
    }

    /// <summary>Asks every shard task to stop and returns at once.</summary>
    internal override void RequestStop()
    {
        lock (StateLock)
        {
            if (WorkerEnded || JobStateInfo.State == JobState.NotStarted) return;
            _stopRequested = true;
            if (JobStateInfo.State != JobState.Stopping) SetJobState(JobState.Stopping);
        }
        _wake.Set();
    }

    private bool StopRequested
    {
        get
        {
            lock (StateLock) return _stopRequested;
        }
    }

    private void Supervise()
    {
        try
        {
            bool stopsSent = false;
            while (_tasks.Any(t => !t.Ended))
            {
                bool stopping = StopRequested;
                if (stopping && !stopsSent)
                {
                    stopsSent = true;
                    SendStops();
                }
                foreach (ShardTaskJob task in _tasks.Where(t => !t.Ended))
                {
                    if (task.Slot == null)
                    {
                        if (stopping) task.SetState(JobState.Stopped);
                        else Place(task);
                    }
                    else
                    {
                        Poll(task);
                    }
                }
                if (_tasks.All(t => t.Ended)) break;
                WriteProgress(ended: false);
                _wake.Wait(PollInterval);
                _wake.Reset();
            }
            JobState final = _tasks.Any(t => t.JobStateInfo.State == JobState.Failed) ? JobState.Failed
                : StopRequested || _tasks.Any(t => t.JobStateInfo.State == JobState.Stopped) ? JobState.Stopped
                : JobState.Completed;
            WriteProgress(ended: true);
            SetJobState(final);
        }
        catch (Exception ex)
        {
            Error.Add(new ErrorRecord(ex, "ShardSupervisorFailed", ErrorCategory.NotSpecified, Name));
            SetJobState(JobState.Failed);
        }
    }

    /// <summary>Starts a task on the usable session that runs the fewest tasks (another than the one it left).</summary>
    private void Place(ShardTaskJob task)
    {
        if (DateTime.UtcNow < task.NextTry) return;
        List<SessionSlot> usable = _slots.Where(s => s.Usable).ToList();
        if (usable.Count == 0)
        {
            string why = string.Join("; ", _slots.Select(s => $"{s.Label}: {s.DeadBecause ?? s.Session.Runspace.RunspaceStateInfo.State.ToString()}"));
            Fail(task, "NoSessionLeft", $"No session is left to run {What(task)}: {why}. Its checkpoint on the target is kept: start the sync again with sessions that work (the same -Name) to resume it.");
            return;
        }
        if (_tasks.Count(t => t.Slot != null && !t.Ended) >= _throttleLimit) return;
        SessionSlot slot = usable.OrderBy(s => _tasks.Count(t => t.Slot == s && !t.Ended)).ThenBy(s => s.Index).First();
        var parameters = (Hashtable)_parameters.Clone();
        if (task.Shard != null) parameters["Shard"] = task.Shard;
        Collection<PSObject>? result = Run(slot, RemoteTaskScripts.Start, wait: true, parameters, task.Key, ConfigHash ?? string.Empty);
        if (result == null) return;
        PSObject? reply = result.FirstOrDefault();
        string? errorId = reply?.Properties["ErrorId"]?.Value as string;
        if (reply == null || errorId != null)
        {
            string message = reply?.Properties["Message"]?.Value as string ?? "the session returned nothing";
            Refused(task, errorId ?? "TaskNotStarted", $"{What(task)} did not start on {slot.Label}: {message}");
            return;
        }
        task.Slot = slot;
        task.ProcessId = reply.Properties["ProcessId"]?.Value is int pid ? pid : (int?)null;
        task.Status = null;
        if (task.JobStateInfo.State == JobState.NotStarted) task.SetState(JobState.Running);
        // Said once the task runs there: a start may still find the old lease held, and try again.
        task.MoveToAnnounce = task.Restarts > 0;
    }

    /// <summary>A start refused: a moved task whose old lease has not run out yet tries again; any other refusal fails the task.</summary>
    private void Refused(ShardTaskJob task, string errorId, string message)
    {
        if (errorId == HostErrorIds.SyncAlreadyRunning && task.Restarts > 0 && DateTime.UtcNow < task.RetryUntil)
        {
            task.NextTry = DateTime.UtcNow.AddSeconds(1);
            return;
        }
        Fail(task, errorId, message);
    }

    private void Poll(ShardTaskJob task)
    {
        SessionSlot slot = task.Slot!;
        Collection<PSObject>? result = Run(slot, RemoteTaskScripts.Poll, wait: false, task.Key);
        if (result == null || result.Count == 0) return;
        PSObject head = result[0];
        string state = head.Properties["State"]?.Value as string ?? "Missing";
        if (result.Count > 1) task.Status = result[1];
        for (int i = 2; i < result.Count; i++) task.Output.Add(result[i]);
        foreach (string warning in Strings(head.Properties["Warnings"]?.Value)) task.Warning.Add(new WarningRecord(warning));
        var errors = new List<(string Id, string Message)>();
        foreach (string error in Strings(head.Properties["Errors"]?.Value))
        {
            int tab = error.IndexOf('\t');
            errors.Add(tab < 0 ? ("TaskFailed", error) : (error.Substring(0, tab), error.Substring(tab + 1)));
        }
        string? phase = Text(task.Status, "Phase");
        bool runs = state == "Running" && phase != null && phase != nameof(SyncPhase.Connecting);
        // What a task that runs says of its source (a shard's master); a start that is refused knows only what it was given.
        if (runs) task.SourceText = Text(task.Status, "Source") ?? task.SourceText;
        if (task.MoveToAnnounce && runs)
        {
            task.MoveToAnnounce = false;
            Warning.Add(new WarningRecord("ShardTaskMoved", $"{What(task)} runs again on {slot.Label}, process {task.ProcessId}: it resumes from its checkpoint on the target."));
        }
        switch (state)
        {
            case "Completed":
            case "Stopped":
                Run(slot, RemoteTaskScripts.Remove, wait: true, task.Key);
                foreach ((string id, string message) in errors) task.Error.Add(Record(id, message, task));
                task.SetState(state == "Completed" ? JobState.Completed : JobState.Stopped);
                break;
            case "Failed":
                Run(slot, RemoteTaskScripts.Remove, wait: true, task.Key);
                (string Id, string Message) last = errors.Count > 0 ? errors[errors.Count - 1] : ("TaskFailed", $"{What(task)} failed on {slot.Label}.");
                if (last.Id == HostErrorIds.SyncAlreadyRunning && task.Restarts > 0 && DateTime.UtcNow < task.RetryUntil && !StopRequested)
                {
                    // The process that died still held the lease: try again, on any session, once it has run out.
                    task.Slot = null;
                    task.NextTry = DateTime.UtcNow.AddSeconds(1);
                    return;
                }
                foreach ((string id, string message) in errors.Take(errors.Count - 1)) task.Error.Add(Record(id, message, task));
                Fail(task, last.Id, last.Message);
                break;
            case "Missing":
                Fail(task, "TaskNotFound", $"{What(task)} is no longer known in {slot.Label}: was the module removed there, or the session's state reset?");
                break;
            default:
                foreach ((string id, string message) in errors) task.Error.Add(Record(id, message, task));
                break;
        }
    }

    private void SendStops()
    {
        // Every session's tasks at once: each stop waits for its task to drain and checkpoint.
        var stops = new List<Thread>();
        foreach (SessionSlot slot in _slots.Where(s => s.Usable))
        {
            List<ShardTaskJob> tasks = _tasks.Where(t => t.Slot == slot && !t.Ended).ToList();
            if (tasks.Count == 0) continue;
            var thread = new Thread(() =>
            {
                foreach (ShardTaskJob task in tasks) Run(slot, RemoteTaskScripts.Stop, wait: true, task.Key);
            }) { IsBackground = true, Name = "redissync-stop-" + slot.Index };
            thread.Start();
            stops.Add(thread);
        }
        foreach (Thread thread in stops) thread.Join();
    }

    /// <summary>
    /// Runs a script in a session. A broken session (its transport or its process gone, or no answer within the
    /// script's deadline) moves its tasks and returns null; a session busy with another pipeline (wait: false)
    /// returns null for this round.
    /// </summary>
    private Collection<PSObject>? Run(SessionSlot slot, string script, bool wait, params object[] arguments)
    {
        bool taken = false;
        PowerShell? shell = null;
        try
        {
            if (wait) Monitor.Enter(slot.Lock, ref taken);
            else Monitor.TryEnter(slot.Lock, ref taken);
            if (!taken) return null;
            if (!slot.Usable)
            {
                SessionDied(slot, slot.DeadBecause ?? "the session is " + slot.Session.Runspace.RunspaceStateInfo.State);
                return null;
            }
            shell = PowerShell.Create();
            shell.Runspace = slot.Session.Runspace;
            shell.AddScript(script);
            foreach (object argument in arguments) shell.AddArgument(argument);
            // On a thread of its own: even sending the pipeline can block on a host that does not answer.
            PowerShell running = shell;
            Task<Collection<PSObject>> invocation = Task.Factory.StartNew(() => running.Invoke(), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
            TimeSpan deadline = DeadlineOf(script);
            if (!((IAsyncResult)invocation).AsyncWaitHandle.WaitOne(deadline))
            {
                // The host may never answer: the session is not used again, and if it answers later, what ran there stops.
                shell = null;
                var watch = new Thread(() => StopWhenBack(slot, running, invocation)) { IsBackground = true, Name = "redissync-unanswered-" + slot.Index };
                watch.Start();
                SessionDied(slot, string.Format(CultureInfo.InvariantCulture, "it did not answer within {0:0} s", deadline.TotalSeconds), unanswered: true);
                return null;
            }
            return invocation.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (ex is PSRemotingTransportException || ex is PSRemotingDataStructureException || ex is InvalidRunspaceStateException
            || slot.Session.Runspace.RunspaceStateInfo.State != RunspaceState.Opened)
        {
            SessionDied(slot, ex.Message);
            return null;
        }
        catch (PSInvalidOperationException)
        {
            // The user runs a command of their own in the session: try again in the next round.
            return null;
        }
        finally
        {
            shell?.Dispose();
            if (taken) Monitor.Exit(slot.Lock);
        }
    }

    /// <summary>How long a session may take to answer: a poll, a lease time and 5 s; a start (it may import the module) or a stop (the task drains), 2 minutes more.</summary>
    private TimeSpan DeadlineOf(string script) =>
        ReferenceEquals(script, RemoteTaskScripts.Poll) || ReferenceEquals(script, RemoteTaskScripts.Remove) ? _pollDeadline : _pollDeadline + TimeSpan.FromMinutes(2);

    /// <summary>
    /// Waits for the answer of a session given up for not answering. When its host answers after all (it was frozen,
    /// or cut off from this process but not from the source and the target), the tasks of this sync that still run
    /// there are stopped (they drain and give their leases back, so their moved copies can start) and forgotten.
    /// </summary>
    private void StopWhenBack(SessionSlot slot, PowerShell abandoned, Task<Collection<PSObject>> invocation)
    {
        try
        {
            try
            {
                invocation.GetAwaiter().GetResult();
            }
            catch (RuntimeException ex) when (!(ex is PSRemotingTransportException))
            {
                // The script's own failure: the host answered all the same.
            }
            using PowerShell shell = PowerShell.Create();
            shell.Runspace = slot.Session.Runspace;
            shell.AddScript(RemoteTaskScripts.StopAll).AddArgument(_tasks.Select(t => t.Key).ToArray());
            List<string> stopped = shell.Invoke().Select(o => o?.ToString() ?? string.Empty).Where(t => t.Length > 0).ToList();
            if (stopped.Count > 0)
            {
                Warning.Add(new WarningRecord("SessionAnsweredAgain", $"{slot.Label} answered again after it was given up; what this sync ran there was stopped and forgotten: {string.Join("; ", stopped)}."));
            }
        }
        catch (Exception ex) when (ex is PSRemotingTransportException || ex is PSRemotingDataStructureException || ex is InvalidRunspaceStateException
            || ex is InvalidOperationException || ex is ObjectDisposedException || ex is RuntimeException)
        {
            // The session broke or was removed meanwhile: its process, and the tasks in it, are gone.
        }
        finally
        {
            abandoned.Dispose();
        }
    }

    /// <summary>
    /// A session broke: its tasks start again elsewhere (or end Stopped when the sync is stopping). When it only did
    /// not answer (<paramref name="unanswered"/>), its process may still run them: each moved task waits for that
    /// lease as long as it is held.
    /// </summary>
    private void SessionDied(SessionSlot slot, string why, bool unanswered = false)
    {
        lock (StateLock)
        {
            if (slot.DeadBecause == null) slot.DeadBecause = why;
        }
        foreach (ShardTaskJob task in _tasks.Where(t => t.Slot == slot && !t.Ended).ToList())
        {
            string from = slot.Label + (task.ProcessId != null ? ", process " + task.ProcessId : string.Empty);
            task.Slot = null;
            if (StopRequested)
            {
                task.Warning.Add(new WarningRecord($"{What(task)} was stopping when {from} broke ({why}): its last checkpoint on the target is kept."));
                task.SetState(JobState.Stopped);
                continue;
            }
            task.Restarts++;
            task.LastMove = string.Format(CultureInfo.InvariantCulture, "{0:u}: left {1}, which broke ({2})", DateTime.UtcNow, from, why);
            task.RetryUntil = unanswered ? DateTime.MaxValue : DateTime.UtcNow + _restartWindow;
            task.NextTry = DateTime.UtcNow;
            task.ProcessId = null;
            Warning.Add(new WarningRecord("ShardTaskMoved", unanswered
                ? $"{What(task)} left {from}, which broke ({why}): it starts again on another session from its checkpoint once the lease of that process is free (it may still run the task, cut off from this job; it is stopped if it answers again)."
                : $"{What(task)} stopped with {from}, which broke ({why}): it starts again on another session from its checkpoint."));
        }
    }

    /// <summary>
    /// The whole sync's bar, once a round: the total's phase and numbers (the snapshot as a percent of the
    /// bytes of every shard, once all of them know their size), and how many tasks run where.
    /// </summary>
    private void WriteProgress(bool ended)
    {
        SyncStatus status = BuildStatus();
        SyncProgress bar = SyncProgress.From(status, 1000 + Id);
        int running = _tasks.Count(t => t.Slot != null && !t.Ended);
        int sessions = _tasks.Where(t => t.Slot != null && !t.Ended).Select(t => t.Slot).Distinct().Count();
        string where = string.Format(CultureInfo.InvariantCulture, "{0} of {1} shard tasks running on {2} of {3} sessions", running, _tasks.Count, sessions, _slots.Count);
        ProgressRecord record = ProgressRecords.From(bar);
        record.CurrentOperation = bar.CurrentOperation ?? where;
        record.RecordType = ended ? ProgressRecordType.Completed : ProgressRecordType.Processing;
        AddProgress(record);
    }

    private void Fail(ShardTaskJob task, string errorId, string message)
    {
        task.Error.Add(Record(errorId, message, task));
        task.Slot = null;
        task.SetState(JobState.Failed);
    }

    private ErrorRecord Record(string errorId, string message, ShardTaskJob task)
    {
        var error = new SyncException(errorId, SyncErrorKind.Stop, message);
        return ErrorRecords.From(error, "Start-RedisSync", task.Shard ?? Name);
    }

    private string What(ShardTaskJob task) => task.Shard == null ? $"Sync '{Name}'" : $"Shard {task.Shard} of sync '{Name}'";

    private static IEnumerable<string> Strings(object? value)
    {
        object? inner = value is PSObject ps ? ps.BaseObject : value;
        if (inner is string single) return new[] { single };
        if (inner is IEnumerable items) return items.Cast<object>().Select(o => (o is PSObject p ? p.BaseObject : o)?.ToString() ?? string.Empty).ToList();
        return Array.Empty<string>();
    }

    private SyncStatus BuildStatus()
    {
        var rows = new List<ShardStatus>();
        foreach (ShardTaskJob task in _tasks)
        {
            PSObject? s = task.Status;
            SessionSlot? slot = task.Slot;
            rows.Add(new ShardStatus
            {
                Source = task.SourceText ?? (task.Shard != null ? $"shard {task.Shard} of the source cluster {_source}" : Text(s, "Source") ?? _source),
                Phase = PhaseOf(task),
                ReplicationId = Text(s, "ReplicationId"),
                SourceOffset = Number(s, "SourceOffset") ?? 0,
                AppliedOffset = Number(s, "AppliedOffset") ?? 0,
                LagBytes = Number(s, "LagBytes") ?? 0,
                LagMilliseconds = Number(s, "LagMilliseconds") ?? 0,
                FullResyncs = (int)(Number(s, "FullResyncs") ?? 0),
                PartialResyncs = (int)(Number(s, "PartialResyncs") ?? 0),
                Host = slot?.Session.ComputerName,
                Session = slot?.Session.Name,
                ProcessId = task.ProcessId,
                KeysPerSecond = Real(s, "KeysPerSecond"),
                CommandsPerSecond = Real(s, "CommandsPerSecond"),
                Restarts = task.Restarts,
                LastMove = task.LastMove,
            });
        }
        string? lastError = _tasks.SelectMany(t => t.Error).Select(e => e.Exception?.Message).LastOrDefault(m => m != null);
        long received = _tasks.Sum(t => Number(t.Status, "SnapshotBytesReceived") ?? 0);
        long total = _tasks.Sum(t => Math.Max(0, Number(t.Status, "SnapshotBytesTotal") ?? 0));
        // The snapshot's percent once every shard still loading knows its size (a task that has not started yet does not).
        bool sized = rows.Any(r => r.Phase == SyncPhase.LoadingSnapshot) && total > 0
            && _tasks.All(t => (Number(t.Status, "SnapshotBytesTotal") ?? 0) > 0 || PhaseOf(t) > SyncPhase.LoadingSnapshot);
        return new SyncStatus
        {
            Name = Name,
            Phase = PhaseOfAll(rows),
            Mode = _mode,
            Source = _source,
            Target = _target,
            Timestamp = DateTimeOffset.UtcNow,
            StartTime = _started,
            SourceOffset = rows.Sum(r => r.SourceOffset),
            AppliedOffset = rows.Sum(r => r.AppliedOffset),
            LagBytes = rows.Sum(r => r.LagBytes),
            LagMilliseconds = rows.Count == 0 ? 0 : rows.Max(r => r.LagMilliseconds),
            SnapshotBytesReceived = received,
            SnapshotBytesTotal = total,
            SnapshotPercent = sized ? Math.Min(100.0, received * 100.0 / total) : (double?)null,
            KeysWritten = _tasks.Sum(t => Number(t.Status, "KeysWritten") ?? 0),
            CommandsWritten = _tasks.Sum(t => Number(t.Status, "CommandsWritten") ?? 0),
            KeysPerSecond = rows.Sum(r => r.KeysPerSecond ?? 0),
            CommandsPerSecond = rows.Sum(r => r.CommandsPerSecond ?? 0),
            FullResyncs = rows.Sum(r => r.FullResyncs),
            PartialResyncs = rows.Sum(r => r.PartialResyncs),
            RetriedErrors = _tasks.Sum(t => Number(t.Status, "RetriedErrors") ?? 0),
            SkippedErrors = _tasks.Sum(t => Number(t.Status, "SkippedErrors") ?? 0),
            StopErrors = _tasks.Sum(t => Number(t.Status, "StopErrors") ?? 0),
            Shards = rows,
            LastError = lastError,
        };
    }

    private static SyncPhase PhaseOf(ShardTaskJob task)
    {
        switch (task.JobStateInfo.State)
        {
            case JobState.Failed: return SyncPhase.Failed;
            case JobState.Stopped: return SyncPhase.Stopped;
            case JobState.Completed: return SyncPhase.Completed;
        }
        if (task.Slot == null) return task.Restarts > 0 ? SyncPhase.Reconnecting : SyncPhase.Connecting;
        string? phase = Text(task.Status, "Phase");
        return phase != null && Enum.TryParse(phase, out SyncPhase parsed) ? parsed : SyncPhase.Connecting;
    }

    /// <summary>The sync's phase: the least advanced running task's (a task moving counts as Reconnecting), or how they ended.</summary>
    private static SyncPhase PhaseOfAll(IReadOnlyList<ShardStatus> rows)
    {
        var running = rows.Where(r => r.Phase != SyncPhase.Completed && r.Phase != SyncPhase.Stopped && r.Phase != SyncPhase.Failed).ToList();
        if (running.Count == 0)
        {
            if (rows.Any(r => r.Phase == SyncPhase.Failed)) return SyncPhase.Failed;
            return rows.Any(r => r.Phase == SyncPhase.Stopped) ? SyncPhase.Stopped : SyncPhase.Completed;
        }
        var early = running.Where(r => r.Phase <= SyncPhase.LoadingSnapshot).ToList();
        if (early.Count > 0) return early.Min(r => r.Phase);
        return running.Any(r => r.Phase == SyncPhase.Reconnecting) ? SyncPhase.Reconnecting : SyncPhase.Streaming;
    }

    private static object? Value(PSObject? status, string name)
    {
        object? value = status?.Properties[name]?.Value;
        return value is PSObject ps ? ps.BaseObject : value;
    }

    private static string? Text(PSObject? status, string name) => Value(status, name)?.ToString();

    private static long? Number(PSObject? status, string name) =>
        Value(status, name) is object v && long.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : (long?)null;

    private static double? Real(PSObject? status, string name) =>
        Value(status, name) is object v && double.TryParse(Convert.ToString(v, CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) ? d : (double?)null;

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            lock (Jobs) Jobs.Remove(this);
        }
        base.Dispose(disposing);
    }
}
