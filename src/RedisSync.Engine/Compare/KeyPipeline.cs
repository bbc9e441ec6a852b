using System;
using System.Collections.Generic;
using System.IO.Pipelines;
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
    private readonly ServerLink _source;
    private readonly ServerLink _target;
    private readonly List<KeyJob> _active = new List<KeyJob>();
    private int _valueJobsPerRound = FirstValueJobs;

    /// <summary>The reply bytes a round aims at (both servers together).</summary>
    private const long RoundBytes = 8 * 1024 * 1024;

    /// <summary>Value-reading jobs in a pipeline's first round, before any value size is known.</summary>
    private const int FirstValueJobs = 16;

    private const int MaxValueJobs = 1 << 20;

    public KeyPipeline(CompareRun run, ServerLink source, ServerLink target)
    {
        _run = run;
        _source = source;
        _target = target;
    }

    /// <summary>Jobs that still need rounds.</summary>
    public int Active => _active.Count;

    public void Add(KeyJob job) => _active.Add(job);

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
            if (job.ReadsValue(_run))
            {
                if (valueJobs == _valueJobsPerRound)
                {
                    job.SitOut();
                    continue;
                }
                valueJobs++;
            }
            job.Emit(_run, _source, _target);
        }
        ValueTask<FlushResult> sourceFlush = _source.FlushAsync(cancellationToken);
        ValueTask<FlushResult> targetFlush = _target.FlushAsync(cancellationToken);
        await sourceFlush.ConfigureAwait(false);
        await targetFlush.ConfigureAwait(false);

        ReplyReader sourceReplies = _source.Replies;
        ReplyReader targetReplies = _target.Replies;
        long valueBytes = 0;
        int kept = 0;
        for (int i = 0; i < active.Count; i++)
        {
            KeyJob job = active[i];
            if (job.SatOut)
            {
                active[kept++] = job;
                continue;
            }
            bool readsValue = job.ReadsValue(_run);
            if (job.SourceReplies > 0 && !sourceReplies.TryTake(job.SourceReplies))
            {
                await sourceReplies.TakeAsync(job.SourceReplies, cancellationToken).ConfigureAwait(false);
            }
            if (job.TargetReplies > 0 && !targetReplies.TryTake(job.TargetReplies))
            {
                await targetReplies.TakeAsync(job.TargetReplies, cancellationToken).ConfigureAwait(false);
            }
            if (readsValue) valueBytes += sourceReplies.TakenBytes + targetReplies.TakenBytes;
            job.Consume(_run, _source, _target);
            sourceReplies.Release();
            targetReplies.Release();
            if (job.Outcome == JobOutcome.Continue) active[kept++] = job;
            else _run.Finish(job);
        }
        active.RemoveRange(kept, active.Count - kept);
        if (valueJobs > 0)
        {
            long perJob = Math.Max(1, valueBytes / valueJobs);
            _valueJobsPerRound = (int)Math.Max(1, Math.Min(MaxValueJobs, RoundBytes / perJob));
        }
    }
}
