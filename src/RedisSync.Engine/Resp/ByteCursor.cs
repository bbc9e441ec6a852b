using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Resp;

/// <summary>
/// A forward-only reader over a <see cref="ReadOnlySequence{T}"/>: a span fast path within the
/// current segment and a walk across segments for data that straddles them (netstandard2.0 has
/// no SequenceReader).
/// </summary>
internal ref struct ByteCursor
{
    private readonly ReadOnlySequence<byte> _sequence;
    private SequencePosition _next;      // start of the segment after the current one
    private SequencePosition _spanStart; // start of the current segment
    private ReadOnlySpan<byte> _span;
    private int _index;
    private long _consumedBefore;        // bytes in segments before the current one

    public ByteCursor(ReadOnlySequence<byte> sequence)
    {
        _sequence = sequence;
        _spanStart = sequence.Start;
        _next = sequence.Start;
        _span = default;
        _index = 0;
        _consumedBefore = 0;
        sequence.TryGet(ref _next, out ReadOnlyMemory<byte> first, advance: true);
        _span = first.Span;
        SkipEmptySegments();
    }

    /// <summary>Bytes consumed since the start of the sequence.</summary>
    public readonly long Consumed => _consumedBefore + _index;

    public readonly long Remaining => _sequence.Length - Consumed;

    /// <summary>The position of the cursor in the sequence.</summary>
    public readonly SequencePosition Position => _sequence.GetPosition(_index, _spanStart);

    /// <summary>The rest of the current segment.</summary>
    public readonly ReadOnlySpan<byte> CurrentSpan => _span.Slice(_index);

    [MethodImpl(HotPath.Compile)]
    private void SkipEmptySegments()
    {
        while (_index >= _span.Length)
        {
            SequencePosition here = _next;
            if (!_sequence.TryGet(ref _next, out ReadOnlyMemory<byte> memory, advance: true))
            {
                return;
            }
            _consumedBefore += _span.Length;
            _spanStart = here;
            _span = memory.Span;
            _index = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryRead(out byte value)
    {
        if (_index < _span.Length)
        {
            value = _span[_index++];
            if (_index == _span.Length) SkipEmptySegments();
            return true;
        }
        value = 0;
        return false;
    }

    public bool TryPeek(out byte value)
    {
        if (_index < _span.Length)
        {
            value = _span[_index];
            return true;
        }
        value = 0;
        return false;
    }

    /// <summary>Advances by <paramref name="count"/> bytes, or returns false (and does not move) if fewer remain.</summary>
    [MethodImpl(HotPath.Compile)]
    public bool TryAdvance(long count)
    {
        if (count <= _span.Length - _index)
        {
            _index += (int)count;
            if (_index == _span.Length) SkipEmptySegments();
            return true;
        }
        if (count > Remaining) return false;
        while (count > 0)
        {
            int step = (int)Math.Min(count, _span.Length - _index);
            _index += step;
            count -= step;
            SkipEmptySegments();
        }
        return true;
    }

    /// <summary>
    /// Reads a line up to CRLF (not included). The span points into the sequence when the line
    /// lies in one segment, else into <paramref name="scratch"/>. Returns false when the line is
    /// incomplete (<paramref name="error"/> None) or malformed (a bare LF, or longer than the scratch
    /// while it straddles segments); the cursor moves only on success.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public bool TryReadLine(Span<byte> scratch, out ReadOnlySpan<byte> line, out LineError error)
    {
        error = LineError.None;
        ReadOnlySpan<byte> rest = _span.Slice(_index);
        int lf = rest.IndexOf((byte)'\n');
        if (lf >= 0)
        {
            if (lf == 0 || rest[lf - 1] != (byte)'\r')
            {
                error = LineError.BareLineFeed;
                line = default;
                return false;
            }
            line = rest.Slice(0, lf - 1);
            _index += lf + 1;
            if (_index == _span.Length) SkipEmptySegments();
            return true;
        }
        // The line straddles segments: copy into scratch.
        ByteCursor probe = this;
        int n = 0;
        while (probe.TryRead(out byte b))
        {
            if (b == (byte)'\n')
            {
                if (n == 0 || scratch[n - 1] != (byte)'\r')
                {
                    error = LineError.BareLineFeed;
                    line = default;
                    return false;
                }
                line = scratch.Slice(0, n - 1);
                this = probe;
                return true;
            }
            if (n == scratch.Length)
            {
                error = LineError.TooLong;
                line = default;
                return false;
            }
            scratch[n++] = b;
        }
        line = default;
        return false;
    }

    /// <summary>A slice of the underlying sequence.</summary>
    public readonly ReadOnlySequence<byte> Slice(SequencePosition start, long length) => _sequence.Slice(start, length);

    /// <summary>The next <paramref name="count"/> bytes as a slice of the sequence (no copy).</summary>
    public bool TryReadSequence(long count, out ReadOnlySequence<byte> slice)
    {
        if (count > Remaining)
        {
            slice = default;
            return false;
        }
        SequencePosition start = Position;
        TryAdvance(count);
        slice = _sequence.Slice(start, count);
        return true;
    }
}

/// <summary>Why <see cref="ByteCursor.TryReadLine"/> refused a line.</summary>
internal enum LineError
{
    None,
    BareLineFeed,
    TooLong,
}
