using System;
using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace RedisSync.Engine.Resp;

/// <summary>Byte-sequence comparisons and number parsing over reply payloads, without copies.</summary>
internal static class Bytes
{
    /// <summary>True when both sequences hold the same bytes.</summary>
    public static bool SequenceEqual(in ReadOnlySequence<byte> a, in ReadOnlySequence<byte> b)
    {
        if (a.Length != b.Length) return false;
        if (a.IsSingleSegment && b.IsSingleSegment) return a.First.Span.SequenceEqual(b.First.Span);
        return FirstDifference(a, b) < 0;
    }

    /// <summary>The offset of the first byte that differs (or of the end of the shorter), -1 when equal.</summary>
    public static long FirstDifference(in ReadOnlySequence<byte> a, in ReadOnlySequence<byte> b)
    {
        SequencePosition pa = a.Start, pb = b.Start;
        ReadOnlySpan<byte> sa = default, sb = default;
        long offset = 0;
        while (true)
        {
            if (sa.IsEmpty)
            {
                while (sa.IsEmpty && a.TryGet(ref pa, out ReadOnlyMemory<byte> m)) sa = m.Span;
            }
            if (sb.IsEmpty)
            {
                while (sb.IsEmpty && b.TryGet(ref pb, out ReadOnlyMemory<byte> m)) sb = m.Span;
            }
            if (sa.IsEmpty || sb.IsEmpty) return sa.IsEmpty && sb.IsEmpty ? -1 : offset;
            int n = Math.Min(sa.Length, sb.Length);
            if (!sa.Slice(0, n).SequenceEqual(sb.Slice(0, n)))
            {
                int i = 0;
                while (sa[i] == sb[i]) i++;
                return offset + i;
            }
            offset += n;
            sa = sa.Slice(n);
            sb = sb.Slice(n);
        }
    }

    /// <summary>The sequence's first bytes in one span: its first segment, or a copy into <paramref name="scratch"/>.</summary>
    public static ReadOnlySpan<byte> Small(in ReadOnlySequence<byte> value, Span<byte> scratch)
    {
        if (value.IsSingleSegment) return value.First.Span;
        int n = (int)Math.Min(value.Length, scratch.Length);
        value.Slice(0, n).CopyTo(scratch);
        return scratch.Slice(0, n);
    }

    public static bool TryParseInt64(in ReadOnlySequence<byte> text, out long value)
    {
        Span<byte> scratch = stackalloc byte[24];
        value = 0;
        if (text.Length > scratch.Length) return false;
        ReadOnlySpan<byte> span = Small(text, scratch);
        return Utf8Parser.TryParse(span, out value, out int used) && used == span.Length;
    }

    public static bool TryParseUInt64(in ReadOnlySequence<byte> text, out ulong value)
    {
        Span<byte> scratch = stackalloc byte[24];
        value = 0;
        if (text.Length > scratch.Length) return false;
        ReadOnlySpan<byte> span = Small(text, scratch);
        return Utf8Parser.TryParse(span, out value, out int used) && used == span.Length;
    }

    /// <summary>Parses a score as Redis prints it ("inf", "-inf", or a decimal double).</summary>
    public static bool TryParseScore(in ReadOnlySequence<byte> text, out double value)
    {
        Span<byte> scratch = stackalloc byte[64];
        value = 0;
        if (text.Length > scratch.Length) return false;
        ReadOnlySpan<byte> span = Small(text, scratch);
        string s = Encoding.ASCII.GetString(span.ToArray());
        switch (s.ToLowerInvariant())
        {
            case "inf":
            case "+inf":
                value = double.PositiveInfinity;
                return true;
            case "-inf":
                value = double.NegativeInfinity;
                return true;
        }
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>True when two scores are the very same double (their text may differ between versions).</summary>
    public static bool ScoresEqual(in ReadOnlySequence<byte> a, in ReadOnlySequence<byte> b)
    {
        if (SequenceEqual(a, b)) return true;
        return TryParseScore(a, out double x) && TryParseScore(b, out double y) && x.Equals(y);
    }

    /// <summary>A payload as text for a message (quoted and escaped like redis-cli, cut when long).</summary>
    public static string Quote(in ReadOnlySequence<byte> value, int max = 64)
    {
        if (value.Length <= max) return KeyText.Format(value.ToArray());
        return KeyText.Format(value.Slice(0, max).ToArray()) + "...(" + value.Length.ToString(CultureInfo.InvariantCulture) + " bytes)";
    }

    /// <summary>A number as text for a message.</summary>
    public static string Text(in ReadOnlySequence<byte> value) => Encoding.UTF8.GetString(value.ToArray());
}
