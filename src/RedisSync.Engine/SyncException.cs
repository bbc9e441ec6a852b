using System;

namespace RedisSync.Engine;

/// <summary>
/// An engine error as a value: a stable id, a kind that says what to do about it, and where it
/// happened (key, command, byte offset). Messages never contain a password.
/// </summary>
public class SyncException : Exception
{
    /// <summary>An error with its id, its kind and a message that says what to do.</summary>
    public SyncException(string errorId, SyncErrorKind kind, string message, Exception? inner = null)
        : base(message, inner)
    {
        ErrorId = errorId;
        Kind = kind;
    }

    /// <summary>Stable id from <see cref="SyncErrorIds"/>.</summary>
    public string ErrorId { get; }

    /// <summary>Whether the engine retries it, skips what caused it, or stops.</summary>
    public SyncErrorKind Kind { get; }

    /// <summary>The key involved, printable (escaped), when there is one.</summary>
    public string? Key { get; init; }

    /// <summary>The command involved (its name), when there is one.</summary>
    public string? Command { get; init; }

    /// <summary>Byte offset in the RDB or replication stream, when it is known.</summary>
    public long? Offset { get; init; }
}
