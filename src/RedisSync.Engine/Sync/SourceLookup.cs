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
    private int _db;

    public SourceLookup(SourceLocator source)
    {
        _source = source;
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
