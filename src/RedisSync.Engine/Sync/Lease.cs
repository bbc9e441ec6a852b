using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Sync;

/// <summary>
/// One sync per name, across processes and hosts: a key on the target, <c>redissync:lease:&lt;name&gt;</c>
/// (db 0), that a run takes with <c>SET NX PX</c> and a random token, keeps by renewing it, and gives
/// back at its end. A second run of the same name is refused while the key lives; a killed run's lease
/// expires by itself after <see cref="SyncOptions.LeaseTime"/>, and at once when the killed run was a
/// process of the same host. Every batch the run commits checks the
/// lease first (<see cref="LeaseGuard"/>), so a run that lost it writes nothing more.
/// </summary>
internal sealed class Lease
{
    private const string Version = "redissync-lease/1";

    private const string ReleaseScript =
        "if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1], KEYS[2]) return 1 end return 0";

    private Lease(string name, string? shard, string value, TimeSpan timeToLive)
    {
        Name = name;
        Shard = shard;
        Value = value;
        TimeToLive = timeToLive;
    }

    public string Name { get; }

    /// <summary>The shard task's shard (its identity, see <see cref="ShardSelection"/>), or null for the whole sync.</summary>
    public string? Shard { get; }

    /// <summary>The key's value: this run's token, host, process and start.</summary>
    public string Value { get; }

    public TimeSpan TimeToLive { get; }

    /// <summary>This run's random token (what a stop request through the target names).</summary>
    public string RunToken => TokenOf(Value) ?? string.Empty;

    public string Key => ReservedKeys.Lease(Name, Shard);

    private string FenceKey => ReservedKeys.Fence(Name, Shard);

    /// <summary>What the writer guards each batch with.</summary>
    public LeaseGuard Guard => new LeaseGuard(Key, FenceKey, Encoding.UTF8.GetBytes(Value), TimeToLive) { Epoch = Epoch, EpochKey = EpochKey };

    /// <summary>This run's epoch on a cluster target (0 until <see cref="TakeEpochAsync"/>).</summary>
    public long Epoch { get; private set; }

    public string EpochKey => ReservedKeys.Epoch(Name, Shard);

    private const string EpochScript =
        "local e = redis.call('incr', KEYS[1]) local m = tonumber(ARGV[1]) " +
        "if e <= m then e = m + 1 redis.call('set', KEYS[1], e) end return e";

    /// <summary>
    /// Draws this run's epoch (above <paramref name="above"/>) from the epoch counter on <paramref name="epochNode"/>, then checks on
    /// <paramref name="leaseNode"/> that the lease is still this run's (LeaseLost otherwise).
    /// </summary>
    /// <remarks>
    /// The counter is raised before the check, so of two runs that both pass it the later holder has the higher epoch: the earlier
    /// one drew before the later one's draw (else it would have seen the lease taken at its check, as the later one took it after
    /// the earlier one's expired). <paramref name="above"/> is the highest epoch a slot carries, for a counter that a flush reset.
    /// </remarks>
    public async Task TakeEpochAsync(RedisConnection epochNode, RedisConnection leaseNode, long above, CancellationToken cancellationToken)
    {
        RespValue epoch = await epochNode.ExecuteOrThrowAsync(cancellationToken, "EVAL", EpochScript, 1, EpochKey, above).ConfigureAwait(false);
        RespValue held = await leaseNode.ExecuteOrThrowAsync(cancellationToken, "GET", Key).ConfigureAwait(false);
        if (held.AsString() != Value)
        {
            throw new SyncException(SyncErrorIds.LeaseLost, SyncErrorKind.Stop,
                $"This run lost its lease {Key} while it took its epoch: another run of the same sync took it. Nothing was written by this run.") { Key = Key };
        }
        Epoch = epoch.Integer;
    }

    /// <summary>
    /// Takes the lease of sync <paramref name="name"/> (of its shard <paramref name="shard"/> for a shard task), or fails
    /// with SyncAlreadyRunning naming the run that holds it. The SET is also the first write to the target: a target
    /// that refuses writes fails here, before the source is asked for anything.
    /// </summary>
    public static async Task<Lease> AcquireAsync(RedisConnection target, string name, string? shard, TimeSpan timeToLive, CancellationToken cancellationToken)
    {
        var lease = new Lease(name, shard, Describe(Token(), Environment.MachineName, CurrentProcessId(), DateTimeOffset.UtcNow), timeToLive);
        await target.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        for (int attempt = 0; ; attempt++)
        {
            RespValue set = await target.ExecuteAsync(cancellationToken, "SET", lease.Key, lease.Value, "NX", "PX", (long)timeToLive.TotalMilliseconds).ConfigureAwait(false);
            if (set.IsError) throw TargetRefusedWrite(target.Endpoint, set);
            if (!set.IsNull) return lease;
            RespValue held = await target.ExecuteOrThrowAsync(cancellationToken, "GET", lease.Key).ConfigureAwait(false);
            if (held.IsNull && attempt < 3) continue; // expired between the two calls
            string holder = held.AsString() ?? string.Empty;
            if (attempt < 3 && HolderIsGone(holder))
            {
                // A killed run on this host: take its lease over at once, unless it changed meanwhile.
                if (await TakeOverAsync(target, lease, holder, cancellationToken).ConfigureAwait(false)) return lease;
                continue;
            }
            RespValue ttl = await target.ExecuteOrThrowAsync(cancellationToken, "PTTL", lease.Key).ConfigureAwait(false);
            throw Running(name, shard, target.Endpoint, holder, ttl.Integer);
        }
    }

