using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.IO.Pipelines;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;
using static RedisSync.Engine.Tests.Resp.Segments;

namespace RedisSync.Engine.Tests.Resp;

public sealed class RespFormatterTests
{
    [Fact]
    public void A_command_of_mixed_arguments_formats_as_an_array_of_bulk_strings()
    {
        var writer = new ArrayBufferWriter<byte>();
        RespFormatter.WriteCommand(writer, "ZADD", new byte[] { 0, 0xff }, 12L, 3, 1.5, new ReadOnlyMemory<byte>(Bytes("é")), "");
        byte[] expected = Bytes("*7\r\n$4\r\nZADD\r\n$2\r\n").Concat(new byte[] { 0, 0xff })
            .Concat(Bytes("\r\n$2\r\n12\r\n$1\r\n3\r\n$3\r\n1.5\r\n$2\r\né\r\n$0\r\n\r\n")).ToArray();
        Assert.Equal(expected, writer.WrittenSpan.ToArray());
        Assert.Throws<ArgumentException>(() => RespFormatter.WriteCommand(writer, "SET", new object()));
    }

    [Fact]
    public async Task A_large_value_goes_through_a_pipe_in_pieces_and_reads_back_whole()
    {
        byte[] value = new byte[1_000_003];
        new Random(7).NextBytes(value);
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: 4096, pauseWriterThreshold: 0));
        RespFormatter.WriteArrayHeader(pipe.Writer, 3);
        RespFormatter.WriteBulk(pipe.Writer, "SET");
        RespFormatter.WriteBulk(pipe.Writer, Split(value, 10, 5000));
        RespFormatter.WriteBulk(pipe.Writer, value);
        await pipe.Writer.FlushAsync();
        ReadResult read = await pipe.Reader.ReadAsync();
        ReadOnlySequence<byte> buffer = read.Buffer;
        Assert.False(buffer.IsSingleSegment);
        var args = new List<ReadOnlySequence<byte>>();
        Assert.True(RespParser.TryReadCommand(ref buffer, args, out _));
        Assert.Equal("SET", Text(args[0]));
        Assert.Equal(value, args[1].ToArray());
        Assert.Equal(value, args[2].ToArray());
        Assert.Equal(0, buffer.Length);
        pipe.Reader.AdvanceTo(buffer.End);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(1.0 / 3)]
    [InlineData(-2.5e-300)]
    [InlineData(1e300)]
    [InlineData(double.Epsilon)]
    [InlineData(double.MaxValue)]
    [InlineData(123456789012345680.0)]
    [InlineData(0.30000000000000004)]
    public void Scores_format_to_text_that_parses_back_to_the_same_double(double score)
    {
        Span<byte> text = stackalloc byte[ScoreText.MaxLength];
        int n = ScoreText.Format(score, text);
        string s = Encoding.ASCII.GetString(text.Slice(0, n));
        Assert.Equal(score, double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Scores_written_by_the_formatter_land_exactly_on_a_real_server()
    {
        using var server = RedisServer.Start();
        double[] scores = { 0.1, 1.0 / 3, -2.5e-300, 1e300, double.Epsilon, double.MaxValue, double.PositiveInfinity, double.NegativeInfinity, 0.30000000000000004 };
        using (RedisConnection connection = await RedisConnection.ConnectAsync(RedisEndpoint.Parse(server.Endpoint), EndpointRole.Target, default))
        {
            for (int i = 0; i < scores.Length; i++)
            {
                RespValue reply = await connection.ExecuteAsync(default, "ZADD", "z", scores[i], "m" + i);
                Assert.Equal(1, reply.Integer);
            }
        }
        for (int i = 0; i < scores.Length; i++)
        {
            Assert.Equal(scores[i], server.Db().SortedSetScore("z", "m" + i));
        }
    }
}
