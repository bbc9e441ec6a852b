using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;

namespace RedisSync.Engine.Compare;

/// <summary>
/// Runs key jobs in pipelined rounds over one source and one target link: every active job writes
/// its commands, both links are flushed once, then the replies are taken in order and each job
/// consumes its own. One round trip per round, however many keys.
/// </summary>
internal sealed class KeyPipeline
{
    private readonly CompareRun _run;
    private readonly LinkSet _source;
    private readonly LinkSet _target;
    private readonly List<KeyJob> _active = new List<KeyJob>();
    private int _valueJobsPerRound = FirstValueJobs;

    /// <summary>The reply bytes a round aims at (both servers together).</summary>
    private const long RoundBytes = 8 * 1024 * 1024;

    /// <summary>Value-reading jobs in a pipeline's first round, before any value size is known.</summary>
    private const int FirstValueJobs = 16;

    private const int MaxValueJobs = 1 << 20;

    /// <summary>Times a key is sent anew after MOVED or ASK before the redirect counts as an error.</summary>
    private const int MaxRedirects = 50;

    public KeyPipeline(CompareRun run, LinkSet source, LinkSet target)
    {
        _run = run;
        _source = source;
        _target = target;
    }

    /// <summary>Jobs that still need rounds.</summary>
    public int Active => _active.Count;

    public void Add(KeyJob job) => _active.Add(job);

    /// <summary>How long a pipeline waits before sending a key anew after ASK (its slot is migrating).</summary>
    private static readonly TimeSpan AskPause = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Picks the job's links by its key's slot; a job whose slot has moved to another link since its
    /// last round (the map was read again) starts over there.
    /// </summary>
    private void Route(KeyJob job)
    {
        ServerLink source = _source.For(job.Key);
        ServerLink target = _target.For(job.Key);
        if ((job.SourceLink != null && job.SourceLink != source) || (job.TargetLink != null && job.TargetLink != target)) job.Restart();
        job.SourceLink = source;
        job.TargetLink = target;
    }

    /// <summary>Runs rounds until every job has its verdict (or has moved on to another pipeline).</summary>
    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        while (_active.Count > 0) await RoundAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One round: write, flush, take, consume. Jobs that read values take part only up to a number
    /// that keeps a round's replies near <see cref="RoundBytes"/>: the number starts small and
    /// follows the value bytes per job seen in the previous round, so a batch of big values is
    /// spread over several rounds instead of piling up in the servers' output buffers.
    /// </summary>
    public async Task RoundAsync(CancellationToken cancellationToken)
    {
        List<KeyJob> active = _active;
        int valueJobs = 0;
        for (int i = 0; i < active.Count; i++)
        {
            KeyJob job = active[i];
            Route(job);
            if (job.ReadsValue(_run))
            {
                if (valueJobs == _valueJobsPerRound)
                {
                    job.SitOut();
                    continue;
                }
                valueJobs++;
            }
            job.Emit(_run, job.SourceLink!, job.TargetLink!);
        }
        Task sourceFlush = _source.FlushAsync(cancellationToken);
        Task targetFlush = _target.FlushAsync(cancellationToken);
        await sourceFlush.ConfigureAwait(false);
        await targetFlush.ConfigureAwait(false);

        long valueBytes = 0;
        int kept = 0;
        bool sourceMoved = false, targetMoved = false, asked = false;
        for (int i = 0; i < active.Count; i++)
        {
            KeyJob job = active[i];
            if (job.SatOut)
            {
                active[kept++] = job;
                continue;
            }
            bool readsValue = job.ReadsValue(_run);
            ServerLink source = job.SourceLink!, target = job.TargetLink!;
            ReplyReader sourceReplies = source.Replies;
            ReplyReader targetReplies = target.Replies;
            if (job.SourceReplies > 0 && !sourceReplies.TryTake(job.SourceReplies))
            {
                await sourceReplies.TakeAsync(job.SourceReplies, cancellationToken).ConfigureAwait(false);
            }
            if (job.TargetReplies > 0 && !targetReplies.TryTake(job.TargetReplies))
            {
                await targetReplies.TakeAsync(job.TargetReplies, cancellationToken).ConfigureAwait(false);
            }
            if (readsValue) valueBytes += sourceReplies.TakenBytes + targetReplies.TakenBytes;
            if (job.Redirects < MaxRedirects && (_source.IsCluster || _target.IsCluster))
            {
                bool s = LinkSet.Redirected(sourceReplies.Taken, out bool sourceAsk);
                bool t = LinkSet.Redirected(targetReplies.Taken, out bool targetAsk);
                if (s || t)
                {
                    sourceMoved |= s;
                    targetMoved |= t;
                    asked |= sourceAsk || targetAsk || job.Redirects > 1;
                    sourceReplies.Release();
                    targetReplies.Release();
                    job.Restart();
                    active[kept++] = job;
                    continue;
                }
            }
            job.Consume(_run, source, target);
            sourceReplies.Release();
            targetReplies.Release();
            if (job.Outcome == JobOutcome.Continue) active[kept++] = job;
            else _run.Finish(job);
        }
        active.RemoveRange(kept, active.Count - kept);
        if (sourceMoved) await _source.RefreshAsync(cancellationToken).ConfigureAwait(false);
        if (targetMoved) await _target.RefreshAsync(cancellationToken).ConfigureAwait(false);
        // ASK (or a MOVED again): the slot is being migrated; the key is asked for again once the move has gone further.
        if (asked) await Task.Delay(AskPause, cancellationToken).ConfigureAwait(false);
        if (valueJobs > 0)
        {
            long perJob = Math.Max(1, valueBytes / valueJobs);
            _valueJobsPerRound = (int)Math.Max(1, Math.Min(MaxValueJobs, RoundBytes / perJob));
        }
    }
}
