using System;
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// The payload that DUMP returns and RESTORE takes: the type byte, the value exactly as an RDB file
/// serializes it, the RDB version (2 bytes, little-endian) and a CRC-64 of all that (8 bytes, little-endian).
/// Lets a small key be copied with one RESTORE straight from the bytes the parser captured.
/// </summary>
internal static class DumpPayload
{
    /// <summary>Bytes that <see cref="Write"/> produces for a value of <paramref name="rawValueLength"/> bytes.</summary>
    public static long Length(long rawValueLength) => 1 + rawValueLength + 2 + 8;

    /// <summary>Bytes that <see cref="Write"/> produces for <paramref name="rawValue"/>.</summary>
    public static long Length(in ReadOnlySequence<byte> rawValue) => Length(rawValue.Length);

    /// <summary>Writes the payload for <paramref name="rawValue"/> (an <see cref="RdbKey.RawValue"/>) into <paramref name="output"/>.</summary>
    [MethodImpl(HotPath.Compile)]
    public static void Write(IBufferWriter<byte> output, RdbType type, in ReadOnlySequence<byte> rawValue, int rdbVersion)
    {
        if (output == null) throw new ArgumentNullException(nameof(output));
        if (rdbVersion < 1 || rdbVersion > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(rdbVersion));

        Span<byte> head = output.GetSpan(1);
        head[0] = (byte)type;
        ulong crc = Crc64.Update(0, head.Slice(0, 1));
        output.Advance(1);

        foreach (ReadOnlyMemory<byte> segment in rawValue)
        {
            ReadOnlySpan<byte> source = segment.Span;
            crc = Crc64.Update(crc, source);
            while (!source.IsEmpty)
            {
                Span<byte> dest = output.GetSpan(1);
                int n = Math.Min(dest.Length, source.Length);
                source.Slice(0, n).CopyTo(dest);
                output.Advance(n);
                source = source.Slice(n);
            }
        }

        Span<byte> tail = output.GetSpan(10);
        BinaryPrimitives.WriteUInt16LittleEndian(tail, (ushort)rdbVersion);
        crc = Crc64.Update(crc, tail.Slice(0, 2));
        BinaryPrimitives.WriteUInt64LittleEndian(tail.Slice(2), crc);
        output.Advance(10);
    }

    /// <summary>
    /// Checks a payload as RESTORE does (verifyDumpPayload) before it is sent: a footer, an RDB version
    /// the target loads, and (unless <paramref name="verifyCrc"/> is false, for a payload that
    /// <see cref="Write"/> just made) a CRC-64 that matches. Returns what is wrong, or null.
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public static string? Check(ReadOnlySpan<byte> payload, int targetRdbVersion, bool verifyCrc = true)
    {
        if (payload.Length < 11) return $"it is {payload.Length} bytes long, shorter than a type byte and its footer";
        ReadOnlySpan<byte> footer = payload.Slice(payload.Length - 10);
        int version = BinaryPrimitives.ReadUInt16LittleEndian(footer);
        if (version > targetRdbVersion) return $"its footer names RDB version {version}, newer than the {targetRdbVersion} the target loads";
        if (!verifyCrc) return null;
        ulong stored = BinaryPrimitives.ReadUInt64LittleEndian(footer.Slice(2));
        ulong crc = Crc64.Update(0, payload.Slice(0, payload.Length - 8));
        return crc == stored ? null : $"its CRC-64 is {crc:x16} but its footer says {stored:x16}";
    }
}
