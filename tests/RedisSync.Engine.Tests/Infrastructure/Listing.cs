using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using StackExchange.Redis;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>
/// The fixtures' listing format (tests/fixtures/rdb/README.md), rendered from a live server with
/// an independent client (StackExchange.Redis), and the expected listings reduced to what a live
/// server can show.
/// </summary>
public static class Listing
{
    /// <summary>
    /// Renders every user key of a live server (RedisSync's own keys left out) plus its functions.
    /// <paramref name="withStreamV2"/> renders max-deleted-entry-id, entries-added and
    /// recorded-first-entry-id, and entries-read/lag of groups (Redis 7.0+).
    /// </summary>
    /// <paramref name="withEntriesRead"/> renders the groups' entries-read and lag, which Redis 7.0's
    /// replication stream does not carry (XREADGROUP propagates as XCLAIM … LASTID, so a native
    /// replica shows them as unknown too): leave them out when comparing after streamed writes.
    public static List<string> Render(RedisServer server, bool withStreamV2 = true, bool withFieldTtl = false, bool withEntriesRead = true)
    {
        var lines = new List<string>();
        IServer admin = server.Client().GetServer(server.Endpoint);
        foreach (int db in Enumerable.Range(0, 16))
        {
            IDatabase d = server.Db(db);
            var keys = admin.Keys(db, "*", 1000).Select(k => (byte[])k!)
                .Where(k => !Encoding.ASCII.GetString(k).StartsWith("redissync:", StringComparison.Ordinal))
                .OrderBy(k => k, ByteComparer.Instance).ToList();
            if (keys.Count == 0) continue;
            if (lines.Count > 0) lines.Add("");
            lines.Add($"=== db {db} ({keys.Count} keys)");
            foreach (byte[] key in keys) RenderKey(d, db, key, lines, withStreamV2, withFieldTtl, withEntriesRead);
        }
        RenderFunctions(server.Db(0), lines);
        return lines;
    }

    private static void RenderKey(IDatabase d, int db, byte[] key, List<string> lines, bool v2, bool fieldTtl, bool entriesRead)
    {
        string type = (string)d.Execute("TYPE", key)!;
        long expireAt = (long)d.Execute("PEXPIRETIME", key);
        lines.Add($"db={db} key={Value(key)} type={type} expire={(expireAt < 0 ? "none" : "at:" + expireAt)}");
        switch (type)
        {
            case "string":
            {
                byte[] value = (byte[])d.Execute("GET", key)!;
                lines.Add($"  strlen={value.Length}");
                lines.Add($"  value={Value(value)}");
                break;
            }
            case "list":
            {
                var items = (RedisResult[])d.Execute("LRANGE", key, 0, -1)!;
                lines.Add($"  len={items.Length}");
                for (int i = 0; i < items.Length; i++) lines.Add($"  [{i}] {Value((byte[])items[i]!)}");
                break;
            }
            case "set":
            {
                var members = ((RedisResult[])d.Execute("SMEMBERS", key)!).Select(m => (byte[])m!).OrderBy(m => m, ByteComparer.Instance).ToList();
                lines.Add($"  card={members.Count}");
                foreach (byte[] m in members) lines.Add($"  member {Value(m)}");
                break;
            }
            case "zset":
            {
                var items = (RedisResult[])d.Execute("ZRANGE", key, 0, -1, "WITHSCORES")!;
                lines.Add($"  card={items.Length / 2}");
                for (int i = 0; i < items.Length; i += 2)
                {
                    lines.Add($"  {Value((byte[])items[i]!)} {Score(ParseScore((string)items[i + 1]!))}");
                }
                break;
            }
            case "hash":
            {
                var items = (RedisResult[])d.Execute("HGETALL", key)!;
                var pairs = new List<(byte[] F, byte[] V)>();
                for (int i = 0; i < items.Length; i += 2) pairs.Add(((byte[])items[i]!, (byte[])items[i + 1]!));
                lines.Add($"  len={pairs.Count}");
                foreach (var (f, v) in pairs.OrderBy(p => p.F, ByteComparer.Instance))
                {
                    string line = $"  {Value(f)}={Value(v)}";
                    if (fieldTtl)
                    {
                        var t = (RedisResult[])d.Execute("HPEXPIRETIME", key, "FIELDS", 1, f)!;
                        long at = (long)t[0];
                        if (at > 0) line += $" expire=at:{at}";
                    }
                    lines.Add(line);
                }
                break;
            }
            case "stream":
                RenderStream(d, key, lines, v2, entriesRead);
                break;
            default:
                lines.Add($"  (type {type} not rendered)");
                break;
        }
    }

