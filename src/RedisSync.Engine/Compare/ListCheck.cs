using System.Buffers;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>Lists: LRANGE on both sides, chunk by chunk, compared as raw replies (element by element on a mismatch).</summary>
internal sealed class ListCheck : ValueCheck
{
    private long _start;

    public ListCheck(CompareRun run)
        : base(run)
    {
    }

    public override (int Source, int Target) Emit(KeyJob job, ServerLink source, ServerLink target)
    {
        long stop = _start + Run.ChunkSize - 1;
        Write(source, job, stop);
        Write(target, job, stop);
        return (1, 1);
    }

    private void Write(ServerLink link, KeyJob job, long stop)
    {
        link.Begin(4, CommandText.Lrange);
        link.Bulk(job.KeyFor(link));
        link.Bulk(_start);
        link.Bulk(stop);
    }

    public override void Consume(KeyJob job, ServerLink source, System.ReadOnlySpan<Reply> s, ServerLink target, System.ReadOnlySpan<Reply> t)
    {
        if (!Usable(s[0], source, "LRANGE", job) || !Usable(t[0], target, "LRANGE", job)) return;
        if (!Bytes.SequenceEqual(s[0].Raw, t[0].Raw))
        {
            Differ(Describe(s[0].Raw, t[0].Raw));
            return;
        }
        _start += Run.ChunkSize;
        if (_start >= Length || s[0].Integer < Run.ChunkSize) Finish();
    }

    private string Describe(in ReadOnlySequence<byte> source, in ReadOnlySequence<byte> target)
    {
        var a = new FrameWalker(source);
        var b = new FrameWalker(target);
        long na = a.ReadArray(), nb = b.ReadArray();
        long n = na < nb ? na : nb;
        for (long i = 0; i < n; i++)
        {
            ReadOnlySequence<byte> x = a.ReadString(), y = b.ReadString();
            if (!Bytes.SequenceEqual(x, y)) return $"element {_start + i} differs: {Bytes.Quote(x)} on the source, {Bytes.Quote(y)} on the target";
        }
        return $"the list changed length during the compare (element {_start + n})";
    }
}
