using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Threading;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Compare;

/// <summary>
/// What the workers of one compare share: the options, the two servers' features, the counters,
/// the queues of big keys and of second looks, and the one place that reports a verdict.
/// </summary>
internal sealed class CompareRun
{
    private readonly Action<RedisSync.KeyDifference> _onKey;
    private readonly object _emitLock = new object();
    private readonly HashSet<byte[]> _reported = new HashSet<byte[]>(KeyBytesComparer.Instance);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _ok, _missing, _extra, _type, _value, _ttl;
    private long _rechecking;
    private long _outstanding;
    private long _sourceScannedBefore, _targetScannedBefore;
    private IReadOnlyList<KeyScanner> _sourceScanners = Array.Empty<KeyScanner>(), _targetScanners = Array.Empty<KeyScanner>();

    /// <summary>Differences remembered per database to report each key once (beyond this, duplicates are possible again).</summary>
    private const int MaxRemembered = 1_000_000;

    public CompareRun(CompareOptions options, ServerInfo source, ServerInfo target, Action<RedisSync.KeyDifference> onKey)
    {
        Options = options;
        _onKey = onKey;
        bool exact = options.ExactTtl && (source.IsValkey || source.Version.Major >= 7) && (target.IsValkey || target.Version.Major >= 7);
        TtlCommand = exact ? CommandText.PexpireTime : CommandText.Pttl;
        FieldToleranceMs = (long)options.TtlTolerance.TotalMilliseconds;
        ToleranceMs = exact ? 0 : FieldToleranceMs;
        FieldTtls = source.SupportsHashFieldTtl && target.SupportsHashFieldTtl;
        TargetHasMultiLookup = target.IsValkey || target.Version >= new Version(6, 2);
        Deep = new WorkQueue<KeyJob>();
        Rechecks = new WorkQueue<KeyJob>();
    }

    public CompareOptions Options { get; }

    public long ToleranceMs { get; }

    /// <summary>The tolerance of hash fields' TTLs, which are read as remaining times on both sides whatever <see cref="CompareOptions.ExactTtl"/> says.</summary>
    public long FieldToleranceMs { get; }

    /// <summary>How a key's expiry is read on both sides: PTTL, or PEXPIRETIME under <see cref="CompareOptions.ExactTtl"/>.</summary>
    public byte[] TtlCommand { get; }

    public int ChunkSize => Options.ChunkSize;

    public int StringChunkBytes => Options.StringChunkBytes;

    /// <summary>Both servers have hash-field TTLs (HPTTL): compare them.</summary>
    public bool FieldTtls { get; }

    /// <summary>The target has SMISMEMBER and ZMSCORE (6.2 and later).</summary>
    public bool TargetHasMultiLookup { get; }

    /// <summary>The database being compared.</summary>
    public int Database { get; private set; }

    /// <summary>Keys whose value is too big for a batch.</summary>
    public WorkQueue<KeyJob> Deep { get; private set; }

    /// <summary>Keys that differed, waiting for their second look (due times in order).</summary>
    public WorkQueue<KeyJob> Rechecks { get; private set; }

    public long SourceKeysTotal { get; set; }

    public long TargetKeysTotal { get; set; }

    /// <summary>True for values that need more than one chunk: they go to the big-key pipeline instead of holding up a batch.</summary>
    public bool IsBig(RedisType type, long length) => type == RedisType.String ? length > StringChunkBytes : length > ChunkSize;

    /// <summary>Starts a database: fresh queues, and one outstanding unit for the scans themselves.</summary>
    public void BeginDatabase(int database, IReadOnlyList<KeyScanner> sourceScanners, IReadOnlyList<KeyScanner> targetScanners)
    {
        _sourceScannedBefore += Scanned(_sourceScanners);
        _targetScannedBefore += Scanned(_targetScanners);
        _sourceScanners = sourceScanners;
        _targetScanners = targetScanners;
        Database = database;
        Deep = new WorkQueue<KeyJob>();
        Rechecks = new WorkQueue<KeyJob>();
        lock (_emitLock) _reported.Clear();
        Interlocked.Exchange(ref _outstanding, 1);
    }

    private static long Scanned(IReadOnlyList<KeyScanner> scanners)
    {
        long total = 0;
        foreach (KeyScanner scanner in scanners) total += scanner.Scanned;
        return total;
    }

    /// <summary>Both scans are done: once the queued work drains, the database is done.</summary>
    public void ScansDone() => Release();

    private void Hold() => Interlocked.Increment(ref _outstanding);

