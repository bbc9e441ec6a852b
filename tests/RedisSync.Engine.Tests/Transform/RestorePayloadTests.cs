using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Tests.Rdb;
using RedisSync.Engine.Transform;
using Xunit;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>
/// What the copy checks before it sends a key: a RESTORE payload is built from a value the parser has
/// read whole (a corrupt value fails naming the key, and the target never sees it) and is checked as
/// RESTORE checks it; empty collections are skipped as Redis skips them; module data is named.
/// </summary>
public sealed class RestorePayloadTests : IDisposable
{
    private static readonly ServerInfo Redis70 = ServerInfo.Parse("# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n");
    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-payload-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string CorpusPath(string name) => RdbFileCheckTests.CorpusPath(name);

    /// <summary>The first element of h:small's listpack gets an encoding byte that does not exist; the footer's CRC is fixed up.</summary>
    [Fact]
    public async Task A_value_corrupt_inside_its_listpack_fails_naming_the_key_before_the_target_sees_it()
    {
        byte[] file = File.ReadAllBytes(Fixtures.RdbPath("debian-redis-7.0.15"));
        int name = file.AsSpan().IndexOf("\u0007h:small"u8);
        Assert.Equal((byte)RdbType.HashListpack, file[name - 1]);
        Assert.Equal(0x31, file[name + 8]); // a raw string of 49 bytes: the listpack
        file[name + 9 + 6] = 0xF6;
        BitConverter.TryWriteBytes(file.AsSpan(file.Length - 8), Crc64.Update(0, file.AsSpan(0, file.Length - 8)));
        string path = Path.Combine(_dir, "listpack.rdb");
        File.WriteAllBytes(path, file);

        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(path, target.Endpoint, useRestore: true);
        Assert.NotNull(result.Error);
        Assert.Equal(SyncErrorIds.RdbCorrupt, result.Error!.ErrorId);
        Assert.Equal("\"h:small\"", result.Error.Key);
        Assert.Contains("in key \"h:small\" (type 16 HASH_LISTPACK): listpack element has the invalid encoding byte 0xf6", result.Error.Message);
        Assert.True(result.Transform.KeysRestored > 0, "the keys before it went by RESTORE");
        Assert.False(target.Db().KeyExists("h:small"));
        AssertNothingRefused(target); // the corrupt payload never reached it
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Empty_collections_are_skipped_with_a_warning_naming_each_key(bool restore)
    {
        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(CorpusPath("redis__corrupt_empty_keys"), target.Endpoint, useRestore: restore);
        Assert.Null(result.Error);
        string[] keys = { "hash", "hash_ziplist", "list_quicklist", "list_quicklist_empty_ziplist", "list_ziplist", "set", "zset", "zset_listpack", "zset_ziplist" };
        Assert.Equal(keys, result.Warnings.Where(w => w.ErrorId == "EmptyKeySkipped").Select(w => w.Key!.Trim('"')).OrderBy(k => k, StringComparer.Ordinal));
        Assert.Contains(result.Warnings, w => w.Message == "Key \"list_quicklist_empty_ziplist\" in database 0 is an empty list (LIST_QUICKLIST): Redis skips empty keys when it loads a file, so it was not copied.");
        Assert.Equal(9, result.Transform.KeysEmpty);
        Assert.Equal(0, result.Transform.KeysRestored + result.Transform.KeysRebuilt);
        Assert.Equal(0L, (long)target.Db().Execute("DBSIZE"));
        AssertNothingRefused(target);
    }

    [Fact]
    public async Task Module_aux_data_is_named_in_a_warning()
    {
        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(CorpusPath("rdbtools__redis_60_with_module_aux"), target.Endpoint);
        Assert.Null(result.Error);
        SyncWarning aux = Assert.Single(result.Warnings, w => w.ErrorId == "ModuleAuxNotCopied");
        Assert.Contains("module type 'test__rdb'", aux.Message);
    }

    [Fact]
    public void A_module_value_too_big_to_capture_is_skipped_naming_its_module_type()
    {
        var w = new RdbWriter(10).SelectDb(0).Key(RdbType.Module2, "doc").Length(RdbWriter.ModuleId("ReJSON-RL", 3));
        SyntheticRdbTests.ModuleBody(w);
        w.Key(RdbType.String, "after").String("ok");
        var parserOptions = new RdbParserOptions { MaxModuleValueLength = 16 };
        var sink = new RecordingSink();
        using var transform = new RdbToCommands(sink, new TransformOptions(Redis70) { TargetIsEmpty = true, ParserOptions = parserOptions });
        var warnings = new List<SyncWarning>();
        transform.Warning += warnings.Add;
        new RdbParser(PipeReader.Create(new ReadOnlySequence<byte>(w.End(10))), transform, parserOptions).Parse();

        SyncWarning skipped = Assert.Single(warnings);
        Assert.Equal("ModuleValueSkipped", skipped.ErrorId);
        Assert.Equal("The value of key \"doc\" (module type 'ReJSON-RL') was not copied: it is larger than a module value can be captured.", skipped.Message);
        Assert.Equal(1, transform.KeysUnsupported);
        Assert.Equal(new[] { "SET after ok" }, sink.Commands.Where(c => !c.StartsWith("SELECT ", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_payload_is_checked_as_restore_checks_it()
    {
        var w = new RdbWriter(10).SelectDb(0).Key(RdbType.List, "l").Length(2).String("a").String("b");
        var visitor = SyntheticRdbTests.Parse(w.End(10), new RecordingVisitor());
        var payload = new PooledBuffer();
        DumpPayload.Write(payload, RdbType.List, new ReadOnlySequence<byte>(visitor.RawValues["l"]), 10);
        byte[] good = payload.WrittenSpan.ToArray();
        Assert.Null(DumpPayload.Check(good, 10));

        Assert.Equal("its footer names RDB version 10, newer than the 9 the target loads", DumpPayload.Check(good, 9));
        byte[] flipped = (byte[])good.Clone();
        flipped[2] ^= 1;
        Assert.StartsWith("its CRC-64 is ", DumpPayload.Check(flipped, 10));
        Assert.Equal("it is 10 bytes long, shorter than a type byte and its footer", DumpPayload.Check(good.AsSpan(0, 10), 10));
    }

    /// <summary>No command of the copy failed on the target (StackExchange.Redis's own CLUSTER probe on connect aside).</summary>
    private static void AssertNothingRefused(RedisServer target)
    {
        foreach (string line in ((string)target.Db().Execute("INFO", "commandstats")!).Split('\n').Where(l => l.StartsWith("cmdstat_", StringComparison.Ordinal)))
        {
            if (line.StartsWith("cmdstat_cluster", StringComparison.Ordinal)) continue;
            Assert.Contains("rejected_calls=0,failed_calls=0", line);
        }
    }
}
