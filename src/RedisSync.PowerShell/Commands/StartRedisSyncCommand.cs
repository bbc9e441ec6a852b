using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;

namespace RedisSync.Commands;

/// <summary>
/// Start-RedisSync: binds the parameters into a <see cref="SyncRequest"/> and runs the sync as a
/// job, or with -Wait in the foreground (progress bar, Ctrl+C stops it cleanly, returns the final status).
/// </summary>
[Cmdlet(VerbsLifecycle.Start, "RedisSync", DefaultParameterSetName = SourceSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(RedisSyncJob))]
[OutputType(typeof(RedisSync.Remoting.RedisSyncShardedJob))]
[OutputType(typeof(SyncStatus))]
public sealed class StartRedisSyncCommand : TlsCommand
{
    private const string SourceSet = "Source";
    private const string RdbSet = "RdbPath";
    private const string ConfigSet = "ConfigPath";
    private const string SentinelSet = "Sentinel";

    private SyncMode? _mode;
    private RedisSync.SourceMode? _sourceMode;
    private int? _scanCount;
    private ConflictPolicy? _onConflict;
    private readonly object _stopLock = new object();
    private SyncRun? _foreground;
    private bool _stopRequested;

    /// <summary>The live source: host:port or redis[s]://[user[:password]@]host:port[/db].</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = SourceSet)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = null!;

    /// <summary>Sentinels (host:port or redis[s]:// URLs) that name the source's master; the sync follows its failovers.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SentinelSet)]
    [ValidateNotNullOrEmpty]
    public string[] Sentinel { get; set; } = null!;

    /// <summary>The master's name in the Sentinels' configuration.</summary>
    [Parameter(Mandatory = true, ParameterSetName = SentinelSet)]
    [ValidateNotNullOrEmpty]
    public string MasterName { get; set; } = null!;

    /// <summary>The Sentinels' user and password, when they require one (the master's are -SourceCredential).</summary>
    [Parameter(ParameterSetName = SentinelSet)]
    [Credential]
    public PSCredential? SentinelCredential { get; set; }

    /// <summary>An RDB file to copy instead of a live source.</summary>
    [Parameter(Mandatory = true, ParameterSetName = RdbSet)]
    [ValidateNotNullOrEmpty]
    public string RdbPath { get; set; } = null!;

    /// <summary>A TOML settings file with everything else (for scheduled tasks).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = ConfigSet)]
    [ValidateNotNullOrEmpty]
    public string ConfigPath { get; set; } = null!;

