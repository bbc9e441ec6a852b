using System;
using System.Buffers;
using System.Collections.Generic;
using System.Linq;
using System.Net.Sockets;
using System.Text;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;
using static RedisSync.Engine.Tests.Resp.Segments;

namespace RedisSync.Engine.Tests.Resp;

/// <summary>The parser against what a real redis-server 7.0 sends, RESP3 included (DEBUG PROTOCOL emits every type).</summary>
public sealed class RespServerTests
{
    private static readonly (string Type, string Tree)[] Replies =
    {
        ("string", "$'Hello World'"),
        ("integer", ":12345"),
        ("double", ",'3.141'"),
        ("bignum", "('1234567999999999999999999999999999999'"),
        ("null", "_nil"),
        ("array", "*[:0,:1,:2]"),
        ("set", "~[:0,:1,:2]"),
        ("map", "%[:0,#0,:1,#1,:2,#0]"),
        ("attrib", "$'Some real reply following the attribute'"),
        ("verbatim", "$'This is a verbatim\nstring'"),
        ("true", "#1"),
        ("false", "#0"),
        ("nope", "-'ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false'"),
    };

    [Fact]
    public void Every_RESP3_reply_of_a_real_server_parses_whole_and_in_one_byte_segments()
    {
        using var server = RedisServer.Start("--enable-debug-command", "yes");
        var commands = new List<string[]> { new[] { "HELLO", "3" } };
        commands.AddRange(Replies.Select(r => new[] { "DEBUG", "PROTOCOL", r.Type }));
        commands.Add(new[] { "DEBUG", "PROTOCOL", "push" });
        // The push frame comes before the reply it travels with.
        byte[] wire = Exchange(server, commands, frames: commands.Count + 1);

        foreach (ReadOnlySequence<byte> input in new[] { new ReadOnlySequence<byte>(wire), BytePerSegment(wire, withEmptySegments: true) })
        {
            ReadOnlySequence<byte> buffer = input;
            Assert.True(RespParser.TryRead(ref buffer, out RespValue? hello));
            Assert.Equal(RespKind.Map, hello.Kind);
            Assert.Contains("$'proto',:3", RespParserTests.Show(hello));
            foreach (var (type, tree) in Replies)
            {
                Assert.True(RespParser.TryRead(ref buffer, out RespValue? value), type);
                Assert.Equal(tree, RespParserTests.Show(value));
            }
            Assert.True(RespParser.TryRead(ref buffer, out RespValue? push));
            Assert.Equal(">[$'server-cpu-usage',:42]", RespParserTests.Show(push));
            Assert.True(RespParser.TryRead(ref buffer, out RespValue? afterPush));
            Assert.Equal("$'Some real reply following the push reply'", RespParserTests.Show(afterPush));
            Assert.Equal(0, buffer.Length);

            buffer = input;
            Assert.True(RespParser.TrySkip(ref buffer, out RespFrame frame));
            Assert.Equal(RespKind.Map, frame.Kind);
            var kinds = new List<string>();
            while (RespParser.TrySkip(ref buffer, out frame)) kinds.Add($"{(char)frame.Kind}{frame.Integer}:{Text(frame.Payload)}:{frame.ErrorCount}");
            Assert.Equal(new[]
            {
                "$0:Hello World:0", ":12345::0", ",0:3.141:0", "(0:1234567999999999999999999999999999999:0", "_-1::0",
                "*3::0", "~3::0", "%3::0", "$0:Some real reply following the attribute:0", "=0:This is a verbatim\nstring:0",
                "#1:t:0", "#0:f:0",
                "-0:ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false:1",
                ">2::0", "$0:Some real reply following the push reply:0",
            }, kinds);
        }
    }

    [Fact]
    public void A_real_exec_reply_reports_the_failed_commands()
    {
        using var server = RedisServer.Start();
        byte[] wire = Exchange(server, new List<string[]>
        {
            new[] { "SET", "s", "text" },
            new[] { "MULTI" },
            new[] { "INCR", "n" },
            new[] { "HSET", "s", "f", "v" },
            new[] { "SET", "t", "1" },
            new[] { "LPUSH", "s", "x" },
            new[] { "EXEC" },
        }, frames: 7);
        ReadOnlySequence<byte> buffer = BytePerSegment(wire, withEmptySegments: false);
        var replies = new List<RespFrame>();
        while (RespParser.TrySkip(ref buffer, out RespFrame frame)) replies.Add(frame);
        Assert.Equal(7, replies.Count);
        RespFrame exec = replies[6];
        Assert.Equal(RespKind.Array, exec.Kind);
        Assert.Equal(4, exec.Integer);
        Assert.Equal(2, exec.ErrorCount);
        Assert.Equal(1, exec.FirstErrorIndex);
        Assert.StartsWith("WRONGTYPE", Text(exec.FirstError));
    }

    /// <summary>Sends the commands at once and returns the raw bytes of the given number of reply frames.</summary>
    internal static byte[] Exchange(RedisServer server, List<string[]> commands, int frames)
    {
        var writer = new ArrayBufferWriter<byte>();
        foreach (string[] command in commands) RespFormatter.WriteCommand(writer, command.Cast<object>().ToArray());
        using var client = new TcpClient("127.0.0.1", server.Port);
        using NetworkStream stream = client.GetStream();
        stream.ReadTimeout = 10_000;
        stream.Write(writer.WrittenSpan);
        var received = new List<byte>();
        var chunk = new byte[4096];
        while (true)
        {
            var buffer = new ReadOnlySequence<byte>(received.ToArray());
            int parsed = 0;
            while (parsed < frames && RespParser.TrySkip(ref buffer, out _)) parsed++;
            if (parsed == frames) return received.ToArray();
            int n = stream.Read(chunk, 0, chunk.Length);
            if (n == 0) throw new InvalidOperationException("the server closed the connection: " + Encoding.UTF8.GetString(received.ToArray()));
            received.AddRange(chunk.AsSpan(0, n).ToArray());
        }
    }
}
