using System.Buffers;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>
/// Hashes, sets and sorted sets: HSCAN/SSCAN/ZSCAN a chunk on the source, look its members up on the
/// target (HMGET / SMISMEMBER / ZMSCORE, or one SISMEMBER / ZSCORE each on servers before 6.2) while
/// the next chunk is scanned. With equal cardinalities (checked before), every source member found
/// equal on the target means equal values. Hash-field TTLs are compared when both servers have them.
/// </summary>
internal sealed class MemberCheck : ValueCheck
{
    private readonly RedisType _type;
    private readonly bool _fieldTtl;
    private readonly PooledFrame _pending = new PooledFrame();
    private long _pendingCount;
    private ulong _cursor;
    private bool _scanDone;
    private bool _scanSent;
    private bool _lookupSent;
    private string? _ttlDifference;

    public MemberCheck(CompareRun run, RedisType type)
        : base(run)
    {
        _type = type;
        _fieldTtl = type == RedisType.Hash && run.FieldTtls;
    }

    /// <summary>Elements per member in a scan reply: field and value, member and score, or member alone.</summary>
    private int Stride => _type == RedisType.Set ? 1 : 2;

    public override (int Source, int Target) Emit(KeyJob job, ServerLink source, ServerLink target)
    {
        int sourceReplies = 0, targetReplies = 0;
        _lookupSent = _pendingCount > 0;
        if (_lookupSent)
        {
            targetReplies += WriteLookup(job, target);
            if (_fieldTtl)
            {
                WriteFieldTtls(job, source);
                WriteFieldTtls(job, target);
                sourceReplies++;
                targetReplies++;
            }
        }
        _scanSent = !_scanDone;
        if (_scanSent)
        {
            source.Begin(5, _type == RedisType.Hash ? CommandText.Hscan : _type == RedisType.Set ? CommandText.Sscan : CommandText.Zscan);
            source.Bulk(job.KeyFor(source));
            source.Bulk(_cursor);
            source.Raw(CommandText.Count);
            source.Bulk(Run.ChunkSize);
            sourceReplies++;
        }
        return (sourceReplies, targetReplies);
    }

    private int WriteLookup(KeyJob job, ServerLink target)
    {
        FrameWalker members = Members();
        long count = _pendingCount;
        if (_type == RedisType.Hash || Run.TargetHasMultiLookup)
        {
            target.Begin(2 + (int)count, _type == RedisType.Hash ? CommandText.Hmget : _type == RedisType.Set ? CommandText.Smismember : CommandText.Zmscore);
            target.Bulk(job.KeyFor(target));
            for (long i = 0; i < count; i++)
            {
                target.Bulk(members.ReadString());
                if (Stride == 2) members.Skip();
            }
            return 1;
        }
        for (long i = 0; i < count; i++)
        {
            target.Begin(3, _type == RedisType.Set ? CommandText.Sismember : CommandText.Zscore);
            target.Bulk(job.KeyFor(target));
            target.Bulk(members.ReadString());
            if (Stride == 2) members.Skip();
        }
        return (int)count;
    }

    private void WriteFieldTtls(KeyJob job, ServerLink link)
    {
        FrameWalker members = Members();
        long count = _pendingCount;
        link.Begin(4 + (int)count, CommandText.Hpttl);
        link.Bulk(job.KeyFor(link));
        link.Raw(CommandText.Fields);
        link.Bulk(count);
        for (long i = 0; i < count; i++)
        {
            link.Bulk(members.ReadString());
            members.Skip();
        }
    }

    /// <summary>A walker positioned at the first member of the pending chunk.</summary>
    private FrameWalker Members()
    {
        var walker = new FrameWalker(_pending.Sequence);
        walker.ReadArray();
        walker.Skip();
        walker.ReadArray();
        return walker;
    }

