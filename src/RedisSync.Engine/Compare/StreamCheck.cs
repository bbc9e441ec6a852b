using System;
using System.Buffers;
using System.Buffers.Text;
using System.Collections.Generic;
using System.Text;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>
/// Streams: the stream's own metadata (XINFO STREAM), its entries (XRANGE in chunks), its consumer
/// groups (XINFO GROUPS), each group's consumers (XINFO CONSUMERS) and pending entries (XPENDING in
/// chunks). Idle times are not compared: they differ by nature.
/// </summary>
internal sealed class StreamCheck : ValueCheck
{
    private static readonly byte[][] StreamFields = Names("last-generated-id", "max-deleted-entry-id", "entries-added", "groups");
    private static readonly byte[][] GroupFields = Names("consumers", "pending", "last-delivered-id", "entries-read");
    private static readonly byte[] NameField = Encoding.ASCII.GetBytes("name");
    private static readonly byte[][] ConsumerFields = Names("pending");
    private static readonly byte[] GroupsField = Encoding.ASCII.GetBytes("groups");

    private enum Phase
    {
        Info,
        Entries,
        Groups,
        Consumers,
        Pending,
    }

    private readonly List<byte[]> _groups = new List<byte[]>();
    private readonly byte[] _start = new byte[48];
    private Phase _phase = Phase.Info;
    private int _startLength;
    private int _group;
    private long _groupCount;

    public StreamCheck(CompareRun run)
        : base(run)
    {
    }

    public override (int Source, int Target) Emit(KeyJob job, ServerLink source, ServerLink target)
    {
        Write(job, source);
        Write(job, target);
        return (1, 1);
    }

    private void Write(KeyJob job, ServerLink link)
    {
        switch (_phase)
        {
            case Phase.Info:
                link.Begin(3, CommandText.Xinfo);
                link.Raw(CommandText.Stream);
                link.Bulk(job.KeyFor(link));
                break;
            case Phase.Entries:
                link.Begin(6, CommandText.Xrange);
                link.Bulk(job.KeyFor(link));
                link.Bulk(new ReadOnlySpan<byte>(_start, 0, _startLength));
                link.Raw(CommandText.Plus);
                link.Raw(CommandText.Count);
                link.Bulk(Run.ChunkSize);
                break;
            case Phase.Groups:
                link.Begin(3, CommandText.Xinfo);
                link.Raw(CommandText.Groups);
                link.Bulk(job.KeyFor(link));
                break;
            case Phase.Consumers:
                link.Begin(4, CommandText.Xinfo);
                link.Raw(CommandText.Consumers);
                link.Bulk(job.KeyFor(link));
                link.Bulk(_groups[_group]);
                break;
            default:
                link.Begin(6, CommandText.Xpending);
                link.Bulk(job.KeyFor(link));
                link.Bulk(_groups[_group]);
                link.Bulk(new ReadOnlySpan<byte>(_start, 0, _startLength));
                link.Raw(CommandText.Plus);
                link.Bulk(Run.ChunkSize);
                break;
        }
    }

    private string CommandName => _phase == Phase.Entries ? "XRANGE" : _phase == Phase.Pending ? "XPENDING" : "XINFO";

    public override void Consume(KeyJob job, ServerLink source, ReadOnlySpan<Reply> sourceReplies, ServerLink target, ReadOnlySpan<Reply> targetReplies)
    {
        Reply s = sourceReplies[0];
        Reply t = targetReplies[0];
        if (!Usable(s, source, CommandName, job) || !Usable(t, target, CommandName, job)) return;
        switch (_phase)
        {
            case Phase.Info:
            {
                string? difference = CompareFields(s.Raw, t.Raw, StreamFields, string.Empty);
                if (difference != null)
                {
                    Differ(difference);
                    return;
                }
                _groupCount = TryField(s.Raw, GroupsField, out RespFrame groups) ? groups.Integer : 0;
                _phase = Phase.Entries;
                SetStart(null);
                break;
            }
            case Phase.Entries:
                if (!Bytes.SequenceEqual(s.Raw, t.Raw))
                {
                    Differ(DescribeEntries(s.Raw, t.Raw));
                    return;
                }
                if (s.Integer < Run.ChunkSize) NextGroup(first: true);
                else SetStart(LastId(s.Raw));
                break;
            case Phase.Groups:
                ConsumeGroups(s.Raw, t.Raw);
                break;
            case Phase.Consumers:
                ConsumeConsumers(s.Raw, t.Raw);
                break;
            default:
                ConsumePending(s.Raw, t.Raw, s.Integer);
                break;
        }
    }

