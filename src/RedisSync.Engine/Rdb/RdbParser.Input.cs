using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;
using RedisSync.Engine.Net;
using RedisSync.Engine.Readers;

namespace RedisSync.Engine.Rdb;

// The input side: a contiguous window of pooled memory that mirrors the bytes the pipe delivered.
//
// - The pipe is told "consumed" only up to bytes the format has proven it needs (everything copied
//   before a byte that is needed next), and at the end exactly up to the RDB's last byte, with
//   examined = consumed, so whatever follows (the replication stream) stays readable at once.
// - Bytes leave the window when the parser has moved past them and no mark holds them: a captured
//   value (_pinAbs) or the element being read (_elemAbs, whose spans the visitor has not seen yet).
//   The CRC is computed over bytes as they leave the window, so every byte counts exactly once.
// - When the window must move while spans of the current element point into it, the old array is
//   kept (locked) until the element ends, so those spans stay valid.
internal sealed partial class RdbParser
{
    private const long NoMark = long.MaxValue;
    private const int DefaultWindow = 128 * 1024;
    private const int MaxElementLength = int.MaxValue - 1024;

    private byte[] _buf;
    private int _pos;
    private int _end;
    private long _bufAbs;
    private long _pinAbs = NoMark;
    private long _elemAbs = NoMark;
    private bool _spansOut;
    private readonly List<byte[]> _locked = new List<byte[]>();
    private byte[]? _spareWindow;

    private ReadOnlySequence<byte> _seq;
    private bool _haveRead;
    private long _seqAbs;
    private bool _inputDone;

    private ulong _crc;
    private long _progress;

    private byte[] _arena;
    private int _arenaUsed;
    private readonly List<byte[]> _arenaOld = new List<byte[]>();

