using System;
using System.Buffers;

namespace RedisSync.Engine.Compare;

/// <summary>The keys of one SCAN reply (or a few), packed into one reusable buffer: no allocation per key.</summary>
internal sealed class KeyBatch
{
    private byte[] _bytes = new byte[64 * 1024];
    private int _used;
    private int[] _starts = new int[1024];
    private int[] _lengths = new int[1024];

    public int Count { get; private set; }

    /// <summary>The buffer the keys live in (valid until the next <see cref="Clear"/>).</summary>
    public byte[] Buffer => _bytes;

    public int Start(int index) => _starts[index];

    public int Length(int index) => _lengths[index];

    public ReadOnlySpan<byte> this[int index] => new ReadOnlySpan<byte>(_bytes, _starts[index], _lengths[index]);

    public void Clear()
    {
        _used = 0;
        Count = 0;
    }

    public void Add(in ReadOnlySequence<byte> key)
    {
        int length = checked((int)key.Length);
        if (_bytes.Length - _used < length)
        {
            Array.Resize(ref _bytes, Math.Max(_bytes.Length * 2, _used + length));
        }
        if (Count == _starts.Length)
        {
            Array.Resize(ref _starts, Count * 2);
            Array.Resize(ref _lengths, Count * 2);
        }
        key.CopyTo(new Span<byte>(_bytes, _used, length));
        _starts[Count] = _used;
        _lengths[Count] = length;
        Count++;
        _used += length;
    }

    /// <summary>Replaces each key that <paramref name="map"/> gives another name for (a target's renamed keys by their source names).</summary>
    public void MapNames(Transform.KeyRename map)
    {
        int count = Count;
        var names = new byte[count][];
        bool any = false;
        for (int i = 0; i < count; i++)
        {
            byte[]? mapped = map.Original(this[i]);
            any |= mapped != null;
            names[i] = mapped ?? this[i].ToArray();
        }
        if (!any) return;
        Clear();
        foreach (byte[] name in names) Add(new ReadOnlySequence<byte>(name));
    }
}
