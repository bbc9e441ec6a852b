using System;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Sync;

/// <summary>
/// A shard's second link to its source master (the replica link carries only the stream): the stream filter
/// reads there what the stream does not say. Connected at the first read, again after a lost link or a switch.
/// </summary>
internal sealed class SourceLookup : ISourceLookup, IDisposable
{
    private readonly SourceLocator _source;
    private RedisConnection? _connection;
    private readonly int _targetRdbVersion;
    private int _db;

    /// <param name="source">The shard's master.</param>
    /// <param name="targetRdbVersion">The newest RDB version the target loads (what RESTORE of a DUMP payload needs).</param>
    public SourceLookup(SourceLocator source, int targetRdbVersion)
    {
        _source = source;
        _targetRdbVersion = targetRdbVersion;
        _source.Switched += OnSwitched;
    }

    /// <summary>What stops a read under way (the stream's cancellation).</summary>
    public CancellationToken Cancellation { get; set; }

    /// <inheritdoc/>
    public RedisType TypeOf(int db, byte[] key)
    {
        RespValue reply = ExecuteAsync(db, Cancellation, "TYPE", key).GetAwaiter().GetResult();
        return KeyFilter.TypeNamed(reply.AsString());
    }

    /// <inheritdoc/>
    /// <remarks>DUMP, PTTL and INFO replication in one MULTI, so the value and the offset are of the same moment.</remarks>
    public SourceValue Dump(int db, byte[] key) => DumpAsync(db, key, Cancellation).GetAwaiter().GetResult();

    /// <inheritdoc/>
    public System.Collections.Generic.IReadOnlyList<(int From, int To)>? ShardSlots() => _source.SlotsAsync(Cancellation).GetAwaiter().GetResult();

    private async Task<SourceValue> DumpAsync(int db, byte[] key, CancellationToken ct)
    {
        await ExecuteAsync(db, ct, "MULTI").ConfigureAwait(false);
        await ExecuteAsync(db, ct, "DUMP", key).ConfigureAwait(false);
        await ExecuteAsync(db, ct, "PTTL", key).ConfigureAwait(false);
        await ExecuteAsync(db, ct, "INFO", "replication").ConfigureAwait(false);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        RespValue exec = await ExecuteAsync(db, ct, "EXEC").ConfigureAwait(false);
        if (exec.Items.Length != 3 || exec.Items[0].IsError)
        {
            throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop,
                $"Reading a key renamed or moved into the filter from the source {_source.Describe()} (DUMP, PTTL, INFO in MULTI) failed: {exec}") { Command = "DUMP" };
        }
        byte[]? payload = exec.Items[0].IsNull ? null : exec.Items[0].Bytes;
        long ttl = exec.Items[1].Integer;
        long offset = ReplicationOffset(exec.Items[2].AsString() ?? string.Empty);
        bool loads = payload != null && payload.Length >= 10 && (payload[payload.Length - 10] | payload[payload.Length - 9] << 8) <= _targetRdbVersion;
        return new SourceValue(payload, ttl > 0 ? now + ttl : 0, offset, loads);
    }

    private static long ReplicationOffset(string info)
    {
        foreach (string line in info.Split('\n'))
        {
            const string name = "master_repl_offset:";
            if (line.StartsWith(name, StringComparison.Ordinal) &&
                long.TryParse(line.Substring(name.Length).Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long offset))
            {
                return offset;
            }
        }
        throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop, "INFO replication of the source did not say master_repl_offset.");
    }

    private async Task<RespValue> ExecuteAsync(int db, CancellationToken ct, params object[] args)
    {
        RedisConnection? connection = _connection;
        try
        {
            if (connection == null)
            {
                RedisEndpoint master = await _source.LocateAsync(ct).ConfigureAwait(false);
                connection = await RedisConnection.ConnectAsync(master, EndpointRole.Source, ct).ConfigureAwait(false);
                _connection = connection;
                _db = master.Database ?? 0;
            }
            if (_db != db)
            {
                await connection.ExecuteOrThrowAsync(ct, "SELECT", db).ConfigureAwait(false);
                _db = db;
            }
            return await connection.ExecuteOrThrowAsync(ct, args).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SyncException { Kind: SyncErrorKind.Retry } || ex is System.IO.IOException || ex is ObjectDisposedException)
        {
            Drop();
            if (ex is SyncException) throw;
            throw new SyncException(SyncErrorIds.SourceLinkLost, SyncErrorKind.Retry, $"The second link to the source {_source.Describe()} (for what the stream does not say) broke: {ex.Message}", ex);
        }
    }

    private void OnSwitched(string why) => Drop();

    private void Drop()
    {
        Interlocked.Exchange(ref _connection, null)?.Dispose();
    }

    public void Dispose()
    {
        _source.Switched -= OnSwitched;
        Drop();
    }
}
