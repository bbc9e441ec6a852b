namespace RedisSync.Engine;

/// <summary>What the engine does about an error: the host decides how to show it.</summary>
public enum SyncErrorKind
{
    /// <summary>Transient (a dropped link, a loading server): try again after a backoff.</summary>
    Retry,
    /// <summary>Affects one key or command only: count it, report it, go on.</summary>
    Skip,
    /// <summary>The sync cannot go on (bad input, refused credentials, a full target).</summary>
    Stop,
}