    /// <summary>
    /// Fails with SyncAlreadyRunning when another run holds the lease of <paramref name="name"/> (its shard
    /// <paramref name="shard"/>, or the whole sync's when null) on <paramref name="node"/>, the target's node
    /// that serves the key: a whole run and the shard tasks of the same sync refuse each other. A holder
    /// that is a dead process of this host does not count.
    /// </summary>
    public static async Task ThrowIfHeldAsync(RedisConnection node, RedisEndpoint target, string name, string? shard, CancellationToken cancellationToken)
    {
        string key = ReservedKeys.Lease(name, shard);
        RespValue held = await node.ExecuteOrThrowAsync(cancellationToken, "GET", key).ConfigureAwait(false);
        if (held.IsNull) return;
        string holder = held.AsString() ?? string.Empty;
        if (HolderIsGone(holder)) return;
        RespValue ttl = await node.ExecuteOrThrowAsync(cancellationToken, "PTTL", key).ConfigureAwait(false);
        throw Running(name, shard, target, holder, ttl.Integer);
    }

    /// <summary>Whether the lease's holder is a process of this host that no longer runs (killed, crashed).</summary>
    private static bool HolderIsGone(string value)
    {
        (string? host, int? pid, _) = ParseHolder(value);
        if (host == null || pid == null || host != Environment.MachineName.Replace(' ', '_')) return false;
        try
        {
            using Process process = Process.GetProcessById(pid.Value);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    /// <summary>Replaces a dead holder's lease by this run's, only if it still holds that value (WATCH, so no script is needed).</summary>
    private static async Task<bool> TakeOverAsync(RedisConnection target, Lease lease, string deadValue, CancellationToken cancellationToken)
    {
        await target.ExecuteOrThrowAsync(cancellationToken, "WATCH", lease.Key).ConfigureAwait(false);
        RespValue held = await target.ExecuteOrThrowAsync(cancellationToken, "GET", lease.Key).ConfigureAwait(false);
        if (held.AsString() != deadValue)
        {
            await target.ExecuteOrThrowAsync(cancellationToken, "UNWATCH").ConfigureAwait(false);
            return false;
        }
        await target.ExecuteOrThrowAsync(cancellationToken, "MULTI").ConfigureAwait(false);
        await target.ExecuteOrThrowAsync(cancellationToken, "SET", lease.Key, lease.Value, "PX", (long)lease.TimeToLive.TotalMilliseconds).ConfigureAwait(false);
        RespValue exec = await target.ExecuteOrThrowAsync(cancellationToken, "EXEC").ConfigureAwait(false);
        return !exec.IsNull;
    }

    /// <summary>Gives the lease back (only if it is still this run's); a failure is left for the lease's expiry.</summary>
    public async Task ReleaseAsync(RedisConnection target, CancellationToken cancellationToken)
    {
        await target.ExecuteOrThrowAsync(cancellationToken, "SELECT", 0).ConfigureAwait(false);
        RespValue reply = await target.ExecuteAsync(cancellationToken, "EVAL", ReleaseScript, 2, Key, FenceKey, Value).ConfigureAwait(false);
        if (!reply.IsError) return;
        // Scripts refused: a plain check and delete (the lease could change hands in between, at worst ending the next run's lease early).
        RespValue held = await target.ExecuteOrThrowAsync(cancellationToken, "GET", Key).ConfigureAwait(false);
        if (held.AsString() != Value) return;
        await target.ExecuteOrThrowAsync(cancellationToken, "DEL", Key).ConfigureAwait(false);
        // One key at a time: on a cluster the fence is in another slot (and, there, never written).
        await target.ExecuteAsync(cancellationToken, "DEL", FenceKey).ConfigureAwait(false);
    }

    /// <summary>Whether the target runs the guard script (scripts may be switched off by ACL or renamed on managed services).</summary>
    public static async Task<bool> TargetRunsScriptsAsync(RedisConnection target, CancellationToken cancellationToken)
    {
        RespValue reply = await target.ExecuteAsync(cancellationToken, "EVAL", "return 1", 0).ConfigureAwait(false);
        return !reply.IsError && reply.Integer == 1;
    }

    /// <summary>Renews the lease from a control connection, for targets that refuse the guard script; false when it is no longer this run's.</summary>
    public async Task<bool> RenewAsync(RedisConnection target, CancellationToken cancellationToken)
    {
        RespValue held = await target.ExecuteOrThrowAsync(cancellationToken, "GET", Key).ConfigureAwait(false);
        if (held.IsNull)
        {
            RespValue set = await target.ExecuteOrThrowAsync(cancellationToken, "SET", Key, Value, "NX", "PX", (long)TimeToLive.TotalMilliseconds).ConfigureAwait(false);
            return !set.IsNull;
        }
        if (held.AsString() != Value) return false;
        await target.ExecuteOrThrowAsync(cancellationToken, "PEXPIRE", Key, (long)TimeToLive.TotalMilliseconds).ConfigureAwait(false);
        return true;
    }

    /// <summary>Who holds a lease, from its value: host, process id and since when (null parts are unknown).</summary>
    public static (string? Host, int? ProcessId, DateTimeOffset? Since) ParseHolder(string value)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string part in value.Split(' '))
        {
            int eq = part.IndexOf('=');
            if (eq > 0) fields[part.Substring(0, eq)] = part.Substring(eq + 1);
        }
        fields.TryGetValue("host", out string? host);
        int? pid = fields.TryGetValue("pid", out string? p) && int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : null;
        DateTimeOffset? since = fields.TryGetValue("since", out string? s) && long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        return (host, pid, since);
    }

