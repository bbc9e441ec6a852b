using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RedisSync.Engine.Resp;
using Xunit;
using static RedisSync.Engine.Tests.Resp.Segments;

namespace RedisSync.Engine.Tests.Resp;

public sealed class RespParserTests
{
    /// <summary>Every RESP2 and RESP3 frame type: the wire text, what TryRead builds, and what TrySkip reports.</summary>
    public static readonly (string Wire, string Tree, string Skip)[] Frames =
    {
        ("+OK\r\n", "+'OK'", "+ 0 'OK' errors=0"),
        ("-ERR unknown command 'FOO'\r\n", "-'ERR unknown command 'FOO''", "- 0 'ERR unknown command 'FOO'' errors=1 first='ERR unknown command 'FOO'' at 0"),
        (":1234\r\n", ":1234", ": 1234 '' errors=0"),
        (":-42\r\n", ":-42", ": -42 '' errors=0"),
        (":+7\r\n", ":7", ": 7 '' errors=0"),
        ("$5\r\nhello\r\n", "$'hello'", "$ 0 'hello' errors=0"),
        ("$0\r\n\r\n", "$''", "$ 0 '' errors=0"),
        ("$-1\r\n", "$nil", "$ -1 '' errors=0"),
        ("$11\r\nbin\r\n\u0001ary\r\n\r\n", "$'bin\r\n\u0001ary\r\n'", "$ 0 'bin\r\n\u0001ary\r\n' errors=0"),
        ("*-1\r\n", "*nil", "* -1 '' errors=0"),
        ("*0\r\n", "*[]", "* 0 '' errors=0"),
        ("*3\r\n:1\r\n$3\r\nfoo\r\n*1\r\n+x\r\n", "*[:1,$'foo',*[+'x']]", "* 3 '' errors=0"),
        ("_\r\n", "_nil", "_ -1 '' errors=0"),
        ("#t\r\n", "#1", "# 1 't' errors=0"),
        ("#f\r\n", "#0", "# 0 'f' errors=0"),
        (",1.23\r\n", ",'1.23'", ", 0 '1.23' errors=0"),
        (",inf\r\n", ",'inf'", ", 0 'inf' errors=0"),
        (",-inf\r\n", ",'-inf'", ", 0 '-inf' errors=0"),
        (",nan\r\n", ",'nan'", ", 0 'nan' errors=0"),
        (",1.5e-10\r\n", ",'1.5e-10'", ", 0 '1.5e-10' errors=0"),
        ("(3492890328409238509324850943850943825024385\r\n", "('3492890328409238509324850943850943825024385'", "( 0 '3492890328409238509324850943850943825024385' errors=0"),
        ("!21\r\nSYNTAX invalid syntax\r\n", "!'SYNTAX invalid syntax'", "! 0 'SYNTAX invalid syntax' errors=1 first='SYNTAX invalid syntax' at 0"),
        ("=15\r\ntxt:Some string\r\n", "$'Some string'", "= 0 'Some string' errors=0"),
        ("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n", "%[+'first',:1,+'second',:2]", "% 2 '' errors=0"),
        ("~3\r\n+orange\r\n+apple\r\n#t\r\n", "~[+'orange',+'apple',#1]", "~ 3 '' errors=0"),
        ("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n*2\r\n:2039123\r\n:9543892\r\n", "*[:2039123,:9543892]", "* 2 '' errors=0"),
        ("*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n", "*[:1,:2,:3]", "* 3 '' errors=0"),
        ("|1\r\n+note\r\n-ERR inside an attribute\r\n+OK\r\n", "+'OK'", "+ 0 'OK' errors=0"),
        (">3\r\n+message\r\n+somechannel\r\n+this is the message\r\n", ">[+'message',+'somechannel',+'this is the message']", "> 3 '' errors=0"),
        ("*4\r\n+OK\r\n-WRONGTYPE Operation against a key holding the wrong kind of value\r\n:1\r\n!5\r\nERR x\r\n",
            "*[+'OK',-'WRONGTYPE Operation against a key holding the wrong kind of value',:1,!'ERR x']",
            "* 4 '' errors=2 first='WRONGTYPE Operation against a key holding the wrong kind of value' at 1"),
    };

