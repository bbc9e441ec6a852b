using System;
using System.Buffers;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>
/// The value part of a key's comparison (Full mode), type by type, in chunks: each round writes a
/// few commands, each consume compares what came back, so a big value is never held whole.
/// </summary>
internal abstract class ValueCheck : IDisposable
{
    protected ValueCheck(CompareRun run) => Run = run;

    protected CompareRun Run { get; }

    public bool Finished { get; private set; }

    /// <summary>What differs, once found.</summary>
    public string? Difference { get; private set; }

    /// <summary>The difference is a hash field's TTL, not a value.</summary>
    public bool DifferenceIsTtl { get; private set; }

    /// <summary>The value's length on both sides (STRLEN, LLEN, …), known once the first round is back.</summary>
    public long Length { get; set; }

    /// <summary>Writes this round's commands; returns how many replies each side will send.</summary>
    public abstract (int Source, int Target) Emit(KeyJob job, ServerLink source, ServerLink target);

    /// <summary>Compares this round's replies: <paramref name="s"/> from the source, <paramref name="t"/> from the target.</summary>
    public abstract void Consume(KeyJob job, ServerLink source, ReadOnlySpan<Reply> s, ServerLink target, ReadOnlySpan<Reply> t);

    public virtual void Dispose()
    {
    }

    public static ValueCheck Create(KeyJob job, CompareRun run)
    {
        switch (job.SourceType)
        {
            case RedisType.String: return new StringCheck(run);
            case RedisType.List: return new ListCheck(run);
            case RedisType.Stream: return new StreamCheck(run);
            default: return new MemberCheck(run, job.SourceType);
        }
    }

    protected void Differ(string detail)
    {
        Difference = detail;
        DifferenceIsTtl = false;
        Finished = true;
    }

    protected void DifferInTtl(string detail)
    {
        Difference = detail;
        DifferenceIsTtl = true;
        Finished = true;
    }

    protected void Finish() => Finished = true;

    /// <summary>
    /// False (and the check finished as a difference) when a reply is an error: WRONGTYPE means the
    /// key changed between rounds; any other error stops the compare.
    /// </summary>
    protected bool Usable(in Reply reply, ServerLink link, string command, KeyJob job)
    {
        if (!reply.IsError) return true;
        if (KeyJob.ChangedUnderUs(reply))
        {
            Differ("the key changed during the compare");
            return false;
        }
        throw link.Failed(command, reply.ErrorText, job.CopyKey());
    }
}

/// <summary>A copy of one reply frame in a pooled buffer, for replies that must outlive their round.</summary>
internal sealed class PooledFrame : IDisposable
{
    private byte[] _bytes = Array.Empty<byte>();
    private int _length;

    public ReadOnlySequence<byte> Sequence => new ReadOnlySequence<byte>(_bytes, 0, _length);

    public void Set(in ReadOnlySequence<byte> frame)
    {
        int length = checked((int)frame.Length);
        if (_bytes.Length < length)
        {
            if (_bytes.Length > 0) ArrayPool<byte>.Shared.Return(_bytes);
            _bytes = ArrayPool<byte>.Shared.Rent(length);
        }
        frame.CopyTo(_bytes);
        _length = length;
    }

    public void Dispose()
    {
        if (_bytes.Length > 0) ArrayPool<byte>.Shared.Return(_bytes);
        _bytes = Array.Empty<byte>();
        _length = 0;
    }
}
