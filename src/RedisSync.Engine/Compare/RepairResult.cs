namespace RedisSync;

/// <summary>What a repair did to one key on the target.</summary>
public enum RepairAction
{
    /// <summary>Replaced with the source's value by DUMP and RESTORE … REPLACE (TTL included).</summary>
    Restored,
    /// <summary>Rebuilt with native commands in chunks under a temporary key, then renamed into place (TTL included).</summary>
    Rewritten,
    /// <summary>Deleted from the target: it is not in the source (RemoveExtra).</summary>
    Removed,
    /// <summary>Left as it is; <see cref="RepairResult.Detail"/> says why.</summary>
    Skipped,
}

/// <summary>The outcome of repairing one key: one object per key, for the cmdlet's output.</summary>
public sealed class RepairResult
{
    internal RepairResult(int database, string key, byte[] keyBytes, KeyStatus status, RepairAction action, string detail)
    {
        Database = database;
        Key = key;
        KeyBytes = keyBytes;
        Status = status;
        Action = action;
        Detail = detail;
    }

    /// <summary>The database number on both servers.</summary>
    public int Database { get; }

    /// <summary>The key as text (see <see cref="KeyDifference.Key"/>).</summary>
    public string Key { get; }

    /// <summary>The key's exact bytes.</summary>
    public byte[] KeyBytes { get; }

    /// <summary>What the compare had found.</summary>
    public KeyStatus Status { get; }

    /// <summary>What was done: the column a report groups by.</summary>
    public RepairAction Action { get; }

    /// <summary>How (RESTORE or commands, and why), or why nothing was done.</summary>
    public string Detail { get; }

    /// <summary>A one-line description, for logs and the console.</summary>
    public override string ToString() => $"{Action} db{Database} {Key}: {Detail}";
}
