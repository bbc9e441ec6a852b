using System;
using System.Collections.Generic;
using System.IO;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>The RDB fixtures copied into tests/fixtures/rdb (written by real servers, with their listings).</summary>
public static class Fixtures
{
    public static string RdbDir => Path.Combine(AppContext.BaseDirectory, "fixtures", "rdb");

    /// <summary>Names of the fixture folders (redis-6.2.16, debian-redis-7.0.15, …).</summary>
    public static IEnumerable<object[]> RdbNames()
    {
        foreach (string dir in Directory.GetDirectories(RdbDir))
        {
            if (File.Exists(Path.Combine(dir, "dump.rdb"))) yield return new object[] { Path.GetFileName(dir) };
        }
    }

    public static string RdbPath(string name) => Path.Combine(RdbDir, name, "dump.rdb");

    public static string ExpectedPath(string name) => Path.Combine(RdbDir, name, "expected.txt");

    public static string PopulateScript => Path.Combine(RdbDir, "populate.sh");
}
