using System;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Sync;

/// <summary>Each filter on the snapshot and on the live stream, against real servers.</summary>
public sealed class FilterSyncTests
{
    internal static SyncOptions Filtered(RedisServer source, RedisServer target, string name, SyncFilter filter) => new SyncOptions
    {
        Name = name,
        Source = RedisEndpoint.Parse(source.Endpoint),
        Target = RedisEndpoint.Parse(target.Endpoint),
        ReconnectTimeout = TimeSpan.FromSeconds(60),
        Filter = filter,
    };

    internal static RedisServer Source() => RedisServer.Start("--repl-diskless-sync-delay", "0", "--databases", "16");

    [Fact]
    public async Task Key_and_ExcludeKey_choose_the_keys_of_the_snapshot_and_the_stream()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db();
        s.StringSet("user:1", "a");
        s.StringSet("user:tmp:1", "b");
        s.StringSet("order:1", "c");
        s.StringSet("product:9", "d");
        var filter = new SyncFilter { Key = new[] { "user:*", "product:[0-9]" }, ExcludeKey = new[] { "user:tmp:*" } };
        await using var sync = new SyncHarness(Filtered(source, target, "keys", filter));
        await sync.WaitCaughtUpAsync(source);
        IDatabase t = target.Db();
        Assert.Equal("a", (string?)t.StringGet("user:1"));
        Assert.Equal("d", (string?)t.StringGet("product:9"));
        Assert.False(t.KeyExists("user:tmp:1"));
        Assert.False(t.KeyExists("order:1"));

        s.StringSet("user:2", "e");
        s.StringSet("user:tmp:2", "f");
        s.HashSet("order:2", "f", "v");
        s.ListRightPush("product:1", "x");
        s.StringSet("product:10", "no");
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("e", (string?)t.StringGet("user:2"));
        Assert.Equal("x", (string?)t.ListGetByIndex("product:1", 0));
        Assert.False(t.KeyExists("user:tmp:2"));
        Assert.False(t.KeyExists("order:2"));
        Assert.False(t.KeyExists("product:10"));
        Assert.Equal("-Key 'user:*','product:[0-9]' -ExcludeKey 'user:tmp:*'", sync.Session.GetStatus().Filter);
    }

    [Fact]
    public async Task Database_copies_only_the_source_databases_it_names()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db(0).StringSet("a", "0");
        source.Db(1).StringSet("a", "1");
        source.Db(2).StringSet("a", "2");
        await using var sync = new SyncHarness(Filtered(source, target, "dbs", new SyncFilter { Database = new[] { 0, 2 } }));
        await sync.WaitCaughtUpAsync(source);
        Assert.Equal("0", (string?)target.Db(0).StringGet("a"));
        Assert.False(target.Db(1).KeyExists("a"));
        Assert.Equal("2", (string?)target.Db(2).StringGet("a"));

        source.Db(1).StringSet("b", "1");
        source.Db(2).StringSet("b", "2");
        source.Db(1).KeyDelete("a");
        source.Db(0).StringSet("b", "0");
        await sync.WaitCaughtUpAsync(source);
        Assert.False(target.Db(1).KeyExists("b"));
        Assert.Equal("2", (string?)target.Db(2).StringGet("b"));
        Assert.Equal("0", (string?)target.Db(0).StringGet("b"));
    }

    [Fact]
    public async Task Type_copies_only_keys_of_the_types_it_names_and_drops_later_commands_on_the_others()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        IDatabase s = source.Db();
        s.StringSet("s", "v");
        s.HashSet("h", "f", "v");
        s.ListRightPush("l", "x");
        s.SetAdd("set", "m");
        s.SortedSetAdd("z", "m", 1);
        s.StreamAdd("x", "f", "v");
        await using var sync = new SyncHarness(Filtered(source, target, "types", new SyncFilter { Type = new[] { "string", "hash" } }));
        await sync.WaitCaughtUpAsync(source);
        IDatabase t = target.Db();
        Assert.True(t.KeyExists("s"));
        Assert.True(t.KeyExists("h"));
        Assert.False(t.KeyExists("l") || t.KeyExists("set") || t.KeyExists("z") || t.KeyExists("x"));

        s.ListRightPush("l2", "y");
        s.HashSet("h2", "f", "v");
        s.StreamAdd("x2", "f", "v");
        s.StringSet("s2", "v");
        await sync.WaitCaughtUpAsync(source);
        Assert.True(t.KeyExists("h2") && t.KeyExists("s2"));
        Assert.False(t.KeyExists("l2") || t.KeyExists("x2"));
    }

    [Fact]
    public async Task ExcludeCommand_leaves_out_the_commands_and_groups_it_names()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        var filter = new SyncFilter { ExcludeCommand = new[] { "incr", "@scripting", "@hash" } };
        await using var sync = new SyncHarness(Filtered(source, target, "commands", filter));
        await sync.WaitCaughtUpAsync(source);
        IDatabase s = source.Db();
        s.StringSet("n", 5);
        s.StringIncrement("n");
        s.HashSet("h", "f", "v");
        source.Cli("FUNCTION", "LOAD", "#!lua name=lib\nredis.register_function('f', function() return 1 end)");
        s.StringSet("marker", "1");
        await sync.WaitCaughtUpAsync(source);
        IDatabase t = target.Db();
        Assert.Equal("5", (string?)t.StringGet("n"));
        Assert.False(t.KeyExists("h"));
        Assert.Equal("1", (string?)t.StringGet("marker"));
        Assert.Empty((RedisResult[])target.Db().Execute("FUNCTION", "LIST")!);
    }

    [Fact]
    public void A_wrong_filter_is_refused_by_name_before_anything_connects()
    {
        var options = new SyncOptions { Source = RedisEndpoint.Parse("h:1"), Target = RedisEndpoint.Parse("h:2"), Filter = new SyncFilter { Type = new[] { "blob" } } };
        var ex = Assert.Throws<SyncException>(() => options.Validate());
        Assert.Equal(SyncErrorIds.InvalidOptions, ex.ErrorId);
        Assert.Contains("-Type 'blob' is not a type", ex.Message);
        options = new SyncOptions { Source = RedisEndpoint.Parse("h:1"), Target = RedisEndpoint.Parse("h:2"), Filter = new SyncFilter { ExcludeCommand = new[] { "@nosuch" } } };
        Assert.Contains("-ExcludeCommand '@nosuch' is not a command group", Assert.Throws<SyncException>(() => options.Validate()).Message);
    }

    [Fact]
    public async Task An_rdb_file_is_copied_through_the_same_filter()
    {
        using RedisServer source = Source();
        using RedisServer target = RedisServer.Start();
        source.Db().StringSet("keep:1", "a");
        source.Db().StringSet("drop:1", "b");
        source.Db().ListRightPush("keep:list", "x");
        string rdb = source.Save();
        var options = new SyncOptions
        {
            Name = "file",
            RdbPath = rdb,
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = RedisSync.SyncMode.Full,
            Filter = new SyncFilter { Key = new[] { "keep:*" }, Type = new[] { "string" } },
        };
        await using var sync = new SyncHarness(options);
        RedisSync.SyncStatus final = await sync.Run;
        Assert.Equal(RedisSync.SyncPhase.Completed, final.Phase);
        Assert.True(target.Db().KeyExists("keep:1"));
        Assert.False(target.Db().KeyExists("drop:1"));
        Assert.False(target.Db().KeyExists("keep:list"));
    }
}
