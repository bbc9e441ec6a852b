using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Tests.Transform;
using RedisSync.Engine.Transform;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>One redis-server 7.0 for the corpus tests, emptied before each.</summary>
public sealed class CorpusTarget : IDisposable
{
    public RedisServer Server { get; } = RedisServer.Start();

    /// <summary>Empties every database and the functions, then plants <paramref name="planted"/> keys (db, key, value).</summary>
    public RedisServer Fresh(params (int Db, string Key, string Value)[] planted)
    {
        Server.Db().Execute("FLUSHALL");
        Server.Db().Execute("FUNCTION", "FLUSH");
        foreach (var (db, key, value) in planted) Server.Db(db).StringSet(key, value);
        Server.Db().Execute("CONFIG", "RESETSTAT");
        return Server;
    }

    public void Dispose() => Server.Dispose();
}

/// <summary>
/// The RDB files of other projects' test suites (tests/fixtures/rdb-corpus, README.md there), each
/// with what the reference server did with it. A file it loads is copied from the file into a real
/// Redis 7.0 and must give exactly its listing there, read back with StackExchange.Redis (TTLs
/// included); a file it refuses must fail with a clear error and leave the target as it was.
/// Every file the reference loads holds data that Redis 7.0 can hold (the RDB 11 one, a listpack set,
/// goes by commands), so each is compared on the target, not as a parse listing.
/// </summary>
[RunsLong(23)]
public sealed class RdbCorpusTests : IClassFixture<CorpusTarget>
{
    /// <summary>What each refused file fails with, and a word of why, as the reference's log says it.</summary>
    private static readonly Dictionary<string, (string ErrorId, string Why)> Refusals = new()
    {
        ["hdt__zipmap_big_len"] = (SyncErrorIds.RdbCorrupt, "zipmap header counts 255 pairs but it holds 2"),
        ["rdbcli__rdt_12"] = (SyncErrorIds.RdbDuplicateKey, "Duplicated key found in RDB file"),
        ["rdbtools__redis_40_with_module"] = (SyncErrorIds.TargetFeatureMissing, "values of module type 'ReJSON-RL' (1 key, the first \"foo\")"),
        ["rdbtools__redis_60_with_module_aux"] = (SyncErrorIds.TargetFeatureMissing, "AUX data of module type 'test__rdb'"),
        ["redis__corrupt_empty_keys@891ac8695"] = (SyncErrorIds.RdbCorrupt, "in key \"hash_zipmap\" (type 9 HASH_ZIPMAP): zipmap holds no field"),
        ["redis__corrupt_ziplist"] = (SyncErrorIds.RdbCorrupt, "in key \"key:000000000091\" (type 13 HASH_ZIPLIST)"),
        ["replicator__module"] = (SyncErrorIds.RdbCorrupt, "module type 'hellotype'"),
    };

    private readonly CorpusTarget _target;

    public RdbCorpusTests(CorpusTarget target) => _target = target;

    private static string Dir => Path.Combine(AppContext.BaseDirectory, "fixtures", "rdb-corpus");

    private static IEnumerable<object[]> Named(string verdict) =>
        Directory.GetFiles(Dir, "*." + verdict + ".txt").Select(f => Path.GetFileName(f)).Select(f => f.Substring(0, f.Length - verdict.Length - 5))
            .OrderBy(n => n, StringComparer.Ordinal).Select(n => new object[] { n });

    public static IEnumerable<object[]> Loaded() => Named("expected");

    public static IEnumerable<object[]> Refused() => Named("refused");

    private static string RdbPath(string name) => Path.Combine(Dir, name + ".rdb");

    /// <summary>The listing without its comments and the functions line when there are none (a live render shows no section then).</summary>
    private static List<string> Expected(string name)
    {
        List<string> lines = Listing.Expected(Path.Combine(Dir, name + ".expected.txt"), keepFieldTtl: false);
        lines.Remove("=== functions (0 libraries)");
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static int Version(string name) => int.Parse(System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(RdbPath(name)), 5, 4));

    private static SyncSession Session(string name, RedisServer target, ConflictPolicy onConflict = ConflictPolicy.Stop) =>
        new SyncSession(new SyncOptions
        {
            Name = "corpus",
            RdbPath = RdbPath(name),
            Target = RedisEndpoint.Parse(target.Endpoint),
            Mode = RedisSync.SyncMode.Full,
            OnConflict = onConflict,
        });

    [Fact]
    public void Every_file_of_the_corpus_has_one_verdict_and_every_refusal_an_expected_error()
    {
        string[] files = Directory.GetFiles(Dir, "*.rdb").Select(f => Path.GetFileNameWithoutExtension(f)).ToArray();
        Assert.Equal(51, files.Length);
        foreach (string name in files)
        {
            int verdicts = new[] { "expected", "refused", "noreference" }.Count(v => File.Exists(Path.Combine(Dir, $"{name}.{v}.txt")));
            Assert.True(verdicts == 1, $"{name} has {verdicts} verdicts");
        }
        Assert.Equal(Refusals.Keys.OrderBy(k => k, StringComparer.Ordinal), Refused().Select(r => (string)r[0]));
    }

    [Theory]
    [MemberData(nameof(Loaded))]
    public async Task A_file_the_reference_server_loads_gives_exactly_its_listing_on_a_redis_70_target(string name)
    {
        RedisServer target = _target.Fresh();
        SyncSession session = Session(name, target);
        var warnings = new List<SyncWarning>();
        session.Warning += w => { lock (warnings) warnings.Add(w); };
        RedisSync.SyncStatus done = await session.RunAsync();

        Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
        List<string> expected = Expected(name);
        Listing.AssertEqual(expected, Listing.Render(target), name);
        Assert.Equal(expected.Count(l => l.StartsWith("db=", StringComparison.Ordinal)), done.KeysWritten);
        // Each empty collection is one warning that names it, and each warning counts once.
        long empty = new RdbFileCheck(RdbPath(name)).Run().EmptyKeysSkipped;
        Assert.Equal(empty, warnings.Count(w => w.ErrorId == "EmptyKeySkipped" && w.Key != null));
        Assert.Equal(warnings.Count, done.SkippedErrors);
    }

