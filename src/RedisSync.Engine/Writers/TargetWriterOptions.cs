using System;

namespace RedisSync.Engine.Writers;

/// <summary>What to do when a RESTORE finds its key already on the target (a BUSYKEY reply).</summary>
internal enum BusyKeyPolicy
{
    /// <summary>The transform writes RESTORE … REPLACE, so existing keys are overwritten and BUSYKEY never comes back.</summary>
    Replace,
    /// <summary>Keep the target's key, count a warning, go on.</summary>
    Skip,
    /// <summary>Stop the sync: the user decides what an existing key means.</summary>
    Stop,
}

/// <summary>What to do when the target refuses a command for a reason of its own (WRONGTYPE, a syntax error, …).</summary>
internal enum CommandErrorPolicy
{
    /// <summary>Count a warning naming the command and key, go on.</summary>
    Skip,
    /// <summary>Stop the sync with an error naming the command and key.</summary>
    Stop,
}

/// <summary>How a <see cref="TargetWriter"/> batches, bounds its memory, treats errors and recovers.</summary>
internal sealed class TargetWriterOptions
{
    /// <summary>
    /// Commands per batch (the writer's own SELECT, MULTI, EXEC included). 1000 fills a TCP window with
    /// small commands while keeping a batch's retained bytes small.
    /// </summary>
    public int MaxBatchCommands { get; set; } = 1000;

    /// <summary>
    /// Bytes per batch before it is sent. 240 KiB amortises the system calls and, with the 16 KiB
    /// kept for the command that fills a batch, fills a 256 KiB pooled array exactly (the pool rounds
    /// up to powers of two: 256 KiB here would take 512 KiB arrays and double the window's memory).
    /// </summary>
    public int MaxBatchBytes { get; set; } = 240 * 1024;

    /// <summary>
    /// Commands sent but not yet answered. 50,000 keeps a 50 ms link busy at a million commands a
    /// second, while bounding the target's reply buffer and the batches the writer retains.
    /// </summary>
    public int MaxInFlightCommands { get; set; } = 50_000;

    /// <summary>
    /// Bytes sent but not yet answered (the memory the writer retains for error messages and resends).
    /// 16 MiB covers the bandwidth-delay product of a 1 Gbit/s link with 100 ms of round trip.
    /// </summary>
    public long MaxInFlightBytes { get; set; } = 16L * 1024 * 1024;

    /// <summary>
    /// Stop by default: overwriting a key that the target already holds destroys data, and skipping
    /// it leaves the target different from the source; only the user can choose either.
    /// </summary>
    public BusyKeyPolicy BusyKeyPolicy { get; set; } = BusyKeyPolicy.Stop;

    /// <summary>Stop by default: a refused command means the target differs from the source.</summary>
    public CommandErrorPolicy CommandErrorPolicy { get; set; } = CommandErrorPolicy.Stop;

    /// <summary>
    /// A key on the target that records, in the same transaction as the data, the last commit point
    /// applied; setting it turns on transactional mode, in which a dropped link is recovered exactly once.
    /// Null (the default) writes plain pipelined commands, faster, but a dropped link then stops the writer.
    /// </summary>
    public string? CheckpointKey { get; set; }

    /// <summary>The database that holds <see cref="CheckpointKey"/>: 0, the one every Redis (cluster nodes too) has.</summary>
    public int CheckpointDb { get; set; }

    /// <summary>
    /// Turns a position given to <see cref="TargetWriter.CommitPoint(CommitPosition)"/> into the checkpoint value;
    /// called once per batch (when it is sealed), so marking a commit point after every command stays cheap.
    /// </summary>
    public Func<CommitPosition, byte[]>? CheckpointFormatter { get; set; }

    /// <summary>
    /// How long a transactional writer keeps trying to reconnect after losing the target: 30 seconds
    /// covers a restart or a failover of a small instance; a longer outage is better reported.
    /// </summary>
    public TimeSpan ReconnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long to wait for a target that answers LOADING: reading a large dataset from disk takes minutes.</summary>
    public TimeSpan LoadingTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The connection's name on the target (CLIENT SETNAME), so operators and tests can find it in CLIENT LIST; null sets none.</summary>
    public string? ClientName { get; set; } = "redissync-writer";

    /// <summary>The sync's -MaxWriteRate, shared by its writers; null for no limit.</summary>
    public WriteRateLimit? RateLimit { get; set; }

    internal TargetWriterOptions Clone() => (TargetWriterOptions)MemberwiseClone();

    internal void Validate()
    {
        if (MaxBatchCommands < 1) throw Invalid(nameof(MaxBatchCommands), "must be at least 1");
        if (MaxBatchBytes < 1) throw Invalid(nameof(MaxBatchBytes), "must be at least 1");
        if (MaxInFlightCommands < MaxBatchCommands) throw Invalid(nameof(MaxInFlightCommands), $"must be at least MaxBatchCommands ({MaxBatchCommands})");
        if (MaxInFlightBytes < MaxBatchBytes) throw Invalid(nameof(MaxInFlightBytes), $"must be at least MaxBatchBytes ({MaxBatchBytes})");
        if (CheckpointKey != null && CheckpointKey.Length == 0) throw Invalid(nameof(CheckpointKey), "must not be empty (null turns transactional mode off)");
        if (CheckpointDb < 0) throw Invalid(nameof(CheckpointDb), "must not be negative");
        if (ReconnectTimeout < TimeSpan.Zero) throw Invalid(nameof(ReconnectTimeout), "must not be negative");
        if (LoadingTimeout < TimeSpan.Zero) throw Invalid(nameof(LoadingTimeout), "must not be negative");
        if (ClientName != null && (ClientName.Length == 0 || ClientName.IndexOf(' ') >= 0)) throw Invalid(nameof(ClientName), "must be a non-empty name without spaces");
    }

    private static ArgumentException Invalid(string name, string why) => new ArgumentException($"TargetWriterOptions.{name} {why}.", name);
}
