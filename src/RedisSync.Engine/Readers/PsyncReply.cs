namespace RedisSync.Engine.Readers;

/// <summary>The source's answer to PSYNC.</summary>
internal sealed class PsyncReply
{
    public PsyncReply(bool fullResync, string replicationId, long offset)
    {
        FullResync = fullResync;
        ReplicationId = replicationId;
        Offset = offset;
    }

    /// <summary>True for +FULLRESYNC (a snapshot follows), false for +CONTINUE (the stream continues).</summary>
    public bool FullResync { get; }

    /// <summary>The source's replication id (a new one after a failover, on +CONTINUE).</summary>
    public string ReplicationId { get; }

    /// <summary>On +FULLRESYNC, the offset the command stream starts from; on +CONTINUE, the offset asked for minus one.</summary>
    public long Offset { get; }
}

/// <summary>How the snapshot is framed on the link: a length (disk save) or an end mark (diskless).</summary>
internal sealed class SnapshotFraming
{
    public SnapshotFraming(long length, byte[]? eofMark)
    {
        Length = length;
        EofMark = eofMark;
    }

    /// <summary>The RDB's size in bytes, or -1 when it is sent diskless with an end mark.</summary>
    public long Length { get; }

    /// <summary>The 40-byte mark that follows a diskless RDB.</summary>
    public byte[]? EofMark { get; }

    public bool IsDiskless => EofMark != null;
}
