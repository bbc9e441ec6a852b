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

    /// <summary>How long a pipeline waits before sending a key anew when it was redirected more than once (its slot is moving).</summary>
    private static readonly TimeSpan RedirectPause = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Picks the job's links: the node an ASK named, else the master of the key's slot; a job whose
    /// slot has moved to another link since its last round (the map was read again) starts over there.
    /// </summary>
    private void Route(KeyJob job)
    {
        ServerLink source = job.AskSource ?? _source.For(job.Key);
        ServerLink target = job.AskTarget ?? _target.For(job.Key);
        if ((job.SourceLink != null && job.SourceLink != source) || (job.TargetLink != null && job.TargetLink != target)) job.Restart();
        job.SourceLink = source;
        job.TargetLink = target;
    }

    /// <summary>Takes a job's replies on one link; after ASKING, twice as many, the ASKING's left out.</summary>
    private static async ValueTask TakeAsync(ReplyReader replies, int count, bool asking, CancellationToken cancellationToken)
    {
        if (count == 0) return;
        int sent = asking ? count * 2 : count;
        if (!replies.TryTake(sent)) await replies.TakeAsync(sent, cancellationToken).ConfigureAwait(false);
        if (asking) replies.SkipAskingReplies();
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
            ServerLink s = job.SourceLink!, t = job.TargetLink!;
            s.Asking = job.AskSource != null;
            t.Asking = job.AskTarget != null;
            job.Emit(_run, s, t);
            s.Asking = t.Asking = false;
        }
        Task sourceFlush = _source.FlushAsync(cancellationToken);
        Task targetFlush = _target.FlushAsync(cancellationToken);
        await sourceFlush.ConfigureAwait(false);
        await targetFlush.ConfigureAwait(false);

        long valueBytes = 0;
        int kept = 0;
        bool sourceMoved = false, targetMoved = false, again = false;
        List<(KeyJob Job, bool Source, string Address)>? asks = null;
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
            await TakeAsync(sourceReplies, job.SourceReplies, job.AskSource != null, cancellationToken).ConfigureAwait(false);
            await TakeAsync(targetReplies, job.TargetReplies, job.AskTarget != null, cancellationToken).ConfigureAwait(false);
            if (readsValue) valueBytes += sourceReplies.TakenBytes + targetReplies.TakenBytes;
            if (job.Redirects < MaxRedirects && (_source.IsCluster || _target.IsCluster))
            {
                bool s = LinkSet.Redirected(sourceReplies.Taken, out bool sourceAsk, out string? sourceNode);
                bool t = LinkSet.Redirected(targetReplies.Taken, out bool targetAsk, out string? targetNode);
                if (s || t)
                {
                    sourceReplies.Release();
                    targetReplies.Release();
                    job.Restart();
                    again |= job.Redirects > 1;
                    // MOVED: the map is read again and the key goes where it says. ASK: the key goes, with
                    // ASKING, to the node that imports its slot, until the job is done.
                    if (s && !sourceAsk)
                    {
                        sourceMoved = true;
                        job.AskSource = job.SourceLink = null;
                    }
                    if (t && !targetAsk)
                    {
                        targetMoved = true;
                        job.AskTarget = job.TargetLink = null;
                    }
                    if (sourceAsk && sourceNode != null) (asks ??= new List<(KeyJob, bool, string)>()).Add((job, true, sourceNode));
                    if (targetAsk && targetNode != null) (asks ??= new List<(KeyJob, bool, string)>()).Add((job, false, targetNode));
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
        if (asks != null)
        {
            foreach ((KeyJob job, bool onSource, string address) in asks)
            {
                ServerLink link = await (onSource ? _source : _target).LinkToAsync(address, cancellationToken).ConfigureAwait(false);
                if (onSource) job.AskSource = job.SourceLink = link;
                else job.AskTarget = job.TargetLink = link;
            }
        }
        // Redirected again: the slot is moving; the key is asked for again once the move has gone further.
        if (again) await Task.Delay(RedirectPause, cancellationToken).ConfigureAwait(false);
        if (valueJobs > 0)
        {
            long perJob = Math.Max(1, valueBytes / valueJobs);
            _valueJobsPerRound = (int)Math.Max(1, Math.Min(MaxValueJobs, RoundBytes / perJob));
        }
    }
}
