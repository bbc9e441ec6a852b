using System;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Receives what <c>RdbParser</c> reads, in file order, one call per element: nothing is
/// allocated per element and spans are valid only during the call. A key's events are:
/// <see cref="OnKey"/>, then (if it returned true) its elements, then <see cref="OnKeyEnd"/>.
/// Override what you need; every method but <see cref="OnKey"/> does nothing by default.
/// </summary>
internal abstract class RdbVisitor
{
    /// <summary>The header was read: "REDIS" and the version (for example 10).</summary>
    public virtual void OnStart(int rdbVersion) { }

    /// <summary>An AUX field (redis-ver, ctime, used-mem, repl-id, slot-info, …).</summary>
    public virtual void OnAux(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) { }

    public virtual void OnSelectDb(int db) { }

    public virtual void OnResizeDb(long keys, long expires) { }

    /// <summary>SLOT_INFO opcode (cluster nodes, Redis 8+).</summary>
    public virtual void OnSlotInfo(long slot, long keys, long expires) { }

    /// <summary>A MODULE_AUX block, carried as its raw bytes (module id, when-opcode, when, payload).</summary>
    public virtual void OnModuleAux(ulong moduleId, string moduleName, ReadOnlySpan<byte> raw) { }

    /// <summary>A function library (FUNCTION2, or the 7.0 release-candidate form): its code, for FUNCTION LOAD.</summary>
    public virtual void OnFunction(ReadOnlySpan<byte> code) { }

    /// <summary>
    /// A key begins. Return true to receive its elements (the command path), false to skip them
    /// (for example to RESTORE <see cref="RdbKey.RawValue"/>). Module values have no elements: for
    /// them the raw value is always captured (up to <see cref="RdbParserOptions.MaxModuleValueLength"/>;
    /// a larger one arrives without it and can only be skipped) and the return value is ignored.
    /// </summary>
    public abstract bool OnKey(in RdbKey key);

    /// <summary>
    /// Asked after <see cref="OnKey"/> returned true: when true, a value held in one blob (listpack,
    /// ziplist, intset, zipmap, the nodes of a quicklist) is walked and checked entry by entry as
    /// for its elements, but arrives as <see cref="OnElementsCounted"/> instead of element by element
    /// (for a value that goes out whole, as a RESTORE payload). Hashes with field TTLs always arrive
    /// element by element.
    /// </summary>
    public virtual bool CountOnly => false;

    /// <summary>The number of elements of a blob checked for <see cref="CountOnly"/> (a quicklist: once per node).</summary>
    public virtual void OnElementsCounted(long elements) { }

    /// <summary>
    /// A piece of a string value. A string arrives in one or more chunks, in order, each at most
    /// <see cref="RdbParserOptions.ChunkSize"/> bytes; <paramref name="offset"/> is where the chunk
    /// starts and <paramref name="totalLength"/> is the string's length. An empty string arrives as
    /// one empty chunk. <paramref name="encoding"/> says how the file stored it.
    /// </summary>
    public virtual void OnStringChunk(ReadOnlySpan<byte> chunk, long offset, long totalLength, RdbStringEncoding encoding) { }

    public virtual void OnListElement(ReadOnlySpan<byte> element) { }

    /// <summary>A quicklist node begins (for diagnostics and listings): its container and compression.</summary>
    [MethodImpl(HotPath.Compile)]
    public virtual void OnQuicklistNode(QuicklistContainer container, bool compressed) { }

    public virtual void OnSetMember(ReadOnlySpan<byte> member) { }

    /// <summary>A sorted-set member with its score, exactly as stored (±inf included).</summary>
    public virtual void OnZSetMember(ReadOnlySpan<byte> member, double score) { }

    /// <summary>A hash field; <paramref name="expireAtMs"/> is its absolute TTL in Unix ms, or -1.</summary>
    public virtual void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs) { }

    /// <summary>A live stream entry begins; its <paramref name="fieldCount"/> field/value pairs follow.</summary>
    public virtual void OnStreamEntry(StreamId id, int fieldCount) { }

    public virtual void OnStreamField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value) { }

    /// <summary>
    /// A deleted entry (XDEL) that its listpack still holds, at its place among the live entries
    /// (ids arrive in order). A pending entry may point at such an id: XCLAIM … FORCE needs the entry
    /// to exist, so a copier re-creates it (XADD a placeholder, claim, XDEL). A pending id can also
    /// be in neither list, when XDEL emptied and freed its whole listpack.
    /// </summary>
    public virtual void OnStreamDeletedEntry(StreamId id) { }

    /// <summary>The stream's own fields, after all its entries.</summary>
    public virtual void OnStreamMetadata(in StreamMetadata metadata) { }

    /// <summary>
    /// A consumer group; <paramref name="entriesRead"/> is -1 when unknown (nil).
    /// Its consumers follow, each with its pending entries.
    /// </summary>
    public virtual void OnStreamGroup(ReadOnlySpan<byte> name, StreamId lastDeliveredId, long entriesRead, long pendingCount, long consumerCount) { }

    /// <summary>A consumer; <paramref name="activeTimeMs"/> is -1 before STREAM_LISTPACKS_3.</summary>
    public virtual void OnStreamConsumer(ReadOnlySpan<byte> name, long seenTimeMs, long activeTimeMs, long pendingCount) { }

    /// <summary>A pending entry of the consumer last announced (its id may belong to a deleted entry).</summary>
    public virtual void OnStreamPending(StreamId id, long deliveryTimeMs, long deliveryCount) { }

    /// <summary>The key's value has been read whole.</summary>
    public virtual void OnKeyEnd() { }

    /// <summary>The EOF opcode was read; <paramref name="checksum"/> is the file's CRC64 (0 when the file has none).</summary>
    public virtual void OnEnd(ulong checksum) { }
}

/// <summary>How a string was stored in the file (for diagnostics and listings).</summary>
internal enum RdbStringEncoding : byte
{
    Raw,
    Int8,
    Int16,
    Int32,
    Lzf,
}

/// <summary>A quicklist node's container (RDB_TYPE_LIST_QUICKLIST_2), or a ziplist node (RDB_TYPE_LIST_QUICKLIST).</summary>
internal enum QuicklistContainer : byte
{
    Ziplist = 0,
    Plain = 1,
    Packed = 2,
}
