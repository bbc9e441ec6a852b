namespace RedisSync.Engine;

/// <summary>
/// Something the engine skipped or recovered from, as a value the host can show or count: a stable
/// id (from <see cref="SyncErrorIds"/>), its kind, where it happened, and a message that says what to do.
/// </summary>
/// <param name="ErrorId">Stable id from <see cref="SyncErrorIds"/>.</param>
/// <param name="Kind">Skip for a skipped command, Retry for a recovered link.</param>
/// <param name="Key">The key involved, printable (escaped), when there is one.</param>
/// <param name="Command">The command involved (its name), when there is one.</param>
/// <param name="Message">What happened, for a person.</param>
public sealed record SyncWarning(string ErrorId, SyncErrorKind Kind, string? Key, string? Command, string Message);
