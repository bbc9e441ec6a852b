using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>
/// Compares the keys of a source and a target server (the engine of Compare-RedisData): the source
/// is scanned and every key looked up on both sides in pipelined batches; the target is scanned at
/// the same time for keys the source lacks. A key that differs gets a second look after
/// <see cref="CompareOptions.RecheckDelay"/> before it is reported.
/// </summary>
internal sealed class DataComparer
{
    private readonly RedisEndpoint _source;
    private readonly RedisEndpoint _target;
    private readonly CompareOptions _options;
    private CompareRun? _run;

    /// <summary>Prepares a compare; nothing connects until <see cref="RunAsync"/>. Invalid options throw here.</summary>
    public DataComparer(RedisEndpoint source, RedisEndpoint target, CompareOptions? options = null)
    {
        _source = source ?? throw new ArgumentNullException(nameof(source));
        _target = target ?? throw new ArgumentNullException(nameof(target));
        _options = options ?? new CompareOptions();
        _options.Validate();
    }

    /// <summary>A snapshot of the running compare, safe to read from any thread (for a progress bar).</summary>
    public RedisSync.CompareProgress Progress => _run?.Progress() ?? new RedisSync.CompareProgress();

    /// <summary>
    /// Runs the compare. <paramref name="onKey"/> receives each difference (and each equal key with
    /// <see cref="CompareOptions.IncludeEqual"/>) as it is found, one call at a time, from worker
    /// threads: a host hands them to its own thread (a PowerShell cmdlet through a queue it drains).
    /// The compare waits while the callback runs, so a slow consumer slows it down instead of
    /// piling results up. Errors are <see cref="SyncException"/>s (unreachable server, refused login).
    /// </summary>
    public async Task<RedisSync.CompareSummary> RunAsync(Action<RedisSync.KeyDifference> onKey, CancellationToken cancellationToken = default)
    {
        if (onKey == null) throw new ArgumentNullException(nameof(onKey));
        _options.Validate();
        var links = new List<ServerLink>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = cancel.Token;
        try
        {
            Task<ServerLink> sourceConnect = ServerLink.ConnectAsync(_source, EndpointRole.Source, null, token);
            Task<ServerLink> targetConnect = ServerLink.ConnectAsync(_target, EndpointRole.Target, null, token);
            await WhenAllAsync(new Task[] { sourceConnect, targetConnect }, cancel, links).ConfigureAwait(false);
            ServerLink sourceControl = sourceConnect.Result, targetControl = targetConnect.Result;

            var run = new CompareRun(_options, sourceControl.Info, targetControl.Info, onKey);
            Dictionary<int, long> sourceKeyspace = await KeyspaceAsync(sourceControl, token).ConfigureAwait(false);
            Dictionary<int, long> targetKeyspace = await KeyspaceAsync(targetControl, token).ConfigureAwait(false);
            Transform.KeyFilter? filter = _options.KeyFilter;
            IReadOnlyList<int> databases = (_options.Databases
                ?? sourceKeyspace.Keys.Union(targetKeyspace.Keys).OrderBy(db => db).ToList()).Where(db => filter == null || filter.KeepsDatabase(db)).ToList();
            run.SourceKeysTotal = databases.Sum(db => sourceKeyspace.TryGetValue(db, out long n) ? n : 0);
            run.TargetKeysTotal = databases.Sum(db => targetKeyspace.TryGetValue(db, out long n) ? n : 0);
            _run = run;
            if (databases.Count == 0) return run.Summary();

            Workers workers = await Workers.ConnectAsync(_source, _target, sourceControl.Info, targetControl.Info, _options, cancel, links).ConfigureAwait(false);
            byte[]? match = _options.Pattern != null ? Encoding.UTF8.GetBytes(_options.Pattern) : null;
            Transform.KeyRename? rename = _options.KeyRename;
            foreach (ServerLink link in workers.All.Where(l => l.Role == EndpointRole.Target)) link.Rename = rename;
            foreach (int db in databases)
            {
                await WhenAllAsync(workers.All.Select(link => (Task)link.ExecuteOrThrowAsync(token, "SELECT", db)).ToArray(), cancel, null).ConfigureAwait(false);
                var sourceScanner = new KeyScanner(workers.SourceScan, match, _options.ScanCount, filter, rate: _options.SourceReadRate);
                var targetScanner = new KeyScanner(workers.TargetScan, match, _options.ScanCount, filter, rename);
                run.BeginDatabase(db, sourceScanner, targetScanner);

                var tasks = new List<Task>();
                var scans = new List<Task>();
                foreach ((ServerLink source, ServerLink target) in workers.SourcePass)
                {
                    scans.Add(SourcePassAsync(run, sourceScanner, source, target, token));
                }
                scans.Add(TargetPassAsync(run, targetScanner, workers.TargetPass, rename, token));
                tasks.AddRange(scans);
                tasks.Add(ScansDoneAsync(run, scans));
                tasks.Add(DeepAsync(run, workers.Deep.Source, workers.Deep.Target, token));
                tasks.Add(RecheckAsync(run, workers.Recheck.Source, workers.Recheck.Target, token));
                await WhenAllAsync(tasks.ToArray(), cancel, null).ConfigureAwait(false);
            }
            return run.Summary();
        }
        finally
        {
            foreach (ServerLink link in links) link.Dispose();
        }
    }

