using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Tests.Sync;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Access;

/// <summary>
/// The ACL users of about_RedisSync ("ACL users"), created from the documented lines themselves: a
/// full and incremental sync under a mixed workload, the status and checkpoint cmdlets' calls, a
/// compare and a repair run as exactly those users, and the servers deny them nothing (ACL LOG stays
/// empty, so no refused command was quietly worked around either).
/// </summary>
[RunsLong(31)]
public sealed class AclUserTests
{
    private const string Password = "acl-S3cret!";

    /// <summary>The documented rules of each user, by name, with the test's password.</summary>
    private static readonly Lazy<Dictionary<string, string[]>> Users = new Lazy<Dictionary<string, string[]>>(ReadDocumentedUsers);

    private static Dictionary<string, string[]> ReadDocumentedUsers()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "docs", "en-US", "about_RedisSync.md"))) dir = Path.GetDirectoryName(dir) ?? throw new FileNotFoundException("docs/en-US/about_RedisSync.md");
        string about = File.ReadAllText(Path.Combine(dir, "docs", "en-US", "about_RedisSync.md"));
        int start = about.IndexOf("## ACL users", StringComparison.Ordinal);
        int end = about.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        string section = about.Substring(start, end - start);
        return Regex.Matches(section, @"^ACL SETUSER (redissync-[\w-]+) (.+)$", RegexOptions.Multiline)
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim().Split(' ').Select(rule => rule == ">password" ? ">" + Password : rule).ToArray());
    }

    private static void Create(RedisServer server, params string[] users)
    {
        foreach (string user in users) server.Cli(new[] { "ACL", "SETUSER", user }.Concat(Users.Value[user]).ToArray());
        server.Cli("ACL", "LOG", "RESET");
    }

    private static RedisEndpoint As(RedisServer server, string user) => RedisEndpoint.Parse(server.Endpoint).WithCredential(user, Password);

    /// <summary>Nothing was denied: ACL LOG lists every command, key or channel an ACL refused.</summary>
    private static void AssertNothingDenied(RedisServer server)
    {
        var entries = (RedisResult[])server.Db().Execute("ACL", "LOG")!;
        Assert.True(entries.Length == 0, $"the server on port {server.Port} denied: {server.Cli("ACL", "LOG")}");
    }

    [Fact]
    public void The_documentation_defines_the_four_users_without_blanket_permissions()
    {
        Assert.Equal(new[] { "redissync-reader", "redissync-repair", "redissync-scan", "redissync-source", "redissync-target" }, Users.Value.Keys.OrderBy(k => k));
        Assert.All(Users.Value.Values, rules => Assert.Contains("-@all", rules));
        Assert.All(Users.Value.Values, rules => Assert.DoesNotContain(rules, r => r == "+@all" || r == "allcommands" || r == "+@admin" || r == "+@dangerous"));
        Assert.DoesNotContain(Users.Value["redissync-source"], r => r.StartsWith('~') || r.StartsWith('&'));
    }

    [Fact]
    public async Task A_sync_runs_full_and_incremental_as_the_documented_source_and_target_users()
    {
        using RedisServer source = RedisServer.Start("--repl-backlog-size", "64mb", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.Start();
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT >/dev/null 2>&1");
        target.Db().StringSet("left:over", "flushed by -FlushTarget");
        Create(source, "redissync-source");
        Create(target, "redissync-target");
        var options = new SyncOptions
        {
            Name = "acl",
            Source = As(source, "redissync-source"),
            Target = As(target, "redissync-target"),
            FlushTarget = true,
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };

        var workload = new Workload(source);
        await using (var sync = new SyncHarness(options))
        {
            await sync.WaitCaughtUpAsync(source);
            SyncHarness.AssertSame(source, target);
            await workload.RunAsync(TimeSpan.FromSeconds(4), CancellationToken.None);
            await WorkloadSyncTests.FinishAsync(source, target, sync, workload);
            Assert.Equal(RedisSync.SyncPhase.Stopped, (await sync.StopAsync()).Phase);
        }

        Assert.True(workload.Operations > 1000, $"the workload ran only {workload.Operations} operations");
        RedisSync.SyncStatus checkpoint = await SyncCheckpointStatus.ReadAsync(options.Target, "acl", CancellationToken.None);
        Assert.Equal(SyncHarness.MasterOffset(source), checkpoint.AppliedOffset);
        // The stopped sync released its lease: only the checkpoint is left to remove.
        Assert.Equal(1, await CheckpointRemoval.RemoveAsync(options.Target, "acl", force: false, CancellationToken.None));
        Assert.False(target.Db().KeyExists("redissync:checkpoint:acl"));
        AssertNothingDenied(source);
        AssertNothingDenied(target);
    }

    [Fact]
    public async Task A_scan_sync_runs_as_the_documented_scan_user_and_the_target_user_with_read()
    {
        using RedisServer source = RedisServer.Start("--rename-command", "PSYNC", "", "--rename-command", "SYNC", "", "--notify-keyspace-events", "KA");
        using RedisServer target = RedisServer.Start();
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT >/dev/null 2>&1");
        source.Db().ScriptEvaluate("for i = 1, 2000 do redis.call('HSET', KEYS[1], 'f' .. i, string.rep('v', 5000)) end", new RedisKey[] { "hash:big" });
        Create(source, "redissync-scan");
        target.Cli(new[] { "ACL", "SETUSER", "redissync-target" }.Concat(Users.Value["redissync-target"]).Append("+@read").ToArray());
        target.Cli("ACL", "LOG", "RESET");
        var options = new SyncOptions
        {
            Name = "acl-scan",
            Source = As(source, "redissync-scan"),
            Target = As(target, "redissync-target"),
            SourceMode = RedisSync.SourceMode.Scan,
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };
        await using (var sync = new SyncHarness(options))
        {
            await sync.WaitPhaseAsync(RedisSync.SyncPhase.Streaming);
            source.Db().StringSet("later", "1");
            source.Db().HashSet("hash:big", "f1", "changed");
            await SyncHarness.WaitUntilAsync(() => Listing.Render(source).SequenceEqual(Listing.Render(target)), "the target to hold what the source holds");
            Assert.Equal(RedisSync.SyncPhase.Stopped, (await sync.StopAsync()).Phase);
        }
        SyncHarness.AssertSame(source, target);
        AssertNothingDenied(source);
        AssertNothingDenied(target);
    }

    [Fact]
    public async Task Compare_and_repair_run_as_the_documented_reader_and_repair_users()
    {
        using RedisServer source = RedisServer.Start();
        using RedisServer target = RedisServer.Start();
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT >/dev/null 2>&1");
        source.Db().ScriptEvaluate("for i = 1, 20000 do redis.call('HSET', KEYS[1], 'f' .. i, i) end", new RedisKey[] { "hash:big" });
        target.Db().StringSet("extra", "only here");
        target.Db(2).StringSet("s:short", "different");
        Create(source, "redissync-reader");
        Create(target, "redissync-reader", "redissync-repair");
        var full = new CompareOptions { Mode = CompareMode.Full, RecheckDelay = TimeSpan.Zero };

        var differences = new List<KeyDifference>();
        CompareSummary before = await new DataComparer(As(source, "redissync-reader"), As(target, "redissync-reader"), full).RunAsync(differences.Add);
        Assert.False(before.IsEqual);
        Assert.Contains(differences, d => d.Key == "extra" && d.Status == KeyStatus.Extra);
        Assert.Contains(differences, d => d.Key == "hash:big" && d.Status == KeyStatus.Missing);

        // A low RESTORE limit: big keys are rebuilt with the data commands, the others restored.
        var repair = new RepairOptions { RemoveExtra = true, RestoreLimitBytes = 64 * 1024, ChunkSize = 500 };
        var actions = new HashSet<RepairAction>();
        using (DataRepairer repairer = await DataRepairer.ConnectAsync(As(source, "redissync-reader"), As(target, "redissync-repair"), repair))
        {
            foreach (KeyDifference difference in differences) actions.Add((await repairer.RepairAsync(difference)).Action);
        }
        Assert.Equal(new[] { RepairAction.Restored, RepairAction.Rewritten, RepairAction.Removed }.OrderBy(a => a), actions.OrderBy(a => a));

        var after = new List<KeyDifference>();
        CompareSummary summary = await new DataComparer(As(source, "redissync-reader"), As(target, "redissync-reader"), full).RunAsync(after.Add);
        Assert.Empty(after);
        Assert.True(summary.IsEqual);
        // Every key with its TTL, as an independent client reads it (functions are not keys: a repair leaves them).
        Listing.AssertEqual(KeysOnly(source), KeysOnly(target), "target vs source");
        AssertNothingDenied(source);
        AssertNothingDenied(target);
    }

    private static List<string> KeysOnly(RedisServer server)
    {
        List<string> lines = Listing.Render(server).TakeWhile(line => !line.StartsWith("=== functions", StringComparison.Ordinal)).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
