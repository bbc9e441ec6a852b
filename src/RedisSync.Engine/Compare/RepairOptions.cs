using System;

namespace RedisSync.Engine.Compare;

/// <summary>How a key is copied to the target.</summary>
public enum RepairMethod
{
    /// <summary>RESTORE when the target loads the payload's RDB version and the value is small; native commands otherwise.</summary>
    Auto,
    /// <summary>Always DUMP and RESTORE (fails when the target cannot load the payload).</summary>
    Restore,
    /// <summary>Always native commands in chunks (for targets that refuse RESTORE, or another vendor's server).</summary>
    Commands,
}

/// <summary>The settings of Repair-RedisData.</summary>
public sealed class RepairOptions
{
    /// <summary>Delete keys that are only in the target; without it they are left alone (reported as skipped).</summary>
    public bool RemoveExtra { get; set; }

    /// <summary>RESTORE, native commands, or the best of both (Auto).</summary>
    public RepairMethod Method { get; set; } = RepairMethod.Auto;

    /// <summary>Elements per chunk when a value is copied with native commands.</summary>
    public int ChunkSize { get; set; } = 1000;

    /// <summary>Bytes per chunk when a big string is copied with native commands.</summary>
    public int StringChunkBytes { get; set; } = 512 * 1024;

    /// <summary>
    /// A value that takes more memory than this (MEMORY USAGE) is copied in chunks even where
    /// RESTORE would work: DUMP and RESTORE hold a value whole, on both servers and here.
    /// </summary>
    public long RestoreLimitBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>Keys, databases and types left alone (as a sync's filter leaves them out); null: none.</summary>
    public RedisSync.Engine.Transform.SyncFilter? Filter { get; set; }

    /// <summary>A predicate on each key besides the filter (-Where), asked with the source's type (the target's for a key gone from the source).</summary>
    public Func<RedisSync.KeyCandidate, bool>? Where { get; set; }

    /// <summary>Source key prefix → target key prefix (a sync's -RenameKey): each key is written under its renamed name.</summary>
    public System.Collections.Generic.IReadOnlyDictionary<string, string>? RenameKey { get; set; }

    /// <summary>The renames ready to use.</summary>
    internal RedisSync.Engine.Transform.KeyRename? KeyRename { get; private set; }

    /// <summary>The filter ready to use.</summary>
    internal RedisSync.Engine.Transform.KeyFilter? KeyFilter { get; private set; }

    internal void Validate()
    {
        KeyFilter = RedisSync.Engine.Transform.KeyFilter.Compile(Filter, Where);
        KeyRename = RedisSync.Engine.Transform.KeyRename.Compile(RenameKey);
        if (ChunkSize < 1) throw new ArgumentOutOfRangeException(nameof(ChunkSize), "The chunk size must be at least 1.");
        if (StringChunkBytes < 1) throw new ArgumentOutOfRangeException(nameof(StringChunkBytes), "The string chunk must be at least 1 byte.");
        if (RestoreLimitBytes < 0) throw new ArgumentOutOfRangeException(nameof(RestoreLimitBytes), "The RESTORE limit cannot be negative.");
    }
}
