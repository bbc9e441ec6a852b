using System;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

/// <summary>Why <see cref="Lzf.Decode"/> stopped.</summary>
internal enum LzfStatus : byte
{
    /// <summary>All the input was decoded.</summary>
    InputDone,

    /// <summary>The next operation needs more input than was given (it straddles the end).</summary>
    NeedInput,

    /// <summary>The next operation would write past the end of the output.</summary>
    NeedOutput,

    /// <summary>A back-reference points before the start of the output.</summary>
    Corrupt,
}

/// <summary>
/// LZF decompression (liblzf's format, as Redis writes it) that can stop between operations and
/// resume, so a compressed value is decoded in pieces as its bytes arrive. A literal run copies
/// 1–32 bytes; a back-reference copies 3–264 bytes from at most 8192 bytes back.
/// </summary>
internal static class Lzf
{
    /// <summary>The furthest back a back-reference reaches.</summary>
    public const int MaxDistance = 8192;

    /// <summary>The most output bytes that one operation writes.</summary>
    public const int MaxOperationOutput = 264;

    /// <summary>The most input bytes that one operation reads.</summary>
    public const int MaxOperationInput = 33;

    /// <summary>The most output bytes per input byte: a back-reference of 264 bytes takes 3.</summary>
    public const int MaxRatio = 88;

    /// <summary>
    /// Decodes whole operations from <paramref name="input"/> at <paramref name="ip"/> into
    /// <paramref name="output"/> at <paramref name="op"/> (bytes before <paramref name="op"/> are the history
    /// that back-references read), advancing both.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public static LzfStatus Decode(ReadOnlySpan<byte> input, ref int ip, Span<byte> output, ref int op)
    {
        int i = ip, o = op;
        int inLen = input.Length, outLen = output.Length;
        LzfStatus status = LzfStatus.InputDone;
        while (i < inLen)
        {
            int ctrl = input[i];
            if (ctrl < 32)
            {
                int len = ctrl + 1;
                if (inLen - i - 1 < len) { status = LzfStatus.NeedInput; break; }
                if (outLen - o < len) { status = LzfStatus.NeedOutput; break; }
                input.Slice(i + 1, len).CopyTo(output.Slice(o));
                i += 1 + len;
                o += len;
            }
            else
            {
                int len = ctrl >> 5;
                int need = len == 7 ? 3 : 2;
                if (inLen - i < need) { status = LzfStatus.NeedInput; break; }
                int k = i + 1;
                if (len == 7) len += input[k++];
                int back = ((ctrl & 0x1f) << 8) + input[k++] + 1;
                len += 2;
                if (back > o) { status = LzfStatus.Corrupt; break; }
                if (outLen - o < len) { status = LzfStatus.NeedOutput; break; }
                int from = o - back;
                if (back >= len)
                {
                    output.Slice(from, len).CopyTo(output.Slice(o));
                }
                else
                {
                    for (int j = 0; j < len; j++) output[o + j] = output[from + j];
                }
                o += len;
                i = k;
            }
        }
        ip = i;
        op = o;
        return status;
    }
}