    private static void RenderStream(IDatabase d, byte[] key, List<string> lines, bool v2, bool entriesRead)
    {
        Dictionary<string, RedisResult> info = Map((RedisResult[])d.Execute("XINFO", "STREAM", key, "FULL", "COUNT", 0)!);
        lines.Add($"  length={(long)info["length"]}");
        lines.Add($"  last-generated-id=\"{(string)info["last-generated-id"]!}\"");
        if (v2)
        {
            lines.Add($"  max-deleted-entry-id=\"{(string)info["max-deleted-entry-id"]!}\"");
            lines.Add($"  entries-added={(long)info["entries-added"]}");
            lines.Add($"  recorded-first-entry-id=\"{(string)info["recorded-first-entry-id"]!}\"");
        }
        var groups = (RedisResult[])info["groups"]!;
        lines.Add($"  groups={groups.Length}");
        foreach (RedisResult entry in (RedisResult[])info["entries"]!)
        {
            var pair = (RedisResult[])entry!;
            var fields = (RedisResult[])pair[1]!;
            var sb = new StringBuilder($"  entry {(string)pair[0]!}");
            for (int i = 0; i < fields.Length; i += 2) sb.Append(' ').Append(Value((byte[])fields[i]!)).Append('=').Append(Value((byte[])fields[i + 1]!));
            lines.Add(sb.ToString());
        }
        foreach (RedisResult g in groups.OrderBy(g => (string)Map((RedisResult[])g!)["name"]!, StringComparer.Ordinal))
        {
            Dictionary<string, RedisResult> group = Map((RedisResult[])g!);
            var consumers = (RedisResult[])group["consumers"]!;
            string line = $"  group {Value((byte[])group["name"]!)} consumers={consumers.Length} pending={(long)group["pel-count"]} last-delivered-id=\"{(string)group["last-delivered-id"]!}\"";
            if (v2 && entriesRead)
            {
                line += $" entries-read={NilOr(group["entries-read"])} lag={NilOr(group["lag"])}";
            }
            lines.Add(line);
            foreach (RedisResult p in (RedisResult[])group["pending"]!)
            {
                var nack = (RedisResult[])p!;
                lines.Add($"    pending {(string)nack[0]!} consumer={Value((byte[])nack[1]!)} deliveries={(long)nack[3]}");
            }
            foreach (RedisResult c in consumers.OrderBy(c => (string)Map((RedisResult[])c!)["name"]!, StringComparer.Ordinal))
            {
                Dictionary<string, RedisResult> consumer = Map((RedisResult[])c!);
                lines.Add($"    consumer {Value((byte[])consumer["name"]!)} pending={(long)consumer["pel-count"]}");
            }
        }
    }

    private static void RenderFunctions(IDatabase d, List<string> lines)
    {
        var libs = (RedisResult[])d.Execute("FUNCTION", "LIST", "WITHCODE")!;
        if (libs.Length == 0) return;
        lines.Add("");
        lines.Add($"=== functions ({libs.Length} libraries)");
        foreach (RedisResult l in libs.OrderBy(l => (string)Map((RedisResult[])l!)["library_name"]!, StringComparer.Ordinal))
        {
            Dictionary<string, RedisResult> lib = Map((RedisResult[])l!);
            lines.Add($"library name={Value((byte[])lib["library_name"]!)} engine={(string)lib["engine"]!}");
            foreach (RedisResult f in ((RedisResult[])lib["functions"]!).OrderBy(f => (string)Map((RedisResult[])f!)["name"]!, StringComparer.Ordinal))
            {
                Dictionary<string, RedisResult> fn = Map((RedisResult[])f!);
                string flags = string.Join(",", ((RedisResult[])fn["flags"]!).Select(x => (string)x!));
                lines.Add($"  function name={Value((byte[])fn["name"]!)} flags=[{flags}]");
            }
            lines.Add($"  code={Value((byte[])lib["library_code"]!)}");
        }
    }

    /// <summary>
    /// An expected.txt reduced to what a live server shows: comments dropped; from key lines the
    /// facts of the saving server's memory or of the file (encoding, rdbtype, rdbstr, quicklist
    /// nodes); the radix-tree lines (a stream rebuilt by commands may lay out its nodes
    /// differently); field TTLs when the target cannot hold them.
    /// </summary>
    public static List<string> Expected(string path, bool keepFieldTtl)
    {
        var result = new List<string>();
        foreach (string raw in File.ReadAllLines(path))
        {
            if (raw.StartsWith("#", StringComparison.Ordinal)) continue;
            string line = raw;
            if (line.StartsWith("db=", StringComparison.Ordinal))
            {
                line = Regex.Replace(line, @" (encoding|rdbtype|rdbstr|quicklist_nodes)=\S+", "");
            }
            if (line.StartsWith("  radix-tree-", StringComparison.Ordinal)) continue;
            if (!keepFieldTtl) line = Regex.Replace(line, @"^(  "".*"") expire=at:\d+$", "$1");
            result.Add(line);
        }
        while (result.Count > 0 && result[0].Length == 0) result.RemoveAt(0);
        while (result.Count > 0 && result[^1].Length == 0) result.RemoveAt(result.Count - 1);
        return result;
    }