    /// <summary>The target, in the same forms as -Source.</summary>
    [Parameter(Mandatory = true, Position = 1, ParameterSetName = SourceSet)]
    [Parameter(Mandatory = true, ParameterSetName = RdbSet)]
    [Parameter(Mandatory = true, ParameterSetName = SentinelSet)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = null!;

    /// <summary>The source's user and password (the user "default" logs in with the password alone).</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    /// <summary>The target's user and password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>The sync's name: its job's name and its checkpoint key; the same name again resumes.</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = RdbSet)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "default";

    /// <summary>Runs one shard task of the sync of a cluster source: the master with this node id (or its first characters), or the one that serves these slots (0-5460).</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    [ValidateNotNullOrEmpty]
    public string? Shard { get; set; }

    /// <summary>Full (the snapshot only), Incremental (from the checkpoint) or FullAndIncremental (snapshot, then every write).</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    public SyncMode Mode
    {
        get => _mode ?? SyncMode.FullAndIncremental;
        set => _mode = value;
    }

    /// <summary>How the live source is read: Auto (PSYNC, or SCAN with a warning when the source refuses it), Psync or Scan.</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    public RedisSync.SourceMode SourceMode
    {
        get => _sourceMode ?? RedisSync.SourceMode.Auto;
        set => _sourceMode = value;
    }

    /// <summary>In scan mode, turns the source's keyspace events on (CONFIG SET notify-keyspace-events) when they are off.</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    public SwitchParameter EnableKeyspaceEvents { get; set; }

    /// <summary>In scan mode, SCAN's COUNT: keys asked for per call, and so per pipelined DUMP round (1000 by default).</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    [ValidateRange(1, 1_000_000)]
    public int ScanCount
    {
        get => _scanCount ?? 1000;
        set => _scanCount = value;
    }

    /// <summary>In scan mode, keys per second the source is read at most (a settings file's max_read_rate otherwise).</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    [ValidateRange(1, long.MaxValue)]
    public long MaxReadRate { get; set; }

    /// <summary>Source database → target database, such as @{ 0 = 1 }.</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = RdbSet)]
    public Hashtable? DatabaseMap { get; set; }

    /// <summary>Copies only the keys that match one of these globs (Redis's KEYS syntax), in the snapshot and the stream.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Key { get; set; }

    /// <summary>Leaves out the keys that match one of these globs.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? ExcludeKey { get; set; }

    /// <summary>The source databases to copy (the others are left out); all when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateRange(0, int.MaxValue)]
    public int[]? Database { get; set; }

    /// <summary>The types to copy: string, list, hash, set, zset, stream, module.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateSet("string", "list", "hash", "set", "zset", "stream", "module")]
    public string[]? Type { get; set; }

    /// <summary>Commands of the live stream to leave out: names (FLUSHALL) or groups (@scripting).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ExcludeCommand { get; set; }

    /// <summary>Writes keys under new names: prefix rewrites such as @{ 'old:*' = 'new:*' }, on every key of every command.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public Hashtable? RenameKey { get; set; }

    /// <summary>A predicate on each key ($_ has Key, Database and Type), run in a runspace of its own off the pipeline thread.</summary>
    [Parameter]
    [ValidateNotNull]
    public ScriptBlock? Where { get; set; }

    /// <summary>Empties the target (FLUSHALL) before the full copy; asks first (ConfirmImpact High).</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = RdbSet)]
    public SwitchParameter FlushTarget { get; set; }

    /// <summary>What to do with a key that already exists on the target: Stop (default), Skip or Replace.</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = RdbSet)]
    public ConflictPolicy OnConflict
    {
        get => _onConflict ?? ConflictPolicy.Stop;
        set => _onConflict = value;
    }

    /// <summary>Counts and skips a command the target rejects instead of stopping.</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = RdbSet)]
    public SwitchParameter SkipFailedCommands { get; set; }

    /// <summary>Commands per second the target is sent at most (a settings file's max_write_rate otherwise).</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long MaxWriteRate { get; set; }

    /// <summary>Keys per second compared between the source and the target while streaming, aware of lag.</summary>
    [Parameter]
    [ValidateRange(1, long.MaxValue)]
    public long Verify { get; set; }

    /// <summary>Copies again each key that -Verify finds different.</summary>
    [Parameter]
    public SwitchParameter RepairMismatches { get; set; }

    /// <summary>A JSON file that holds the sync's latest status (for scheduled tasks).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? StatusPath { get; set; }

    /// <summary>Runs in the foreground and returns the final status instead of a job.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>Runs the sync's shard tasks (one per master of a cluster source) over these sessions, as one parent job whose child jobs are the tasks.</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    [ValidateNotNullOrEmpty]
    public System.Management.Automation.Runspaces.PSSession[]? Session { get; set; }

    /// <summary>With -Session: how many shard tasks run at once, over all the sessions (32 by default).</summary>
    [Parameter(ParameterSetName = SourceSet)]
    [Parameter(ParameterSetName = SentinelSet)]
    [Parameter(ParameterSetName = ConfigSet)]
    [ValidateRange(1, 10_000)]
    public int ThrottleLimit { get; set; } = 32;

    /// <summary>Builds the sync, asks when it destroys target data, then starts it.</summary>
    protected override void ProcessRecord()
    {
        var request = new SyncRequest
        {
            Source = ParameterSetName == SourceSet ? Source : null,
            Sentinel = ParameterSetName == SentinelSet ? Sentinel : null,
            MasterName = ParameterSetName == SentinelSet ? MasterName : null,
            SentinelCredential = Credentials.ToNetwork(SentinelCredential),
            RdbPath = ParameterSetName == RdbSet ? FullPath(RdbPath) : null,
            ConfigPath = ParameterSetName == ConfigSet ? FullPath(ConfigPath) : null,
            Target = ParameterSetName == ConfigSet ? null : Target,
            SourceCredential = Credentials.ToNetwork(SourceCredential),
            TargetCredential = Credentials.ToNetwork(TargetCredential),
            Name = Name,
            Shard = Shard,
            Mode = _mode,
            DatabaseMap = Credentials.Unwrap(DatabaseMap),
            Key = Key,
            ExcludeKey = ExcludeKey,
            Database = Database,
            Type = Type,
            ExcludeCommand = ExcludeCommand,
            RenameKey = Credentials.Unwrap(RenameKey),
            FlushTarget = FlushTarget.IsPresent,
            OnConflict = _onConflict,
            SkipFailedCommands = SkipFailedCommands.IsPresent,
            SourceMode = _sourceMode,
            EnableKeyspaceEvents = EnableKeyspaceEvents.IsPresent,
            ScanCount = _scanCount,
            MaxWriteRate = MyInvocation.BoundParameters.ContainsKey(nameof(MaxWriteRate)) ? MaxWriteRate : null,
            MaxReadRate = MyInvocation.BoundParameters.ContainsKey(nameof(MaxReadRate)) ? MaxReadRate : null,
            Verify = MyInvocation.BoundParameters.ContainsKey(nameof(Verify)) ? Verify : null,
            RepairMismatches = RepairMismatches.IsPresent,
            StatusPath = StatusPath != null ? FullPath(StatusPath) : null,
            Tls = NewTlsRequest(),
        };
        if (Session != null)
        {
            StartOverSessions(request);
            return;
        }
        SyncOptions options;
        string? statusPath;
        SyncRun run;
        WherePredicate? where = Where != null ? new WherePredicate(Where) : null;
        if (where != null) request.Where = where.Keeps;
        try
        {
            options = request.Resolve(out statusPath);
            run = new SyncRun(options, statusPath);
            if (where != null)
            {
                // The predicate's runspace lives as long as the sync.
                ThreadPool.RegisterWaitForSingleObject(run.Ended, (_, _) => where.Dispose(), null, Timeout.Infinite, executeOnlyOnce: true);
            }
        }
        catch (SyncException ex)
        {
            where?.Dispose();
            ThrowTerminatingError(ErrorRecords.From(ex, ParameterSetName == SourceSet ? ErrorRecords.Address(Source) : RdbPath ?? ConfigPath));
            return;
        }
        foreach (SyncWarning warning in request.SettingsWarnings) WriteWarning(warning.Message);

        bool ask = SyncRequest.DestructiveAction(options) != null || AskedToConfirm();
        if (ask && !ShouldProcess(options.Target.ToString(), SyncRequest.Action(options)))
        {
            run.Dispose();
            return;
        }

        try
        {
            SyncRegistry.Process.Add(run);
        }
        catch (SyncException ex)
        {
            run.Dispose();
            ThrowTerminatingError(ErrorRecords.From(ex, options.Name));
            return;
        }

        if (Wait) RunInForeground(run);
        else StartJob(run, options);
    }

    /// <summary>
    /// Ctrl+C: the sync drains what is in flight, checkpoints and ends Stopped. From now on nothing
    /// reaches the host until the sync has ended (a write into a stopping pipeline can block it).
    /// </summary>
    protected override void StopProcessing()
    {
        SyncRun? run;
        lock (_stopLock)
        {
            _stopRequested = true;
            run = _foreground;
        }
        run?.Stop();
    }

    private bool StopRequested
    {
        get
        {
            lock (_stopLock) return _stopRequested;
        }
    }

    private void RunInForeground(SyncRun run)
    {
        bool stopAtOnce;
        lock (_stopLock)
        {
            _foreground = run;
            stopAtOnce = _stopRequested;
        }
        try
        {
            SyncStatus final;
            try
            {
                run.Start();
                if (stopAtOnce) run.Stop();
                final = run.RunToEnd(new CmdletOutput(this));
            }
            catch (SyncException ex)
            {
                ThrowTerminatingError(ErrorRecords.From(ex, run.Name));
                return;
            }
            // A stopping pipeline takes no more objects: the final status goes to the console (and the status file).
            if (StopRequested) Host.UI.WriteLine(FinalLine(final, run.StatusPath));
            else WriteObject(final);
        }
        finally
        {
            SyncRegistry.Process.Remove(run);
            run.Dispose();
            lock (_stopLock) _foreground = null;
        }
    }

    private static string FinalLine(SyncStatus final, string? statusPath) =>
        string.Format(System.Globalization.CultureInfo.InvariantCulture,
            "Sync '{0}' {1}: {2} keys and {3} commands written, applied offset {4}{5}.",
            final.Name, final.Phase, final.KeysWritten, final.CommandsWritten, final.AppliedOffset,
            statusPath != null ? ", status in " + statusPath : string.Empty);

    private void StartJob(SyncRun run, SyncOptions options)
    {
        string from = options.Source != null ? "-Source " + CompareRunner.Address(options.Source) : "-RdbPath " + options.RdbPath;
        string command = $"Start-RedisSync {from} -Target {CompareRunner.Address(options.Target)} -Name {options.Name} -Mode {options.Mode}";
        var job = new RedisSyncJob(run, command);
        try
        {
            job.StartJob();
        }
        catch (SyncException ex)
        {
            SyncRegistry.Process.Remove(run);
            job.Dispose();
            ThrowTerminatingError(ErrorRecords.From(ex, options.Name));
            return;
        }
        var definition = new JobDefinition(typeof(RedisSyncJobSourceAdapter), command, options.Name);
        var parameters = new Dictionary<string, object> { [RedisSyncJobSourceAdapter.JobParameter] = job };
        JobManager.NewJob(new JobInvocationInfo(definition, parameters));
        WriteObject(job);
    }

    /// <summary>
    /// -Session: checks here what every task would check (so a mistake fails once, before any session
    /// starts anything), lists the source's shards, and starts the parent job that places them.
    /// </summary>
    private void StartOverSessions(SyncRequest request)
    {
        SyncOptions options;
        IReadOnlyList<string> shards;
        try
        {
            if (Shard != null)
            {
                throw HostErrors.InvalidParameter("Shard", $"-Session runs every shard of the source, each as its own task; -Shard '{Shard}' runs one. " +
                    "Leave -Shard out, or run that one task in a session with Invoke-Command.");
            }
            options = request.Resolve(out _);
            if (options.RdbPath != null)
            {
                throw HostErrors.InvalidParameter("Session", $"the settings file {ConfigPath} copies the RDB file {options.RdbPath}, which -Session does not run on other hosts: run it without -Session.");
            }
            if (options.Sentinels != null)
            {
                // A master that Sentinels watch is one shard: one task, moved to another session if its own breaks.
                shards = System.Array.Empty<string>();
            }
            else
            {
                using var cancel = new CancellationTokenSource(System.TimeSpan.FromSeconds(30));
                shards = SourceShards.ListAsync(options, cancel.Token).GetAwaiter().GetResult();
            }
            if (shards.Count > 0)
            {
                // What a shard task checks that the whole sync does not (-FlushTarget, which would empty the other shards' data).
                request.Shard = shards[0];
                request.Resolve(out _);
                request.Shard = null;
            }
            if (SyncSelection.SelectSharded(options.Name).Any(j => !j.Finished.WaitOne(0)))
            {
                throw new SyncException(HostErrorIds.SyncAlreadyRunning, SyncErrorKind.Stop,
                    $"A sync named '{options.Name}' already runs its shard tasks over sessions from this process. Stop it first (Stop-RedisSync -Name {options.Name}) or give the new one another -Name.");
            }
            RedisSync.Remoting.SessionSlotCheck.Open(Session!);
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, Source != null ? ErrorRecords.Address(Source) : (object?)ConfigPath ?? MasterName));
            return;
        }
        foreach (SyncWarning warning in request.SettingsWarnings) WriteWarning(warning.Message);
        bool ask = SyncRequest.DestructiveAction(options) != null || AskedToConfirm();
        string tasks = shards.Count == 0 ? "as one task" : $"as {shards.Count} shard tasks ({string.Join(", ", shards)})";
        if (ask && !ShouldProcess(options.Target.ToString(), SyncRequest.Action(options) + $", {tasks} over {Session!.Length} sessions")) return;

