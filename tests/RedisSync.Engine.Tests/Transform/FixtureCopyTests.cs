using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>
/// Every fixture written into a fresh Redis 7.0 and read back with StackExchange.Redis: the
/// target holds exactly the listing (types, values, TTLs, stream groups/consumers/pending
/// entries, functions).
/// </summary>
public sealed class FixtureCopyTests
{
    public static IEnumerable<object[]> Paths()
    {
        foreach (object[] name in Fixtures.RdbNames())
        {
            string n = (string)name[0];
            int version = RdbVersion(n);
            // RDB 9 and 10 load into 7.0: test both RESTORE and commands. Newer files must go by commands.
            yield return new object[] { n, false };
            if (version <= 10) yield return new object[] { n, true };
        }
    }

    private static int RdbVersion(string name)
    {
        byte[] header = File.ReadAllBytes(Fixtures.RdbPath(name)).AsSpan(0, 9).ToArray();
        return int.Parse(System.Text.Encoding.ASCII.GetString(header, 5, 4));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public async Task Fixture_copied_into_redis_70_equals_its_listing(string fixture, bool restore)
    {
        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(Fixtures.RdbPath(fixture), target.Endpoint, useRestore: restore);
        Assert.Null(result.Error);

        if (restore)
        {
            Assert.True(result.Transform.RestoreAllowed);
            Assert.True(result.Transform.KeysRestored > 0, "small collections should have gone by RESTORE");
        }
        else
        {
            Assert.Equal(0, result.Transform.KeysRestored);
        }

        List<string> expected = Listing.Expected(Fixtures.ExpectedPath(fixture), keepFieldTtl: false);
        bool v2 = expected.Any(l => l.StartsWith("  entries-added=", System.StringComparison.Ordinal));
        List<string> actual = Listing.Render(target, withStreamV2: v2);
        Listing.AssertEqual(expected, actual, $"{fixture} via {(restore ? "RESTORE" : "commands")}");

        // Redis 7.0 cannot expire hash fields: each dropped field TTL is counted, none silently.
        int fieldTtls = File.ReadAllLines(Fixtures.ExpectedPath(fixture)).Count(l => l.StartsWith("  \"") && l.Contains(" expire=at:"));
        Assert.Equal(fieldTtls, (int)result.Transform.FieldTtlsDropped);
        Assert.Equal(fieldTtls > 0, result.Warnings.Any(w => w.ErrorId == "FieldTtlDropped"));
    }
}
