using System;
using System.Buffers;
using System.Collections.Generic;
using System.Text;

namespace RedisSync.Engine.Tests.Resp;

/// <summary>Builds multi-segment sequences from linked segments, the way a PipeReader hands them out.</summary>
internal static class Segments
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    /// <summary>The data cut into pieces at the given offsets (each piece its own array).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, params int[] cuts)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        int from = 0;
        foreach (int cut in cuts)
        {
            pieces.Add(data.AsSpan(from, cut - from).ToArray());
            from = cut;
        }
        pieces.Add(data.AsSpan(from).ToArray());
        return Link(pieces);
    }

    /// <summary>One segment per byte, with an empty segment after every byte when asked.</summary>
    public static ReadOnlySequence<byte> BytePerSegment(byte[] data, bool withEmptySegments)
    {
        var pieces = new List<ReadOnlyMemory<byte>>();
        if (withEmptySegments) pieces.Add(ReadOnlyMemory<byte>.Empty);
        foreach (byte b in data)
        {
            pieces.Add(new[] { b });
            if (withEmptySegments) pieces.Add(ReadOnlyMemory<byte>.Empty);
        }
        return Link(pieces);
    }

    public static ReadOnlySequence<byte> Link(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        if (pieces.Count == 0) return ReadOnlySequence<byte>.Empty;
        var first = new Segment(pieces[0], 0);
        Segment last = first;
        for (int i = 1; i < pieces.Count; i++) last = last.Append(pieces[i]);
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    public static string Text(ReadOnlySequence<byte> sequence) => Encoding.UTF8.GetString(sequence.ToArray());
}
