using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine;

/// <summary>A growable byte buffer rented from the shared pool (netstandard2.0 has no ArrayBufferWriter).</summary>
internal sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private byte[] _array;
    private int _length;

    public PooledBuffer(int initialCapacity = 4096)
    {
        _array = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    public int Length => _length;

    public ReadOnlySpan<byte> WrittenSpan => new ReadOnlySpan<byte>(_array, 0, _length);

    public ReadOnlyMemory<byte> WrittenMemory => new ReadOnlyMemory<byte>(_array, 0, _length);

    /// <summary>Forgets the content; keeps a reasonably sized array for reuse.</summary>
    [MethodImpl(HotPath.Compile)]
    public void Clear()
    {
        _length = 0;
        if (_array.Length > 4 * 1024 * 1024)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = ArrayPool<byte>.Shared.Rent(4096);
        }
    }

    public void Advance(int count) => _length += count;

    /// <summary>Keeps the first <paramref name="length"/> bytes (a cut back to a commit point).</summary>
    public void Truncate(int length) => _length = Math.Min(_length, Math.Max(0, length));

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return new Memory<byte>(_array, _length, _array.Length - _length);
    }

    [MethodImpl(HotPath.Compile)]
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return new Span<byte>(_array, _length, _array.Length - _length);
    }

    [MethodImpl(HotPath.Compile)]
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length);
        bytes.CopyTo(new Span<byte>(_array, _length, bytes.Length));
        _length += bytes.Length;
    }

    [MethodImpl(HotPath.Compile)]
    private void Ensure(int sizeHint)
    {
        if (sizeHint < 1) sizeHint = 1;
        if (_array.Length - _length >= sizeHint) return;
        long wanted = Math.Max((long)_array.Length * 2, (long)_length + sizeHint);
        if (wanted > int.MaxValue - 64) wanted = (long)_length + sizeHint;
        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)wanted);
        Buffer.BlockCopy(_array, 0, bigger, 0, _length);
        ArrayPool<byte>.Shared.Return(_array);
        _array = bigger;
    }

    public void Dispose()
    {
        byte[] array = _array;
        _array = Array.Empty<byte>();
        _length = 0;
        if (array.Length > 0) ArrayPool<byte>.Shared.Return(array);
    }
}