    /// <summary>Keys per database from INFO keyspace (<c>db0:keys=12,expires=0,avg_ttl=0</c>).</summary>
    private static async Task<Dictionary<int, long>> KeyspaceAsync(ServerLink link, CancellationToken cancellationToken)
    {
        RespValue reply = await link.ExecuteOrThrowAsync(cancellationToken, "INFO", "keyspace").ConfigureAwait(false);
        return Keyspace.PerDatabase(reply.AsString() ?? string.Empty);
    }

    private static async Task SourcePassAsync(CompareRun run, KeyScanner scanner, ServerLink source, ServerLink target, CancellationToken cancellationToken)
    {
        var batch = new KeyBatch();
        var pipeline = new KeyPipeline(run, source, target);
        var jobs = new List<KeyJob>();
        while (await scanner.NextAsync(batch, cancellationToken).ConfigureAwait(false))
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (i == jobs.Count) jobs.Add(new KeyJob());
                jobs[i].Reset(batch.Buffer, batch.Start(i), batch.Length(i), run.Database, KeyOrigin.SourceScan);
                pipeline.Add(jobs[i]);
            }
            await pipeline.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The target's keys: one multi-key EXISTS per batch on the source; only when it counts fewer
    /// keys than asked are they checked one by one, and the absent ones get their look as candidates.
    /// </summary>
    private static async Task TargetPassAsync(CompareRun run, KeyScanner scanner, ServerLink source, Transform.KeyRename? rename, CancellationToken cancellationToken)
    {
        var batch = new KeyBatch();
        while (await scanner.NextAsync(batch, cancellationToken).ConfigureAwait(false))
        {
            if (rename != null) batch.MapNames(rename);
            source.Begin(1 + batch.Count, CommandText.ExistsName);
            for (int i = 0; i < batch.Count; i++) source.Bulk(batch[i]);
            await source.FlushAsync(cancellationToken).ConfigureAwait(false);
            await source.Replies.TakeAsync(1, cancellationToken).ConfigureAwait(false);
            long found = ExistsReply(source);
            if (found == batch.Count) continue;

            for (int i = 0; i < batch.Count; i++) source.Command(CommandText.Exists, batch[i]);
            await source.FlushAsync(cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < batch.Count; i++)
            {
                if (!source.Replies.TryTake(1)) await source.Replies.TakeAsync(1, cancellationToken).ConfigureAwait(false);
                if (ExistsReply(source) == 0) run.AddTargetCandidate(batch[i]);
            }
        }
    }

    private static long ExistsReply(ServerLink source)
    {
        Reply reply = source.Replies.Taken[0];
        if (reply.IsError) throw source.Failed("EXISTS", reply.ErrorText, null);
        long value = reply.Integer;
        source.Replies.Release();
        return value;
    }

    private static async Task ScansDoneAsync(CompareRun run, List<Task> scans)
    {
        try
        {
            await Task.WhenAll(scans).ConfigureAwait(false);
        }
        finally
        {
            run.ScansDone();
        }
    }

    /// <summary>How many big keys the big-key pipeline compares at once.</summary>
    private const int DeepParallelism = 8;

