using System;
using System.IO;
using System.Linq;
using System.Threading;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>The whole-file check that runs before a copy from a file touches the target.</summary>
public sealed class RdbFileCheckTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-check-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, byte[] file)
    {
        string path = Path.Combine(_dir, name + ".rdb");
        File.WriteAllBytes(path, file);
        return path;
    }

    private static SyncException Refused(string path, RdbFileCheck? check = null) =>
        Assert.Throws<SyncException>(() => (check ?? new RdbFileCheck(path)).Run());

    [Fact]
    public void A_good_file_is_summed_up_per_database_with_its_version_size_and_checksum()
    {
        string path = Fixtures.RdbPath("debian-redis-7.0.15");
        byte[] file = File.ReadAllBytes(path);
        RdbFileSummary summary = new RdbFileCheck(path).Run();

        Assert.Equal(10, summary.RdbVersion);
        Assert.Equal(file.Length, summary.Bytes);
        Assert.Equal(BitConverter.ToUInt64(file, file.Length - 8), summary.Checksum);
        var listing = Listing.Expected(Fixtures.ExpectedPath("debian-redis-7.0.15"), keepFieldTtl: true);
        foreach (int db in new[] { 0, 1, 15 })
        {
            Assert.Equal(listing.Count(l => l.StartsWith($"db={db} ", StringComparison.Ordinal)), summary.KeysPerDatabase[db]);
        }
        Assert.Equal(3, summary.KeysPerDatabase.Count);
        Assert.Equal(1, summary.Functions);
        Assert.Equal(0, summary.EmptyKeysSkipped);
        Assert.False(summary.HasModuleData);
        Assert.Equal(1, summary.Passes);
    }

    [Fact]
    public void A_key_twice_in_one_database_fails_naming_the_key_the_database_and_both_offsets()
    {
        var w = new RdbWriter(10).SelectDb(0).Key(RdbType.String, "a").String("1").SelectDb(3);
        long first = w.Position;
        w.Key(RdbType.String, "dup").String("first");
        w.Key(RdbType.String, "other").String("x");
        long second = w.Position;
        w.Key(RdbType.Set, "dup").Length(1).String("second");
        string path = Write("dup", w.End(10));

        SyncException e = Refused(path);
        Assert.Equal(SyncErrorIds.RdbDuplicateKey, e.ErrorId);
        Assert.Equal("\"dup\"", e.Key);
        Assert.Equal(second, e.Offset);
        Assert.Contains($"The RDB file '{path}' cannot be loaded: RDB has a duplicated key at byte {second}: key \"dup\" of database 3 was already at byte {first}", e.Message);
        Assert.Contains("Duplicated key found in RDB file", e.Message);
    }

    [Fact]
    public void The_same_name_in_two_databases_is_no_duplicate_nor_is_one_that_redis_drops_at_load()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var w = new RdbWriter(10).SelectDb(0).Key(RdbType.String, "k").String("db0");
        w.SelectDb(1).Key(RdbType.String, "k").String("db1");
        w.ExpireMs(now - 60_000).Key(RdbType.String, "k").String("expired, dropped before Redis looks for a duplicate");
        w.Key(RdbType.Hash, "k").Length(0); // empty: skipped at load
        string path = Write("no-dup", w.End(10));

        RdbFileSummary summary = new RdbFileCheck(path, nowMs: now).Run();
        Assert.Equal(1, summary.KeysPerDatabase[0]);
        Assert.Equal(2, summary.KeysPerDatabase[1]);
        Assert.Equal(1, summary.ExpiredKeys);
        Assert.Equal(1, summary.EmptyKeysSkipped);
    }

    /// <summary>With every hash equal, every key is a suspect: the confirming pass compares names and finds them all different.</summary>
    [Fact]
    public void Colliding_hashes_of_different_keys_are_confirmed_by_name_in_a_second_pass()
    {
        var w = new RdbWriter(10).SelectDb(0);
        for (int i = 0; i < 50; i++) w.Key(RdbType.String, "key:" + i).String("v");
        string path = Write("collide", w.End(10));

        RdbFileSummary summary = new RdbFileCheck(path) { Hasher = (db, key) => 42 }.Run();
        Assert.Equal(50, summary.Keys);
        Assert.Equal(2, summary.Passes);

        w = new RdbWriter(10).SelectDb(0);
        for (int i = 0; i < 50; i++) w.Key(RdbType.String, "key:" + i).String("v");
        w.Key(RdbType.String, "key:17").String("again");
        SyncException e = Refused(Write("collide-dup", w.End(10)), new RdbFileCheck(Path.Combine(_dir, "collide-dup.rdb")) { Hasher = (db, key) => 42 });
        Assert.Equal(SyncErrorIds.RdbDuplicateKey, e.ErrorId);
        Assert.Equal("\"key:17\"", e.Key);
    }

    /// <summary>
    /// A hash budget of 16 KB holds about 1,400 keys: 20,000 keys split the hash space into parts of a
    /// pass each, and a duplicate is still found, whichever part its hash falls in.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Keys_beyond_the_hash_budget_cost_more_passes_not_more_memory(bool duplicate)
    {
        var w = new RdbWriter(10).SelectDb(0);
        for (int i = 0; i < 20_000; i++) w.Key(RdbType.String, "key:" + i).IntString(i);
        if (duplicate) w.Key(RdbType.String, "key:12345").String("again");
        string path = Write("many", w.End(10));
        var check = new RdbFileCheck(path) { MaxKeyHashBytes = 16 * 1024 };
        if (duplicate)
        {
            SyncException e = Refused(path, check);
            Assert.Equal(SyncErrorIds.RdbDuplicateKey, e.ErrorId);
            Assert.Equal("\"key:12345\"", e.Key);
            return;
        }
        RdbFileSummary summary = check.Run();
        Assert.Equal(20_000, summary.Keys);
        Assert.InRange(summary.Passes, 14, 64);
    }

    [Fact]
    public void A_truncated_file_fails_naming_the_file_and_the_offset_where_it_ends()
    {
        byte[] file = File.ReadAllBytes(Fixtures.RdbPath("debian-redis-7.0.15"));
        string path = Write("cut", file.AsSpan(0, file.Length / 2).ToArray());
        SyncException e = Refused(path);
        Assert.Equal(SyncErrorIds.RdbTruncated, e.ErrorId);
        Assert.Equal(file.Length / 2, e.Offset);
        Assert.StartsWith($"The RDB file '{path}' cannot be loaded: RDB truncated at byte {file.Length / 2}", e.Message);
    }

    [Fact]
    public void A_changed_byte_fails_the_checksum_of_the_whole_file()
    {
        byte[] file = File.ReadAllBytes(Fixtures.RdbPath("debian-redis-7.0.15"));
        int at = file.AsSpan().IndexOf("hello world"u8);
        file[at] ^= 0x01;
        SyncException e = Refused(Write("flip", file));
        Assert.Equal(SyncErrorIds.RdbChecksumMismatch, e.ErrorId);
        Assert.Equal(file.Length - 8, e.Offset);
    }

    [Fact]
    public void A_huge_database_number_is_a_corrupt_file_that_names_the_number()
    {
        var w = new RdbWriter(10).Byte(0xFE).Length(ulong.MaxValue - 1).Key(RdbType.String, "k").String("v");
        SyncException e = Refused(Write("db", w.End(10)));
        Assert.Equal(SyncErrorIds.RdbCorrupt, e.ErrorId);
        Assert.Contains($"SELECTDB names database {ulong.MaxValue - 1}", e.Message);
        Assert.Equal(9, e.Offset);
    }

    /// <summary>As in rdb.c: an empty list, set, sorted set or hash is skipped; an empty zipmap or intset fails its integrity check.</summary>
    [Theory]
    [InlineData("zipmap")]
    [InlineData("intset")]
    public void Empty_encodings_that_redis_refuses_are_refused(string encoding)
    {
        var w = new RdbWriter(9).SelectDb(0);
        if (encoding == "zipmap") w.Key(RdbType.HashZipmap, "e").String(new byte[] { 0, 0xFF });
        else w.Key(RdbType.SetIntset, "e").String(RdbWriter.Intset(2));
        SyncException e = Refused(Write(encoding, w.End(9)));
        Assert.Equal(SyncErrorIds.RdbCorrupt, e.ErrorId);
        Assert.Equal("\"e\"", e.Key);
        Assert.Contains($"{encoding} holds no ", e.Message);
    }

    [Fact]
    public void A_zipmap_whose_header_miscounts_its_pairs_is_refused()
    {
        byte[] zipmap = RdbWriter.Zipmap((RdbWriter.Utf8("a"), RdbWriter.Utf8("1"), 0), (RdbWriter.Utf8("b"), RdbWriter.Utf8("2"), 0));
        zipmap[0] = 3;
        SyncException e = Refused(Write("zipmap-count", new RdbWriter(6).SelectDb(0).Key(RdbType.HashZipmap, "z").String(zipmap).End(6)));
        Assert.Equal(SyncErrorIds.RdbCorrupt, e.ErrorId);
        Assert.Contains("zipmap header counts 3 pairs but it holds 2", e.Message);
    }

    [Fact]
    public void Empty_collections_are_counted_as_redis_skips_them()
    {
        RdbFileSummary summary = new RdbFileCheck(CorpusPath("redis__corrupt_empty_keys")).Run();
        Assert.Equal(9, summary.EmptyKeysSkipped);
        Assert.Equal(0, summary.Keys);
    }

    [Fact]
    public void Module_types_and_module_aux_data_are_named()
    {
        RdbFileSummary values = new RdbFileCheck(CorpusPath("rdbtools__redis_40_with_module")).Run();
        Assert.Equal(new[] { "ReJSON-RL" }, values.ModuleTypes.Keys);
        Assert.Equal(1, values.ModuleTypes["ReJSON-RL"].Keys);
        Assert.Equal("\"foo\"", values.ModuleTypes["ReJSON-RL"].FirstKey);
        Assert.Empty(values.ModuleAux);

        RdbFileSummary aux = new RdbFileCheck(CorpusPath("rdbtools__redis_60_with_module_aux")).Run();
        Assert.Equal(new[] { "test__rdb" }, aux.ModuleAux);
        Assert.True(aux.HasModuleData);
    }

    [Fact]
    public void A_path_that_cannot_be_read_as_a_file_is_a_clear_error()
    {
        SyncException e = Refused(_dir);
        Assert.Equal(SyncErrorIds.RdbUnreadable, e.ErrorId);
        Assert.StartsWith($"The RDB file '{_dir}' cannot be opened: ", e.Message);

        SyncException missing = Refused(Path.Combine(_dir, "none.rdb"));
        Assert.Equal(SyncErrorIds.RdbNotFound, missing.ErrorId);
    }

    [Fact]
    public void A_cancelled_check_stops()
    {
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Throws<OperationCanceledException>(() => new RdbFileCheck(Fixtures.RdbPath("debian-redis-7.0.15"), cts.Token).Run());
    }

    internal static string CorpusPath(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", "rdb-corpus", name + ".rdb");
}
