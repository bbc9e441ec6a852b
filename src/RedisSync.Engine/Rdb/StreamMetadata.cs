namespace RedisSync.Engine.Rdb;

/// <summary>A stream's own fields, which follow its entries in the file.</summary>
internal readonly struct StreamMetadata
{
    public StreamMetadata(long length, StreamId lastId, StreamId firstId, StreamId maxDeletedId, long entriesAdded, int groupCount, bool hasV2Fields, long listpackCount = -1)
    {
        ListpackCount = listpackCount;
        Length = length;
        LastId = lastId;
        FirstId = firstId;
        MaxDeletedId = maxDeletedId;
        EntriesAdded = entriesAdded;
        GroupCount = groupCount;
        HasV2Fields = hasV2Fields;
    }

    /// <summary>Live entries (XLEN).</summary>
    public long Length { get; }

    /// <summary>last-generated-id.</summary>
    public StreamId LastId { get; }

    /// <summary>recorded-first-entry-id (RDB 10+, else zero).</summary>
    public StreamId FirstId { get; }

    /// <summary>max-deleted-entry-id (RDB 10+, else zero).</summary>
    public StreamId MaxDeletedId { get; }

    /// <summary>entries-added (RDB 10+; for older files, <see cref="Length"/>).</summary>
    public long EntriesAdded { get; }

    public int GroupCount { get; }

    /// <summary>True when the file held first-id, max-deleted-id and entries-added (STREAM_LISTPACKS_2 and later).</summary>
    public bool HasV2Fields { get; }

    /// <summary>Listpack nodes the file held for the entries (XINFO STREAM's radix-tree-keys), or -1 when not known.</summary>
    public long ListpackCount { get; }
}
