using System;
using System.IO;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Net;

/// <summary>
/// The stream of a hot-path connection (the replica link, the target writer): every socket call is a
/// plain blocking system call, so the socket never joins the runtime's epoll loop, whose every event
/// is handed to a pool thread (at thousands a second, the pool's spinning workers cost more CPU than
/// the sync itself on a two-core machine). The dedicated threads block in <see cref="Read"/> and
/// <see cref="Write"/>; the few async calls of the control path complete at once when bytes are
/// waiting, or wait for them on a pool thread.
/// </summary>
internal sealed class BlockingSocketStream : Stream
{
    private const int PollMicroseconds = 100_000;
    private readonly Socket _socket;

    public BlockingSocketStream(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    [MethodImpl(HotPath.Compile)]
    public override int Read(byte[] buffer, int offset, int count)
    {
        try
        {
            return _socket.Receive(buffer, offset, count, SocketFlags.None);
        }
        catch (SocketException e)
        {
            throw new IOException("Unable to read data from the transport connection: " + e.Message, e);
        }
    }

    [MethodImpl(HotPath.Compile)]
    public override void Write(byte[] buffer, int offset, int count)
    {
        try
        {
            while (count > 0)
            {
                int sent = _socket.Send(buffer, offset, count, SocketFlags.None);
                offset += sent;
                count -= sent;
            }
        }
        catch (SocketException e)
        {
            throw new IOException("Unable to write data to the transport connection: " + e.Message, e);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_socket.Available > 0) return Task.FromResult(Read(buffer, offset, count));
        return Task.Run(() =>
        {
            while (!_socket.Poll(PollMicroseconds, SelectMode.SelectRead)) cancellationToken.ThrowIfCancellationRequested();
            return Read(buffer, offset, count);
        }, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer, offset, count);
        return Task.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
