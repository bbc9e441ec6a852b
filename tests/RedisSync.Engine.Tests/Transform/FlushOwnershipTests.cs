using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Transform;
using Xunit;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>Which target keys a filtered FLUSHDB deletes: what a kept source key becomes, read back through -RenameKey.</summary>
public sealed class FlushOwnershipTests
{
    private sealed class RecordingFlush : IKeyFlush
    {
        public List<(int Db, string? Match, bool NeedsType, Func<byte[], RedisType, bool> Owns)> Calls { get; } = new();

        public void DeleteOwned(int targetDb, string? match, bool needsType, Func<byte[], RedisType, bool> owns) => Calls.Add((targetDb, match, needsType, owns));
    }

    private static IReadOnlyList<ReadOnlySequence<byte>> Args(params string[] args) => args.Select(a => new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(a))).ToList();

    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void A_renamed_prefix_filter_scans_the_new_prefix_and_owns_only_what_kept_keys_become()
    {
        var flush = new RecordingFlush();
        var rename = KeyRename.Compile(new Dictionary<string, string> { ["user:*"] = "u:*" });
        var filter = new StreamFilter(KeyFilter.Compile(new SyncFilter { Key = new[] { "user:*" } })!, rename, new RecordingSink(), db => db + 3, 16, null, flush);
        Assert.Equal(StreamVerdict.Written, filter.Apply("FLUSHDB", Args("FLUSHDB"), 1));
        (int db, string? match, bool needsType, Func<byte[], RedisType, bool> owns) = Assert.Single(flush.Calls);
        Assert.Equal(4, db);
        Assert.Equal("u:*", match);
        Assert.False(needsType);
        Assert.True(owns(B("u:1"), RedisType.None));
        Assert.False(owns(B("user:1"), RedisType.None));
        Assert.False(owns(B("other"), RedisType.None));
    }

    [Fact]
    public void A_type_filter_asks_for_the_type_and_a_flush_without_key_filters_is_forwarded()
    {
        var flush = new RecordingFlush();
        var typed = new StreamFilter(KeyFilter.Compile(new SyncFilter { Type = new[] { "string" } })!, null, new RecordingSink(), db => db, 16, null, flush);
        Assert.Equal(StreamVerdict.Written, typed.Apply("FLUSHDB", Args("FLUSHDB"), 0));
        (_, string? match, bool needsType, Func<byte[], RedisType, bool> owns) = Assert.Single(flush.Calls);
        Assert.Null(match);
        Assert.True(needsType);
        Assert.True(owns(B("a"), RedisType.String));
        Assert.False(owns(B("a"), RedisType.Hash));

        var databases = new StreamFilter(KeyFilter.Compile(new SyncFilter { Database = new[] { 0 } })!, null, new RecordingSink(), db => db, 16, null, flush);
        Assert.Equal(StreamVerdict.Forward, databases.Apply("FLUSHDB", Args("FLUSHDB"), 0));
        Assert.Equal(StreamVerdict.Drop, databases.Apply("FLUSHDB", Args("FLUSHDB"), 1));
        Assert.Single(flush.Calls);
    }

    [Fact]
    public void A_renamed_key_is_traced_back_to_every_source_key_that_becomes_it()
    {
        var rename = KeyRename.Compile(new Dictionary<string, string> { ["old:*"] = "new:*", ["old:deep:*"] = "deeper:*" })!;
        Assert.Equal(new[] { "old:x", "new:x" }, rename.SourcesOf(B("new:x")).Select(Encoding.UTF8.GetString));
        Assert.Empty(rename.SourcesOf(B("old:x")));
        Assert.Equal(new[] { "old:deep:1", "deeper:1" }, rename.SourcesOf(B("deeper:1")).Select(Encoding.UTF8.GetString));
        Assert.Null(rename.RenamedPrefix(B("old:")));
        Assert.Equal("new:a", Encoding.UTF8.GetString(rename.RenamedPrefix(B("old:a"))!));
        Assert.Equal("x:", Encoding.UTF8.GetString(rename.RenamedPrefix(B("x:"))!));
    }
}
