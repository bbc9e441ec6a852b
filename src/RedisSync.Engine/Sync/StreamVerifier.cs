using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Sync;

/// <summary>
/// -Verify while streaming: walks the source's keys with SCAN at a given rate and compares each with
/// the target, aware of lag. A key that differs is looked at again once the target has applied the
/// source's offset as read after the key, and counts as a mismatch only when the source still holds
/// what it held then and the target still differs; a key the source keeps changing is left for the
/// next pass. Each mismatch is a warning naming the key; with -RepairMismatches it is copied
/// (DUMP, RESTORE … REPLACE with its TTL).
/// </summary>
internal sealed class StreamVerifier
{
    private const int MaxElements = 10_000;
    private const int Looks = 3;
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan ApplyPatience = TimeSpan.FromSeconds(30);

    private readonly Func<CancellationToken, Task<RedisEndpoint>> _source;
    private readonly RedisEndpoint _target;
    private readonly IReadOnlyDictionary<int, int>? _databases;
    private readonly Func<long> _applied;
    private readonly Func<bool> _streaming;
    private readonly long _keysPerSecond;
    private readonly bool _repair;
    private readonly Action<SyncWarning> _warn;
    private readonly HashSet<string> _known = new HashSet<string>(StringComparer.Ordinal); // reported and not equal since
    private long _verified;
    private long _mismatches;
    private long _repaired;

    public StreamVerifier(Func<CancellationToken, Task<RedisEndpoint>> source, RedisEndpoint target, IReadOnlyDictionary<int, int>? databases,
        Func<long> applied, Func<bool> streaming, long keysPerSecond, bool repair, Action<SyncWarning> warn)
    {
        _source = source;
        _target = target;
        _databases = databases;
        _applied = applied;
        _streaming = streaming;
        _keysPerSecond = keysPerSecond;
        _repair = repair;
        _warn = warn;
    }

    /// <summary>Keys compared so far.</summary>
    public long Verified => Interlocked.Read(ref _verified);

    /// <summary>Keys found different once the target had applied what the source held.</summary>
    public long Mismatches => Interlocked.Read(ref _mismatches);

    /// <summary>Mismatched keys copied again (-RepairMismatches).</summary>
    public long Repaired => Interlocked.Read(ref _repaired);

    /// <summary>Verifies until cancelled; a broken link is made again at the next tick (the sync reports its own errors).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await PassesAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A dropped link or a key that vanished mid-read: begin the pass again (the sync reports its own errors).
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private async Task PassesAsync(CancellationToken ct)
    {
        while (!_streaming()) await Task.Delay(Tick, ct).ConfigureAwait(false);
        RedisEndpoint sourceEndpoint = await _source(ct).ConfigureAwait(false);
        using RedisConnection source = await RedisConnection.ConnectAsync(sourceEndpoint, EndpointRole.Source, ct).ConfigureAwait(false);
        using RedisConnection target = await RedisConnection.ConnectAsync(_target, EndpointRole.Target, ct).ConfigureAwait(false);
        int perTick = (int)Math.Max(1, Math.Min(10_000, _keysPerSecond * Tick.TotalMilliseconds / 1000));
        while (!ct.IsCancellationRequested)
        {
            RespValue keyspace = await source.ExecuteOrThrowAsync(ct, "INFO", "keyspace").ConfigureAwait(false);
            List<int> databases = Keyspace.PerDatabase(keyspace.AsString() ?? string.Empty).Keys.OrderBy(db => db).ToList();
            if (databases.Count == 0) await Task.Delay(Tick, ct).ConfigureAwait(false);
            foreach (int db in databases)
            {
                int targetDb = _databases != null && _databases.TryGetValue(db, out int mapped) ? mapped : db;
                string cursor = "0";
                do
                {
                    DateTime tickEnd = DateTime.UtcNow + Tick;
                    await source.ExecuteOrThrowAsync(ct, "SELECT", db).ConfigureAwait(false);
                    await target.ExecuteOrThrowAsync(ct, "SELECT", targetDb).ConfigureAwait(false);
                    RespValue scan = await source.ExecuteOrThrowAsync(ct, "SCAN", cursor, "COUNT", perTick).ConfigureAwait(false);
                    cursor = scan.Items[0].AsString() ?? "0";
                    foreach (RespValue key in scan.Items[1].Items)
                    {
                        if (key.Bytes == null || ReservedKeys.IsReserved(key.Bytes)) continue;
                        await CheckAsync(source, target, key.Bytes, db, ct).ConfigureAwait(false);
                    }
                    TimeSpan rest = tickEnd - DateTime.UtcNow;
                    if (rest > TimeSpan.Zero) await Task.Delay(rest, ct).ConfigureAwait(false);
                }
                while (cursor != "0" && !ct.IsCancellationRequested);
            }
        }
    }

