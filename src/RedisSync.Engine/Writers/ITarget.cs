using System;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Writers;

/// <summary>
/// What the stages write to: one node (<see cref="TargetWriter"/>) or a router over the nodes of a
/// cluster. Commands, commit points that carry the position they end at, and what the target
/// acknowledged; the stages never know which kind they have.
/// </summary>
/// <remarks>
/// The <see cref="ICommandSink"/> members, <see cref="CommitPoint"/>, <see cref="FlushAll"/>,
/// <see cref="DiscardUncommitted"/> and <see cref="DrainAsync"/> belong to one producer thread; the
/// properties may be read from any thread.
/// </remarks>
internal interface ITarget : ICommandSink, IDisposable
{
    /// <summary>The target's version and features (a cluster's: those of its nodes, which must agree).</summary>
    ServerInfo Server { get; }

    /// <summary>How many databases the target has (1 on a cluster).</summary>
    int DatabaseCount { get; }

    /// <summary>The sync's checkpoint as the target held it when the writer connected, or null.</summary>
    byte[]? InitialCheckpoint { get; }

    /// <summary>The position up to which the target has applied everything, or null before the first acknowledged commit point.</summary>
    CommitPosition? AcknowledgedPosition { get; }

    /// <summary>Counters for status displays.</summary>
    WriterStatistics Statistics { get; }

    /// <summary>The error that ended the writer, or null; the producer's next call throws it.</summary>
    SyncException? Fault { get; }

    /// <summary>Whether the batch being built is full (a producer marks a commit point inside a big key then).</summary>
    bool BatchDue { get; }

    /// <summary>Raised for each skipped command and each recovered link (on the writer's threads).</summary>
    event Action<SyncWarning>? Warning;

    /// <summary>A place where a batch may end, and the position the batch ending there reaches.</summary>
    void CommitPoint(CommitPosition position);

    /// <summary>Drops what was written after the last commit point.</summary>
    void DiscardUncommitted();

    /// <summary>Empties the whole target in the batch being built, keeping the sync's lease.</summary>
    void FlushAll();

    /// <summary>Flushes, then waits until the target has answered everything sent.</summary>
    Task DrainAsync(CancellationToken ct);

    /// <summary>Guards the batches with the sync's lease, and renews it while idle.</summary>
    void UseLease(LeaseGuard lease);

    /// <summary>The lease the batches are guarded with, or null (what writes beside the writer check too).</summary>
    LeaseGuard? Lease { get; }

    /// <summary>Ends the writer with an error found outside it.</summary>
    void Abort(SyncException error);
}
