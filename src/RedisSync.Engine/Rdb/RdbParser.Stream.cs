using System;

namespace RedisSync.Engine.Rdb;

// Streams (rdb.c, t_stream.c). The file holds: the listpack nodes (each keyed by its master id, big
// endian), the stream's own fields, then per consumer group its name, last-delivered id,
// entries-read (v2+), its PEL (id, delivery time, delivery count) and its consumers, each with its
// seen time, active time (v3) and the ids it owns. A node's listpack starts with the master entry
// (live count, deleted count, the master fields, 0) followed by entries: flags, ms and seq deltas,
// then either the values alone (SAMEFIELDS flag) or a field count and field/value pairs, then the
// entry's listpack element count.
internal sealed partial class RdbParser
{
    private const int StreamDeleted = 1;
    private const int StreamSameFields = 2;

    private PackedEntry[] _masterFields = new PackedEntry[16];
    private PendingEntry[] _pel = new PendingEntry[16];
    private byte[] _groupName = new byte[64];

    private readonly struct PendingEntry
    {
        public PendingEntry(StreamId id, long deliveryTime, long deliveryCount)
        {
            Id = id;
            DeliveryTime = deliveryTime;
            DeliveryCount = deliveryCount;
        }

        public StreamId Id { get; }

        public long DeliveryTime { get; }

        public long DeliveryCount { get; }
    }

    private StreamId ReadStreamId() => new StreamId(ReadLength(), ReadLength());

    private void ReadStream(RdbType type)
    {
        bool v2 = type >= RdbType.StreamListpacks2;
        bool v3 = type >= RdbType.StreamListpacks3;
        ulong nodes = ReadLength();
        for (ulong i = 0; i < nodes; i++)
        {
            NewElement();
            ReadOnlySpan<byte> nodeKey = ReadStringElement();
            if (nodeKey.Length != 16) ThrowCorrupt($"stream node key is {nodeKey.Length} bytes, not the 16 of a stream id");
            StreamId master = StreamId.FromBigEndian(nodeKey);
            ReadOnlySpan<byte> lp = ReadBlob(out _);
            EmitStreamNode(master, lp);
        }
        EndElement();

        long length = Count(ReadLength());
        StreamId lastId = ReadStreamId();
        StreamId firstId = default, maxDeletedId = default;
        long entriesAdded = length;
        if (v2)
        {
            firstId = ReadStreamId();
            maxDeletedId = ReadStreamId();
            entriesAdded = Count(ReadLength());
        }
        ulong groups = ReadLength();
        if (groups > int.MaxValue) ThrowCorrupt($"stream has {groups} consumer groups");
        _visitor.OnStreamMetadata(new StreamMetadata(length, lastId, firstId, maxDeletedId, entriesAdded, (int)groups, v2, Count(nodes)));

        for (ulong g = 0; g < groups; g++) ReadStreamGroup(v2, v3);
    }

    private void EmitStreamNode(StreamId master, ReadOnlySpan<byte> blob)
    {
        try
        {
            PackedReader lp = PackedReader.Listpack(blob);
            NextInteger(ref lp, "live count");
            NextInteger(ref lp, "deleted count");
            long masterCount = NextInteger(ref lp, "master field count");
            if (masterCount < 0 || masterCount > blob.Length) throw new PackedFormatException($"stream master entry has {masterCount} fields");
            if (_masterFields.Length < masterCount) _masterFields = new PackedEntry[Math.Max(masterCount, _masterFields.Length * 2)];
            for (int i = 0; i < masterCount; i++) _masterFields[i] = Next(ref lp, "master field");
            NextInteger(ref lp, "master terminator");

            while (lp.Next(out PackedEntry flagsEntry))
            {
                if (!flagsEntry.IsInteger) throw new PackedFormatException("stream entry flags are not an integer");
                int flags = (int)flagsEntry.Integer;
                long msDelta = NextInteger(ref lp, "entry id");
                long seqDelta = NextInteger(ref lp, "entry id");
                var id = new StreamId(unchecked(master.Ms + (ulong)msDelta), unchecked(master.Seq + (ulong)seqDelta));
                bool deleted = (flags & StreamDeleted) != 0;
                if ((flags & StreamSameFields) != 0)
                {
                    if (!deleted) _visitor.OnStreamEntry(id, (int)masterCount);
                    for (int i = 0; i < masterCount; i++)
                    {
                        PackedEntry value = Next(ref lp, "entry value");
                        if (!deleted) _visitor.OnStreamField(_masterFields[i].Text(blob, _digitsA), value.Text(blob, _digitsB));
                    }
                }
                else
                {
                    long fieldCount = NextInteger(ref lp, "entry field count");
                    if (fieldCount < 0 || fieldCount > blob.Length) throw new PackedFormatException($"stream entry has {fieldCount} fields");
                    if (!deleted) _visitor.OnStreamEntry(id, (int)fieldCount);
                    for (long i = 0; i < fieldCount; i++)
                    {
                        PackedEntry field = Next(ref lp, "entry field");
                        PackedEntry value = Next(ref lp, "entry value");
                        if (!deleted) _visitor.OnStreamField(field.Text(blob, _digitsA), value.Text(blob, _digitsB));
                    }
                }
                NextInteger(ref lp, "entry element count");
                if (deleted) _visitor.OnStreamDeletedEntry(id);
            }
        }
        catch (PackedFormatException e)
        {
            ThrowError(SyncErrorIds.RdbCorrupt, "stream " + e.Message, _blobOffset);
        }
    }

