using System;
using System.Buffers;
using System.Buffers.Text;
using System.IO;

namespace RedisSync.Bench;

/// <summary>
/// A benchmark data set as a file of RESP commands, for <c>redis-cli --pipe</c>: the same bytes
/// load the source and measure the target's ingestion limit. Generated from a fixed seed, so every
/// run and every machine copies the same data.
/// </summary>
public sealed class DataSet
{
    private DataSet(string name, long keys, long elements, string path)
    {
        Name = name;
        Keys = keys;
        Elements = elements;
        Path = path;
    }

    /// <summary>What the table calls it.</summary>
    public string Name { get; }

    public long Keys { get; }

    /// <summary>String values plus collection members (a hash field with its value counts once).</summary>
    public long Elements { get; }

    /// <summary>The RESP command file.</summary>
    public string Path { get; }

    public long FileBytes => new FileInfo(Path).Length;

    /// <summary>
    /// <paramref name="keys"/> keys: 95% strings of 64–100 bytes, the rest hashes, lists, sets and
    /// sorted sets (in turn) of 10–50 elements, each written by one command.
    /// </summary>
    public static DataSet Mixed(string dir, int keys, ulong seed = 0x5EED_0001)
    {
        string path = System.IO.Path.Combine(dir, $"mixed-{keys}.resp");
        var rng = new Xorshift(seed);
        long elements = 0;
        using var writer = new RespFileWriter(path);
        byte[] value = new byte[128];
        byte[] member = new byte[64];
        int collection = 0;
        for (int i = 0; i < keys; i++)
        {
            if (i % 20 != 19)
            {
                int length = 64 + rng.Next(37);
                rng.Fill(value.AsSpan(0, length));
                writer.Begin(3);
                writer.Arg("SET"u8);
                writer.Key(i);
                writer.Arg(value.AsSpan(0, length));
                elements++;
                continue;
            }
            int count = 10 + rng.Next(41);
            elements += count;
            switch (collection++ % 4)
            {
                case 0:
                    writer.Begin(2 + 2 * count);
                    writer.Arg("HSET"u8);
                    writer.Key(i);
                    for (int j = 0; j < count; j++)
                    {
                        writer.KeyArg("field:"u8, j);
                        int n = 8 + rng.Next(33);
                        rng.Fill(member.AsSpan(0, n));
                        writer.Arg(member.AsSpan(0, n));
                    }
                    break;
                case 1:
                    writer.Begin(2 + count);
                    writer.Arg("RPUSH"u8);
                    writer.Key(i);
                    for (int j = 0; j < count; j++)
                    {
                        int n = 8 + rng.Next(33);
                        rng.Fill(member.AsSpan(0, n));
                        writer.Arg(member.AsSpan(0, n));
                    }
                    break;
                case 2:
                    writer.Begin(2 + count);
                    writer.Arg("SADD"u8);
                    writer.Key(i);
                    for (int j = 0; j < count; j++)
                    {
                        // The index keeps members distinct, so the set holds exactly count of them.
                        int n = 8 + rng.Next(25);
                        rng.Fill(member.AsSpan(0, n));
                        int digits = WriteNumber(member.AsSpan(n), j);
                        writer.Arg(member.AsSpan(0, n + digits));
                    }
                    break;
                default:
                    writer.Begin(2 + 2 * count);
                    writer.Arg("ZADD"u8);
                    writer.Key(i);
                    for (int j = 0; j < count; j++)
                    {
                        double score = rng.Next(1_000_000) / 8.0;
                        Utf8Formatter.TryFormat(score, member, out int written);
                        writer.Arg(member.AsSpan(0, written));
                        writer.KeyArg("member:"u8, j);
                    }
                    break;
            }
        }
        return new DataSet($"{Count(keys)} keys (95% strings)", keys, elements, path);
    }