    private async Task CheckAsync(RedisConnection source, RedisConnection target, byte[] key, int db, CancellationToken ct)
    {
        string? before = null;
        for (int look = 0; look < Looks; look++)
        {
            string held = await ReadAsync(source, key, ct).ConfigureAwait(false);
            long offset = await OffsetAsync(source, ct).ConfigureAwait(false);
            if (before != null && held != before) return; // the source keeps changing it: the next pass looks again
            before = held;
            if (look > 0 && !await AppliedAsync(offset, ct).ConfigureAwait(false)) return; // too far behind to tell: next pass
            string copy = await ReadAsync(target, key, ct).ConfigureAwait(false);
            if (copy == held)
            {
                Interlocked.Increment(ref _verified);
                _known.Remove(db.ToString(CultureInfo.InvariantCulture) + ":" + Convert.ToBase64String(key));
                return;
            }
        }
        Interlocked.Increment(ref _verified);
        // A key counts once until it is seen equal again: later passes do not report it anew.
        if (!_known.Add(db.ToString(CultureInfo.InvariantCulture) + ":" + Convert.ToBase64String(key))) return;
        Interlocked.Increment(ref _mismatches);
        string name = KeyText.Format(key);
        string repaired = string.Empty;
        if (_repair && await RepairAsync(source, target, key, ct).ConfigureAwait(false))
        {
            Interlocked.Increment(ref _repaired);
            repaired = " It was copied again (-RepairMismatches).";
        }
        _warn(new SyncWarning("VerifyMismatch", SyncErrorKind.Skip, name, null,
            $"Key '{name}' in database {db.ToString(CultureInfo.InvariantCulture)} differs on the target although the target has applied every write the source made to it." + repaired));
    }

    /// <summary>Waits until the target has applied <paramref name="offset"/>; false when it does not within the patience.</summary>
    private async Task<bool> AppliedAsync(long offset, CancellationToken ct)
    {
        DateTime deadline = DateTime.UtcNow + ApplyPatience;
        while (_applied() < offset)
        {
            if (DateTime.UtcNow > deadline || !_streaming()) return false;
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
        return true;
    }

    private static async Task<long> OffsetAsync(RedisConnection source, CancellationToken ct)
    {
        RespValue reply = await source.ExecuteOrThrowAsync(ct, "INFO", "replication").ConfigureAwait(false);
        ServerInfo info = ServerInfo.Parse(reply.AsString() ?? string.Empty);
        return info.Fields.TryGetValue("master_repl_offset", out string? text) && long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long o) ? o : long.MaxValue;
    }

    /// <summary>The key's type, whether it expires, and its value in a canonical form (a collection too big to read: its length).</summary>
    private static async Task<string> ReadAsync(RedisConnection connection, byte[] key, CancellationToken ct)
    {
        string type = (await connection.ExecuteOrThrowAsync(ct, "TYPE", key).ConfigureAwait(false)).AsString() ?? "none";
        if (type == "none") return type;
        long ttl = (await connection.ExecuteOrThrowAsync(ct, "PTTL", key).ConfigureAwait(false)).AsInt64();
        var text = new StringBuilder(type).Append(ttl >= 0 ? " expires" : " persists");
        (string length, string[]? read) = type switch
        {
            "string" => ("STRLEN", new[] { "GET" }),
            "hash" => ("HLEN", new[] { "HGETALL" }),
            "list" => ("LLEN", new[] { "LRANGE", "0", "-1" }),
            "set" => ("SCARD", new[] { "SMEMBERS" }),
            "zset" => ("ZCARD", new[] { "ZRANGE", "0", "-1", "WITHSCORES" }),
            "stream" => ("XLEN", new[] { "XRANGE", "-", "+" }),
            _ => ("", null),
        };
        if (read == null) return text.ToString();
        long count = (await connection.ExecuteOrThrowAsync(ct, length, key).ConfigureAwait(false)).AsInt64();
        text.Append(' ').Append(count.ToString(CultureInfo.InvariantCulture));
        if (type != "string" && count > MaxElements) return text.ToString();
        var args = new List<object> { read[0], key };
        args.AddRange(read.Skip(1));
        RespValue value = await connection.ExecuteOrThrowAsync(ct, args.ToArray()).ConfigureAwait(false);
        IEnumerable<string> parts = Flatten(value);
        if (type == "set") parts = parts.OrderBy(p => p, StringComparer.Ordinal);
        if (type == "hash") parts = Pairs(parts.ToList()).OrderBy(p => p, StringComparer.Ordinal);
        foreach (string part in parts) text.Append('\n').Append(part);
        return text.ToString();
    }

    private static IEnumerable<string> Flatten(RespValue value)
    {
        if (value.Items.Length == 0 && value.Bytes != null) return new[] { Convert.ToBase64String(value.Bytes) };
        return value.Items.SelectMany(Flatten);
    }

    private static IEnumerable<string> Pairs(List<string> flat)
    {
        for (int i = 0; i + 1 < flat.Count; i += 2) yield return flat[i] + "=" + flat[i + 1];
    }

    private static async Task<bool> RepairAsync(RedisConnection source, RedisConnection target, byte[] key, CancellationToken ct)
    {
        RespValue dump = await source.ExecuteOrThrowAsync(ct, "DUMP", key).ConfigureAwait(false);
        if (dump.IsNull || dump.Bytes == null) return false;
        long ttl = (await source.ExecuteOrThrowAsync(ct, "PTTL", key).ConfigureAwait(false)).AsInt64();
        RespValue restored = await target.ExecuteAsync(ct, "RESTORE", key, Math.Max(0, ttl), dump.Bytes, "REPLACE").ConfigureAwait(false);
        return !restored.IsError;
    }
}
