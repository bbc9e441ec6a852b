using System.IO;
using System.Text;

namespace RedisSync.Engine.Config;

/// <summary>
/// Reads settings files: strict TOML 1.0.0 (toml.io/en/v1.0.0), so a typo fails at load with its
/// line and column instead of silently changing what a scheduled sync does.
/// </summary>
public static class TomlDocument
{
    private static readonly UTF8Encoding StrictUtf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Parses TOML text (a leading byte order mark is ignored) into its root table.</summary>
    public static TomlTable Parse(string text)
    {
        if (text is null) throw new System.ArgumentNullException(nameof(text));
        return TomlParser.ParseDocument(text.Length > 0 && text[0] == '\uFEFF' ? text.Substring(1) : text);
    }

    /// <summary>
    /// Reads a TOML file, which must be UTF-8 (with or without a byte order mark): invalid bytes
    /// are an error with their place, never replaced.
    /// </summary>
    public static TomlTable Load(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int start = bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0;
        int invalid = FirstInvalidUtf8(bytes, start);
        if (invalid >= 0) throw InvalidUtf8(bytes, start, invalid);
        return TomlParser.ParseDocument(StrictUtf8.GetString(bytes, start, bytes.Length - start));
    }

    /// <summary>Offset of the first byte that does not belong to well-formed UTF-8 (RFC 3629), or -1.</summary>
    private static int FirstInvalidUtf8(byte[] bytes, int start)
    {
        int i = start;
        while (i < bytes.Length)
        {
            byte b = bytes[i];
            if (b < 0x80)
            {
                i++;
                continue;
            }

            int length;
            int min;
            if (b >= 0xC2 && b <= 0xDF)
            {
                length = 2;
                min = 0x80;
            }
            else if (b >= 0xE0 && b <= 0xEF)
            {
                length = 3;
                min = 0x800;
            }
            else if (b >= 0xF0 && b <= 0xF4)
            {
                length = 4;
                min = 0x10000;
            }
            else
            {
                return i;
            }

            if (i + length > bytes.Length) return i;
            int codePoint = b & (0x7F >> length);
            for (int k = 1; k < length; k++)
            {
                byte next = bytes[i + k];
                if ((next & 0xC0) != 0x80) return i;
                codePoint = (codePoint << 6) | (next & 0x3F);
            }

            if (codePoint < min || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF)) return i;
            i += length;
        }

        return -1;
    }

    private static TomlException InvalidUtf8(byte[] bytes, int start, int offset)
    {
        int line = 1;
        int column = 1;
        for (int i = start; i < offset; i++)
        {
            if (bytes[i] == (byte)'\n')
            {
                line++;
                column = 1;
            }
            else if ((bytes[i] & 0xC0) != 0x80)
            {
                column++;
            }
        }

        return new TomlException(line, column, $"byte 0x{bytes[offset]:X2} is not valid UTF-8 (settings files must be UTF-8)");
    }
}
