using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>A redis-server 7.0 that turns function code back into FUNCTION LIST's view of it.</summary>
public sealed class FunctionServer : IDisposable
{
    public RedisServer Server { get; } = RedisServer.Start();

    public void Dispose() => Server.Dispose();

    /// <summary>The "=== functions" section for libraries with this code, rendered from FUNCTION LIST WITHCODE.</summary>
    public List<string> Render(IReadOnlyList<byte[]> codes)
    {
        IDatabase db = Server.Db();
        db.Execute("FUNCTION", "FLUSH");
        foreach (byte[] code in codes) db.Execute("FUNCTION", "LOAD", code);
        var libraries = new List<(string Name, List<string> Lines)>();
        foreach (RedisResult library in (RedisResult[])db.Execute("FUNCTION", "LIST", "WITHCODE")!)
        {
            Dictionary<string, RedisResult> lib = Map(library);
            var lines = new List<string> { $"library name={ListingVisitor.Quote((byte[])lib["library_name"]!)} engine={(string)lib["engine"]!}" };
            var functions = ((RedisResult[])lib["functions"]!).Select(Map).OrderBy(f => (string)f["name"]!, StringComparer.Ordinal);
            foreach (Dictionary<string, RedisResult> f in functions)
            {
                string flags = string.Join(",", ((RedisResult[])f["flags"]!).Select(x => (string)x!));
                lines.Add($"  function name={ListingVisitor.Quote((byte[])f["name"]!)} flags=[{flags}]");
            }
            lines.Add("  code=" + ListingVisitor.Quote((byte[])lib["library_code"]!));
            libraries.Add(((string)lib["library_name"]!, lines));
        }
        var section = new List<string> { "", $"=== functions ({libraries.Count} libraries)" };
        foreach (var (_, lines) in libraries.OrderBy(l => l.Name, StringComparer.Ordinal)) section.AddRange(lines);
        return section;
    }

    private static Dictionary<string, RedisResult> Map(RedisResult result)
    {
        var items = (RedisResult[])result!;
        var map = new Dictionary<string, RedisResult>();
        for (int i = 0; i + 1 < items.Length; i += 2) map[(string)items[i]!] = items[i + 1];
        return map;
    }
}

public sealed class FixtureListingTests : IClassFixture<FunctionServer>
{
    private static readonly Regex EncodingToken = new(@" encoding=\S+", RegexOptions.Compiled);
    private readonly FunctionServer _functions;

    public FixtureListingTests(FunctionServer functions) => _functions = functions;

    /// <summary>
    /// What each real server saved parses to exactly its expected.txt. Left out of the comparison,
    /// because the file does not hold them: <c>encoding=</c> on key lines (OBJECT ENCODING of the
    /// saving server) and the <c>radix-tree-nodes=</c> line (the in-memory radix tree's shape), and the
    /// header's server and expiry-source comments. The functions section is rendered by loading each
    /// library the file holds into a real redis-server 7.0 and reading FUNCTION LIST WITHCODE back.
    /// </summary>
    [Theory]
    [MemberData(nameof(Fixtures.RdbNames), MemberType = typeof(Fixtures))]
    public void Every_fixture_parses_to_its_expected_listing(string fixture)
    {
        string path = Fixtures.RdbPath(fixture);
        var visitor = new ListingVisitor();
        RdbParser.ParseFile(path, visitor);
        Assert.True(visitor.Ended, "OnEnd was not called");

        byte[] file = File.ReadAllBytes(path);
        var actual = new List<string>
        {
            $"# rdb: version {visitor.Version:D4}, {file.Length} bytes, sha256 {Convert.ToHexString(SHA256.HashData(file)).ToLowerInvariant()}",
            visitor.TypeCountsLine(),
        };
        actual.AddRange(visitor.KeyLines());
        if (visitor.Functions.Count > 0) actual.AddRange(_functions.Render(visitor.Functions));

        var expected = new List<string>();
        foreach (string line in File.ReadAllLines(Fixtures.ExpectedPath(fixture)))
        {
            if (line.StartsWith("# rdb:", StringComparison.Ordinal) || line.StartsWith("# rdb object types:", StringComparison.Ordinal)) expected.Add(line);
            else if (line.StartsWith("#", StringComparison.Ordinal)) continue;
            else if (line.StartsWith("  radix-tree-nodes=", StringComparison.Ordinal)) continue;
            else expected.Add(line.StartsWith("db=", StringComparison.Ordinal) ? EncodingToken.Replace(line, "", 1) : line);
        }

        AssertSameLines(expected, actual);
    }

    [Theory]
    [MemberData(nameof(Fixtures.RdbNames), MemberType = typeof(Fixtures))]
    public void Every_fixture_parses_to_the_same_listing_without_capturing_or_with_tiny_chunks(string fixture)
    {
        var reference = new ListingVisitor();
        RdbParser.ParseFile(Fixtures.RdbPath(fixture), reference);
        var other = new ListingVisitor();
        RdbParser.ParseFile(Fixtures.RdbPath(fixture), other, new RdbParserOptions { CaptureRawValues = false, ChunkSize = 7 });
        AssertSameLines(reference.KeyLines(), other.KeyLines());
    }

    internal static void AssertSameLines(IReadOnlyList<string> expected, IReadOnlyList<string> actual)
    {
        int n = Math.Min(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            if (expected[i] != actual[i])
            {
                var context = new StringBuilder();
                for (int j = Math.Max(0, i - 3); j < Math.Min(n, i + 3); j++) context.Append($"\n  {j}: exp {Cut(expected[j])}\n  {j}: got {Cut(actual[j])}");
                Assert.Fail($"line {i} differs:\nexpected: {Cut(expected[i])}\nactual:   {Cut(actual[i])}{context}");
            }
        }
        if (expected.Count != actual.Count)
        {
            Assert.Fail($"expected {expected.Count} lines, got {actual.Count}; first extra: {Cut(expected.Count > n ? expected[n] : actual[n])}");
        }
    }

    private static string Cut(string s) => s.Length > 300 ? s.Substring(0, 300) + "…" : s;
}
