using System;
using System.Collections.Generic;

namespace RedisSync;

/// <summary>How deep Complete-RedisSync checks the target before it stops the sync.</summary>
public enum CutOverVerify
{
    /// <summary>No check.</summary>
    None,
    /// <summary>Every key's type, TTL and length (Compare-RedisData -Mode Quick).</summary>
    Quick,
    /// <summary>Every key's value too (Compare-RedisData -Mode Full).</summary>
    Full,
}

/// <summary>What a cut-over concluded.</summary>
public enum CutOverVerdict
{
    /// <summary>Caught up and verified equal: the sync was stopped, clients can switch.</summary>
    Passed,
    /// <summary>Caught up, not verified (-Verify None, or a source that cannot be compared as a whole): the sync was stopped.</summary>
    NotVerified,
    /// <summary>The verification found differences: the sync was left running and the source unpaused.</summary>
    DifferencesFound,
}

/// <summary>The report of Complete-RedisSync: how long the source was paused, where it stood, what was verified.</summary>
public sealed class CutOverReport
{
    /// <summary>The sync's name.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>What the cut-over concluded.</summary>
    public CutOverVerdict Verdict { get; init; }

    /// <summary>The source's masters' writes were paused (-PauseSourceWrites).</summary>
    public bool SourcePaused { get; init; }

    /// <summary>When the pause began (or the cut-over, without a pause).</summary>
    public DateTimeOffset StartTime { get; init; }

    /// <summary>How long the source's writes were paused (zero without -PauseSourceWrites).</summary>
    public TimeSpan PauseDuration { get; init; }

    /// <summary>The source's replication offset the target reached (the sum over the masters of a cluster source).</summary>
    public long LastOffset { get; init; }

    /// <summary>Each master's replication id and offset at the cut-over (<c>host:port replid offset</c>).</summary>
    public IReadOnlyList<string> SourceOffsets { get; init; } = Array.Empty<string>();

    /// <summary>How the target was checked.</summary>
    public CutOverVerify Verify { get; init; }

    /// <summary>Keys compared between the source and the target.</summary>
    public long KeysVerified { get; init; }

    /// <summary>Keys that differ (missing, extra, another type, value or TTL).</summary>
    public long Differences { get; init; }

    /// <summary>The first keys that differ (up to 100), as <c>db:key status</c>.</summary>
    public IReadOnlyList<string> DifferentKeys { get; init; } = Array.Empty<string>();

    /// <summary>The sync was stopped (it is left running when the verdict is DifferencesFound).</summary>
    public bool SyncStopped { get; init; }

    /// <summary>The sync's checkpoint and lease were removed from the target (not with -KeepCheckpoint).</summary>
    public bool CheckpointRemoved { get; init; }

    /// <summary>Why the target was not verified, when it was not.</summary>
    public string? Note { get; init; }

    /// <summary>The name and the verdict, for a one-line display.</summary>
    public override string ToString() => $"{Name}: {Verdict}";
}