    public static IEnumerable<object[]> FrameCases() => Frames.Select((f, i) => new object[] { i, f.Wire.Replace("\r\n", "\\r\\n") });

    [Theory]
    [MemberData(nameof(FrameCases))]
    public void Every_frame_type_reads_and_skips_whole(int index, string shown)
    {
        var (wire, tree, skip) = Frames[index];
        Assert.NotNull(shown);
        var buffer = new ReadOnlySequence<byte>(Bytes(wire));
        Assert.True(RespParser.TryRead(ref buffer, out RespValue? value));
        Assert.Equal(tree, Show(value));
        Assert.True(buffer.IsEmpty);

        buffer = new ReadOnlySequence<byte>(Bytes(wire));
        Assert.True(RespParser.TrySkip(ref buffer, out RespFrame frame));
        Assert.Equal(skip, Show(frame));
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [MemberData(nameof(FrameCases))]
    public void A_frame_split_at_any_byte_reads_the_same(int index, string shown)
    {
        var (wire, tree, skip) = Frames[index];
        Assert.NotNull(shown);
        byte[] data = Bytes(wire);
        for (int cut = 1; cut < data.Length; cut++)
        {
            ReadOnlySequence<byte> split = Split(data, cut);
            ReadOnlySequence<byte> buffer = split;
            Assert.True(RespParser.TryRead(ref buffer, out RespValue? value), $"cut at {cut}");
            Assert.Equal(tree, Show(value));
            Assert.True(buffer.IsEmpty);

            buffer = split;
            Assert.True(RespParser.TrySkip(ref buffer, out RespFrame frame), $"cut at {cut}");
            Assert.Equal(skip, Show(frame));
            Assert.True(buffer.IsEmpty);
        }
    }

    [Theory]
    [MemberData(nameof(FrameCases))]
    public void An_incomplete_frame_returns_false_and_leaves_the_buffer_untouched(int index, string shown)
    {
        byte[] data = Bytes(Frames[index].Wire);
        Assert.NotNull(shown);
        for (int length = 0; length < data.Length; length++)
        {
            foreach (ReadOnlySequence<byte> prefix in new[] { new ReadOnlySequence<byte>(data, 0, length), Split(data.AsSpan(0, length).ToArray(), length / 2) })
            {
                ReadOnlySequence<byte> buffer = prefix;
                Assert.False(RespParser.TryRead(ref buffer, out RespValue? value), $"prefix of {length} bytes");
                Assert.Null(value);
                AssertUntouched(prefix, buffer);
                Assert.False(RespParser.TrySkip(ref buffer, out _), $"prefix of {length} bytes");
                AssertUntouched(prefix, buffer);
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_stream_of_frames_in_one_byte_segments_reads_frame_by_frame(bool withEmptySegments)
    {
        byte[] all = Bytes(string.Concat(Frames.Select(f => f.Wire)));
        ReadOnlySequence<byte> buffer = BytePerSegment(all, withEmptySegments);
        foreach (var (_, tree, _) in Frames)
        {
            Assert.True(RespParser.TryRead(ref buffer, out RespValue? value));
            Assert.Equal(tree, Show(value));
        }
        Assert.Equal(0, buffer.Length);

        buffer = BytePerSegment(all, withEmptySegments);
        foreach (var (_, _, skip) in Frames)
        {
            Assert.True(RespParser.TrySkip(ref buffer, out RespFrame frame));
            Assert.Equal(skip, Show(frame));
        }
        Assert.Equal(0, buffer.Length);
    }

    [Fact]
    public void An_exec_reply_reports_how_many_commands_failed_and_the_first()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes(
            "*5\r\n+OK\r\n:3\r\n-BUSYKEY Target key name already exists.\r\n*2\r\n:1\r\n-ERR nested\r\n+OK\r\n"));
        Assert.True(RespParser.TrySkip(ref buffer, out RespFrame frame));
        Assert.Equal(RespKind.Array, frame.Kind);
        Assert.False(frame.IsError);
        Assert.Equal(5, frame.Integer);
        Assert.Equal(2, frame.ErrorCount);
        Assert.Equal("BUSYKEY Target key name already exists.", Text(frame.FirstError));
        Assert.Equal(2, frame.FirstErrorIndex);

        buffer = new ReadOnlySequence<byte>(Bytes("*3\r\n+OK\r\n+OK\r\n*1\r\n-OOM command not allowed when used memory > 'maxmemory'.\r\n"));
        Assert.True(RespParser.TrySkip(ref buffer, out frame));
        Assert.Equal(1, frame.ErrorCount);
        Assert.Equal(2, frame.FirstErrorIndex);

        buffer = new ReadOnlySequence<byte>(Bytes("-EXECABORT Transaction discarded because of previous errors.\r\n"));
        Assert.True(RespParser.TrySkip(ref buffer, out frame));
        Assert.True(frame.IsError);
        Assert.Equal(1, frame.ErrorCount);
        Assert.Equal("EXECABORT Transaction discarded because of previous errors.", Text(frame.FirstError));
    }

    [Fact]
    public void A_command_reads_as_slices_of_the_buffer_split_anywhere()
    {
        byte[] data = Bytes("*3\r\n$3\r\nSET\r\n$6\r\nkey:\r\n\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n");
        var args = new List<ReadOnlySequence<byte>>();
        for (int cut = 0; cut <= data.Length; cut++)
        {
            ReadOnlySequence<byte> buffer = cut == 0 ? new ReadOnlySequence<byte>(data) : Split(data, cut);
            Assert.True(RespParser.TryReadCommand(ref buffer, args, out ReadOnlySequence<byte> frame));
            Assert.Equal(new[] { "SET", "key:\r\n", "" }, args.Select(Text));
            Assert.Equal("*3\r\n$3\r\nSET\r\n$6\r\nkey:\r\n\r\n$0\r\n\r\n", Text(frame));
            Assert.True(RespParser.TryReadCommand(ref buffer, args, out frame));
            Assert.Equal(new[] { "PING" }, args.Select(Text));
            Assert.Equal(0, buffer.Length);
        }
    }

    [Fact]
    public void An_incomplete_command_returns_false_with_no_arguments_and_the_buffer_untouched()
    {
        byte[] data = Bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
        var args = new List<ReadOnlySequence<byte>>();
        for (int length = 0; length < data.Length; length++)
        {
            ReadOnlySequence<byte> prefix = Split(data.AsSpan(0, length).ToArray(), length / 2);
            ReadOnlySequence<byte> buffer = prefix;
            Assert.False(RespParser.TryReadCommand(ref buffer, args, out _));
            Assert.Empty(args);
            AssertUntouched(prefix, buffer);
        }
    }

    [Fact]
    public void The_maximum_bulk_length_is_enforced()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes("$10\r\nhello worl\r\n"));
        Assert.True(RespParser.TryRead(ref buffer, out _, maxBulkLength: 10));
        buffer = new ReadOnlySequence<byte>(Bytes("$11\r\nhello world\r\n"));
        SyncException e = Assert.Throws<SyncException>(() => RespParser.TryRead(ref buffer, out _, maxBulkLength: 10));
        Assert.Equal(SyncErrorIds.ProtocolError, e.ErrorId);
        Assert.Equal(SyncErrorKind.Stop, e.Kind);
        Assert.Contains("bulk length 11 exceeds the limit of 10 bytes", e.Message);

        // The limit applies before the payload arrives: a huge header alone is refused.
        buffer = new ReadOnlySequence<byte>(Bytes("$536870913\r\n"));
        e = Assert.Throws<SyncException>(() => RespParser.TrySkip(ref buffer, out _));
        Assert.Contains("bulk length 536870913 exceeds the limit of 536870912 bytes", e.Message);

        buffer = new ReadOnlySequence<byte>(Bytes("*2\r\n$3\r\nGET\r\n$11\r\n"));
        var args = new List<ReadOnlySequence<byte>>();
        e = Assert.Throws<SyncException>(() => RespParser.TryReadCommand(ref buffer, args, out _, maxBulkLength: 10));
        Assert.Contains("bulk length 11 exceeds the limit of 10 bytes", e.Message);
    }