    /// <summary>The same files rebuilt by commands instead of RESTORE (what a target that cannot load the file's RDB version gets).</summary>
    [Theory]
    [MemberData(nameof(Loaded))]
    public async Task A_file_the_reference_server_loads_gives_its_listing_when_rebuilt_by_commands(string name)
    {
        RedisServer target = _target.Fresh();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(RdbPath(name), target.Endpoint, useRestore: false);
        Assert.Null(result.Error);
        Assert.Equal(0, result.Transform.KeysRestored);
        Listing.AssertEqual(Expected(name), Listing.Render(target), name + " by commands");
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_file_the_reference_server_refuses_fails_clearly_and_leaves_the_target_untouched(string name)
    {
        RedisServer target = _target.Fresh((0, "planted", "before the run"), (7, "planted:7", "also before"));
        SyncSession session = Session(name, target);
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());

        (string id, string why) = Refusals[name];
        Assert.Equal(id, e.ErrorId);
        Assert.Contains(why, e.Message);
        Assert.Contains(RdbPath(name), e.Message);
        Assert.Equal(RedisSync.SyncPhase.Failed, session.GetStatus().Phase);
        Assert.Equal(id, session.GetStatus().LastErrorId);
        AssertUntouched(target);
    }

    /// <summary>No reference server loads Valkey 9's format; the file is refused as a version this parser does not read.</summary>
    [Fact]
    public async Task A_valkey_9_file_is_refused_as_an_unsupported_version_and_leaves_the_target_untouched()
    {
        RedisServer target = _target.Fresh((0, "planted", "before the run"), (7, "planted:7", "also before"));
        SyncException e = await Assert.ThrowsAsync<SyncException>(() => Session("hdt__valkey_hash2_with_hfe", target).RunAsync());
        Assert.Equal(SyncErrorIds.RdbUnsupportedVersion, e.ErrorId);
        Assert.Contains("VALKEY080", e.Message);
        AssertUntouched(target);
    }

    [Fact]
    public async Task A_truncated_file_leaves_the_target_untouched_and_says_where_it_ends()
    {
        string dir = Directory.CreateTempSubdirectory("redissync-corpus-").FullName;
        try
        {
            byte[] file = File.ReadAllBytes(RdbPath("redis__test@5c633b7c0"));
            string path = Path.Combine(dir, "cut.rdb");
            File.WriteAllBytes(path, file.AsSpan(0, file.Length * 3 / 4).ToArray());
            RedisServer target = _target.Fresh((0, "planted", "before the run"), (7, "planted:7", "also before"));
            var session = new SyncSession(new SyncOptions { Name = "cut", RdbPath = path, Target = RedisEndpoint.Parse(target.Endpoint), Mode = RedisSync.SyncMode.Full });
            SyncException e = await Assert.ThrowsAsync<SyncException>(() => session.RunAsync());
            Assert.Equal(SyncErrorIds.RdbTruncated, e.ErrorId);
            Assert.Equal(file.Length * 3 / 4, e.Offset);
            Assert.Contains($"'{path}'", e.Message);
            AssertUntouched(target);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A key the target has already, kept by -OnConflict Skip: one skipped command, one warning, SkippedErrors 1.</summary>
    [Fact]
    public async Task A_skipped_command_counts_once_in_the_status()
    {
        RedisServer target = _target.Fresh((0, "regular_set", "the target's own"));
        SyncSession session = Session("rdbtools__regular_set", target, ConflictPolicy.Skip);
        var warnings = new List<SyncWarning>();
        session.Warning += w => { lock (warnings) warnings.Add(w); };
        RedisSync.SyncStatus done = await session.RunAsync();
        Assert.Equal(RedisSync.SyncPhase.Completed, done.Phase);
        Assert.Equal("the target's own", (string?)target.Db().StringGet("regular_set"));
        SyncWarning skipped = Assert.Single(warnings);
        Assert.Equal(SyncErrorIds.TargetBusyKey, skipped.ErrorId);
        Assert.Equal(1, done.SkippedErrors);
    }

    /// <summary>Only the two planted keys, with their values, and no function: nothing was written.</summary>
    private static void AssertUntouched(RedisServer target)
    {
        IServer admin = target.Client().GetServer(target.Endpoint);
        var keys = Enumerable.Range(0, 16).SelectMany(db => admin.Keys(db, "*").Select(k => $"{db}:{k}")).OrderBy(k => k, StringComparer.Ordinal);
        Assert.Equal(new[] { "0:planted", "7:planted:7" }, keys);
        Assert.Equal("before the run", (string?)target.Db(0).StringGet("planted"));
        Assert.Equal("also before", (string?)target.Db(7).StringGet("planted:7"));
        Assert.Empty((RedisResult[])target.Db().Execute("FUNCTION", "LIST")!);
        // The target saw no write command, failed or not.
        string stats = (string)target.Db().Execute("INFO", "commandstats")!;
        foreach (string write in new[] { "restore", "set", "del", "rpush", "sadd", "zadd", "hset", "xadd", "eval", "rename", "flushall", "flushdb", "function|load", "pexpireat", "exec" })
        {
            Assert.DoesNotContain($"cmdstat_{write}:", stats);
        }
    }
}
