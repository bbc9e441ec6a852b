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
        var sets = new List<LinkSet>();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = cancel.Token;
        try
        {
            Task<ServerLink> sourceConnect = ServerLink.ConnectAsync(_source, EndpointRole.Source, null, token);
            Task<ServerLink> targetConnect = ServerLink.ConnectAsync(_target, EndpointRole.Target, null, token);
            await WhenAllAsync(new Task[] { sourceConnect, targetConnect }, cancel, links).ConfigureAwait(false);
            ServerLink sourceControl = sourceConnect.Result, targetControl = targetConnect.Result;
            Writers.SlotMap? sourceMap = sourceControl.Info.IsCluster ? await Writers.SlotMap.ReadAsync(sourceControl.Connection, _source, token).ConfigureAwait(false) : null;
            Writers.SlotMap? targetMap = targetControl.Info.IsCluster ? await Writers.SlotMap.ReadAsync(targetControl.Connection, _target, token).ConfigureAwait(false) : null;
            var sides = new Sides(_source, sourceControl.Info, sourceMap, _target, targetControl.Info, targetMap);

            var run = new CompareRun(_options, sourceControl.Info, targetControl.Info, onKey);
            Dictionary<int, long> sourceKeyspace = await KeyspaceAsync(sourceControl, sides.SourceMasters, EndpointRole.Source, token).ConfigureAwait(false);
            Dictionary<int, long> targetKeyspace = await KeyspaceAsync(targetControl, sides.TargetMasters, EndpointRole.Target, token).ConfigureAwait(false);
            Transform.KeyFilter? filter = _options.KeyFilter;
            IReadOnlyList<int> databases = (_options.Databases
                ?? sourceKeyspace.Keys.Union(targetKeyspace.Keys.SelectMany(_options.SourceDatabases)).OrderBy(db => db).ToList()).Where(db => filter == null || filter.KeepsDatabase(db)).ToList();
            if (databases.GroupBy(_options.TargetDatabase).FirstOrDefault(g => g.Count() > 1) is { } merged)
            {
                throw new SyncException(SyncErrorIds.InvalidOptions, SyncErrorKind.Stop,
                    $"The database map sends the source's databases {string.Join(" and ", merged)} into the target's database {merged.Key}: its keys cannot be compared with either. Compare each source database with -Database instead.");
            }
            run.SourceKeysTotal = databases.Sum(db => sourceKeyspace.TryGetValue(db, out long n) ? n : 0);
            run.TargetKeysTotal = databases.Sum(db => targetKeyspace.TryGetValue(_options.TargetDatabase(db), out long n) ? n : 0);
            _run = run;
            if (databases.Count == 0) return run.Summary();

            Workers workers = await Workers.ConnectAsync(sides, _options, cancel, links, sets).ConfigureAwait(false);
            byte[]? match = _options.Pattern != null ? Encoding.UTF8.GetBytes(_options.Pattern) : null;
            Transform.KeyRename? rename = _options.KeyRename;
            foreach (LinkSet set in workers.Sets.Where(l => l.Role == EndpointRole.Target)) set.Rename = rename;
            foreach (int db in databases)
            {
                int targetDb = _options.TargetDatabase(db);
                await WhenAllAsync(workers.All.Select(link => (Task)link.ExecuteOrThrowAsync(token, "SELECT", link.Role == EndpointRole.Source ? db : targetDb)).ToArray(), cancel, null).ConfigureAwait(false);
                var sourceScanners = workers.SourceScan.Select(link => new KeyScanner(link, match, _options.ScanCount, filter, rate: _options.SourceReadRate)).ToList();
                var targetScanners = workers.TargetScan.Select(link => new KeyScanner(link, match, _options.ScanCount, filter, rename)).ToList();
                run.BeginDatabase(db, sourceScanners, targetScanners);

                var tasks = new List<Task>();
                var scans = new List<Task>();
                int worker = 0;
                foreach ((LinkSet source, LinkSet target) in workers.SourcePass)
                {
                    scans.Add(SourcePassAsync(run, Rotated(sourceScanners, worker++), source, target, token));
                }
                scans.Add(TargetPassAsync(run, targetScanners, workers.TargetPass, rename, token));
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
            foreach (LinkSet set in sets) set.Dispose();
        }
    }

    /// <summary>Keys per database from INFO keyspace (<c>db0:keys=12,expires=0,avg_ttl=0</c>), summed over the masters of a cluster.</summary>
    private static async Task<Dictionary<int, long>> KeyspaceAsync(ServerLink control, IReadOnlyList<RedisEndpoint>? masters, EndpointRole role, CancellationToken cancellationToken)
    {
        if (masters == null) return await KeyspaceAsync(control, cancellationToken).ConfigureAwait(false);
        var total = new Dictionary<int, long>();
        foreach (RedisEndpoint master in masters)
        {
            using ServerLink link = await ServerLink.ConnectAsync(master, role, control.Info, cancellationToken).ConfigureAwait(false);
            foreach (KeyValuePair<int, long> db in await KeyspaceAsync(link, cancellationToken).ConfigureAwait(false))
            {
                total[db.Key] = (total.TryGetValue(db.Key, out long n) ? n : 0) + db.Value;
            }
        }
        return total;
    }

    private static async Task<Dictionary<int, long>> KeyspaceAsync(ServerLink link, CancellationToken cancellationToken)
    {
        RespValue reply = await link.ExecuteOrThrowAsync(cancellationToken, "INFO", "keyspace").ConfigureAwait(false);
        return Keyspace.PerDatabase(reply.AsString() ?? string.Empty);
    }

    /// <summary>The scanners starting at a worker's own: the workers of a cluster's compare begin on different masters.</summary>
    private static List<KeyScanner> Rotated(List<KeyScanner> scanners, int worker) =>
        scanners.Skip(worker % scanners.Count).Concat(scanners.Take(worker % scanners.Count)).ToList();

    private static async Task SourcePassAsync(CompareRun run, List<KeyScanner> scanners, LinkSet source, LinkSet target, CancellationToken cancellationToken)
    {
        var batch = new KeyBatch();
        var pipeline = new KeyPipeline(run, source, target);
        var jobs = new List<KeyJob>();
        foreach (KeyScanner scanner in scanners)
        {
            await SourcePassAsync(run, scanner, batch, pipeline, jobs, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task SourcePassAsync(CompareRun run, KeyScanner scanner, KeyBatch batch, KeyPipeline pipeline, List<KeyJob> jobs, CancellationToken cancellationToken)
    {
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
    /// A cluster source gets an EXISTS per key at the master of its slot (EXISTS of several slots is refused).
    /// </summary>
    private static async Task TargetPassAsync(CompareRun run, List<KeyScanner> scanners, LinkSet sources, Transform.KeyRename? rename, CancellationToken cancellationToken)
    {
        var batch = new KeyBatch();
        var routes = new List<ServerLink>();
        foreach (KeyScanner scanner in scanners)
        {
            while (await scanner.NextAsync(batch, cancellationToken).ConfigureAwait(false))
            {
                if (rename != null) batch.MapNames(rename);
                if (sources.IsCluster)
                {
                    await ExistsByKeyAsync(run, batch, sources, routes, cancellationToken).ConfigureAwait(false);
                    continue;
                }
                ServerLink source = sources.Links[0];
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
    }

    /// <summary>An EXISTS per key at the master of its slot; a key redirected (MOVED, ASK) gets its look as a candidate, which follows the redirect.</summary>
    private static async Task ExistsByKeyAsync(CompareRun run, KeyBatch batch, LinkSet sources, List<ServerLink> routes, CancellationToken cancellationToken)
    {
        routes.Clear();
        for (int i = 0; i < batch.Count; i++)
        {
            ServerLink link = sources.For(batch[i]);
            routes.Add(link);
            link.Command(CommandText.Exists, batch[i]);
        }
        await sources.FlushAsync(cancellationToken).ConfigureAwait(false);
        bool moved = false;
        for (int i = 0; i < batch.Count; i++)
        {
            ServerLink source = routes[i];
            if (!source.Replies.TryTake(1)) await source.Replies.TakeAsync(1, cancellationToken).ConfigureAwait(false);
            if (LinkSet.Redirected(source.Replies.Taken, out _, out _))
            {
                source.Replies.Release();
                moved = true;
                run.AddTargetCandidate(batch[i]);
            }
            else if (ExistsReply(source) == 0)
            {
                run.AddTargetCandidate(batch[i]);
            }
        }
        if (moved) await sources.RefreshAsync(cancellationToken).ConfigureAwait(false);
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

    private static async Task DeepAsync(CompareRun run, LinkSet source, LinkSet target, CancellationToken cancellationToken)
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

    private static async Task RecheckAsync(CompareRun run, LinkSet source, LinkSet target, CancellationToken cancellationToken)
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

    /// <summary>The two servers as given, and the masters of each that is a cluster.</summary>
    private sealed class Sides
    {
        public Sides(RedisEndpoint source, ServerInfo sourceInfo, Writers.SlotMap? sourceMap, RedisEndpoint target, ServerInfo targetInfo, Writers.SlotMap? targetMap)
        {
            Source = source;
            SourceInfo = sourceInfo;
            SourceMap = sourceMap;
            Target = target;
            TargetInfo = targetInfo;
            TargetMap = targetMap;
        }

        public RedisEndpoint Source { get; }
        public ServerInfo SourceInfo { get; }
        public Writers.SlotMap? SourceMap { get; }
        public RedisEndpoint Target { get; }
        public ServerInfo TargetInfo { get; }
        public Writers.SlotMap? TargetMap { get; }

        /// <summary>The source's masters (a cluster), or null.</summary>
        public IReadOnlyList<RedisEndpoint>? SourceMasters => SourceMap?.Masters;

        public IReadOnlyList<RedisEndpoint>? TargetMasters => TargetMap?.Masters;
    }

    /// <summary>The connections of a compare, opened once and reused for every database.</summary>
    private sealed class Workers
    {
        /// <summary>A scan per server: per master of a cluster.</summary>
        public List<ServerLink> SourceScan = new List<ServerLink>();
        public List<ServerLink> TargetScan = new List<ServerLink>();
        public LinkSet TargetPass = null!;
        public List<(LinkSet Source, LinkSet Target)> SourcePass = new List<(LinkSet, LinkSet)>();
        public (LinkSet Source, LinkSet Target) Deep;
        public (LinkSet Source, LinkSet Target) Recheck;

        public IEnumerable<LinkSet> Sets
        {
            get
            {
                yield return TargetPass;
                foreach ((LinkSet s, LinkSet t) in SourcePass)
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

        public IEnumerable<ServerLink> All => SourceScan.Concat(TargetScan).Concat(Sets.SelectMany(set => set.Links));

        public static async Task<Workers> ConnectAsync(Sides sides, CompareOptions options, CancellationTokenSource cancel, List<ServerLink> links, List<LinkSet> sets)
        {
            CancellationToken token = cancel.Token;
            Task<LinkSet> Source() => Set(LinkSet.ConnectAsync(sides.Source, EndpointRole.Source, sides.SourceInfo, sides.SourceMap, token));
            Task<LinkSet> Target() => Set(LinkSet.ConnectAsync(sides.Target, EndpointRole.Target, sides.TargetInfo, sides.TargetMap, token));
            async Task<LinkSet> Set(Task<LinkSet> connect)
            {
                LinkSet set = await connect.ConfigureAwait(false);
                lock (sets) sets.Add(set);
                return set;
            }

            Task<ServerLink>[] scans = (sides.SourceMasters ?? new[] { sides.Source }).Select(m => ServerLink.ConnectAsync(m, EndpointRole.Source, sides.SourceInfo, token))
                .Concat((sides.TargetMasters ?? new[] { sides.Target }).Select(m => ServerLink.ConnectAsync(m, EndpointRole.Target, sides.TargetInfo, token))).ToArray();
            var tasks = new List<Task<LinkSet>> { Source(), Source(), Target(), Source(), Target() };
            for (int i = 0; i < options.Parallelism; i++)
            {
                tasks.Add(Source());
                tasks.Add(Target());
            }
            await WhenAllAsync(scans.Concat<Task>(tasks).ToArray(), cancel, links).ConfigureAwait(false);
            var workers = new Workers
            {
                TargetPass = tasks[0].Result,
                Deep = (tasks[1].Result, tasks[2].Result),
                Recheck = (tasks[3].Result, tasks[4].Result),
            };
            foreach (Task<ServerLink> scan in scans)
            {
                if (scan.Result.Role == EndpointRole.Source) workers.SourceScan.Add(scan.Result);
                else workers.TargetScan.Add(scan.Result);
            }
            for (int i = 5; i < tasks.Count; i += 2) workers.SourcePass.Add((tasks[i].Result, tasks[i + 1].Result));
            return workers;
        }
    }
}
