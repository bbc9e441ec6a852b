using System;
using System.Collections.Generic;
using System.Linq;

namespace RedisSync.Engine.Compare;

/// <summary>How deep a compare looks.</summary>
public enum CompareMode
{
    /// <summary>Type, TTL and length (STRLEN, LLEN, SCARD, ZCARD, HLEN, XLEN): fast, catches most drift.</summary>
    Quick,
    /// <summary>Everything Quick checks, plus every value: strings, elements, members and scores, hash fields (and their TTLs), stream entries, groups, consumers and pending entries.</summary>
    Full,
}

/// <summary>What to compare and how: the cmdlet's parameters.</summary>
public sealed class CompareOptions
{
    /// <summary>The TTL difference that still counts as equal (the two reads are not simultaneous).</summary>
    public static readonly TimeSpan DefaultTtlTolerance = TimeSpan.FromMilliseconds(100);

    /// <summary>Quick (type, TTL, length) or Full (values too).</summary>
    public CompareMode Mode { get; set; } = CompareMode.Quick;

    /// <summary>The databases to compare; null for every database that holds keys on either side (INFO keyspace).</summary>
    public IReadOnlyList<int>? Databases { get; set; }

    /// <summary>A SCAN MATCH glob (for example <c>user:*</c>); null for every key.</summary>
    public string? Pattern { get; set; }

    /// <summary>The keys, databases and types to compare, as a sync's filter chooses them (null: all); the same filter as the sync's makes "no difference" mean the same.</summary>
    public RedisSync.Engine.Transform.SyncFilter? Filter { get; set; }

    /// <summary>
    /// A predicate on each key besides the filter (-Where), asked with the type the compare reads (the
    /// source's, or the target's for a key only there); called from the compare's worker threads.
    /// </summary>
    public Func<RedisSync.KeyCandidate, bool>? Where { get; set; }

    /// <summary>The filter ready to use (null: keeps everything).</summary>
    internal RedisSync.Engine.Transform.KeyFilter? KeyFilter { get; private set; }

    /// <summary>Source key prefix → target key prefix (a sync's -RenameKey): each source key is compared with its renamed key on the target.</summary>
    public IReadOnlyDictionary<string, string>? RenameKey { get; set; }

    /// <summary>The renames ready to use.</summary>
    internal RedisSync.Engine.Transform.KeyRename? KeyRename { get; private set; }

    /// <summary>
    /// Source database → target database (a sync's -DatabaseMap; a database not in it keeps its number): each
    /// source database is compared with the one it maps to, and a target database that no source database maps
    /// to is not compared. Two compared source databases into one target database are refused (InvalidOptions:
    /// the target's keys could not be told apart).
    /// </summary>
    internal IReadOnlyDictionary<int, int>? DatabaseMap { get; set; }

    /// <summary>The target database that source database <paramref name="database"/> is compared with.</summary>
    internal int TargetDatabase(int database) => DatabaseMap != null && DatabaseMap.TryGetValue(database, out int target) ? target : database;

    /// <summary>
    /// The source databases whose keys go to target database <paramref name="target"/>: those the map sends
    /// there, else the source database of the same number when the map does not send it elsewhere.
    /// </summary>
    internal IEnumerable<int> SourceDatabases(int target)
    {
        if (DatabaseMap == null) return new[] { target };
        List<int> mapped = DatabaseMap.Where(pair => pair.Value == target).Select(pair => pair.Key).ToList();
        if (mapped.Count > 0) return mapped;
        return DatabaseMap.ContainsKey(target) ? Array.Empty<int>() : new[] { target };
    }

    /// <summary>TTLs that differ by no more than this count as equal.</summary>
    public TimeSpan TtlTolerance { get; set; } = DefaultTtlTolerance;

    /// <summary>
    /// Compares expiry times exactly (PEXPIRETIME on both sides, no tolerance) where both servers have it
    /// (Redis 7, Valkey): a scan sync's verify pass, whose copies carry the source's absolute expiry, so that
    /// two EXPIREs a few milliseconds apart, the second's event lost, are told apart. Not for reports:
    /// the differences then carry absolute times (Unix ms) where PTTL's remaining times would be.
    /// </summary>
    internal bool ExactTtl { get; set; }

    /// <summary>Report equal keys too (status Ok); otherwise only differences are reported.</summary>
    public bool IncludeEqual { get; set; }

    /// <summary>How long a differing key waits for its second look (a sync may still be applying the write).</summary>
    public TimeSpan RecheckDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>SCAN's COUNT: keys per scan call, and so per pipelined batch.</summary>
    public int ScanCount { get; set; } = 1000;

    /// <summary>Elements per chunk when a collection is compared (HSCAN/SSCAN/ZSCAN COUNT, LRANGE, XRANGE, XPENDING).</summary>
    public int ChunkSize { get; set; } = 1000;

    /// <summary>Bytes per GETRANGE chunk when a string is compared.</summary>
    public int StringChunkBytes { get; set; } = 256 * 1024;

    /// <summary>Workers that compare source batches at once (each with a connection to both servers).</summary>
    public int Parallelism { get; set; } = 3;

    /// <summary>Keys per second read from the source at most (a scan sync's verify passes under -MaxReadRate), or null.</summary>
    internal Writers.WriteRateLimit? SourceReadRate { get; set; }

    internal void Validate()
    {
        KeyFilter = RedisSync.Engine.Transform.KeyFilter.Compile(Filter, Where);
        KeyRename = RedisSync.Engine.Transform.KeyRename.Compile(RenameKey);
        if (TtlTolerance < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(TtlTolerance), "The TTL tolerance cannot be negative.");
        if (RecheckDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RecheckDelay), "The recheck delay cannot be negative.");
        if (ScanCount < 1) throw new ArgumentOutOfRangeException(nameof(ScanCount), "The scan count must be at least 1.");
        if (ChunkSize < 1) throw new ArgumentOutOfRangeException(nameof(ChunkSize), "The chunk size must be at least 1.");
        if (StringChunkBytes < 1) throw new ArgumentOutOfRangeException(nameof(StringChunkBytes), "The string chunk must be at least 1 byte.");
        if (Parallelism < 1) throw new ArgumentOutOfRangeException(nameof(Parallelism), "At least one worker is needed.");
        if (DatabaseMap != null)
        {
            if (DatabaseMap.Any(pair => pair.Key < 0 || pair.Value < 0)) throw new ArgumentOutOfRangeException(nameof(DatabaseMap), "A database map names database numbers (0 and up).");
        }
        if (Databases != null)
        {
            foreach (int db in Databases)
            {
                if (db < 0) throw new ArgumentOutOfRangeException(nameof(Databases), $"Database {db} is not a database number.");
            }
        }
    }
}