    [Theory]
    [InlineData("x\r\n", "unknown frame type 'x'")]
    [InlineData("\u0000\r\n", "unknown frame type 0x00")]
    [InlineData("+OK\n", "line not terminated by CRLF (a bare LF)")]
    [InlineData("-ERR\n", "line not terminated by CRLF (a bare LF)")]
    [InlineData("$abc\r\n", "invalid number \"abc\"")]
    [InlineData("$5 \r\nhello\r\n", "invalid number \"5 \"")]
    [InlineData("$\r\n\r\n", "invalid number \"\"")]
    [InlineData(":12x\r\n", "invalid number \"12x\"")]
    [InlineData(":99999999999999999999\r\n", "invalid number \"99999999999999999999\"")]
    [InlineData("$3\n", "number line not terminated by CRLF (a bare LF)")]
    [InlineData("$-2\r\n", "invalid bulk length -2")]
    [InlineData("!-1\r\n", "invalid bulk length -1")]
    [InlineData("$3\r\nabcde\r\n", "bulk string not terminated by CRLF")]
    [InlineData("*-2\r\n", "invalid array length -2")]
    [InlineData("%-1\r\n", "invalid map length -1")]
    [InlineData("~4294967296\r\n", "invalid set length 4294967296")]
    [InlineData("#x\r\n", "invalid boolean (expected #t or #f)")]
    [InlineData("#true\r\n", "invalid boolean (expected #t or #f)")]
    [InlineData("_x\r\n", "invalid null (expected _ followed by CRLF)")]
    [InlineData("=3\r\ntxt\r\n", "verbatim string without its 'xxx:' format prefix")]
    [InlineData("=5\r\ntxt-a\r\n", "verbatim string without its 'xxx:' format prefix")]
    [InlineData("$?\r\n;4\r\nHell\r\n;0\r\n", "streamed RESP3 frames (length '?') are not supported")]
    [InlineData("*?\r\n:1\r\n.\r\n", "streamed RESP3 frames (length '?') are not supported")]
    [InlineData("*1\r\n*1\r\nQ\r\n", "unknown frame type 'Q'")]
    public void Malformed_input_raises_a_protocol_error_that_names_the_problem(string wire, string problem)
    {
        byte[] data = Bytes(wire);
        foreach (ReadOnlySequence<byte> input in new[] { new ReadOnlySequence<byte>(data), BytePerSegment(data, withEmptySegments: true) })
        {
            ReadOnlySequence<byte> buffer = input;
            SyncException e = Assert.Throws<SyncException>(() => RespParser.TryRead(ref buffer, out _));
            Assert.Equal(SyncErrorIds.ProtocolError, e.ErrorId);
            Assert.Equal("RESP protocol error: " + problem + ".", e.Message);
            buffer = input;
            e = Assert.Throws<SyncException>(() => RespParser.TrySkip(ref buffer, out _));
            Assert.Equal("RESP protocol error: " + problem + ".", e.Message);
        }
    }