    /// <summary>Asserts two listings are equal, showing the first lines that differ.</summary>
    public static void AssertEqual(IReadOnlyList<string> expected, IReadOnlyList<string> actual, string what)
    {
        int n = Math.Min(expected.Count, actual.Count);
        for (int i = 0; i < n; i++)
        {
            if (expected[i] != actual[i])
            {
                throw new Xunit.Sdk.XunitException(
                    $"{what}: line {i + 1} differs\n  expected: {Cut(expected[i])}\n  actual:   {Cut(actual[i])}\n" +
                    $"  context expected: {string.Join(" | ", expected.Skip(Math.Max(0, i - 2)).Take(5).Select(Cut))}\n" +
                    $"  context actual:   {string.Join(" | ", actual.Skip(Math.Max(0, i - 2)).Take(5).Select(Cut))}");
            }
        }
        if (expected.Count != actual.Count)
        {
            throw new Xunit.Sdk.XunitException($"{what}: {expected.Count} lines expected, {actual.Count} found; first extra: " +
                Cut(expected.Count > actual.Count ? expected[n] : actual[n]));
        }
    }

    private static string Cut(string s) => s.Length > 300 ? s.Substring(0, 300) + "…" : s;

    private static string NilOr(RedisResult r) => r.IsNull ? "nil" : ((long)r).ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, RedisResult> Map(RedisResult[] flat)
    {
        var map = new Dictionary<string, RedisResult>(StringComparer.Ordinal);
        for (int i = 0; i + 1 < flat.Length; i += 2) map[(string)flat[i]!] = flat[i + 1];
        return map;
    }

    /// <summary>A key or value as the listing quotes it; longer than 4096 bytes as its length and SHA-256.</summary>
    public static string Value(byte[] bytes)
    {
        if (bytes.Length > 4096) return $"<len={bytes.Length} sha256={Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant()}>";
        return Quote(bytes);
    }

    public static string Quote(byte[] bytes)
    {
        var sb = new StringBuilder("\"");
        foreach (byte b in bytes)
        {
            if (b == (byte)'\\') sb.Append("\\\\");
            else if (b == (byte)'"') sb.Append("\\\"");
            else if (b >= 0x20 && b <= 0x7e) sb.Append((char)b);
            else sb.Append("\\x").Append(b.ToString("x2"));
        }
        return sb.Append('"').ToString();
    }

    private static double ParseScore(string s) => s switch
    {
        "inf" or "+inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        _ => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    /// <summary>A score as the listing prints it: integral values below 1e16 as integers, else Python's repr.</summary>
    public static string Score(double x)
    {
        if (double.IsPositiveInfinity(x)) return "inf";
        if (double.IsNegativeInfinity(x)) return "-inf";
        if (x == Math.Floor(x) && Math.Abs(x) < 1e16) return ((long)x).ToString(CultureInfo.InvariantCulture);
        // Python repr: shortest round-trip digits; scientific when the exponent is < -4 or >= 16.
        string shortest = Math.Abs(x).ToString("R", CultureInfo.InvariantCulture);
        string mantissa = shortest, exp = "0";
        int e = shortest.IndexOfAny(new[] { 'E', 'e' });
        if (e >= 0) { mantissa = shortest.Substring(0, e); exp = shortest.Substring(e + 1); }
        int point = mantissa.IndexOf('.');
        string digits = mantissa.Replace(".", "");
        int decpt = (point < 0 ? mantissa.Length : point) + int.Parse(exp, CultureInfo.InvariantCulture);
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') { lead++; decpt--; }
        digits = digits.Substring(lead).TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        string sign = x < 0 ? "-" : "";
        if (decpt > 16 || decpt <= -4)
        {
            int ex = decpt - 1;
            string m = digits.Length > 1 ? digits[0] + "." + digits.Substring(1) : digits;
            return $"{sign}{m}e{(ex < 0 ? "-" : "+")}{Math.Abs(ex):00}";
        }
        if (decpt <= 0) return sign + "0." + new string('0', -decpt) + digits;
        if (decpt >= digits.Length) return sign + digits + new string('0', decpt - digits.Length) + ".0";
        return sign + digits.Substring(0, decpt) + "." + digits.Substring(decpt);
    }
}

/// <summary>Orders byte strings as memcmp does (the listings' key and member order).</summary>
public sealed class ByteComparer : IComparer<byte[]>
{
    public static readonly ByteComparer Instance = new ByteComparer();

    public int Compare(byte[]? x, byte[]? y) => ((ReadOnlySpan<byte>)x).SequenceCompareTo(y);
}
