using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>A sync whose source is an RDB file on disk (Start-RedisSync -RdbPath).</summary>
public sealed class RdbFileSyncTests
{
    [Theory]
    [InlineData("redis-7.2.6")]
    [InlineData("debian-redis-7.0.15")]
    public async Task An_rdb_file_is_loaded_whole_and_the_sync_completes(string fixture)
    {
        using RedisServer target = RedisServer.Start();
        var phases = new List<RedisSync.SyncPhase>();
        var session = new SyncSession(new SyncOptions
        {
            Name = "file",
            RdbPath = Fixtures.RdbPath(fixture),
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = RedisSync.SyncMode.Full,
        });
        session.PhaseChanged += s => phases.Add(s.Phase);
        RedisSync.SyncStatus done = await session.RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
        Assert.Equal(new[] { RedisSync.SyncPhase.LoadingSnapshot, RedisSync.SyncPhase.Completed }, phases);
        Assert.Equal(new FileInfo(Fixtures.RdbPath(fixture)).Length, done.SnapshotBytesTotal);
        Assert.Equal(100.0, done.SnapshotPercent);
        List<string> expected = Listing.Expected(Fixtures.ExpectedPath(fixture), keepFieldTtl: false);
        Listing.AssertEqual(expected, Listing.Render(target), fixture);
        Assert.Equal(expected.Count(l => l.StartsWith("db=", System.StringComparison.Ordinal)), done.KeysWritten);
    }

    [Fact]
    public async Task A_missing_rdb_file_is_a_clear_error()
    {
        using RedisServer target = RedisServer.Start();
        var session = new SyncSession(new SyncOptions
        {
            Name = "missing",
            RdbPath = "/nonexistent/dump.rdb",
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = RedisSync.SyncMode.Full,
        });
        SyncException error = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
        Assert.Equal(SyncErrorIds.RdbNotFound, error.ErrorId);
        Assert.Contains("/nonexistent/dump.rdb", error.Message);
    }
}
