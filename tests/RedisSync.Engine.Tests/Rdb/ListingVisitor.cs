using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>
/// Renders what the parser delivers in the listing format of tests/fixtures/rdb/README.md, so a
/// parse can be compared line by line with a fixture's expected.txt. Holds everything (test data is small).
/// </summary>
internal sealed class ListingVisitor : RdbVisitor
{
    private readonly Dictionary<int, List<KeyListing>> _dbs = new();
    private readonly Dictionary<int, int> _typeCounts = new();
    private KeyListing? _key;

    public List<byte[]> Functions { get; } = new();

    public List<(string Name, string Value)> Aux { get; } = new();

    public int Version { get; private set; }

    public int KeysEnded { get; private set; }

    public ulong Checksum { get; private set; }

    public bool Ended { get; private set; }

    public override void OnStart(int rdbVersion) => Version = rdbVersion;

    public override void OnAux(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        Aux.Add((Encoding.UTF8.GetString(name), Encoding.UTF8.GetString(value)));

    public override void OnFunction(ReadOnlySpan<byte> code) => Functions.Add(code.ToArray());

    public override bool OnKey(in RdbKey key)
    {
        _key = new KeyListing(key.Db, key.Name.ToArray(), key.Type, key.ExpireAtMs);
        _typeCounts[(int)key.Type] = _typeCounts.GetValueOrDefault((int)key.Type) + 1;
        if (!_dbs.TryGetValue(key.Db, out List<KeyListing>? keys)) _dbs[key.Db] = keys = new List<KeyListing>();
        keys.Add(_key);
        return true;
    }

    public override void OnStringChunk(ReadOnlySpan<byte> chunk, long offset, long totalLength, RdbStringEncoding encoding)
    {
        KeyListing k = _key!;
        if (offset != k.StringValue.Length) throw new InvalidOperationException($"chunk at {offset} after {k.StringValue.Length} bytes");
        k.StringEncoding = encoding;
        k.StringValue.Write(chunk);
    }

    public override void OnListElement(ReadOnlySpan<byte> element) => _key!.Elements.Add(element.ToArray());

    public override void OnQuicklistNode(QuicklistContainer container, bool compressed) =>
        _key!.Nodes.Add((container == QuicklistContainer.Ziplist ? "ziplist" : container.ToString().ToUpperInvariant()) + (compressed ? "+lzf" : ""));

    public override void OnSetMember(ReadOnlySpan<byte> member) => _key!.Elements.Add(member.ToArray());

    public override void OnZSetMember(ReadOnlySpan<byte> member, double score) => _key!.Scored.Add((member.ToArray(), score));

    public override void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs) =>
        _key!.Fields.Add((field.ToArray(), value.ToArray(), expireAtMs));

    public override void OnStreamEntry(StreamId id, int fieldCount) => _key!.Entries.Add((id, new List<(byte[], byte[])>()));