    /// <summary>One hash of <paramref name="fields"/> fields (values of 16–32 bytes), written 1,000 fields per HSET.</summary>
    public static DataSet BigHash(string dir, int fields, ulong seed = 0x5EED_0002)
    {
        string path = System.IO.Path.Combine(dir, $"bighash-{fields}.resp");
        var rng = new Xorshift(seed);
        using var writer = new RespFileWriter(path);
        byte[] value = new byte[32];
        for (int start = 0; start < fields; start += 1000)
        {
            int count = Math.Min(1000, fields - start);
            writer.Begin(2 + 2 * count);
            writer.Arg("HSET"u8);
            writer.Arg("bighash"u8);
            for (int j = start; j < start + count; j++)
            {
                writer.KeyArg("field:"u8, j);
                int n = 16 + rng.Next(17);
                rng.Fill(value.AsSpan(0, n));
                writer.Arg(value.AsSpan(0, n));
            }
        }
        return new DataSet($"1 hash of {Count(fields)} fields", 1, fields, path);
    }

    /// <summary>5M for whole millions, else the number in full.</summary>
    private static string Count(long n) => n % 1_000_000 == 0 ? $"{n / 1_000_000}M" : n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);

    private static int WriteNumber(Span<byte> destination, long value)
    {
        Utf8Formatter.TryFormat(value, destination, out int written);
        return written;
    }

    /// <summary>A small, fast generator (xorshift64*): the data only has to be varied and repeatable.</summary>
    private struct Xorshift
    {
        private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        private ulong _state;

        public Xorshift(ulong seed) => _state = seed == 0 ? 1 : seed;

        public ulong NextUInt64()
        {
            _state ^= _state >> 12;
            _state ^= _state << 25;
            _state ^= _state >> 27;
            return _state * 0x2545F4914F6CDD1DUL;
        }

        public int Next(int exclusiveMax) => (int)(NextUInt64() % (ulong)exclusiveMax);

        /// <summary>Printable bytes, 6 bits of randomness each, ten to a draw.</summary>
        public void Fill(Span<byte> destination)
        {
            int i = 0;
            while (i < destination.Length)
            {
                ulong bits = NextUInt64();
                for (int k = 0; k < 10 && i < destination.Length; k++, i++)
                {
                    destination[i] = (byte)Alphabet[(int)(bits & 63)];
                    bits >>= 6;
                }
            }
        }
    }

    /// <summary>Writes RESP arrays of bulk strings to a file through a large buffer.</summary>
    private sealed class RespFileWriter : IDisposable
    {
        private readonly FileStream _file;
        private readonly byte[] _buffer = new byte[1 << 20];
        private int _length;

        public RespFileWriter(string path) => _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1);

        public void Begin(int args)
        {
            Reserve(16);
            _buffer[_length++] = (byte)'*';
            Number(args);
        }

        public void Arg(ReadOnlySpan<byte> value)
        {
            Reserve(value.Length + 16);
            _buffer[_length++] = (byte)'$';
            Number(value.Length);
            value.CopyTo(_buffer.AsSpan(_length));
            _length += value.Length;
            _buffer[_length++] = (byte)'\r';
            _buffer[_length++] = (byte)'\n';
        }

        /// <summary>
        /// <c>key:</c> and the number in 12 digits: the names redis-benchmark's <c>-r</c> writes to, so
        /// its load overwrites the data set's keys instead of adding new ones.
        /// </summary>
        public void Key(long number)
        {
            Span<byte> text = stackalloc byte[16];
            "key:"u8.CopyTo(text);
            Utf8Formatter.TryFormat(number, text.Slice(4), out _, new StandardFormat('D', 12));
            Arg(text);
        }

        /// <summary>A prefix and a number, as one argument (<c>field:123</c>).</summary>
        public void KeyArg(ReadOnlySpan<byte> prefix, long number)
        {
            Span<byte> text = stackalloc byte[64];
            prefix.CopyTo(text);
            Utf8Formatter.TryFormat(number, text.Slice(prefix.Length), out int digits);
            Arg(text.Slice(0, prefix.Length + digits));
        }

        private void Number(long value)
        {
            Utf8Formatter.TryFormat(value, _buffer.AsSpan(_length), out int written);
            _length += written;
            _buffer[_length++] = (byte)'\r';
            _buffer[_length++] = (byte)'\n';
        }

        private void Reserve(int bytes)
        {
            if (_buffer.Length - _length >= bytes) return;
            _file.Write(_buffer, 0, _length);
            _length = 0;
            if (bytes > _buffer.Length) throw new InvalidOperationException("An argument is larger than the write buffer.");
        }

        public void Dispose()
        {
            _file.Write(_buffer, 0, _length);
            _file.Dispose();
        }
    }
}
