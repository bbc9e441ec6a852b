using System;

namespace RedisSync;

/// <summary>How a key on the target stands against the same key on the source.</summary>
public enum KeyStatus
{
    /// <summary>Equal on both sides (emitted only when equal keys are asked for).</summary>
    Ok,
    /// <summary>Only in the source: the target lacks it.</summary>
    Missing,
    /// <summary>Only in the target.</summary>
    Extra,
    /// <summary>On both sides, with different types.</summary>
    Type,
    /// <summary>Same type, different value (length, an element, a score, a stream entry or group).</summary>
    Value,
    /// <summary>Same value, different expiry (beyond the tolerance).</summary>
    Ttl,
}

/// <summary>One compared key, as the compare found it after its second look: what a script filters on.</summary>
public sealed class KeyDifference
{
    /// <summary>A difference found by a compare, or one a host builds to have a key repaired (the other properties are optional).</summary>
    public KeyDifference(int database, byte[] keyBytes, KeyStatus status)
    {
        Database = database;
        KeyBytes = keyBytes ?? throw new ArgumentNullException(nameof(keyBytes));
        Key = RedisSync.Engine.Compare.KeyNames.Printable(keyBytes);
        Status = status;
    }

    /// <summary>The database number (SELECT) on both servers.</summary>
    public int Database { get; }

    /// <summary>The key as text: itself when it is printable UTF-8, else quoted with \xNN escapes.</summary>
    public string Key { get; }

    /// <summary>The key's exact bytes (what a repair uses).</summary>
    public byte[] KeyBytes { get; }

    /// <summary>The verdict: what a script filters on.</summary>
    public KeyStatus Status { get; }

    /// <summary>The source's address, without a password: Repair-RedisData binds it from the pipeline.</summary>
    public string? Source { get; internal set; }

    /// <summary>The target's address, without a password: Repair-RedisData binds it from the pipeline.</summary>
    public string? Target { get; internal set; }

    /// <summary>TYPE on the source ("string", "hash", …), null when the key is not there.</summary>
    public string? SourceType { get; init; }

    /// <summary>TYPE on the target, null when the key is not there.</summary>
    public string? TargetType { get; init; }

    /// <summary>Time to live on the source; null when the key has none (or is not there).</summary>
    public TimeSpan? SourceTtl { get; init; }

    /// <summary>Time to live on the target; null when the key has none (or is not there).</summary>
    public TimeSpan? TargetTtl { get; init; }

    /// <summary>A short reason: what differs, and where in the value.</summary>
    public string? Detail { get; init; }

    /// <summary>A one-line description, for logs and the console.</summary>
    public override string ToString() => $"{Status} db{Database} {Key}" + (Detail != null ? ": " + Detail : string.Empty);
}

/// <summary>The totals of one compare, emitted once at the end.</summary>
public sealed class CompareSummary
{
    /// <summary>Keys equal on both sides.</summary>
    public long Ok { get; init; }

    /// <summary>Keys only in the source.</summary>
    public long Missing { get; init; }

    /// <summary>Keys only in the target.</summary>
    public long Extra { get; init; }

    /// <summary>Keys whose types differ.</summary>
    public long Type { get; init; }

    /// <summary>Keys whose values differ.</summary>
    public long Value { get; init; }

    /// <summary>Keys whose TTLs differ beyond the tolerance.</summary>
    public long Ttl { get; init; }

    /// <summary>Keys classified (equal ones included).</summary>
    public long KeysCompared { get; init; }

    /// <summary>Keys compared per second of the whole run (connecting included).</summary>
    public double KeysPerSecond { get; init; }

    /// <summary>How long the compare took.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>True when nothing differs: the check a cut-over script makes.</summary>
    public bool IsEqual => Missing == 0 && Extra == 0 && Type == 0 && Value == 0 && Ttl == 0;

    /// <summary>A one-line description, for logs and the console.</summary>
    public override string ToString() =>
        $"{KeysCompared} keys: {Ok} ok, {Missing} missing, {Extra} extra, {Type} type, {Value} value, {Ttl} ttl ({KeysPerSecond:0} keys/s)";
}

/// <summary>Where a running compare is: a host polls it for its progress bar.</summary>
public sealed class CompareProgress
{
    /// <summary>The database being compared.</summary>
    public int Database { get; init; }

    /// <summary>Keys the source scan has handed out so far (all databases).</summary>
    public long SourceKeysScanned { get; init; }

    /// <summary>Keys the target scan has handed out so far (all databases).</summary>
    public long TargetKeysScanned { get; init; }

    /// <summary>Keys on the source in the selected databases when the compare began (DBSIZE).</summary>
    public long SourceKeysTotal { get; init; }

    /// <summary>Keys on the target in the selected databases when the compare began.</summary>
    public long TargetKeysTotal { get; init; }

    /// <summary>Keys classified so far.</summary>
    public long KeysCompared { get; init; }

    /// <summary>Differences reported so far.</summary>
    public long Differences { get; init; }

    /// <summary>Differing keys waiting for their second look.</summary>
    public long Rechecking { get; init; }

    /// <summary>Time since the compare began.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>
    /// The source's keys scanned against its total, 0 to 100: the source is what a compare walks (the
    /// target's keys only add the extra ones). An estimate: keys come and go while a sync runs.
    /// </summary>
    public int PercentComplete => SourceKeysTotal <= 0 ? 0 : (int)Math.Min(100, SourceKeysScanned * 100 / SourceKeysTotal);
}