        bool sentinel = options.Sentinels != null;
        string sentinels = sentinel ? string.Join(",", options.Sentinels!.Select(CompareRunner.Address)) : string.Empty;
        string source = sentinel ? $"master '{options.MasterName}' of Sentinel {sentinels}" : CompareRunner.Address(options.Source!);
        string command = ParameterSetName == ConfigSet ? $"Start-RedisSync -ConfigPath {request.ConfigPath} -Session" :
            (sentinel ? $"Start-RedisSync -Sentinel {sentinels} -MasterName {options.MasterName}" : $"Start-RedisSync -Source {source}") +
            $" -Target {CompareRunner.Address(options.Target)} -Name {options.Name} -Mode {options.Mode} -Session";
        var job = new RedisSync.Remoting.RedisSyncShardedJob(command, options.Name, Session!, shards, RemoteParameters(options.Name, request.ConfigPath), ThrottleLimit, options.LeaseTime,
            source, CompareRunner.Address(options.Target), options.Mode)
        {
            Options = options,
            ConfigHash = request.ConfigPath != null ? RedisSync.Remoting.RemoteTaskScripts.HashOf(request.ConfigPath) : null,
        };
        job.StartJob();
        var definition = new JobDefinition(typeof(RedisSyncJobSourceAdapter), command, options.Name);
        var parameters = new Dictionary<string, object> { [RedisSyncJobSourceAdapter.JobParameter] = job };
        JobManager.NewJob(new JobInvocationInfo(definition, parameters));
        if (!Wait)
        {
            WriteObject(job);
            return;
        }
        while (!job.WaitEnded(System.TimeSpan.FromMilliseconds(200)))
        {
            if (StopRequested) job.RequestStop();
        }
        foreach (RedisSync.Remoting.ShardTaskJob task in job.Tasks)
        {
            foreach (ErrorRecord error in task.Error) WriteError(error);
        }
        WriteObject(job.Status);
    }

    /// <summary>
    /// The parameters each task gets: those given here but the ones about sessions and confirmation, in forms that cross a session;
    /// a settings file by its full path (each host reads its own copy, checked against this one's hash), which names the sync itself.
    /// </summary>
    private Hashtable RemoteParameters(string name, string? configPath)
    {
        var skip = new HashSet<string>(System.StringComparer.OrdinalIgnoreCase)
        {
            nameof(Session), nameof(ThrottleLimit), nameof(Wait), "Confirm", "WhatIf", "Verbose", "Debug", "ErrorAction", "WarningAction", "InformationAction",
            "ProgressAction", "ErrorVariable", "WarningVariable", "InformationVariable", "OutVariable", "OutBuffer", "PipelineVariable",
        };
        var parameters = new Hashtable(System.StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, object> bound in MyInvocation.BoundParameters)
        {
            if (skip.Contains(bound.Key)) continue;
            object value = bound.Value is PSObject ps ? ps.BaseObject : bound.Value;
            parameters[bound.Key] = value switch
            {
                SwitchParameter flag => flag.IsPresent,
                ScriptBlock block => block.ToString(),
                System.Enum e => e.ToString(),
                _ => value,
            };
        }
        if (configPath != null) parameters[nameof(ConfigPath)] = configPath;
        else parameters["Name"] = name;
        return parameters;
    }

    /// <summary>A start that destroys nothing asks only when the user asked for -WhatIf or -Confirm.</summary>
    private bool AskedToConfirm() =>
        MyInvocation.BoundParameters.ContainsKey("WhatIf") || MyInvocation.BoundParameters.ContainsKey("Confirm") ||
        LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference"));

    private string FullPath(string path) => GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>Writes the foreground sync's events from the pipeline thread; after Ctrl+C it only drains.</summary>
    private sealed class CmdletOutput : ISyncOutput
    {
        private readonly StartRedisSyncCommand _cmdlet;

        public CmdletOutput(StartRedisSyncCommand cmdlet) => _cmdlet = cmdlet;

        public void WriteStatus(SyncStatus status, StatusReason reason)
        {
            if (reason != StatusReason.Interval) Write(() => _cmdlet.WriteVerbose($"Sync '{status.Name}': {status.Phase}"));
        }

        public void WriteProgress(SyncProgress progress) => Write(() => _cmdlet.WriteProgress(ProgressRecords.From(progress)));

        public void WriteWarning(SyncWarning warning) => Write(() => _cmdlet.WriteWarning(warning.Message));

        private void Write(System.Action write)
        {
            if (_cmdlet.StopRequested || _cmdlet.Stopping) return;
            try
            {
                write();
            }
            catch (PipelineStoppedException)
            {
            }
        }
    }
}