    private static async Task DeepAsync(CompareRun run, ServerLink source, ServerLink target, CancellationToken cancellationToken)
    {
        var pipeline = new KeyPipeline(run, source, target);
        while (true)
        {
            while (pipeline.Active < DeepParallelism && run.Deep.TryTake(null, out KeyJob? job)) pipeline.Add(job!);
            if (pipeline.Active == 0)
            {
                KeyJob? next = await run.Deep.TakeAsync(cancellationToken).ConfigureAwait(false);
                if (next == null) return;
                pipeline.Add(next);
                continue;
            }
            await pipeline.RoundAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task RecheckAsync(CompareRun run, ServerLink source, ServerLink target, CancellationToken cancellationToken)
    {
        var pipeline = new KeyPipeline(run, source, target);
        Func<KeyJob, bool> due = job => job.DueTicks <= Stopwatch.GetTimestamp();
        while (true)
        {
            KeyJob? first = await run.Rechecks.TakeAsync(cancellationToken).ConfigureAwait(false);
            if (first == null) return;
            long wait = first.DueTicks - Stopwatch.GetTimestamp();
            if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / Stopwatch.Frequency), cancellationToken).ConfigureAwait(false);
            pipeline.Add(first);
            while (pipeline.Active < run.Options.ScanCount && run.Rechecks.TryTake(due, out KeyJob? job)) pipeline.Add(job!);
            await pipeline.DrainAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Awaits all tasks; the first failure cancels the others and is the one thrown.</summary>
    private static async Task WhenAllAsync(Task[] tasks, CancellationTokenSource cancel, List<ServerLink>? connected)
    {
        foreach (Task task in tasks)
        {
            _ = task.ContinueWith(t => cancel.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        try
        {
            await Task.WhenAll(tasks).ConfigureAwait(false);
        }
        catch
        {
            Exception? first = tasks.Where(t => t.IsFaulted).SelectMany(t => t.Exception!.InnerExceptions).FirstOrDefault(e => !(e is OperationCanceledException));
            if (first != null) ExceptionDispatchInfo.Capture(first).Throw();
            throw;
        }
        finally
        {
            if (connected != null)
            {
                foreach (Task task in tasks)
                {
                    if (task is Task<ServerLink> link && link.Status == TaskStatus.RanToCompletion) connected.Add(link.Result);
                }
            }
        }
    }

    /// <summary>The connections of a compare, opened once and reused for every database.</summary>
    private sealed class Workers
    {
        public ServerLink SourceScan = null!;
        public ServerLink TargetScan = null!;
        public ServerLink TargetPass = null!;
        public List<(ServerLink Source, ServerLink Target)> SourcePass = new List<(ServerLink, ServerLink)>();
        public (ServerLink Source, ServerLink Target) Deep;
        public (ServerLink Source, ServerLink Target) Recheck;

        public IEnumerable<ServerLink> All
        {
            get
            {
                yield return SourceScan;
                yield return TargetScan;
                yield return TargetPass;
                foreach ((ServerLink s, ServerLink t) in SourcePass)
                {
                    yield return s;
                    yield return t;
                }
                yield return Deep.Source;
                yield return Deep.Target;
                yield return Recheck.Source;
                yield return Recheck.Target;
            }
        }

        public static async Task<Workers> ConnectAsync(RedisEndpoint source, RedisEndpoint target, ServerInfo sourceInfo, ServerInfo targetInfo,
            CompareOptions options, CancellationTokenSource cancel, List<ServerLink> links)
        {
            CancellationToken token = cancel.Token;
            Task<ServerLink> Source() => ServerLink.ConnectAsync(source, EndpointRole.Source, sourceInfo, token);
            Task<ServerLink> Target() => ServerLink.ConnectAsync(target, EndpointRole.Target, targetInfo, token);
            var tasks = new List<Task<ServerLink>> { Source(), Target(), Source(), Source(), Target(), Source(), Target() };
            for (int i = 0; i < options.Parallelism; i++)
            {
                tasks.Add(Source());
                tasks.Add(Target());
            }
            await WhenAllAsync(tasks.ToArray(), cancel, links).ConfigureAwait(false);
            var workers = new Workers
            {
                SourceScan = tasks[0].Result,
                TargetScan = tasks[1].Result,
                TargetPass = tasks[2].Result,
                Deep = (tasks[3].Result, tasks[4].Result),
                Recheck = (tasks[5].Result, tasks[6].Result),
            };
            for (int i = 7; i < tasks.Count; i += 2) workers.SourcePass.Add((tasks[i].Result, tasks[i + 1].Result));
            return workers;
        }
    }
}