    public override void Consume(KeyJob job, ServerLink source, System.ReadOnlySpan<Reply> s, ServerLink target, System.ReadOnlySpan<Reply> t)
    {
        int si = 0;
        if (_lookupSent)
        {
            int lookups = _type == RedisType.Hash || Run.TargetHasMultiLookup ? 1 : (int)_pendingCount;
            if (!CompareLookup(job, target, t.Slice(0, lookups))) return;
            if (_fieldTtl)
            {
                if (!CompareFieldTtls(job, source, target, s[si++], t[lookups])) return;
            }
            _pendingCount = 0;
        }
        if (_scanSent)
        {
            Reply scan = s[si];
            if (!Usable(scan, source, ScanName, job)) return;
            var walker = new FrameWalker(scan.Raw);
            walker.ReadArray();
            if (!Bytes.TryParseUInt64(walker.ReadString(), out _cursor)) Resp.RespParser.ThrowProtocol(ScanName + " returned an invalid cursor");
            long elements = walker.ReadArray();
            _scanDone = _cursor == 0;
            if (elements > 0)
            {
                _pending.Set(scan.Raw);
                _pendingCount = elements / Stride;
            }
        }
        if (_scanDone && _pendingCount == 0) Complete();
    }

    private string ScanName => _type == RedisType.Hash ? "HSCAN" : _type == RedisType.Set ? "SSCAN" : "ZSCAN";

    private void Complete()
    {
        if (_ttlDifference != null) DifferInTtl(_ttlDifference);
        else Finish();
    }

    private bool CompareLookup(KeyJob job, ServerLink target, System.ReadOnlySpan<Reply> replies)
    {
        FrameWalker members = Members();
        string command = _type == RedisType.Hash ? "HMGET" : _type == RedisType.Set ? (Run.TargetHasMultiLookup ? "SMISMEMBER" : "SISMEMBER") : (Run.TargetHasMultiLookup ? "ZMSCORE" : "ZSCORE");
        foreach (Reply reply in replies)
        {
            if (!Usable(reply, target, command, job)) return false;
        }
        bool multi = replies.Length == 1 && (_type == RedisType.Hash || Run.TargetHasMultiLookup);
        var found = new FrameWalker(replies[0].Raw);
        if (multi) found.ReadArray();
        for (long i = 0; i < _pendingCount; i++)
        {
            ReadOnlySequence<byte> member = members.ReadString();
            if (!multi) found = new FrameWalker(replies[(int)i].Raw);
            switch (_type)
            {
                case RedisType.Set:
                    if (found.ReadInteger() == 0)
                    {
                        Differ($"member {Bytes.Quote(member)} is not in the target");
                        return false;
                    }
                    break;
                case RedisType.Hash:
                {
                    ReadOnlySequence<byte> value = members.ReadString();
                    ReadOnlySequence<byte> other = found.ReadString(out bool missing);
                    if (missing)
                    {
                        Differ($"field {Bytes.Quote(member)} is not in the target");
                        return false;
                    }
                    if (!Bytes.SequenceEqual(value, other))
                    {
                        Differ($"field {Bytes.Quote(member)} differs: {Bytes.Quote(value)} on the source, {Bytes.Quote(other)} on the target");
                        return false;
                    }
                    break;
                }
                default:
                {
                    ReadOnlySequence<byte> score = members.ReadString();
                    ReadOnlySequence<byte> other = found.ReadString(out bool missing);
                    if (missing)
                    {
                        Differ($"member {Bytes.Quote(member)} is not in the target");
                        return false;
                    }
                    if (!Bytes.ScoresEqual(score, other))
                    {
                        Differ($"the score of {Bytes.Quote(member)} differs: {Bytes.Text(score)} on the source, {Bytes.Text(other)} on the target");
                        return false;
                    }
                    break;
                }
            }
        }
        return true;
    }

    private bool CompareFieldTtls(KeyJob job, ServerLink source, ServerLink target, in Reply s, in Reply t)
    {
        if (!Usable(s, source, "HPTTL", job) || !Usable(t, target, "HPTTL", job)) return false;
        if (_ttlDifference != null) return true;
        FrameWalker members = Members();
        var a = new FrameWalker(s.Raw);
        var b = new FrameWalker(t.Raw);
        a.ReadArray();
        b.ReadArray();
        for (long i = 0; i < _pendingCount; i++)
        {
            ReadOnlySequence<byte> field = members.ReadString();
            members.Skip();
            long x = a.ReadInteger(), y = b.ReadInteger();
            if (x == -2 || y == -2) continue;
            string? difference = KeyJob.TtlDifference(x, y, Run.FieldToleranceMs);
            if (difference != null)
            {
                _ttlDifference = $"field {Bytes.Quote(field)}: {difference}";
                return true;
            }
        }
        return true;
    }

    public override void Dispose() => _pending.Dispose();
}
