using System;
using System.Collections.Generic;
using System.Linq;
using System.Security;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Tests.Sync;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Access;

/// <summary>
/// Every link over TLS, with mutual TLS on both servers: the replica link (snapshot, stream, a partial
/// resync after the link is cut), the writer and the control connections, the compare and the repair.
/// </summary>
public sealed class TlsLinkTests
{
    private static readonly TestCertificates Certificates = TestCertificates.Shared;

    /// <summary>The test CA trusted, the client certificate shown (PFX for one side, PEM for the other).</summary>
    private static RedisEndpoint Endpoint(RedisServer server, bool pfx)
    {
        var password = new SecureString();
        foreach (char c in TestCertificates.PfxPassword) password.AppendChar(c);
        TlsOptions tls = pfx
            ? new TlsOptions { CertificateAuthorityPath = Certificates.CaPath, ClientCertificatePath = Certificates.ClientPfx, ClientCertificatePassword = password }
            : new TlsOptions { CertificateAuthorityPath = Certificates.CaPath, ClientCertificatePath = Certificates.ClientCertificate, ClientKeyPath = Certificates.ClientKey };
        return RedisEndpoint.Parse($"rediss://localhost:{server.Port}").WithTls(false, tls);
    }

    [Fact]
    public async Task A_sync_from_a_tls_source_into_a_tls_target_copies_everything_then_follows_writes_across_a_cut_link()
    {
        using RedisServer source = RedisServer.StartTls("server", "yes", "--repl-diskless-sync-delay", "0");
        using RedisServer target = RedisServer.StartTls("server", "yes");
        source.Shell($"bash '{Fixtures.PopulateScript}' $PORT '{source.CliProgram()}' >/dev/null 2>&1");
        source.Db().ScriptEvaluate("for i = 1, 30000 do redis.call('RPUSH', KEYS[1], string.rep('v', 40) .. i) end", new RedisKey[] { "list:big" });
        Assert.True((long)source.Db().Execute("DBSIZE") > 40, "the fixture data set was loaded over TLS");
        var options = new SyncOptions
        {
            Name = "tls",
            Source = Endpoint(source, pfx: true),
            Target = Endpoint(target, pfx: false),
            ReconnectTimeout = TimeSpan.FromSeconds(60),
        };
        await using var sync = new SyncHarness(options);
        await sync.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);

        IDatabase db = source.Db();
        db.StringSet("after:1", "x", TimeSpan.FromMinutes(5));
        db.HashSet("h:small", "new", "field");
        db.ListRightPush("list:big", "tail");
        source.Db(1).StringIncrement("db1:counter", 5);
        await sync.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);

        source.Cli("CLIENT", "KILL", "TYPE", "replica");
        db.StringSet("after:cut", "y");
        db.KeyDelete("after:1");
        await sync.WaitCaughtUpAsync(source);
        SyncHarness.AssertSame(source, target);

        RedisSync.SyncStatus final = await sync.StopAsync();
        Assert.Equal(RedisSync.SyncPhase.Stopped, final.Phase);
        Assert.Equal(1, final.FullResyncs);
        Assert.True(final.PartialResyncs >= 1, $"{final.PartialResyncs} partial resyncs");
        Assert.Equal(SyncHarness.MasterOffset(source), final.AppliedOffset);
    }

    [Fact]
    public async Task Compare_and_repair_over_tls_make_the_target_equal_to_the_source()
    {
        using RedisServer source = RedisServer.StartTls("server", "yes");
        using RedisServer target = RedisServer.StartTls("server", "yes");
        source.Db().StringSet("same", "1");
        target.Db().StringSet("same", "1");
        source.Db().StringSet("changed", "new", TimeSpan.FromMinutes(10));
        target.Db().StringSet("changed", "old");
        source.Db().ScriptEvaluate("for i = 1, 5000 do redis.call('HSET', KEYS[1], 'f' .. i, i) end", new RedisKey[] { "hash:missing" });
        target.Db().StringSet("extra", "only here");
        var full = new CompareOptions { Mode = CompareMode.Full, RecheckDelay = TimeSpan.Zero };

        var differences = new List<KeyDifference>();
        CompareSummary before = await new DataComparer(Endpoint(source, true), Endpoint(target, false), full).RunAsync(differences.Add);
        Assert.False(before.IsEqual);
        Assert.Equal(new[] { "changed", "extra", "hash:missing" }, differences.Select(d => d.Key).OrderBy(k => k));

        using (DataRepairer repairer = await DataRepairer.ConnectAsync(Endpoint(source, true), Endpoint(target, false), new RepairOptions { RemoveExtra = true }))
        {
            foreach (KeyDifference difference in differences) await repairer.RepairAsync(difference);
        }

        var after = new List<KeyDifference>();
        CompareSummary summary = await new DataComparer(Endpoint(source, false), Endpoint(target, true), full).RunAsync(after.Add);
        Assert.Empty(after);
        Assert.True(summary.IsEqual);
        Assert.Equal("new", (string?)target.Db().StringGet("changed"));
        Assert.InRange(target.Db().KeyTimeToLive("changed")!.Value.TotalMinutes, 9, 10);
        Assert.Equal(5000, target.Db().HashLength("hash:missing"));
        Assert.False(target.Db().KeyExists("extra"));
    }
}
