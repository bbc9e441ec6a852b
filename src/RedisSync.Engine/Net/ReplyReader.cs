using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Net;

/// <summary>
/// Takes pipelined replies off a connection a few at a time, in place: the frames of one take stay
/// in the pipe's buffer (no copy) until <see cref="Release"/>; the buffer is advanced only when more
/// bytes are needed, so a round of thousands of replies costs no allocation.
/// </summary>
internal sealed class ReplyReader
{
    private readonly RedisConnection _connection;
    private ReadOnlySequence<byte> _buffer;
    private ReadOnlySequence<byte> _rest;      // not yet released
    private ReadOnlySequence<byte> _afterTake; // what remains after the last take
    private bool _holding;
    private bool _completed;
    private Reply[] _taken = new Reply[16];
    private int _takenCount;

    public ReplyReader(RedisConnection connection) => _connection = connection;

    /// <summary>The replies of the last take, in order.</summary>
    public ReadOnlySpan<Reply> Taken => new ReadOnlySpan<Reply>(_taken, 0, _takenCount);

    /// <summary>The size of the replies of the last take.</summary>
    public long TakenBytes { get; private set; }

    /// <summary>Parses the next <paramref name="count"/> replies if they are all buffered already.</summary>
    public bool TryTake(int count)
    {
        if (!_holding) return false;
        if (_taken.Length < count) Array.Resize(ref _taken, Math.Max(count, _taken.Length * 2));
        ReadOnlySequence<byte> rest = _rest;
        for (int i = 0; i < count; i++)
        {
            ReadOnlySequence<byte> start = rest;
            if (!RespParser.TrySkip(ref rest, out RespFrame frame)) return false;
            _taken[i] = new Reply(frame, start, rest.Start);
        }
        _takenCount = count;
        _afterTake = rest;
        TakenBytes = _rest.Length - rest.Length;
        return true;
    }

    /// <summary>Waits until the next <paramref name="count"/> replies are buffered, and parses them.</summary>
    public async ValueTask TakeAsync(int count, CancellationToken cancellationToken)
    {
        while (!TryTake(count))
        {
            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Leaves out every other reply of the last take, from the first: the +OK of the ASKING sent before each command.</summary>
    public void SkipAskingReplies()
    {
        int count = _takenCount / 2;
        for (int i = 0; i < count; i++) _taken[i] = _taken[2 * i + 1];
        _takenCount = count;
    }

    /// <summary>Done with the replies of the last take: they may be overwritten by the next read.</summary>
    public void Release()
    {
        if (_takenCount == 0) return;
        _rest = _afterTake;
        _takenCount = 0;
        TakenBytes = 0;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        PipeReader input = _connection.Input;
        if (_holding)
        {
            if (_completed) throw _connection.LinkLost(null);
            input.AdvanceTo(_rest.Start, _buffer.End);
            _holding = false;
        }
        ReadResult result;
        try
        {
            result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw _connection.LinkLost(ex);
        }
        catch (ObjectDisposedException ex)
        {
            throw _connection.LinkLost(ex);
        }
        _buffer = result.Buffer;
        _rest = _buffer;
        _holding = true;
        _completed = result.IsCompleted || result.IsCanceled;
    }
}
