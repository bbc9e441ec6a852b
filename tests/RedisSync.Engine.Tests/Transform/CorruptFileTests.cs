using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>
/// A broken RDB stops the copy with an error that says what and where, and the target holds only
/// complete keys (each one equal to its entry in the listing).
/// </summary>
public sealed class CorruptFileTests : IDisposable
{
    private const string Fixture = "debian-redis-7.0.15";
    private readonly string _dir = Directory.CreateTempSubdirectory("redissync-corrupt-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Variant(string name, Func<byte[], byte[]> change)
    {
        string path = Path.Combine(_dir, name + ".rdb");
        File.WriteAllBytes(path, change(File.ReadAllBytes(Fixtures.RdbPath(Fixture))));
        return path;
    }

    private static int IndexOf(byte[] data, string text)
    {
        byte[] needle = Encoding.ASCII.GetBytes(text);
        int at = data.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, $"'{text}' not found in the fixture");
        return at;
    }

    [Theory]
    [InlineData(0.25)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(0.999)]
    public async Task Truncated_file_fails_naming_the_offset_and_leaves_only_complete_keys(double keep)
    {
        string path = Variant("cut", data => data.AsSpan(0, (int)(data.Length * keep)).ToArray());
        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(path, target.Endpoint);
        Assert.NotNull(result.Error);
        Assert.Equal(SyncErrorIds.RdbTruncated, result.Error!.ErrorId);
        Assert.NotNull(result.Error.Offset);
        Assert.Contains("byte", result.Error.Message);
        AssertOnlyCompleteKeys(target);
    }

    [Fact]
    public async Task Flipped_byte_in_a_value_fails_the_checksum_and_says_so()
    {
        string path = Variant("flip-value", data =>
        {
            int at = IndexOf(data, "hello world");
            data[at + 4] ^= 0x20;
            return data;
        });
        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(path, target.Endpoint);
        Assert.NotNull(result.Error);
        Assert.Equal(SyncErrorIds.RdbChecksumMismatch, result.Error!.ErrorId);
        Assert.Contains("checksum", result.Error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Flipped_type_byte_fails_naming_the_unknown_type_and_offset()
    {
        string path = Variant("flip-type", data =>
        {
            int at = IndexOf(data, "\u0005h:big"); // the key's length byte (5) follows its type byte
            data[at - 1] = 99;
            return data;
        });
        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(path, target.Endpoint);
        Assert.NotNull(result.Error);
        Assert.Equal(SyncErrorIds.RdbUnknownType, result.Error!.ErrorId);
        Assert.Contains("99", result.Error.Message);
        Assert.NotNull(result.Error.Offset);
        AssertOnlyCompleteKeys(target);
    }

    [Fact]
    public async Task Wrong_magic_fails_before_anything_is_written()
    {
        string path = Variant("magic", data =>
        {
            data[0] = (byte)'X';
            return data;
        });
        using RedisServer target = RedisServer.Start();
        SnapshotLoad.Result result = await SnapshotLoad.RunAsync(path, target.Endpoint);
        Assert.NotNull(result.Error);
        Assert.Equal(SyncErrorIds.RdbCorrupt, result.Error!.ErrorId);
        Assert.Equal(0L, (long)target.Db().Execute("DBSIZE"));
    }

    /// <summary>Every key on the target equals its block in the listing: no half-written key.</summary>
    private static void AssertOnlyCompleteKeys(RedisServer target)
    {
        Dictionary<string, string> expected = Blocks(Listing.Expected(Fixtures.ExpectedPath(Fixture), keepFieldTtl: false));
        Dictionary<string, string> actual = Blocks(Listing.Render(target));
        foreach ((string key, string block) in actual)
        {
            Assert.True(expected.TryGetValue(key, out string? want), $"unexpected key {key}");
            Assert.Equal(want, block);
        }
        // No leftovers of keys under construction either.
        foreach (int db in new[] { 0, 1, 15 })
        {
            Assert.Empty(target.Client().GetServer(target.Endpoint).Keys(db, "redissync:tmp:*"));
        }
    }

    private static Dictionary<string, string> Blocks(List<string> listing)
    {
        var blocks = new Dictionary<string, string>();
        string? key = null;
        var sb = new StringBuilder();
        foreach (string line in listing.TakeWhile(l => !l.StartsWith("=== functions", StringComparison.Ordinal)))
        {
            if (line.StartsWith("db=", StringComparison.Ordinal))
            {
                if (key != null) blocks[key] = sb.ToString();
                key = line.Substring(0, line.IndexOf(" type=", StringComparison.Ordinal));
                sb.Clear();
            }
            if (key != null && (line.StartsWith("db=", StringComparison.Ordinal) || line.StartsWith("  ", StringComparison.Ordinal))) sb.AppendLine(line);
        }
        if (key != null) blocks[key] = sb.ToString();
        return blocks;
    }
}