    private static PackedEntry Next(ref PackedReader lp, string what)
    {
        if (!lp.Next(out PackedEntry entry)) throw new PackedFormatException($"listpack ends where the {what} belongs");
        return entry;
    }

    private static long NextInteger(ref PackedReader lp, string what)
    {
        PackedEntry entry = Next(ref lp, what);
        if (!entry.IsInteger) throw new PackedFormatException($"listpack holds a string where the {what} (an integer) belongs");
        return entry.Integer;
    }

    private void ReadStreamGroup(bool v2, bool v3)
    {
        NewElement();
        ReadOnlySpan<byte> name = ReadStringElement();
        if (_groupName.Length < name.Length) _groupName = new byte[Math.Max(name.Length, _groupName.Length * 2)];
        name.CopyTo(_groupName);
        int nameLength = name.Length;
        EndElement();

        StreamId lastDelivered = ReadStreamId();
        long entriesRead = v2 ? unchecked((long)ReadLength()) : -1;

        ulong pelSize = ReadLength();
        if (pelSize > int.MaxValue) ThrowCorrupt($"consumer group has {pelSize} pending entries");
        for (int i = 0; i < (int)pelSize; i++)
        {
            if (i == _pel.Length) Array.Resize(ref _pel, _pel.Length * 2); // grown as entries arrive, not by the count the file declares
            StreamId id = StreamId.FromBigEndian(ReadRaw(16));
            long deliveryTime = ReadInt64LE();
            long deliveryCount = Count(ReadLength());
            if (i > 0 && id.CompareTo(_pel[i - 1].Id) <= 0) ThrowCorrupt($"consumer group PEL is not in id order at {id}");
            _pel[i] = new PendingEntry(id, deliveryTime, deliveryCount);
        }

        ulong consumers = ReadLength();
        _visitor.OnStreamGroup(new ReadOnlySpan<byte>(_groupName, 0, nameLength), lastDelivered, entriesRead, (long)pelSize, Count(consumers));
        for (ulong c = 0; c < consumers; c++)
        {
            NewElement();
            ReadOnlySpan<byte> consumer = ReadStringElement();
            long seen = ReadInt64LE();
            long active = v3 ? ReadInt64LE() : -1;
            long owned = Count(ReadLength());
            _visitor.OnStreamConsumer(consumer, seen, active, owned);
            EndElement();
            for (long k = 0; k < owned; k++)
            {
                StreamId id = StreamId.FromBigEndian(ReadRaw(16));
                int at = FindPending(id, (int)pelSize);
                if (at < 0) ThrowCorrupt($"consumer's pending entry {id} is not in its group's PEL");
                _visitor.OnStreamPending(id, _pel[at].DeliveryTime, _pel[at].DeliveryCount);
            }
        }
    }

    private int FindPending(StreamId id, int count)
    {
        int lo = 0, hi = count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            int c = _pel[mid].Id.CompareTo(id);
            if (c == 0) return mid;
            if (c < 0) lo = mid + 1;
            else hi = mid - 1;
        }
        return -1;
    }

    private bool SkipStream(RdbType type)
    {
        bool v2 = type >= RdbType.StreamListpacks2;
        bool v3 = type >= RdbType.StreamListpacks3;
        ulong nodes = ReadLength();
        for (ulong i = 0; i < nodes; i++)
        {
            if (!SkipString() || !SkipString()) return false;
        }
        ReadLength();
        ReadLength();
        ReadLength();
        if (v2)
        {
            for (int i = 0; i < 5; i++) ReadLength();
        }
        ulong groups = ReadLength();
        for (ulong g = 0; g < groups; g++)
        {
            if (!SkipString()) return false;
            ReadLength();
            ReadLength();
            if (v2) ReadLength();
            ulong pel = ReadLength();
            for (ulong i = 0; i < pel; i++)
            {
                if (!SkipBytes(24)) return false;
                ReadLength();
            }
            ulong consumers = ReadLength();
            for (ulong c = 0; c < consumers; c++)
            {
                if (!SkipString() || !SkipBytes(v3 ? 16 : 8)) return false;
                ulong owned = ReadLength();
                if (owned > (ulong)long.MaxValue / 16 || !SkipBytes((long)owned * 16)) return false;
            }
        }
        return Abs <= _skimEnd;
    }
}
