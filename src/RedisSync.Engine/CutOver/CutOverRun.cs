using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.CutOver;

/// <summary>What Complete-RedisSync was asked.</summary>
public sealed class CutOverOptions
{
    /// <summary>CLIENT PAUSE … WRITE on every master of the source while the last writes arrive and the target is checked.</summary>
    public bool PauseSourceWrites { get; init; }

    /// <summary>How long the pause lasts at most (the source lifts it by itself then), and how long the last writes may take to arrive.</summary>
    public TimeSpan PauseTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How the target is checked before the sync stops.</summary>
    public RedisSync.CutOverVerify Verify { get; init; } = RedisSync.CutOverVerify.Quick;

    /// <summary>Leaves the sync's checkpoint and lease on the target (a later run can continue from it).</summary>
    public bool KeepCheckpoint { get; init; }

    /// <summary>
    /// The -Where predicate a sync of another process chose its keys with (the target records only that it used one):
    /// the verification asks it of each key. A sync of this process is verified with its own.
    /// </summary>
    public Func<RedisSync.KeyCandidate, bool>? Where { get; init; }

    /// <summary>Called at each step (tests make things go wrong there).</summary>
    internal Action<CutOverStep>? OnStep { get; init; }
}

/// <summary>The steps of a cut-over, in order.</summary>
internal enum CutOverStep
{
    Paused,
    CaughtUp,
    Verified,
}

