using System;

namespace RedisSync.Engine.Status;

/// <summary>
/// How soon the lag reaches zero at the current rates: the source's stream and the target's apply
/// rate in bytes of the replication stream per second, each smoothed over the last few samples.
/// </summary>
internal sealed class CatchUpEstimate
{
    private const double Smoothing = 0.5;
    private readonly object _lock = new object();
    private DateTimeOffset _at;
    private long _received;
    private long _applied;
    private double _sourceRate;
    private double _applyRate;
    private bool _rated;

    /// <summary>Takes a sample of the offsets received from the source and applied by the target (sums over the shards).</summary>
    public void Sample(long received, long applied, DateTimeOffset now)
    {
        lock (_lock)
        {
            double seconds = (now - _at).TotalSeconds;
            if (_at != default && seconds > 0)
            {
                double source = Math.Max(0, received - _received) / seconds, apply = Math.Max(0, applied - _applied) / seconds;
                _sourceRate = _rated ? Smoothing * source + (1 - Smoothing) * _sourceRate : source;
                _applyRate = _rated ? Smoothing * apply + (1 - Smoothing) * _applyRate : apply;
                _rated = true;
            }
            (_at, _received, _applied) = (now, received, applied);
        }
    }

    /// <summary>Seconds until <paramref name="lagBytes"/> is applied: 0 when caught up, null while the target does not gain on the source (or before two samples).</summary>
    public double? Seconds(long lagBytes)
    {
        if (lagBytes <= 0) return 0;
        lock (_lock)
        {
            if (!_rated) return null;
            double gain = _applyRate - _sourceRate;
            return gain > 0 ? Math.Round(lagBytes / gain, 1) : null;
        }
    }
}