    [Theory]
    [InlineData("+OK\r\n", "expected a command array, got '+'")]
    [InlineData("*1\r\n:1\r\n", "expected a bulk string argument, got ':'")]
    [InlineData("*-1\r\n", "invalid command argument count -1")]
    [InlineData("*1\r\n$-1\r\n", "invalid bulk length -1")]
    [InlineData("*1\r\n$4\r\nPINGxx", "bulk string not terminated by CRLF")]
    public void A_malformed_command_raises_a_protocol_error_that_names_the_problem(string wire, string problem)
    {
        var buffer = new ReadOnlySequence<byte>(Bytes(wire));
        var args = new List<ReadOnlySequence<byte>>();
        SyncException e = Assert.Throws<SyncException>(() => RespParser.TryReadCommand(ref buffer, args, out _));
        Assert.Equal(SyncErrorIds.ProtocolError, e.ErrorId);
        Assert.Equal("RESP protocol error: " + problem + ".", e.Message);
    }

    [Fact]
    public void Frames_nested_too_deep_are_refused()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes(string.Concat(Enumerable.Repeat("*1\r\n", 70)) + ":1\r\n"));
        SyncException e = Assert.Throws<SyncException>(() => RespParser.TrySkip(ref buffer, out _));
        Assert.Equal("RESP protocol error: frames nested too deep.", e.Message);
        e = Assert.Throws<SyncException>(() => RespParser.TryRead(ref buffer, out _));
        Assert.Equal("RESP protocol error: frames nested too deep.", e.Message);

        buffer = new ReadOnlySequence<byte>(Bytes(string.Concat(Enumerable.Repeat("*1\r\n", 60)) + ":1\r\n"));
        Assert.True(RespParser.TrySkip(ref buffer, out _));
    }

    [Fact]
    public void A_long_chain_of_attributes_does_not_overflow_the_stack()
    {
        byte[] data = Bytes(string.Concat(Enumerable.Repeat("|0\r\n", 200_000)) + ":7\r\n");
        var buffer = new ReadOnlySequence<byte>(data);
        Assert.True(RespParser.TrySkip(ref buffer, out RespFrame frame));
        Assert.Equal(7, frame.Integer);
        buffer = new ReadOnlySequence<byte>(data);
        Assert.True(RespParser.TryRead(ref buffer, out RespValue? value));
        Assert.Equal(7, value.Integer);
    }

    [Fact]
    public void A_huge_aggregate_header_does_not_allocate_before_its_elements_arrive()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes("*2000000000\r\n:1\r\n:2\r\n"));
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.False(RespParser.TryRead(ref buffer, out _));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1_000_000);
    }

    [Fact]
    public void A_long_line_is_refused_instead_of_buffered_forever()
    {
        var buffer = new ReadOnlySequence<byte>(Bytes("+" + new string('a', 70_000)));
        SyncException e = Assert.Throws<SyncException>(() => RespParser.TrySkip(ref buffer, out _));
        Assert.Equal("RESP protocol error: line longer than 65536 bytes.", e.Message);
        buffer = Split(Bytes("+" + new string('a', 70_000) + "\r\n"), 10);
        e = Assert.Throws<SyncException>(() => RespParser.TryRead(ref buffer, out _));
        Assert.Equal("RESP protocol error: line longer than 65536 bytes.", e.Message);
    }

    [Fact]
    public void Skipping_replies_allocates_nothing()
    {
        byte[] all = Bytes(string.Concat(Frames.Select(f => f.Wire)));
        ReadOnlySequence<byte> contiguous = new ReadOnlySequence<byte>(all);
        ReadOnlySequence<byte> fragmented = BytePerSegment(all, withEmptySegments: true);
        ReadOnlySequence<byte> halves = Split(all, all.Length / 2);
        byte[] commands = Bytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
        ReadOnlySequence<byte> commandPieces = BytePerSegment(commands, withEmptySegments: false);
        var args = new List<ReadOnlySequence<byte>>(8);
        ReadOnlySequence<byte>[] inputs = { contiguous, fragmented, halves };
        int SkipAll()
        {
            int n = 0;
            foreach (ReadOnlySequence<byte> input in inputs)
            {
                ReadOnlySequence<byte> buffer = input;
                while (RespParser.TrySkip(ref buffer, out RespFrame frame)) n += frame.ErrorCount + 1;
            }
            ReadOnlySequence<byte> cmd = commandPieces;
            while (RespParser.TryReadCommand(ref cmd, args, out _)) n += args.Count;
            return n;
        }
        int expected = SkipAll(); // warm up: JIT and the thread's scratch buffer
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 100; i++) total += SkipAll();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(expected * 100, total);
        Assert.Equal(0, allocated);
    }

    private static void AssertUntouched(ReadOnlySequence<byte> original, ReadOnlySequence<byte> buffer)
    {
        Assert.Equal(original.Length, buffer.Length);
        Assert.True(original.Start.Equals(buffer.Start));
    }

    internal static string Show(RespValue v)
    {
        char k = (char)v.Kind;
        if (v.IsNull) return k + "nil";
        return v.Kind switch
        {
            RespKind.Array or RespKind.Set or RespKind.Push or RespKind.Map => k + "[" + string.Join(",", v.Items.Select(Show)) + "]",
            RespKind.Integer or RespKind.Boolean => k + v.Integer.ToString(),
            _ => k + "'" + Encoding.UTF8.GetString(v.Bytes!) + "'",
        };
    }

    internal static string Show(RespFrame f)
    {
        string s = $"{(char)f.Kind} {f.Integer} '{Text(f.Payload)}' errors={f.ErrorCount}";
        if (f.ErrorCount > 0) s += $" first='{Text(f.FirstError)}' at {f.FirstErrorIndex}";
        return s;
    }
}
