using System;
using RedisSync.Engine.Status;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>The CatchUpSeconds of a status: the lag divided by how fast the target gains on the source.</summary>
public sealed class CatchUpEstimateTests
{
    private static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_target_that_applies_3000_bytes_a_second_against_a_source_writing_1000_clears_10000_bytes_in_5_seconds()
    {
        var estimate = new CatchUpEstimate();
        estimate.Sample(received: 20_000, applied: 5_000, T0);
        estimate.Sample(received: 21_000, applied: 8_000, T0.AddSeconds(1));
        estimate.Sample(received: 22_000, applied: 11_000, T0.AddSeconds(2));

        Assert.Equal(5.0, estimate.Seconds(10_000));
    }

    [Fact]
    public void Caught_up_is_zero_and_a_target_that_does_not_gain_has_no_estimate()
    {
        var estimate = new CatchUpEstimate();
        Assert.Null(estimate.Seconds(100));
        Assert.Equal(0.0, estimate.Seconds(0));
        estimate.Sample(received: 1_000, applied: 500, T0);
        estimate.Sample(received: 3_000, applied: 1_500, T0.AddSeconds(1));

        Assert.Null(estimate.Seconds(1_500));
        Assert.Equal(0.0, estimate.Seconds(0));
    }
}
