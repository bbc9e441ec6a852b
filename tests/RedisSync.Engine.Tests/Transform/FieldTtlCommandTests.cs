using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using RedisSync.Engine.Transform;
using Xunit;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>
/// Hash-field TTLs for a target that can hold them (Redis 7.4+). No 7.4 server can be installed
/// on the build machines, so this checks the commands the transform writes for one, against the
/// 7.4.1 fixture's listing; the 7.0 copy tests check that they are dropped (and counted) there.
/// </summary>
public sealed class FieldTtlCommandTests
{
    [Fact]
    public void Field_ttls_become_hpexpireat_with_the_absolute_time_of_each_field()
    {
        var sink = new RecordingSink();
        var transform = new RdbToCommands(sink, new TransformOptions(ServerInfo.Parse("redis_version:7.4.1\r\n")) { TargetIsEmpty = true, UseRestore = false });
        RdbParser.ParseFile(Fixtures.RdbPath("redis-7.4.1"), transform);
        Assert.Equal(0, transform.FieldTtlsDropped);

        var expected = new HashSet<string>();
        string? key = null;
        foreach (string line in System.IO.File.ReadAllLines(Fixtures.ExpectedPath("redis-7.4.1")))
        {
            if (line.StartsWith("db=", StringComparison.Ordinal)) key = line.Split('"')[1];
            else if (line.StartsWith("  \"", StringComparison.Ordinal) && line.Contains(" expire=at:"))
            {
                string field = line.Split('"')[1];
                string at = line.Substring(line.LastIndexOf(':') + 1);
                expected.Add($"HPEXPIREAT {key} {at} FIELDS 1 {field}");
            }
        }
        var written = sink.Commands.Where(c => c.StartsWith("HPEXPIREAT ", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(9, expected.Count);
        Assert.Equal(expected, written);

        // Each HPEXPIREAT comes after the HSET that created its field.
        foreach (string command in written)
        {
            string field = command.Split(' ').Last();
            int set = sink.Commands.FindIndex(c => c.StartsWith("HSET " + command.Split(' ')[1] + " ", StringComparison.Ordinal) && c.Split(' ').Contains(field));
            Assert.True(set >= 0 && set < sink.Commands.IndexOf(command), command);
        }
    }
}