    private void NextGroup(bool first)
    {
        if (first)
        {
            if (_groupCount == 0) Finish();
            else _phase = Phase.Groups;
            return;
        }
        _group++;
        if (_group >= _groups.Count) Finish();
        else _phase = Phase.Consumers;
    }

    private void ConsumeGroups(in ReadOnlySequence<byte> source, in ReadOnlySequence<byte> target)
    {
        string? difference = CompareItems(source, target, "consumer group", GroupFields, string.Empty, _groups);
        if (difference != null)
        {
            Differ(difference);
            return;
        }
        _group = -1;
        NextGroup(first: false);
    }

    private void ConsumeConsumers(in ReadOnlySequence<byte> source, in ReadOnlySequence<byte> target)
    {
        string group = Bytes.Quote(new ReadOnlySequence<byte>(_groups[_group]));
        string? difference = CompareItems(source, target, "consumer", ConsumerFields, $"group {group}: ", null);
        if (difference != null)
        {
            Differ(difference);
            return;
        }
        _phase = Phase.Pending;
        SetStart(null);
    }

    /// <summary>
    /// Compares two replies that list named items (XINFO GROUPS, XINFO CONSUMERS: both sorted by
    /// name): the names, then the given fields of each; collects the names when asked.
    /// </summary>
    private static string? CompareItems(in ReadOnlySequence<byte> source, in ReadOnlySequence<byte> target, string what, byte[][] fields, string prefix, List<byte[]>? names)
    {
        var a = new FrameWalker(source);
        var b = new FrameWalker(target);
        long na = a.ReadArray(), nb = b.ReadArray();
        if (na != nb) return $"{prefix}{na} {what}s on the source, {nb} on the target";
        for (long i = 0; i < na; i++)
        {
            a.Read(out ReadOnlySequence<byte> itemA);
            b.Read(out ReadOnlySequence<byte> itemB);
            TryField(itemA, NameField, out RespFrame nameA);
            TryField(itemB, NameField, out RespFrame nameB);
            if (!Bytes.SequenceEqual(nameA.Payload, nameB.Payload))
            {
                return $"{prefix}{what} {Bytes.Quote(nameA.Payload)} on the source, {Bytes.Quote(nameB.Payload)} on the target";
            }
            string? difference = CompareFields(itemA, itemB, fields, $"{prefix}{what} {Bytes.Quote(nameA.Payload)}: ");
            if (difference != null) return difference;
            names?.Add(nameA.Payload.ToArray());
        }
        return null;
    }

    private void ConsumePending(in ReadOnlySequence<byte> source, in ReadOnlySequence<byte> target, long count)
    {
        string group = Bytes.Quote(new ReadOnlySequence<byte>(_groups[_group]));
        var a = new FrameWalker(source);
        var b = new FrameWalker(target);
        long na = a.ReadArray(), nb = b.ReadArray();
        long n = Math.Min(na, nb);
        for (long i = 0; i < n; i++)
        {
            a.ReadArray();
            b.ReadArray();
            ReadOnlySequence<byte> idA = a.ReadString(), idB = b.ReadString();
            ReadOnlySequence<byte> consumerA = a.ReadString(), consumerB = b.ReadString();
            a.Skip();
            b.Skip();
            long deliveredA = a.ReadInteger(), deliveredB = b.ReadInteger();
            if (!Bytes.SequenceEqual(idA, idB))
            {
                Differ($"group {group}: pending entry {Bytes.Text(idA)} on the source, {Bytes.Text(idB)} on the target");
                return;
            }
            if (!Bytes.SequenceEqual(consumerA, consumerB))
            {
                Differ($"group {group}: pending entry {Bytes.Text(idA)} belongs to {Bytes.Quote(consumerA)} on the source, {Bytes.Quote(consumerB)} on the target");
                return;
            }
            if (deliveredA != deliveredB)
            {
                Differ($"group {group}: pending entry {Bytes.Text(idA)} was delivered {deliveredA} times on the source, {deliveredB} on the target");
                return;
            }
        }
        if (na != nb)
        {
            Differ($"group {group}: the pending entries differ after entry {n}");
            return;
        }
        if (count < Run.ChunkSize)
        {
            NextGroup(first: false);
        }
        else
        {
            SetStart(LastId(source));
        }
    }

    /// <summary>Sets the next range start: "-" for the first chunk, else just after <paramref name="last"/>.</summary>
    private void SetStart(StreamId? last)
    {
        if (last is StreamId id)
        {
            _startLength = After(id).Format(_start);
        }
        else
        {
            _start[0] = (byte)'-';
            _startLength = 1;
        }
    }

