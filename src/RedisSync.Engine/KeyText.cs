using System;
using System.Text;

namespace RedisSync.Engine;

/// <summary>Keys and values as text for messages: printable ASCII kept, other bytes as \xNN.</summary>
internal static class KeyText
{
    /// <summary>Quotes <paramref name="bytes"/> like redis-cli does, cut after <paramref name="max"/> bytes.</summary>
    public static string Format(ReadOnlySpan<byte> bytes, int max = 200)
    {
        var sb = new StringBuilder(bytes.Length + 2);
        sb.Append('"');
        int n = Math.Min(bytes.Length, max);
        for (int i = 0; i < n; i++)
        {
            byte b = bytes[i];
            if (b == (byte)'"' || b == (byte)'\\') sb.Append('\\').Append((char)b);
            else if (b >= 0x20 && b <= 0x7e) sb.Append((char)b);
            else sb.Append("\\x").Append(b.ToString("x2"));
        }
        sb.Append('"');
        if (bytes.Length > max) sb.Append("...(").Append(bytes.Length).Append(" bytes)");
        return sb.ToString();
    }
}
