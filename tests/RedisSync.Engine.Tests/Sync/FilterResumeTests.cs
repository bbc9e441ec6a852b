using System;
using System.Threading.Tasks;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;
using static RedisSync.Engine.Tests.Sync.FilterSyncTests;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>A filtered sync continued from its checkpoint: the types its snapshot (in the run before) left out are read from the source.</summary>
public sealed class FilterResumeTests
{
    [Fact]
    public async Task After_a_restart_commands_on_a_key_the_snapshot_left_out_by_type_are_still_dropped()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db();
        s.ListRightPush("list:snap", "x");
        s.ListRightPush("list:other", "x");
        s.StringSet("str", "v");
        s.StringSet("str:gone", "v");
        s.ListRightPush("list:gone", "x");
        var filter = new SyncFilter { Type = new[] { "string" } };
        await using (var first = new SyncHarness(Filtered(source, target, "resume-types", filter)))
        {
            await first.WaitCaughtUpAsync(source);
            await first.StopAsync();
        }
        // Written while the sync is stopped: the resumed stream reaches them when the source is past them all.
        s.KeyRename("list:snap", "moved");
        s.KeyExpire("list:other", TimeSpan.FromHours(1));
        s.KeyExpire("str", TimeSpan.FromHours(1));
        s.KeyRename("str", "str2");
        // Gone from the source by the time the stream reaches the RENAME: neither name tells the type.
        s.KeyRename("list:gone", "gone");
        s.KeyDelete("gone");
        s.KeyRename("str:gone", "str:gone2");
        s.KeyDelete("str:gone2");
        s.StringSet("marker", "1");
        await using var second = new SyncHarness(Filtered(source, target, "resume-types", filter));
        await second.WaitCaughtUpAsync(source);
        Assert.Equal(0, second.Session.GetStatus().FullResyncs);
        IDatabase t = target.Db();
        Assert.Equal("1", (string?)t.StringGet("marker"));
        Assert.False(t.KeyExists("moved") || t.KeyExists("list:snap") || t.KeyExists("list:other"));
        Assert.Equal("v", (string?)t.StringGet("str2"));
        Assert.NotNull(t.KeyTimeToLive("str2"));
        Assert.False(t.KeyExists("gone") || t.KeyExists("list:gone") || t.KeyExists("str:gone") || t.KeyExists("str:gone2"));
        // A command the target refused would have ended the writer: a write after it would never land.
        s.StringSet("marker", "2");
        await second.WaitCaughtUpAsync(source);
        Assert.Equal(RedisSync.SyncPhase.Streaming, second.Session.GetStatus().Phase);
        Assert.DoesNotContain(second.Warnings, w => w.ErrorId == SyncErrorIds.TargetCommandFailed);
    }

    [Fact]
    public async Task After_a_restart_a_Where_filter_judges_a_key_it_has_not_seen_by_its_type_on_the_source()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db();
        s.HashSet("h:1", "f", "v");
        s.StringSet("s:1", "v");
        Func<RedisSync.KeyCandidate, bool> where = c => c.Type != "hash";
        SyncOptions Options() => new SyncOptions
        {
            Name = "resume-where", Source = Filtered(source, target, "x", new SyncFilter()).Source, Target = Filtered(source, target, "x", new SyncFilter()).Target,
            ReconnectTimeout = TimeSpan.FromSeconds(60), Where = where,
        };
        await using (var first = new SyncHarness(Options()))
        {
            await first.WaitCaughtUpAsync(source);
            Assert.False(target.Db().KeyExists("h:1"));
            await first.StopAsync();
        }
        await using var second = new SyncHarness(Options());
        await second.WaitCaughtUpAsync(source);
        Assert.Equal(0, second.Session.GetStatus().FullResyncs);
        s.KeyRename("h:1", "h:2");
        s.KeyRename("s:1", "s:2");
        s.StringSet("marker", "1");
        await second.WaitCaughtUpAsync(source);
        IDatabase t = target.Db();
        Assert.Equal("1", (string?)t.StringGet("marker"));
        Assert.False(t.KeyExists("h:1") || t.KeyExists("h:2"));
        Assert.Equal("v", (string?)t.StringGet("s:2"));
        // A command the target refused would have ended the writer: a write after it would never land.
        s.StringSet("marker", "2");
        await second.WaitCaughtUpAsync(source);
        Assert.Equal(RedisSync.SyncPhase.Streaming, second.Session.GetStatus().Phase);
    }
}