    /// <summary>The smallest id after <paramref name="id"/>: where the next range starts.</summary>
    public static StreamId After(StreamId id) => id.Seq == ulong.MaxValue ? new StreamId(id.Ms + 1, 0) : new StreamId(id.Ms, id.Seq + 1);

    /// <summary>The id of the last element of an XRANGE or XPENDING reply (each element an array that starts with the id).</summary>
    private static StreamId LastId(in ReadOnlySequence<byte> reply)
    {
        var walker = new FrameWalker(reply);
        long n = walker.ReadArray();
        for (long i = 0; i < n - 1; i++) walker.Skip();
        walker.ReadArray();
        return ParseId(walker.ReadString());
    }

    /// <summary>Parses <c>ms-seq</c>.</summary>
    public static StreamId ParseId(in ReadOnlySequence<byte> text)
    {
        Span<byte> scratch = stackalloc byte[48];
        ReadOnlySpan<byte> span = Bytes.Small(text, scratch);
        int dash = span.IndexOf((byte)'-');
        if (dash < 0 || !Utf8Parser.TryParse(span.Slice(0, dash), out ulong ms, out int a) || a != dash
            || !Utf8Parser.TryParse(span.Slice(dash + 1), out ulong seq, out int b) || b != span.Length - dash - 1)
        {
            RespParser.ThrowProtocol($"invalid stream id {KeyText.Format(span)}");
            return default;
        }
        return new StreamId(ms, seq);
    }

    private static string DescribeEntries(in ReadOnlySequence<byte> source, in ReadOnlySequence<byte> target)
    {
        var a = new FrameWalker(source);
        var b = new FrameWalker(target);
        long na = a.ReadArray(), nb = b.ReadArray();
        long n = Math.Min(na, nb);
        for (long i = 0; i < n; i++)
        {
            a.Read(out ReadOnlySequence<byte> ea);
            b.Read(out ReadOnlySequence<byte> eb);
            if (Bytes.SequenceEqual(ea, eb)) continue;
            var wa = new FrameWalker(ea);
            var wb = new FrameWalker(eb);
            wa.ReadArray();
            wb.ReadArray();
            ReadOnlySequence<byte> idA = wa.ReadString(), idB = wb.ReadString();
            return Bytes.SequenceEqual(idA, idB)
                ? $"entry {Bytes.Text(idA)} differs"
                : $"entry {Bytes.Text(idA)} on the source, {Bytes.Text(idB)} on the target";
        }
        return na > nb ? "the source has entries that the target lacks" : "the target has entries that the source lacks";
    }

    /// <summary>Compares the named fields of two flat name/value replies; fields that only one server reports are skipped.</summary>
    private static string? CompareFields(in ReadOnlySequence<byte> source, in ReadOnlySequence<byte> target, byte[][] names, string prefix)
    {
        foreach (byte[] name in names)
        {
            if (!TryField(source, name, out RespFrame a) || !TryField(target, name, out RespFrame b)) continue;
            bool equal = a.Kind == RespKind.Integer && b.Kind == RespKind.Integer
                ? a.Integer == b.Integer
                : a.Kind == b.Kind && a.Integer == b.Integer && Bytes.SequenceEqual(a.Payload, b.Payload);
            if (!equal) return $"{prefix}{Encoding.ASCII.GetString(name)} {Show(a)} on the source, {Show(b)} on the target";
        }
        return null;
    }

    private static string Show(in RespFrame frame) =>
        frame.Kind == RespKind.Integer ? frame.Integer.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : frame.Kind == RespKind.Null || frame.Integer == -1 ? "(nil)"
        : Bytes.Text(frame.Payload);

    /// <summary>Finds a field in a flat name/value reply (XINFO in RESP2).</summary>
    private static bool TryField(in ReadOnlySequence<byte> flat, byte[] name, out RespFrame value)
    {
        var walker = new FrameWalker(flat);
        long n = walker.ReadArray();
        for (long i = 0; i + 1 < n; i += 2)
        {
            ReadOnlySequence<byte> key = walker.ReadString();
            RespFrame frame = walker.Read();
            if (key.Length == name.Length && Bytes.SequenceEqual(key, new ReadOnlySequence<byte>(name)))
            {
                value = frame;
                return true;
            }
        }
        value = default;
        return false;
    }

    private static byte[][] Names(params string[] names) => Array.ConvertAll(names, n => Encoding.ASCII.GetBytes(n));
}
