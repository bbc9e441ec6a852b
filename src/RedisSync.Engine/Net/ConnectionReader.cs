using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Net;

/// <summary>
/// A connection's input: one pooled, contiguous buffer filled from the stream. Async readers (the
/// control path) read as through any <see cref="PipeReader"/>; the dedicated threads of the hot paths
/// (the snapshot parser, the command stream, the writer's replies) read with <see cref="ReadBlocking"/>,
/// which waits in the kernel instead of handing every wake-up through the thread pool: on a busy
/// machine the pool's workers spend more CPU spinning between those wake-ups than the parsing costs.
/// </summary>
internal sealed class ConnectionReader : PipeReader
{
    private const int DefaultSize = 64 * 1024;
    private const int MinimumReadSize = 16 * 1024;
    private const int PollMicroseconds = 100_000;

    private readonly Stream _stream;
    private readonly Socket? _socket;
    private readonly Func<IOException, Exception> _lost;
    private readonly object _cancelLock = new object();
    private byte[] _buffer;
    private int _start;
    private int _end;
    private bool _examinedAll;
    private bool _eof;
    private bool _completed;
    private volatile bool _cancelPending;
    private CancellationTokenSource? _readCts;

    /// <param name="stream">The connection's stream.</param>
    /// <param name="socket">The socket when <paramref name="stream"/> reads it directly (no TLS): blocking reads then poll it, so they notice a cancellation.</param>
    /// <param name="lost">What a read that failed throws instead (the connection's SourceLinkLost or TargetLinkLost), so every reader of the link, the snapshot's parser too, gets an error id.</param>
    public ConnectionReader(Stream stream, Socket? socket, Func<IOException, Exception> lost)
    {
        _stream = stream;
        _socket = socket;
        _lost = lost;
        _buffer = ArrayPool<byte>.Shared.Rent(DefaultSize);
    }

    [MethodImpl(HotPath.Compile)]
    public override bool TryRead(out ReadResult result)
    {
        ThrowIfCompleted();
        if (_cancelPending || _eof || (!_examinedAll && _end > _start))
        {
            result = Result();
            return true;
        }
        result = default;
        return false;
    }

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        return TryRead(out ReadResult result) ? new ValueTask<ReadResult>(result) : ReadFromStreamAsync(cancellationToken);
    }

    private async ValueTask<ReadResult> ReadFromStreamAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryRead(out ReadResult result)) return result;
            MakeRoom();
            CancellationTokenSource cts;
            lock (_cancelLock) cts = _readCts ??= new CancellationTokenSource();
            using CancellationTokenRegistration link = cancellationToken.CanBeCanceled ? cancellationToken.Register(() => cts.Cancel()) : default;
            int read;
            try
            {
                read = await _stream.ReadAsync(_buffer, _end, _buffer.Length - _end, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException)
            {
                throw _lost(e as IOException ?? new IOException("The connection was closed: " + e.Message, e));
            }
            catch (OperationCanceledException) when (cts.IsCancellationRequested)
            {
                lock (_cancelLock)
                {
                    if (_readCts == cts) _readCts = null;
                }
                cts.Dispose();
                cancellationToken.ThrowIfCancellationRequested();
                continue; // CancelPendingRead: the next TryRead returns the canceled result
            }
            Received(read);
        }
    }

    /// <summary>
    /// Reads on the calling thread, which blocks in the kernel until bytes arrive (polling every 100 ms
    /// for <paramref name="cancellationToken"/> and <see cref="CancelPendingRead"/>). Over TLS it waits
    /// for the async read instead: the TLS layer may hold decrypted bytes that a poll of the socket does not see.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public ReadResult ReadBlocking(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (TryRead(out ReadResult result)) return result;
            if (_socket == null)
            {
                ValueTask<ReadResult> pending = ReadFromStreamAsync(cancellationToken);
                return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
            }
            MakeRoom();
            try
            {
                while (!_socket.Poll(PollMicroseconds, SelectMode.SelectRead))
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (_cancelPending) break;
                }
            }
            catch (Exception e) when (e is ObjectDisposedException || e is SocketException)
            {
                throw _lost(new IOException("The connection was closed: " + e.Message, e));
            }
            if (_cancelPending) continue;
            int read;
            try
            {
                read = _stream.Read(_buffer, _end, _buffer.Length - _end);
            }
            catch (Exception e) when (e is IOException || e is ObjectDisposedException)
            {
                throw _lost(e as IOException ?? new IOException("The connection was closed: " + e.Message, e));
            }
            Received(read);
        }
    }

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    [MethodImpl(HotPath.Compile)]
    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        ThrowIfCompleted();
        int consumedAt = IndexOf(consumed);
        int examinedAt = IndexOf(examined);
        if (consumedAt < _start || consumedAt > _end || examinedAt < consumedAt || examinedAt > _end)
        {
            throw new InvalidOperationException("AdvanceTo was given a position outside the data that was read.");
        }
        _start = consumedAt;
        _examinedAll = examinedAt == _end;
        if (_start == _end)
        {
            _start = _end = 0;
        }
    }

    public override void CancelPendingRead()
    {
        _cancelPending = true;
        lock (_cancelLock) _readCts?.Cancel();
    }

    public override void Complete(Exception? exception = null)
    {
        if (_completed) return;
        _completed = true;
        byte[] buffer = _buffer;
        _buffer = Array.Empty<byte>();
        _start = _end = 0;
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
    }

    [MethodImpl(HotPath.Compile)]
    private ReadResult Result()
    {
        bool canceled = _cancelPending;
        if (canceled) _cancelPending = false;
        return new ReadResult(new ReadOnlySequence<byte>(_buffer, _start, _end - _start), canceled, _eof && !canceled);
    }

    [MethodImpl(HotPath.Compile)]
    private void Received(int read)
    {
        if (read == 0)
        {
            _eof = true;
            return;
        }
        _end += read;
        _examinedAll = false;
    }

    [MethodImpl(HotPath.Compile)]
    private int IndexOf(SequencePosition position)
    {
        object? owner = position.GetObject();
        if (owner != null && !ReferenceEquals(owner, _buffer)) throw new InvalidOperationException("AdvanceTo was given a position from an older buffer.");
        return position.GetInteger();
    }

    /// <summary>Keeps at least <see cref="MinimumReadSize"/> free after the data: moves it to the front, or grows (and later shrinks) the buffer.</summary>
    [MethodImpl(HotPath.Compile)]
    private void MakeRoom()
    {
        ThrowIfCompleted();
        int live = _end - _start;
        bool oversized = _buffer.Length > DefaultSize && live + MinimumReadSize <= DefaultSize;
        if (_buffer.Length - _end >= MinimumReadSize && !oversized) return;
        if (_buffer.Length - live >= MinimumReadSize && !oversized)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, live);
        }
        else
        {
            long size = oversized ? DefaultSize : Math.Max((long)_buffer.Length * 2, (long)live + MinimumReadSize);
            byte[] next = ArrayPool<byte>.Shared.Rent((int)Math.Min(size, 0x7FFFFFC7));
            Buffer.BlockCopy(_buffer, _start, next, 0, live);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = next;
        }
        _start = 0;
        _end = live;
    }

    [MethodImpl(HotPath.Compile)]
    private void ThrowIfCompleted()
    {
        if (_completed) throw new InvalidOperationException("The connection's reader was completed.");
    }
}
