using System.Buffers;

namespace RedisSync.Engine.Compare;

/// <summary>Strings: GET when small, GETRANGE in chunks when big.</summary>
internal sealed class StringCheck : ValueCheck
{
    private readonly long _length;
    private long _offset;

    public StringCheck(CompareRun run, long length)
        : base(run) => _length = length;

    public override void Emit(KeyJob job, ServerLink source, ServerLink target)
    {
        if (_length <= Run.StringChunkBytes)
        {
            source.Command(CommandText.Get, job.Key);
            target.Command(CommandText.Get, job.Key);
        }
        else
        {
            WriteRange(source, job);
            WriteRange(target, job);
        }
        job.SourceReplies = 1;
        job.TargetReplies = 1;
    }

    private void WriteRange(ServerLink link, KeyJob job)
    {
        link.Begin(4, CommandText.Getrange);
        link.Bulk(job.Key);
        link.Bulk(_offset);
        link.Bulk(_offset + Run.StringChunkBytes - 1);
    }

    public override void Consume(KeyJob job, ServerLink source, ServerLink target)
    {
        Reply s = source.Replies.Taken[0];
        Reply t = target.Replies.Taken[0];
        string command = _length <= Run.StringChunkBytes ? "GET" : "GETRANGE";
        if (!Usable(s, source, command, job) || !Usable(t, target, command, job)) return;
        if (s.IsNull || t.IsNull)
        {
            Differ("the key changed during the compare");
            return;
        }
        ReadOnlySequence<byte> a = s.Frame.Payload, b = t.Frame.Payload;
        if (!Bytes.SequenceEqual(a, b))
        {
            long at = _offset + Bytes.FirstDifference(a, b);
            Differ(a.Length <= 64 && b.Length <= 64 && _length <= Run.StringChunkBytes
                ? $"{Bytes.Quote(a)} on the source, {Bytes.Quote(b)} on the target"
                : $"the values differ from byte {at}");
            return;
        }
        _offset += Run.StringChunkBytes;
        if (_offset >= _length) Finish();
    }
}
