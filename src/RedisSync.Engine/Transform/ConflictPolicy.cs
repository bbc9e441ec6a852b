namespace RedisSync.Engine.Transform;

/// <summary>What to do when a key being copied already exists on the target.</summary>
public enum ConflictPolicy
{
    /// <summary>Overwrite the target's key.</summary>
    Replace,
    /// <summary>Keep the target's key, count a warning, go on.</summary>
    Skip,
    /// <summary>Stop the sync with an error naming the key (the safe default: nothing is overwritten unasked).</summary>
    Stop,
}
