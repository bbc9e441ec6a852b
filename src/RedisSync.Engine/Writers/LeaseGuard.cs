using System;
using System.Text;

namespace RedisSync.Engine.Writers;

/// <summary>
/// The lease a sync holds on its target, as its writer enforces it: every transactional batch first
/// runs a guard script and only commits while the lease is still this run's, and the writer renews
/// the lease with each batch (and by heartbeats while idle), so a run that lost it can commit nothing.
/// </summary>
/// <remarks>
/// A batch on the wire is <c>WATCH fence</c>, <c>EVAL guard</c>, <c>MULTI</c> … <c>EXEC</c>. The guard
/// renews the lease when it holds this run's value, or takes it again when it is gone and the
/// checkpoint is still the one this run's previous batch wrote (no other run committed meanwhile);
/// otherwise it touches the fence key, which the connection watches, so the target discards the
/// transaction (EXEC answers nil). The lease is renewed for its whole time to live just before the
/// transaction runs, so no other run can take it in between.
/// </remarks>
internal sealed class LeaseGuard
{
    /// <summary>KEYS: lease, checkpoint, fence. ARGV: this run's lease value, the checkpoint the previous batch left, the time to live in ms.</summary>
    internal const string Script =
        "local v = redis.call('get', KEYS[1]) " +
        "if v == ARGV[1] or (not v and (redis.call('get', KEYS[2]) or '') == ARGV[2]) then " +
        "redis.call('set', KEYS[1], ARGV[1], 'px', ARGV[3]) return 1 end " +
        "redis.call('incr', KEYS[3]) return 0";

    internal static readonly byte[] ScriptBytes = Encoding.ASCII.GetBytes(Script);

    /// <param name="key">The lease key.</param>
    /// <param name="fenceKey">A key the writer watches; the guard touches it when the lease is not this run's.</param>
    /// <param name="value">This run's lease value (its token, host, process and start).</param>
    /// <param name="timeToLive">How long the lease lasts without a renewal.</param>
    public LeaseGuard(string key, string fenceKey, byte[] value, TimeSpan timeToLive)
    {
        if (timeToLive < TimeSpan.FromMilliseconds(100)) throw new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive, "A lease lasts at least 100 ms.");
        Key = Encoding.UTF8.GetBytes(key);
        FenceKey = Encoding.UTF8.GetBytes(fenceKey);
        Value = value;
        TimeToLive = timeToLive;
    }

    public byte[] Key { get; }

    public byte[] FenceKey { get; }

    public byte[] Value { get; }

    public TimeSpan TimeToLive { get; }

    public long TimeToLiveMs => (long)TimeToLive.TotalMilliseconds;

    /// <summary>This run's epoch on a cluster target (0: none drawn), which every slot's checkpoint carries (<see cref="SlotFence"/>).</summary>
    public long Epoch { get; init; }

    /// <summary>The key the epochs are drawn from (written again after a flush), or null.</summary>
    public string? EpochKey { get; init; }
}