    public override void OnStreamField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) =>
        _key!.Entries[^1].Fields.Add((field.ToArray(), value.ToArray()));

    public override void OnStreamMetadata(in StreamMetadata metadata) => _key!.Stream = metadata;

    public override void OnStreamGroup(ReadOnlySpan<byte> name, StreamId lastDeliveredId, long entriesRead, long pendingCount, long consumerCount) =>
        _key!.Groups.Add(new GroupListing(name.ToArray(), lastDeliveredId, entriesRead, pendingCount, consumerCount));

    public override void OnStreamConsumer(ReadOnlySpan<byte> name, long seenTimeMs, long activeTimeMs, long pendingCount) =>
        _key!.Groups[^1].Consumers.Add((name.ToArray(), pendingCount));

    public override void OnStreamPending(StreamId id, long deliveryTimeMs, long deliveryCount)
    {
        GroupListing g = _key!.Groups[^1];
        g.Pending.Add((id, g.Consumers[^1].Name, deliveryCount));
    }

    public override void OnKeyEnd()
    {
        _key!.Ended = true;
        KeysEnded++;
    }

    public override void OnEnd(ulong checksum)
    {
        Checksum = checksum;
        Ended = true;
    }

    /// <summary>The "# rdb object types:" header line.</summary>
    public string TypeCountsLine() =>
        "# rdb object types: " + string.Join(", ", _typeCounts.OrderBy(p => p.Key).Select(p => $"{p.Key}({((RdbType)p.Key).Name()}) x{p.Value}"));

    /// <summary>The key sections (=== db N …), as expected.txt has them after its header.</summary>
    public List<string> KeyLines()
    {
        var lines = new List<string>();
        foreach (int db in _dbs.Keys.OrderBy(d => d))
        {
            List<KeyListing> keys = _dbs[db];
            keys.Sort((a, b) => Bytes.Compare(a.Name, b.Name));
            lines.Add("");
            lines.Add($"=== db {db} ({keys.Count} keys)");
            foreach (KeyListing key in keys) key.Render(lines);
        }
        return lines;
    }

    public static string Quote(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > 4096) return $"<len={bytes.Length} sha256={Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant()}>";
        var sb = new StringBuilder(bytes.Length + 2).Append('"');
        foreach (byte b in bytes)
        {
            if (b == '"' || b == '\\') sb.Append('\\').Append((char)b);
            else if (b >= 0x20 && b <= 0x7e) sb.Append((char)b);
            else sb.Append("\\x").Append(b.ToString("x2"));
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Integral scores (below 2^53) as integers, others as Python's repr, inf/-inf.</summary>
    public static string Score(double score)
    {
        if (double.IsPositiveInfinity(score)) return "inf";
        if (double.IsNegativeInfinity(score)) return "-inf";
        if (Math.Floor(score) == score && Math.Abs(score) < 9007199254740992d) return ((long)score).ToString(CultureInfo.InvariantCulture);
        return score.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e");
    }

    private static string Id(StreamId id) => "\"" + id + "\"";

    private sealed class KeyListing
    {
        public KeyListing(int db, byte[] name, RdbType type, long expireAtMs)
        {
            Db = db;
            Name = name;
            Type = type;
            ExpireAtMs = expireAtMs;
        }

        public int Db { get; }

        public byte[] Name { get; }

        public RdbType Type { get; }

        public long ExpireAtMs { get; }

        public bool Ended { get; set; }

        public MemoryStream StringValue { get; } = new();

        public RdbStringEncoding StringEncoding { get; set; }

        public List<byte[]> Elements { get; } = new();

        public List<string> Nodes { get; } = new();

        public List<(byte[] Member, double Score)> Scored { get; } = new();

        public List<(byte[] Field, byte[] Value, long Expire)> Fields { get; } = new();

        public List<(StreamId Id, List<(byte[] Field, byte[] Value)> Fields)> Entries { get; } = new();

        public StreamMetadata Stream { get; set; }

        public List<GroupListing> Groups { get; } = new();

        public void Render(List<string> lines)
        {
            RedisType user = Type.ToRedisType();
            var head = new StringBuilder($"db={Db} key={Quote(Name)} type={user.ToString().ToLowerInvariant()} ");
            head.Append(ExpireAtMs < 0 ? "expire=none" : $"expire=at:{ExpireAtMs}");
            head.Append($" rdbtype={(int)Type}({Type.Name()})");
            if (user == RedisType.String) head.Append(" rdbstr=").Append(StringEncoding.ToString().ToLowerInvariant());
            if (Type == RdbType.ListQuicklist || Type == RdbType.ListQuicklist2) head.Append($" quicklist_nodes={Nodes.Count}[{string.Join(",", Nodes)}]");
            lines.Add(head.ToString());
            if (!Ended) lines.Add("  (value not read to its end)");
            switch (user)
            {
                case RedisType.String:
                    lines.Add($"  strlen={StringValue.Length}");
                    lines.Add("  value=" + Quote(StringValue.ToArray()));
                    break;
                case RedisType.List:
                    lines.Add($"  len={Elements.Count}");
                    for (int i = 0; i < Elements.Count; i++) lines.Add($"  [{i}] {Quote(Elements[i])}");
                    break;
                case RedisType.Set:
                    lines.Add($"  card={Elements.Count}");
                    foreach (byte[] m in Elements.OrderBy(m => m, Bytes.Comparer)) lines.Add("  member " + Quote(m));
                    break;
                case RedisType.ZSet:
                    lines.Add($"  card={Scored.Count}");
                    foreach (var (m, s) in Scored.OrderBy(e => e.Score).ThenBy(e => e.Member, Bytes.Comparer)) lines.Add($"  {Quote(m)} {Score(s)}");
                    break;
                case RedisType.Hash:
                    lines.Add($"  len={Fields.Count}");
                    foreach (var (f, v, e) in Fields.OrderBy(e => e.Field, Bytes.Comparer))
                    {
                        lines.Add($"  {Quote(f)}={Quote(v)}" + (e < 0 ? "" : $" expire=at:{e}"));
                    }
                    break;
                case RedisType.Stream:
                    RenderStream(lines);
                    break;
            }
        }

        private void RenderStream(List<string> lines)
        {
            StreamMetadata s = Stream;
            lines.Add($"  length={s.Length}");
            lines.Add($"  radix-tree-keys={s.ListpackCount}");
            lines.Add($"  last-generated-id={Id(s.LastId)}");
            if (s.HasV2Fields)
            {
                lines.Add($"  max-deleted-entry-id={Id(s.MaxDeletedId)}");
                lines.Add($"  entries-added={s.EntriesAdded}");
                lines.Add($"  recorded-first-entry-id={Id(s.FirstId)}");
            }
            lines.Add($"  groups={s.GroupCount}");
            foreach (var (id, fields) in Entries)
            {
                lines.Add($"  entry {id} " + string.Join(" ", fields.Select(f => $"{Quote(f.Field)}={Quote(f.Value)}")));
            }
            foreach (GroupListing g in Groups)
            {
                string line = $"  group {Quote(g.Name)} consumers={g.ConsumerCount} pending={g.PendingCount} last-delivered-id={Id(g.LastDelivered)}";
                if (s.HasV2Fields)
                {
                    long? lag = Lag(s, g);
                    line += $" entries-read={(g.EntriesRead < 0 ? "nil" : g.EntriesRead.ToString(CultureInfo.InvariantCulture))} lag={(lag == null ? "nil" : lag.Value.ToString(CultureInfo.InvariantCulture))}";
                }
                lines.Add(line);
                foreach (var (id, consumer, count) in g.Pending.OrderBy(p => p.Id)) lines.Add($"    pending {id} consumer={Quote(consumer)} deliveries={count}");
                foreach (var (name, pending) in g.Consumers) lines.Add($"    consumer {Quote(name)} pending={pending}");
            }
        }

        /// <summary>A group's lag as XINFO computes it (t_stream.c streamReplyWithCGLag), from what the file holds.</summary>
        private static long? Lag(StreamMetadata s, GroupListing g)
        {
            if (s.EntriesAdded == 0) return 0;
            if (g.EntriesRead >= 0 && !HasTombstonesAfter(s, g.LastDelivered)) return s.EntriesAdded - g.EntriesRead;
            long? read = DistanceFromFirstEverEntry(s, g.LastDelivered);
            return read == null ? null : s.EntriesAdded - read.Value;
        }

        private static bool HasTombstonesAfter(StreamMetadata s, StreamId start)
        {
            if (s.Length == 0 || s.MaxDeletedId == StreamId.Zero) return false;
            if (s.FirstId.CompareTo(s.MaxDeletedId) > 0) return false;
            return start.CompareTo(s.MaxDeletedId) <= 0;
        }

        private static long? DistanceFromFirstEverEntry(StreamMetadata s, StreamId id)
        {
            if (s.EntriesAdded == 0) return 0;
            if (s.Length == 0 && id.CompareTo(s.LastId) < 1) return s.EntriesAdded;
            int cmpLast = id.CompareTo(s.LastId);
            if (cmpLast == 0) return s.EntriesAdded;
            if (cmpLast > 0) return null;
            int cmpFirst = id.CompareTo(s.FirstId);
            if (s.MaxDeletedId == StreamId.Zero || s.MaxDeletedId.CompareTo(s.FirstId) < 0)
            {
                if (cmpFirst < 0) return s.EntriesAdded - s.Length;
                if (cmpFirst == 0) return s.EntriesAdded - s.Length + 1;
            }
            return null;
        }
    }

    private sealed class GroupListing
    {
        public GroupListing(byte[] name, StreamId lastDelivered, long entriesRead, long pendingCount, long consumerCount)
        {
            Name = name;
            LastDelivered = lastDelivered;
            EntriesRead = entriesRead;
            PendingCount = pendingCount;
            ConsumerCount = consumerCount;
        }

        public byte[] Name { get; }

        public StreamId LastDelivered { get; }

        public long EntriesRead { get; }

        public long PendingCount { get; }

        public long ConsumerCount { get; }

        public List<(byte[] Name, long Pending)> Consumers { get; } = new();

        public List<(StreamId Id, byte[] Consumer, long Count)> Pending { get; } = new();
    }
}

/// <summary>Bytewise ordering of byte strings (memcmp, then length), as Redis sorts keys and members.</summary>
internal static class Bytes
{
    public static readonly IComparer<byte[]> Comparer = Comparer<byte[]>.Create(Compare);

    public static int Compare(byte[]? a, byte[]? b) => a.AsSpan().SequenceCompareTo(b);
}
