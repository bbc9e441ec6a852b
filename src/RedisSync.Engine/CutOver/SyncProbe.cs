using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;

namespace RedisSync.Engine.CutOver;

/// <summary>
/// How Wait-RedisSync and Complete-RedisSync see a sync: a run of this process (its live status, the
/// masters its shards follow now), or a sync of another process told by its checkpoints on the target
/// (the masters then come from the source's address).
/// </summary>
public sealed class SyncProbe
{
    private readonly SyncRun? _run;
    private readonly RedisEndpoint? _target;
    private readonly RedisEndpoint? _source;
    private readonly Func<RedisEndpoint, RedisEndpoint>? _sourceLogin;
    private readonly SyncOptions? _sentinelSource;

    private SyncProbe(string name, SyncRun? run, RedisEndpoint? target, RedisEndpoint? source, Func<RedisEndpoint, RedisEndpoint>? sourceLogin, SyncOptions? sentinelSource = null)
    {
        Name = name;
        _run = run;
        _target = target;
        _source = source;
        _sourceLogin = sourceLogin;
        _sentinelSource = sentinelSource;
    }

    /// <summary>A sync that runs in this process.</summary>
    public static SyncProbe ForRun(SyncRun run) => new SyncProbe((run ?? throw new ArgumentNullException(nameof(run))).Name, run, null, null, null);

    /// <summary>
    /// A sync that runs elsewhere with these options (its shard tasks over sessions), by its checkpoints on their target;
    /// the source's offsets are read from their source, or from the master their Sentinels name at the time.
    /// </summary>
    public static SyncProbe ForOptions(SyncOptions options)
    {
        if (options == null) throw new ArgumentNullException(nameof(options));
        if (options.Source == null && options.Sentinels == null) throw new ArgumentException("The options name no live source.", nameof(options));
        return new SyncProbe(options.Name, null, options.Target, options.Source, null, options.Sentinels != null ? options : null);
    }

    /// <summary>
    /// A sync that runs elsewhere, by its checkpoints on <paramref name="target"/>; <paramref name="source"/> (with its login)
    /// is where the source's offsets are read, or null to use the address its checkpoint names (which holds no
    /// password): <paramref name="sourceLogin"/> then adds the login and TLS settings to it.
    /// </summary>
    public static SyncProbe ForTarget(string name, RedisEndpoint target, RedisEndpoint? source, Func<RedisEndpoint, RedisEndpoint>? sourceLogin = null)
    {
        if (string.IsNullOrWhiteSpace(name)) throw HostErrors.InvalidParameter("Name", "the name of the sync is required.");
        return new SyncProbe(name, null, target ?? throw new ArgumentNullException(nameof(target)), source, sourceLogin);
    }

    /// <summary>The target the sync writes to.</summary>
    internal RedisEndpoint Target => _run?.Options.Target ?? _target!;

    /// <summary>The sync's name.</summary>
    public string Name { get; }

    /// <summary>The run of this process, or null for a sync read from the target.</summary>
    public SyncRun? Run => _run;

    /// <summary>A status of the sync now.</summary>
    public async Task<SyncStatus> ReadStatusAsync(CancellationToken cancellationToken) =>
        _run != null ? _run.GetStatus() : await SyncCheckpointStatus.ReadAsync(_target!, Name, cancellationToken).ConfigureAwait(false);

    /// <summary>True while the sync can still move: a run that has not ended, or a sync whose lease is held.</summary>
    public static bool IsLive(SyncStatus status) =>
        status.Phase != SyncPhase.Stopped && status.Phase != SyncPhase.Failed && status.Phase != SyncPhase.Completed;

    /// <summary>The masters of the source the sync reads now (every master of a cluster source).</summary>
    internal async Task<IReadOnlyList<RedisEndpoint>> MastersAsync(SyncStatus status, CancellationToken cancellationToken)
    {
        if (_run != null) return await _run.LocateSourceMastersAsync(cancellationToken).ConfigureAwait(false);
        if (_sentinelSource != null)
        {
            using var sentinel = new SentinelSource(_sentinelSource.Sentinels!, _sentinelSource.MasterName!, _sentinelSource.MasterLogin ?? new RedisEndpoint("master", 0));
            return await SourcePosition.MastersAsync(await sentinel.LocateAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        RedisEndpoint? source = _source;
        if (source == null)
        {
            try
            {
                // The checkpoint names the source as host:port, or user@host:port.
                string address = status.Source;
                source = RedisEndpoint.Parse(address.IndexOf('@') >= 0 && address.IndexOf("://", StringComparison.Ordinal) < 0 ? "redis://" + address : address);
            }
            catch (SyncException)
            {
                throw HostErrors.InvalidParameter("Source",
                    $"the checkpoint of sync '{Name}' names its source as '{status.Source}', which is not an address: give the source's address with -Source.");
            }
        }
        if (_source == null && _sourceLogin != null) source = _sourceLogin(source);
        return await SourcePosition.MastersAsync(source, cancellationToken).ConfigureAwait(false);
    }
}