    /// <summary>Absolute offset of the next byte to parse.</summary>
    private long Abs
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _bufAbs + _pos;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Ensure(int n)
    {
        if (_end - _pos < n) Fill(n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private byte ReadByte()
    {
        if (_pos >= _end) Fill(1);
        return _buf[_pos++];
    }

    private long ReadInt64LE()
    {
        Ensure(8);
        long v = BinaryPrimitives.ReadInt64LittleEndian(new ReadOnlySpan<byte>(_buf, _pos, 8));
        _pos += 8;
        return v;
    }

    private int ReadInt32LE()
    {
        Ensure(4);
        int v = BinaryPrimitives.ReadInt32LittleEndian(new ReadOnlySpan<byte>(_buf, _pos, 4));
        _pos += 4;
        return v;
    }

    /// <summary>A span of the next <paramref name="n"/> bytes of the window, valid for the current element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> ReadRaw(int n)
    {
        if (_end - _pos < n) Fill(n);
        var span = new ReadOnlySpan<byte>(_buf, _pos, n);
        _pos += n;
        _spansOut = true;
        return span;
    }

    /// <summary>Moves past <paramref name="n"/> bytes, reading them through the window as needed.</summary>
    [MethodImpl(HotPath.Compile)]
    private void Skip(long n)
    {
        while (true)
        {
            long here = _end - _pos;
            if (here >= n)
            {
                _pos += (int)n;
                return;
            }
            _pos = _end;
            n -= here;
            Fill((int)Math.Min(n, DefaultWindow));
        }
    }

    /// <summary>Starts an element: its bytes and the scratch used for it stay valid until the next one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NewElement()
    {
        _elemAbs = _bufAbs + _pos;
        _spansOut = false;
        _arenaUsed = 0;
        if (_locked.Count != 0 || _arenaOld.Count != 0) ReleaseElementMemory();
    }

    [MethodImpl(HotPath.Compile)]
    private void EndElement()
    {
        _elemAbs = NoMark;
        _spansOut = false;
        _arenaUsed = 0;
        if (_locked.Count != 0 || _arenaOld.Count != 0) ReleaseElementMemory();
    }

    private void ReleaseElementMemory()
    {
        foreach (byte[] old in _locked) ReturnWindow(old);
        _locked.Clear();
        foreach (byte[] old in _arenaOld) ArrayPool<byte>.Shared.Return(old);
        _arenaOld.Clear();
    }

    /// <summary>Scratch memory for the current element (decimal text, decompressed strings).</summary>
    private Span<byte> ArenaAlloc(int n)
    {
        if (_arena.Length - _arenaUsed < n)
        {
            _arenaOld.Add(_arena);
            _arena = ArrayPool<byte>.Shared.Rent(Math.Max(n, _arena.Length * 2));
            _arenaUsed = 0;
        }
        var span = new Span<byte>(_arena, _arenaUsed, n);
        _arenaUsed += n;
        return span;
    }

    /// <summary>
    /// Makes at least <paramref name="n"/> bytes available at <see cref="_pos"/>, or throws RdbTruncated.
    /// The window grows towards <paramref name="n"/> by at most doubling what has arrived, so a length
    /// that a corrupt file declares but does not hold costs no more memory than the bytes it does hold.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | HotPath.Compile)]
    private void Fill(int n)
    {
        while (_end - _pos < n)
        {
            int have = _end - _pos;
            int step = (int)Math.Min(n, (long)have + Math.Max(DefaultWindow, have));
            if (_buf.Length - _pos < step || _buf.Length == _end) MakeRoom(step);
            while (_end - _pos < step)
            {
                if (!CopyFromPipe()) ReadFromPipe(n);
            }
        }
        ReportProgress(_bufAbs + _pos);
    }

    /// <summary>Drops the bytes no mark holds, and moves or grows the window so that <paramref name="n"/> bytes fit after <see cref="_pos"/>.</summary>
    [MethodImpl(HotPath.Compile)]
    private void MakeRoom(int n)
    {
        long keepAbs = Math.Min(_bufAbs + _pos, Math.Min(_pinAbs, _elemAbs));
        int keep = (int)(keepAbs - _bufAbs);
        long required = (long)_pos + n - keep;
        if (required > MaxElementLength) ThrowCorrupt($"a value needs {required} bytes at once, more than this parser holds");

        if (keep > 0 && _options.VerifyChecksum) _crc = Crc64.Update(_crc, new ReadOnlySpan<byte>(_buf, 0, keep));

        bool spansInWindow = _spansOut && _elemAbs != NoMark;
        int live = _end - keep;
        byte[] target;
        if (!spansInWindow && required <= _buf.Length && !(_buf.Length > ShrinkAbove && required <= DefaultWindow))
        {
            target = _buf;
            if (keep > 0) Buffer.BlockCopy(_buf, keep, _buf, 0, live);
        }
        else
        {
            target = RentWindow((int)Math.Max(required, DefaultWindow));
            Buffer.BlockCopy(_buf, keep, target, 0, live);
            if (spansInWindow) _locked.Add(_buf);
            else ReturnWindow(_buf);
        }
        _buf = target;
        _bufAbs += keep;
        _pos -= keep;
        _end -= keep;
    }

    /// <summary>Windows above this size are given back once nothing needs them.</summary>
    private int ShrinkAbove => Math.Max(DefaultWindow * 2, _options.RawCaptureLimit + DefaultWindow);

    private byte[] RentWindow(int size)
    {
        if (size <= DefaultWindow && _spareWindow != null)
        {
            byte[] spare = _spareWindow;
            _spareWindow = null;
            return spare;
        }
        return ArrayPool<byte>.Shared.Rent(size);
    }

    private void ReturnWindow(byte[] window)
    {
        if (window.Length == DefaultWindow && _spareWindow == null) _spareWindow = window;
        else ArrayPool<byte>.Shared.Return(window);
    }

    /// <summary>Copies what the current read result holds beyond the window; false when it holds nothing more.</summary>
    [MethodImpl(HotPath.Compile)]
    private bool CopyFromPipe()
    {
        if (!_haveRead) return false;
        long copiedAbs = _bufAbs + _end;
        long available = _seqAbs + _seq.Length - copiedAbs;
        if (available <= 0) return false;
        int take = (int)Math.Min(available, _buf.Length - _end);
        _seq.Slice(copiedAbs - _seqAbs, take).CopyTo(new Span<byte>(_buf, _end, take));
        _end += take;
        return true;
    }

    /// <summary>
    /// Waits for more bytes. Everything copied so far comes before a byte the format needs, so it
    /// is all RDB and is handed back to the pipe as consumed.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    private void ReadFromPipe(int n)
    {
        if (_haveRead)
        {
            long copiedAbs = _bufAbs + _end;
            _reader.AdvanceTo(_seq.GetPosition(copiedAbs - _seqAbs), _seq.End);
            _haveRead = false;
            _seqAbs = copiedAbs;
        }
        if (_inputDone) ThrowTruncated(n - (_end - _pos));

        ReadResult result = _reader.ReadBlocking(CancellationToken.None);
        _seq = result.Buffer;
        _haveRead = true;
        if (result.IsCanceled) throw new OperationCanceledException("The RDB read was canceled.");
        if (result.IsCompleted) _inputDone = true;
    }

    /// <summary>Publishes the position for <see cref="Position"/> (atomic on 32-bit hosts too).</summary>
    private void ReportProgress(long position) => Interlocked.Exchange(ref _progress, position);

    /// <summary>After the last byte: consumed (and examined) exactly up to the end of the RDB.</summary>
    private void ReleaseInputAtEnd()
    {
        if (!_haveRead) return;
        _reader.AdvanceTo(_seq.GetPosition(Abs - _seqAbs));
        _haveRead = false;
    }

    /// <summary>After an error: give the read back without consuming anything more.</summary>
    private void ReleaseInputAfterError()
    {
        if (!_haveRead) return;
        _haveRead = false;
        try
        {
            _reader.AdvanceTo(_seq.Start, _seq.End);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private void ReturnBuffers()
    {
        ReleaseElementMemory();
        ArrayPool<byte>.Shared.Return(_buf);
        if (_spareWindow != null) ArrayPool<byte>.Shared.Return(_spareWindow);
        ArrayPool<byte>.Shared.Return(_arena);
        if (_blob != null) ArrayPool<byte>.Shared.Return(_blob);
        if (_ring != null) ArrayPool<byte>.Shared.Return(_ring);
        _buf = _arena = Array.Empty<byte>();
        _spareWindow = _blob = _ring = null;
    }
}