    /// <summary>The token in a lease's value, or null when it names none.</summary>
    public static string? TokenOf(string value)
    {
        foreach (string part in value.Split(' '))
        {
            if (part.StartsWith("token=", StringComparison.Ordinal)) return part.Substring("token=".Length);
        }
        return null;
    }

    private static string Describe(string token, string host, int pid, DateTimeOffset since) =>
        string.Format(CultureInfo.InvariantCulture, "{0} token={1} host={2} pid={3} since={4}", Version, token, host.Replace(' ', '_'), pid, since.ToUnixTimeMilliseconds());

    private static string Token()
    {
        byte[] bytes = new byte[16];
        using (var random = RandomNumberGenerator.Create()) random.GetBytes(bytes);
        var sb = new StringBuilder(32);
        foreach (byte b in bytes) sb.Append(b.ToString("x2", CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    private static int CurrentProcessId()
    {
        using Process self = Process.GetCurrentProcess();
        return self.Id;
    }

    private static SyncException Running(string name, string? shard, RedisEndpoint target, string value, long ttlMs)
    {
        string key = ReservedKeys.Lease(name, shard);
        (string? host, int? pid, DateTimeOffset? since) = ParseHolder(value);
        string holder = host != null
            ? string.Format(CultureInfo.InvariantCulture, "on host {0}, process {1}, since {2:u}", host, pid?.ToString(CultureInfo.InvariantCulture) ?? "?", since?.UtcDateTime)
            : "by a process that did not say who it is";
        string expires = ttlMs > 0 ? string.Format(CultureInfo.InvariantCulture, "{0:0.#} s", ttlMs / 1000.0) : "a moment";
        string what = shard == null ? $"Sync '{name}' is already running" : $"Shard {shard} of sync '{name}' is already running";
        return new SyncException(SyncErrorIds.SyncAlreadyRunning, SyncErrorKind.Stop,
            $"{what} {holder}: it holds the lease {key} on the target {target}. " +
            $"Stop that run first (Stop-RedisSync -Name {name} where it runs), or {(shard == null ? "give this one another -Name" : "run a task of another shard")}. " +
            $"If that run was killed, its lease expires by itself in {expires} and a new run then resumes from the checkpoint.")
        { Key = key };
    }

    /// <summary>The first write to the target was refused: say why in the user's terms.</summary>
    internal static SyncException TargetRefusedWrite(RedisEndpoint target, RespValue reply)
    {
        string text = reply.AsString() ?? string.Empty;
        string code = reply.ErrorCode;
        string advice = ErrorReplies.Advice(code, EndpointRole.Target);
        string what = code switch
        {
            "READONLY" => "is a read-only replica",
            "NOREPLICAS" => "refuses writes until enough replicas are connected (its min-replicas-to-write)",
            "OOM" => "is out of memory before the copy began",
            "NOPERM" => "does not let this user write RedisSync's own keys",
            "NOAUTH" => "requires a login",
            _ => "refused a write",
        };
        if (advice.Length == 0) advice = "Fix the target's state (see its log), then start the sync again.";
        return new SyncException(ErrorReplies.IdOf(code, EndpointRole.Target), SyncErrorKind.Stop,
            $"The target {target} {what} ({text}). {advice} Nothing was asked of the source.");
    }
}