/// <summary>
/// Complete-RedisSync's engine side: pauses the source's writes, waits until every write made before
/// the pause is applied, verifies, stops the sync, removes its checkpoint and lease, and unpauses.
/// Any failure on the way unpauses the source and leaves the sync running.
/// </summary>
public static class CutOverRun
{
    private const int MaxListedKeys = 100;
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan RemotePoll = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Runs the cut-over of <paramref name="run"/>; <paramref name="stop"/> asks it to stop (the job's way when it has one).
    /// Errors are <see cref="SyncException"/>s with the CutOver… ids; the source is unpaused before any leaves.
    /// </summary>
    public static Task<RedisSync.CutOverReport> RunAsync(SyncRun run, Action stop, CutOverOptions options, CancellationToken cancellationToken)
    {
        if (run == null) throw new ArgumentNullException(nameof(run));
        if (stop == null) throw new ArgumentNullException(nameof(stop));
        return RunAsync(SyncProbe.ForRun(run), new LocalSync(run, stop), options, cancellationToken);
    }

    /// <summary>
    /// Runs the cut-over of a sync of another process, through its checkpoint and lease on the target
    /// (<see cref="SyncProbe.ForTarget"/>): the source named by its checkpoint is paused, the stop is asked
    /// through the target (the run there polls for it) and the cut-over waits until the lease is given back.
    /// </summary>
    public static Task<RedisSync.CutOverReport> RunAsync(SyncProbe probe, CutOverOptions options, CancellationToken cancellationToken)
    {
        if (probe == null) throw new ArgumentNullException(nameof(probe));
        if (probe.Run != null) return RunAsync(probe.Run, probe.Run.Stop, options, cancellationToken);
        return RunAsync(probe, new RemoteSync(probe), options, cancellationToken);
    }

    private static async Task<RedisSync.CutOverReport> RunAsync(SyncProbe probe, ISyncStopper sync, CutOverOptions options, CancellationToken cancellationToken)
    {
        if (options == null) throw new ArgumentNullException(nameof(options));
        if (options.PauseTimeout <= TimeSpan.Zero) throw HostErrors.InvalidParameter("PauseTimeout", "the pause must last more than 0 s.");
        SyncStatus status = await probe.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        if (!SyncProbe.IsLive(status)) throw Ended(probe.Name, status);
        if (status.Phase != SyncPhase.Streaming)
        {
            throw new SyncException(HostErrorIds.CutOverNotCaughtUp, SyncErrorKind.Stop,
                $"Sync '{probe.Name}' is {status.Phase}, not streaming: its snapshot is not applied yet. Wait for it first (Wait-RedisSync -Name {probe.Name} -CaughtUp).");
        }
        IReadOnlyList<RedisEndpoint> masters = await probe.MastersAsync(status, cancellationToken).ConfigureAwait(false);
        var links = new List<RedisConnection>();
        var paused = new List<RedisEndpoint>();
        var clock = Stopwatch.StartNew();
        DateTimeOffset started = DateTimeOffset.UtcNow;
        TimeSpan pauseDuration = TimeSpan.Zero;
        try
        {
            foreach (RedisEndpoint master in masters) links.Add(await RedisConnection.ConnectAsync(master, EndpointRole.Source, cancellationToken).ConfigureAwait(false));
            if (options.PauseSourceWrites)
            {
                long ms = (long)Math.Ceiling(options.PauseTimeout.TotalMilliseconds);
                for (int i = 0; i < links.Count; i++)
                {
                    RespPause(await links[i].ExecuteAsync(cancellationToken, "CLIENT", "PAUSE", ms.ToString(CultureInfo.InvariantCulture), "WRITE").ConfigureAwait(false), masters[i]);
                    paused.Add(masters[i]);
                }
                clock.Restart();
                started = DateTimeOffset.UtcNow;
                options.OnStep?.Invoke(CutOverStep.Paused);
            }
            var positions = new List<SourcePosition>();
            for (int i = 0; i < links.Count; i++) positions.Add(await SourcePosition.ReadAsync(links[i], masters[i], cancellationToken).ConfigureAwait(false));
            await WaitAppliedAsync(probe, positions, clock, options.PauseTimeout, cancellationToken).ConfigureAwait(false);
            options.OnStep?.Invoke(CutOverStep.CaughtUp);

            (long verified, long differences, List<string> keys, string? note) = await VerifyAsync(probe, masters, options.Verify, options.Where, cancellationToken).ConfigureAwait(false);
            options.OnStep?.Invoke(CutOverStep.Verified);
            SyncStatus now = await probe.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
            if (!SyncProbe.IsLive(now)) throw Ended(probe.Name, now);
            if (options.PauseSourceWrites)
            {
                for (int i = 0; i < links.Count; i++)
                {
                    SourcePosition position = await SourcePosition.ReadAsync(links[i], masters[i], cancellationToken).ConfigureAwait(false);
                    // The ping period is asked only of a master whose offset moved (most cut-overs do not span a PING).
                    if (position.ReplicationId != positions[i].ReplicationId || (position.Offset != positions[i].Offset &&
                        !OnlyPings(position.Offset - positions[i].Offset, clock.Elapsed, await PingPeriodAsync(links[i], cancellationToken).ConfigureAwait(false))))
                    {
                        throw new SyncException(HostErrorIds.CutOverSourceWrote, SyncErrorKind.Stop,
                            $"The source {CompareRunner.Address(masters[i])} moved from offset {positions[i].Offset} to {position.Offset} during the cut-over of sync '{probe.Name}' " +
                            $"(its pause of {options.PauseTimeout.TotalSeconds:0.###} s expired, or another client lifted it): the sync was left running. Give a longer -PauseTimeout.");
                    }
                }
            }
            var report = new RedisSync.CutOverReport
            {
                Name = probe.Name,
                SourcePaused = options.PauseSourceWrites,
                StartTime = started,
                LastOffset = positions.Sum(p => p.Offset),
                SourceOffsets = positions.Select(p => $"{CompareRunner.Address(p.Master)} {p.ReplicationId} {p.Offset.ToString(CultureInfo.InvariantCulture)}").ToList(),
                Verify = options.Verify,
                KeysVerified = verified,
                Differences = differences,
                DifferentKeys = keys,
                Note = note,
            };
            if (differences > 0)
            {
                pauseDuration = await UnpauseAsync(links, paused, masters, clock).ConfigureAwait(false);
                return With(report, RedisSync.CutOverVerdict.DifferencesFound, pauseDuration, stopped: false, removed: false);
            }

            await sync.StopAsync(positions, options.PauseTimeout, cancellationToken).ConfigureAwait(false);
            bool removed = false;
            if (!options.KeepCheckpoint)
            {
                await CheckpointRemoval.RemoveAsync(probe.Target, probe.Name, force: false, cancellationToken).ConfigureAwait(false);
                removed = true;
            }
            pauseDuration = await UnpauseAsync(links, paused, masters, clock).ConfigureAwait(false);
            RedisSync.CutOverVerdict verdict = options.Verify == RedisSync.CutOverVerify.None || note != null ? RedisSync.CutOverVerdict.NotVerified : RedisSync.CutOverVerdict.Passed;
            return With(report, verdict, pauseDuration, stopped: true, removed: removed);
        }
        finally
        {
            if (paused.Count > 0) await UnpauseAsync(links, paused, masters, clock).ConfigureAwait(false);
            foreach (RedisConnection link in links) link.Dispose();
        }
    }

    private static RedisSync.CutOverReport With(RedisSync.CutOverReport r, RedisSync.CutOverVerdict verdict, TimeSpan pause, bool stopped, bool removed) => new RedisSync.CutOverReport
    {
        Name = r.Name,
        Verdict = verdict,
        SourcePaused = r.SourcePaused,
        StartTime = r.StartTime,
        PauseDuration = pause,
        LastOffset = r.LastOffset,
        SourceOffsets = r.SourceOffsets,
        Verify = r.Verify,
        KeysVerified = r.KeysVerified,
        Differences = r.Differences,
        DifferentKeys = r.DifferentKeys,
        SyncStopped = stopped,
        CheckpointRemoved = removed,
        Note = r.Note,
    };

    /// <summary>What a master sends its replicas every repl-ping-replica-period seconds: *1 $4 PING.</summary>
    internal const int PingBytes = 14;

    /// <summary>
    /// True when a paused master's offset moved by <paramref name="moved"/> bytes through its replica PINGs alone: a master keeps
    /// sending them during CLIENT PAUSE WRITE (replication.c, replicationCron, skips them only in a manual failover), one every
    /// <paramref name="pingPeriod"/> seconds, so a pause that spans one moves the offset by 14 bytes with nothing written.
    /// </summary>
    internal static bool OnlyPings(long moved, TimeSpan paused, int pingPeriod)
    {
        if (moved == 0) return true;
        if (moved < 0 || moved % PingBytes != 0) return false;
        long most = (long)Math.Floor(paused.TotalSeconds / Math.Max(1, pingPeriod)) + 1;
        return moved / PingBytes <= most;
    }

    /// <summary>The master's repl-ping-replica-period (seconds), or 10 (Redis's default) where CONFIG GET is refused.</summary>
    private static async Task<int> PingPeriodAsync(RedisConnection link, CancellationToken cancellationToken)
    {
        Resp.RespValue reply = await link.ExecuteAsync(cancellationToken, "CONFIG", "GET", "repl-ping-replica-period").ConfigureAwait(false);
        return !reply.IsError && reply.Items.Length == 2 && int.TryParse(reply.Items[1].AsString(), NumberStyles.None, CultureInfo.InvariantCulture, out int seconds) && seconds > 0
            ? seconds : 10;
    }

    private static void RespPause(Resp.RespValue reply, RedisEndpoint master)
    {
        if (reply.Kind != Resp.RespKind.Error) return;
        throw new SyncException(HostErrorIds.CutOverPauseFailed, SyncErrorKind.Stop,
            $"The source {CompareRunner.Address(master)} refused CLIENT PAUSE … WRITE ({reply.AsString()}): it needs Redis 6.2 or later and a user allowed to run CLIENT PAUSE. Nothing was changed; the sync goes on.");
    }

    /// <summary>Waits until the target has applied every position (the writes made before the pause).</summary>
    private static async Task WaitAppliedAsync(SyncProbe probe, IReadOnlyList<SourcePosition> positions, Stopwatch clock, TimeSpan timeout, CancellationToken cancellationToken)
    {
        TimeSpan poll = probe.Run != null ? Poll : RemotePoll;
        while (true)
        {
            SyncStatus status = await probe.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
            if (!SyncProbe.IsLive(status)) throw Ended(probe.Name, status);
            if (SourcePosition.AllApplied(positions, status)) return;
            if (clock.Elapsed >= timeout)
            {
                throw new SyncException(HostErrorIds.CutOverNotCaughtUp, SyncErrorKind.Stop,
                    $"Sync '{probe.Name}' did not apply the source's writes up to offset {positions.Sum(p => p.Offset)} within {timeout.TotalSeconds:0.###} s " +
                    $"(applied {status.AppliedOffset}): the source was unpaused and the sync left running. Give a longer -PauseTimeout, or wait for a smaller lag first (Wait-RedisSync -LagBelow).");
            }
            await Task.Delay(poll, cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task<(long Verified, long Differences, List<string> Keys, string? Note)> VerifyAsync(
        SyncProbe probe, IReadOnlyList<RedisEndpoint> masters, RedisSync.CutOverVerify verify, Func<RedisSync.KeyCandidate, bool>? givenWhere, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        if (verify == RedisSync.CutOverVerify.None) return (0, 0, keys, null);
        // A filtered sync is verified on what it copies: its filter and renames as it left them on the target
        // (the same record Compare-RedisData -SyncName reads), else every key it left out would count as missing.
        Transform.SyncFilter? filter;
        IReadOnlyDictionary<string, string>? renames;
        bool usedWhere;
        IReadOnlyDictionary<int, int>? recordedMap;
        using (RedisConnection filterNode = await ClusterKeys.ConnectForKeyAsync(probe.Target, ReservedKeys.Filter(probe.Name), cancellationToken).ConfigureAwait(false))
        {
            filter = await Sync.FilterRecord.ReadAsync(filterNode, probe.Name, cancellationToken).ConfigureAwait(false);
            renames = await Sync.FilterRecord.ReadRenamesAsync(filterNode, probe.Name, cancellationToken).ConfigureAwait(false);
            usedWhere = await Sync.FilterRecord.UsedWhereAsync(filterNode, probe.Name, cancellationToken).ConfigureAwait(false);
            recordedMap = await Sync.FilterRecord.ReadDatabaseMapAsync(filterNode, probe.Name, cancellationToken).ConfigureAwait(false);
        }
        // A sync that maps databases is compared through its map: its own options in this process, else the one it recorded on the target.
        IReadOnlyDictionary<int, int>? databaseMap = probe.Run != null ? probe.Run.Options.DatabaseMap : recordedMap;
        if (databaseMap != null && databaseMap.All(pair => pair.Key == pair.Value)) databaseMap = null;
        // A -Where sync of this process is verified with its own predicate; one of another process with the -Where given to the cut-over.
        Func<RedisSync.KeyCandidate, bool>? where = probe.Run?.Options.Where ?? (usedWhere ? givenWhere : null);
        if (usedWhere && where == null)
        {
            return (0, 0, keys, $"The sync chose its keys with -Where, which the target does not keep: give the same -Where to Complete-RedisSync, or compare with Compare-RedisData -SyncName {probe.Name} and the same -Where before the switch.");
        }
        var compare = new Compare.CompareOptions
        {
            Mode = verify == RedisSync.CutOverVerify.Full ? CompareMode.Full : CompareMode.Quick, Filter = filter, RenameKey = renames, DatabaseMap = databaseMap, Where = where,
        };
        // A master of a cluster source stands for the cluster: the compare scans every master of it.
        var comparer = new DataComparer(masters[0], probe.Target, compare);
        RedisSync.CompareSummary summary;
        try
        {
            summary = await comparer.RunAsync(difference =>
            {
                if (keys.Count < MaxListedKeys) keys.Add($"{difference.Database}:{difference.Key} {difference.Status}");
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (SyncException ex) when (databaseMap != null && ex.ErrorId == SyncErrorIds.InvalidOptions)
        {
            return (0, 0, new List<string>(), "The sync maps databases (-DatabaseMap) two of which go into one target database: " + ex.Message);
        }
        long differences = summary.Missing + summary.Extra + summary.Type + summary.Value + summary.Ttl;
        return (summary.KeysCompared, differences, keys, null);
    }

    /// <summary>Lifts the pause on every master paused (a broken link is made again for it); returns how long it lasted.</summary>
    private static async Task<TimeSpan> UnpauseAsync(List<RedisConnection> links, List<RedisEndpoint> paused, IReadOnlyList<RedisEndpoint> masters, Stopwatch clock)
    {
        foreach (RedisEndpoint master in paused.ToList())
        {
            int i = masters.ToList().IndexOf(master);
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await links[i].ExecuteOrThrowAsync(timeout.Token, "CLIENT", "UNPAUSE").ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is SyncException || ex is IOException || ex is ObjectDisposedException)
                {
                    using RedisConnection again = await RedisConnection.ConnectAsync(master, EndpointRole.Source, timeout.Token).ConfigureAwait(false);
                    await again.ExecuteOrThrowAsync(timeout.Token, "CLIENT", "UNPAUSE").ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is SyncException || ex is IOException || ex is OperationCanceledException || ex is ObjectDisposedException)
            {
                // The pause ends by itself when its time is up.
            }
            paused.Remove(master);
        }
        return clock.Elapsed;
    }

    internal static SyncException Ended(string name, SyncStatus status) =>
        new SyncException(HostErrorIds.CutOverSyncEnded, SyncErrorKind.Stop,
            $"Sync '{name}' ended ({status.Phase}) during its cut-over" + (status.LastError != null ? ": " + status.LastError : ".") +
            " The source was unpaused; its checkpoint was left on the target.");
}

/// <summary>How a cut-over stops the sync it completes, once the target is verified.</summary>
internal interface ISyncStopper
{
    /// <summary>Stops the sync and returns once it has ended Stopped (its lease given back); CutOverSyncEnded when it ended otherwise.</summary>
    Task StopAsync(IReadOnlyList<SourcePosition> positions, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>A run of this process: stopped the job's way, waited for by its handle.</summary>
internal sealed class LocalSync : ISyncStopper
{
    private readonly SyncRun _run;
    private readonly Action _stop;

    public LocalSync(SyncRun run, Action stop)
    {
        _run = run;
        _stop = stop;
    }

    public Task StopAsync(IReadOnlyList<SourcePosition> positions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _stop();
        if (WaitHandle.WaitAny(new[] { _run.Ended, cancellationToken.WaitHandle }) != 0) cancellationToken.ThrowIfCancellationRequested();
        SyncStatus final = _run.GetStatus();
        if (final.Phase != SyncPhase.Stopped) throw CutOverRun.Ended(_run.Name, final);
        return Task.CompletedTask;
    }
}

/// <summary>
/// A run of another process: asked to stop through the target (<see cref="StopRequest"/>), done once its lease is
/// given back. A run that does not answer within the time given has its request withdrawn and is left running.
/// </summary>
internal sealed class RemoteSync : ISyncStopper
{
    private readonly SyncProbe _probe;

    public RemoteSync(SyncProbe probe) => _probe = probe;

    public async Task StopAsync(IReadOnlyList<SourcePosition> positions, TimeSpan timeout, CancellationToken cancellationToken)
    {
        RedisEndpoint target = _probe.Target;
        // The whole sync's run, or each of its shard tasks (Start-RedisSync -Shard, -Session), wherever they run.
        IReadOnlyList<AskedStop> asked = await StopRequest.AskAsync(target, _probe.Name, timeout + TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        if (asked.Count == 0)
        {
            throw new SyncException(HostErrorIds.CutOverSyncEnded, SyncErrorKind.Stop,
                $"Sync '{_probe.Name}' gave its lease {ReservedKeys.Lease(_probe.Name)} back (or lost it) before it was asked to stop, and none of its shard tasks holds one: " +
                "it ended during its cut-over. The source was unpaused; its checkpoint was left on the target.");
        }
        var clock = Stopwatch.StartNew();
        var waiting = new List<AskedStop>(asked);
        while (true)
        {
            for (int i = waiting.Count - 1; i >= 0; i--)
            {
                if (await StopRequest.HolderTokenAsync(target, _probe.Name, waiting[i].Shard, cancellationToken).ConfigureAwait(false) != waiting[i].Token) waiting.RemoveAt(i);
            }
            if (waiting.Count == 0) break;
            if (clock.Elapsed >= timeout)
            {
                foreach (AskedStop stop in asked) await StopRequest.WithdrawAsync(target, _probe.Name, stop, CancellationToken.None).ConfigureAwait(false);
                string? holder = await StopRequest.HolderAsync(target, _probe.Name, waiting[0].Shard, CancellationToken.None).ConfigureAwait(false);
                (string? host, int? pid, _) = Lease.ParseHolder(holder ?? string.Empty);
                string which = waiting[0].Shard == null ? $"Sync '{_probe.Name}'" : $"Shard task {waiting[0].Shard} of sync '{_probe.Name}'" + (waiting.Count > 1 ? $" (and {waiting.Count - 1} more of its {asked.Count} tasks)" : string.Empty);
                throw new SyncException(HostErrorIds.CutOverStopUnanswered, SyncErrorKind.Stop,
                    $"{which} (host {host ?? "?"}, process {pid?.ToString(CultureInfo.InvariantCulture) ?? "?"}) did not stop within {timeout.TotalSeconds:0.###} s of being asked through the target " +
                    $"({ReservedKeys.Stop(_probe.Name, waiting[0].Shard)}): the requests were withdrawn, the source unpaused and the sync left running. An older RedisSync does not look for the request: stop it where it runs (Stop-RedisSync).");
            }
            await Task.Delay(StopRequest.Poll, cancellationToken).ConfigureAwait(false);
        }
        // The target does not tell a run that stopped from one that failed; its last checkpoint must cover every write made before the pause.
        SyncStatus final = await _probe.ReadStatusAsync(cancellationToken).ConfigureAwait(false);
        if (final.Phase != SyncPhase.Stopped || !SourcePosition.AllApplied(positions, final)) throw CutOverRun.Ended(_probe.Name, final);
    }
}