    private void Release()
    {
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            Deep.Complete();
            Rechecks.Complete();
        }
    }

    /// <summary>A key the target pass did not find on the source: it gets its look after the recheck delay.</summary>
    public void AddTargetCandidate(ReadOnlySpan<byte> key)
    {
        Hold();
        Interlocked.Increment(ref _rechecking);
        Rechecks.Add(KeyJob.ForTargetKey(key, Database, Options.RecheckDelay));
    }

    /// <summary>Handles a job that left its pipeline: a verdict, a second look, a move to the big-key pipeline, or nothing.</summary>
    public void Finish(KeyJob job)
    {
        bool owned = job.IsOwned;
        bool wasRecheck = job.IsRecheck;
        switch (job.Outcome)
        {
            case JobOutcome.Escalate:
                Hold();
                Deep.Add(job.ForDeep());
                if (owned) Release();
                return;
            case JobOutcome.Done:
                if (job.Status == RedisSync.KeyStatus.Ok)
                {
                    Interlocked.Increment(ref _ok);
                    if (Options.IncludeEqual) Emit(job);
                }
                else if (!job.IsRecheck)
                {
                    Hold();
                    Interlocked.Increment(ref _rechecking);
                    Rechecks.Add(job.ForRecheck(Options.RecheckDelay));
                    if (owned) Release();
                    return;
                }
                else
                {
                    EmitDifference(job);
                }
                break;
        }
        if (wasRecheck && owned) Interlocked.Decrement(ref _rechecking);
        if (owned) Release();
    }

    private void Count(RedisSync.KeyStatus status)
    {
        switch (status)
        {
            case RedisSync.KeyStatus.Missing: Interlocked.Increment(ref _missing); break;
            case RedisSync.KeyStatus.Extra: Interlocked.Increment(ref _extra); break;
            case RedisSync.KeyStatus.Type: Interlocked.Increment(ref _type); break;
            case RedisSync.KeyStatus.Value: Interlocked.Increment(ref _value); break;
            default: Interlocked.Increment(ref _ttl); break;
        }
    }

    /// <summary>
    /// Counts and reports a difference once per key: SCAN may hand out a key twice (while the
    /// server resizes its table), and the second look must not become a second report.
    /// </summary>
    private void EmitDifference(KeyJob job)
    {
        byte[] key = job.CopyKey();
        lock (_emitLock)
        {
            if (_reported.Count < MaxRemembered && !_reported.Add(key)) return;
            Count(job.Status);
            _onKey(Difference(job, key));
        }
    }

    private void Emit(KeyJob job)
    {
        RedisSync.KeyDifference difference = Difference(job, job.CopyKey());
        lock (_emitLock) _onKey(difference);
    }

    private static RedisSync.KeyDifference Difference(KeyJob job, byte[] key) => new RedisSync.KeyDifference(job.Database, key, job.Status)
    {
        SourceType = KeyTypes.Name(job.SourceType, job.SourceTypeName),
        TargetType = KeyTypes.Name(job.TargetType, job.TargetTypeName),
        SourceTtl = job.SourceType != RedisType.None ? Ttl(job.SourceTtl) : null,
        TargetTtl = job.TargetType != RedisType.None ? Ttl(job.TargetTtl) : null,
        Detail = job.Detail,
    };

    private static TimeSpan? Ttl(long ms) => ms >= 0 ? TimeSpan.FromMilliseconds(ms) : null;

    private long Differences => Interlocked.Read(ref _missing) + Interlocked.Read(ref _extra) + Interlocked.Read(ref _type) + Interlocked.Read(ref _value) + Interlocked.Read(ref _ttl);

    public RedisSync.CompareProgress Progress() => new RedisSync.CompareProgress
    {
        Database = Database,
        SourceKeysScanned = _sourceScannedBefore + Scanned(_sourceScanners),
        TargetKeysScanned = _targetScannedBefore + Scanned(_targetScanners),
        SourceKeysTotal = SourceKeysTotal,
        TargetKeysTotal = TargetKeysTotal,
        KeysCompared = Interlocked.Read(ref _ok) + Differences,
        Differences = Differences,
        Rechecking = Interlocked.Read(ref _rechecking),
        Elapsed = _clock.Elapsed,
    };

    public RedisSync.CompareSummary Summary()
    {
        TimeSpan elapsed = _clock.Elapsed;
        long compared = Interlocked.Read(ref _ok) + Differences;
        return new RedisSync.CompareSummary
        {
            Ok = _ok,
            Missing = _missing,
            Extra = _extra,
            Type = _type,
            Value = _value,
            Ttl = _ttl,
            KeysCompared = compared,
            Elapsed = elapsed,
            KeysPerSecond = elapsed.TotalSeconds > 0 ? compared / elapsed.TotalSeconds : 0,
        };
    }
}

/// <summary>Keys as dictionary keys: compared by content.</summary>
internal sealed class KeyBytesComparer : IEqualityComparer<byte[]>
{
    public static readonly KeyBytesComparer Instance = new KeyBytesComparer();

    public bool Equals(byte[]? x, byte[]? y) => x == null ? y == null : y != null && x.AsSpan().SequenceEqual(y);

    public int GetHashCode(byte[] key)
    {
        unchecked
        {
            uint hash = 2166136261;
            foreach (byte b in key) hash = (hash ^ b) * 16777619;
            return (int)hash;
        }
    }
}
