using System;
using System.Buffers;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>
/// One SCAN over one database of one server, shared by the workers that process its batches. The
/// next SCAN is sent before the keys of the current reply are copied out, so a scan round trip is
/// always in flight while the workers compare. RedisSync's own keys are left out.
/// </summary>
internal sealed class KeyScanner
{
    private readonly ServerLink _link;
    private readonly byte[]? _match;
    private readonly int _count;
    private readonly Transform.KeyFilter? _filter;
    private readonly Transform.KeyRename? _namesOf;
    private readonly Writers.WriteRateLimit? _rate;
    private readonly SemaphoreSlim _gate = new SemaphoreSlim(1, 1);
    private ulong _cursor;
    private bool _inFlight;
    private bool _finished;
    private long _scanned;

    /// <param name="link">The server's connection, in the database to scan.</param>
    /// <param name="match">A SCAN MATCH glob, or null.</param>
    /// <param name="count">SCAN's COUNT.</param>
    /// <param name="filter">Keys the filter leaves out by name are left out here too (null: none).</param>
    /// <param name="namesOf">On the target of a compare with -RenameKey: the filter judges a key by its source name.</param>
    /// <param name="rate">Keys per second handed out at most (a scan sync's -MaxReadRate, on the source), or null.</param>
    public KeyScanner(ServerLink link, byte[]? match, int count, Transform.KeyFilter? filter = null, Transform.KeyRename? namesOf = null, Writers.WriteRateLimit? rate = null)
    {
        _rate = rate;
        _namesOf = namesOf;
        _filter = filter != null && filter.HasKeyPatterns ? filter : null;
        _link = link;
        _match = match;
        _count = count;
    }

    /// <summary>Keys handed out so far (reserved keys not counted).</summary>
    public long Scanned => Interlocked.Read(ref _scanned);

    /// <summary>Starts over (for the next database; the link must have selected it).</summary>
    public void Reset()
    {
        _cursor = 0;
        _inFlight = false;
        _finished = false;
        Interlocked.Exchange(ref _scanned, 0);
    }

    /// <summary>Fills <paramref name="batch"/> with the next keys; false when the scan is complete.</summary>
    public async Task<bool> NextAsync(KeyBatch batch, CancellationToken cancellationToken)
    {
        batch.Clear();
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            while (!_finished)
            {
                if (!_inFlight) await SendAsync(cancellationToken).ConfigureAwait(false);
                await _link.Replies.TakeAsync(1, cancellationToken).ConfigureAwait(false);
                _inFlight = false;
                Reply reply = _link.Replies.Taken[0];
                if (reply.IsError) throw _link.Failed("SCAN", reply.ErrorText, null);
                var walker = new FrameWalker(reply.Raw);
                walker.ReadArray();
                if (!Bytes.TryParseUInt64(walker.ReadString(), out _cursor)) Resp.RespParser.ThrowProtocol("SCAN returned an invalid cursor");
                if (_cursor == 0) _finished = true;
                else await SendAsync(cancellationToken).ConfigureAwait(false);
                long n = walker.ReadArray();
                int added = 0;
                for (long i = 0; i < n; i++)
                {
                    ReadOnlySequence<byte> key = walker.ReadString();
                    if (IsReserved(key) || (_filter != null && !Keeps(key.IsSingleSegment ? key.First.Span : key.ToArray()))) continue;
                    batch.Add(key);
                    added++;
                }
                _link.Replies.Release();
                Interlocked.Add(ref _scanned, added);
                if (batch.Count >= _count / 2) break;
            }
            if (_rate != null && batch.Count > 0) await _rate.TakeAsync(batch.Count, cancellationToken).ConfigureAwait(false);
            return batch.Count > 0;
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool Keeps(ReadOnlySpan<byte> key) => _filter!.KeepsName(_namesOf?.Original(key) is { } original ? original : key);

    private async Task SendAsync(CancellationToken cancellationToken)
    {
        _link.Begin(_match != null ? 6 : 4, CommandText.Scan);
        _link.Bulk(_cursor);
        if (_match != null)
        {
            _link.Raw(CommandText.Match);
            _link.Bulk(_match);
        }
        _link.Raw(CommandText.Count);
        _link.Bulk(_count);
        await _link.FlushAsync(cancellationToken).ConfigureAwait(false);
        _inFlight = true;
    }

    private static bool IsReserved(in ReadOnlySequence<byte> key)
    {
        if (key.Length < ReservedKeys.Prefix.Length) return false;
        Span<byte> head = stackalloc byte[32];
        return ReservedKeys.IsReserved(Bytes.Small(key, head));
    }
}
