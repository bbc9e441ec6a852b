using System;
using System.Buffers;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>Strings: GETRANGE chunk by chunk (one chunk, the whole value, for most strings).</summary>
internal sealed class StringCheck : ValueCheck
{
    private long _offset;

    public StringCheck(CompareRun run)
        : base(run)
    {
    }

    public override (int Source, int Target) Emit(KeyJob job, ServerLink source, ServerLink target)
    {
        WriteRange(source, job);
        WriteRange(target, job);
        return (1, 1);
    }

    private void WriteRange(ServerLink link, KeyJob job)
    {
        link.Begin(4, CommandText.Getrange);
        link.Bulk(job.KeyFor(link));
        link.Bulk(_offset);
        link.Bulk(_offset + Run.StringChunkBytes - 1);
    }

    public override void Consume(KeyJob job, ServerLink source, ReadOnlySpan<Reply> s, ServerLink target, ReadOnlySpan<Reply> t)
    {
        if (!Usable(s[0], source, "GETRANGE", job) || !Usable(t[0], target, "GETRANGE", job)) return;
        ReadOnlySequence<byte> a = s[0].Frame.Payload, b = t[0].Frame.Payload;
        if (!Bytes.SequenceEqual(a, b))
        {
            long at = _offset + Bytes.FirstDifference(a, b);
            Differ(Length <= 64
                ? $"{Bytes.Quote(a)} on the source, {Bytes.Quote(b)} on the target"
                : $"the values differ from byte {at}");
            return;
        }
        _offset += Run.StringChunkBytes;
        if (_offset >= Length) Finish();
    }
}
