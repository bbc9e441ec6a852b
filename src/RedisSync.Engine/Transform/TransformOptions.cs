using System;
using RedisSync.Engine.Net;

namespace RedisSync.Engine.Transform;

/// <summary>How parsed keys become commands for one target.</summary>
internal sealed class TransformOptions
{
    public TransformOptions(ServerInfo target)
    {
        Target = target;
    }

    /// <summary>The target's version and features (from INFO server).</summary>
    public ServerInfo Target { get; }

    /// <summary>Source db → target db, checked against the target's databases (null: every db keeps its number).</summary>
    public DatabaseMap? DatabaseMap { get; init; }

    /// <summary>Copy only the keys this keeps (null: every key).</summary>
    public KeyFilter? Filter { get; init; }

    /// <summary>Source key → target key prefix rewrites (null: every key keeps its name).</summary>
    public KeyRename? Rename { get; init; }

    public ConflictPolicy OnConflict { get; init; } = ConflictPolicy.Stop;

    /// <summary>
    /// The target holds none of the keys being copied (it was empty or flushed): conflicts are
    /// impossible, so the copy skips the existence guards.
    /// </summary>
    public bool TargetIsEmpty { get; init; }

    /// <summary>Use RESTORE for small keys when the target loads the source's RDB version.</summary>
    public bool UseRestore { get; init; } = true;

    /// <summary>The most elements (members, fields, list items) in one command of a big key.</summary>
    public int MaxElementsPerCommand { get; init; } = 1024;

    /// <summary>
    /// The most argument bytes in one command of a big key (and in one SET/APPEND of a big string):
    /// small enough that a command fits a writer batch without growing it.
    /// </summary>
    public int MaxCommandBytes { get; init; } = 128 * 1024;

    /// <summary>
    /// The parser's options, when the transform may tune them: it turns off capturing values for
    /// RESTORE when the file's RDB version is newer than the target loads.
    /// </summary>
    public Rdb.RdbParserOptions? ParserOptions { get; init; }

    /// <summary>Now, in Unix ms, for dropping keys that expired already (a clock seam for tests).</summary>
    public Func<long> Now { get; init; } = () => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}
