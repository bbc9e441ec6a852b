using System;
using System.Collections.Generic;
using System.Globalization;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>Writes down every callback as one line of text, so a test can assert exactly what a parse delivered.</summary>
internal class RecordingVisitor : RdbVisitor
{
    private readonly Func<RdbKey, bool>? _wantElements;

    public RecordingVisitor(Func<RdbKey, bool>? wantElements = null) => _wantElements = wantElements;

    public List<string> Events { get; } = new();

    /// <summary>The RawValue of each key that had one, by key name.</summary>
    public Dictionary<string, byte[]> RawValues { get; } = new();

    public static string Text(ReadOnlySpan<byte> bytes) => ListingVisitor.Quote(bytes);

    private static string Num(double d) =>
        double.IsPositiveInfinity(d) ? "inf" : double.IsNegativeInfinity(d) ? "-inf" : d.ToString("R", CultureInfo.InvariantCulture);

    public override void OnStart(int rdbVersion) => Events.Add($"start {rdbVersion}");

    public override void OnAux(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Events.Add($"aux {Text(name)}={Text(value)}");

    public override void OnSelectDb(int db) => Events.Add($"select {db}");

    public override void OnResizeDb(long keys, long expires) => Events.Add($"resize {keys} {expires}");

    public override void OnSlotInfo(long slot, long keys, long expires) => Events.Add($"slot {slot} keys={keys} expires={expires}");

    public override void OnModuleAux(ulong moduleId, string moduleName, ReadOnlySpan<byte> raw) =>
        Events.Add($"module-aux {moduleName} id={moduleId} raw={Convert.ToHexString(raw)}");

    public override void OnFunction(ReadOnlySpan<byte> code) => Events.Add($"function {Text(code)}");

    public override bool OnKey(in RdbKey key)
    {
        string name = System.Text.Encoding.UTF8.GetString(key.Name);
        Events.Add($"key db={key.Db} {Text(key.Name)} type={key.Type} expire={key.ExpireAtMs} idle={key.IdleSeconds} freq={key.Frequency} length={key.ValueLength} raw={(key.HasRawValue ? "yes" : "no")}");
        if (key.HasRawValue)
        {
            byte[] raw = new byte[key.RawValue.Length];
            System.Buffers.BuffersExtensions.CopyTo(key.RawValue, raw);
            RawValues[name] = raw;
        }
        return _wantElements?.Invoke(key) ?? true;
    }

    public override void OnStringChunk(ReadOnlySpan<byte> chunk, long offset, long totalLength, RdbStringEncoding encoding) =>
        Events.Add($"chunk {Text(chunk)} at={offset}/{totalLength} {encoding}");

    public override void OnListElement(ReadOnlySpan<byte> element) => Events.Add($"list {Text(element)}");

    public override void OnQuicklistNode(QuicklistContainer container, bool compressed) => Events.Add($"node {container}{(compressed ? " lzf" : "")}");

    public override void OnSetMember(ReadOnlySpan<byte> member) => Events.Add($"set {Text(member)}");

    public override void OnZSetMember(ReadOnlySpan<byte> member, double score) => Events.Add($"zset {Text(member)} {Num(score)}");

    public override void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs) =>
        Events.Add($"hash {Text(field)}={Text(value)}" + (expireAtMs < 0 ? "" : $" ttl={expireAtMs}"));

    public override void OnStreamEntry(StreamId id, int fieldCount) => Events.Add($"entry {id} fields={fieldCount}");

    public override void OnStreamField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) => Events.Add($"field {Text(field)}={Text(value)}");

    public override void OnStreamDeletedEntry(StreamId id) => Events.Add($"deleted {id}");

    public override void OnStreamMetadata(in StreamMetadata m) =>
        Events.Add($"stream length={m.Length} last={m.LastId} first={m.FirstId} maxdel={m.MaxDeletedId} added={m.EntriesAdded} groups={m.GroupCount} v2={m.HasV2Fields} nodes={m.ListpackCount}");

    public override void OnStreamGroup(ReadOnlySpan<byte> name, StreamId lastDeliveredId, long entriesRead, long pendingCount, long consumerCount) =>
        Events.Add($"group {Text(name)} last={lastDeliveredId} read={entriesRead} pending={pendingCount} consumers={consumerCount}");

    public override void OnStreamConsumer(ReadOnlySpan<byte> name, long seenTimeMs, long activeTimeMs, long pendingCount) =>
        Events.Add($"consumer {Text(name)} seen={seenTimeMs} active={activeTimeMs} pending={pendingCount}");

    public override void OnStreamPending(StreamId id, long deliveryTimeMs, long deliveryCount) =>
        Events.Add($"pending {id} time={deliveryTimeMs} count={deliveryCount}");

    public override void OnKeyEnd() => Events.Add("keyend");

    public override void OnEnd(ulong checksum) => Events.Add($"end {checksum:x16}");
}
