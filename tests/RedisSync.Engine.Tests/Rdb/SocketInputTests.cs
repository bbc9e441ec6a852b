using System;
using System.Buffers;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>The RDB arriving the way PSYNC delivers it: in pieces, from another thread, with the replication stream behind it.</summary>
public sealed class SocketInputTests
{
    private static readonly byte[] Tail = Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n");

    /// <summary>
    /// The writer never completes: like a source that goes idle right after the RDB, so a parser that
    /// waited for one byte more than the RDB holds would hang here.
    /// </summary>
    [Theory]
    [MemberData(nameof(Fixtures.RdbNames), MemberType = typeof(Fixtures))]
    public async Task Rdb_fed_in_small_random_chunks_parses_the_same_and_leaves_the_stream_behind_it(string fixture)
    {
        byte[] rdb = File.ReadAllBytes(Fixtures.RdbPath(fixture));
        var reference = new ListingVisitor();
        RdbParser.ParseFile(Fixtures.RdbPath(fixture), reference);

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));
        byte[] data = rdb.Concat(Tail).ToArray();
        Task writer = Task.Run(async () =>
        {
            var random = new Random(fixture.GetHashCode());
            for (int at = 0; at < data.Length;)
            {
                int n = Math.Min(random.Next(1, 4000), data.Length - at);
                await pipe.Writer.WriteAsync(data.AsMemory(at, n));
                at += n;
            }
        });

        var visitor = new ListingVisitor();
        var parser = new RdbParser(pipe.Reader, visitor);
        Exception? failure = null;
        var parsing = new Thread(() =>
        {
            try { parser.Parse(); }
            catch (Exception e) { failure = e; }
        }) { IsBackground = true };
        parsing.Start();
        Assert.True(parsing.Join(TimeSpan.FromSeconds(60)), "Parse did not return: it waited for bytes the RDB does not hold");
        Assert.Null(failure);
        await writer.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(rdb.Length, parser.Position);
        FixtureListingTests.AssertSameLines(reference.KeyLines(), visitor.KeyLines());
        Assert.True(pipe.Reader.TryRead(out ReadResult rest));
        Assert.Equal(Tail, rest.Buffer.ToArray());
    }

    [Fact]
    public async Task A_source_that_pauses_inside_a_value_is_waited_for()
    {
        byte[] rdb = File.ReadAllBytes(Fixtures.RdbPath("redis-7.4.1"));
        var pipe = new Pipe();
        var visitor = new RecordingVisitor();
        var parser = new RdbParser(pipe.Reader, visitor);
        Task parsing = Task.Factory.StartNew(parser.Parse, TaskCreationOptions.LongRunning);

        int half = rdb.Length / 2;
        await pipe.Writer.WriteAsync(rdb.AsMemory(0, half));
        await RedisSync.Engine.Tests.Sync.SyncHarness.WaitUntilAsync(() => parser.Position > 0, "the parser to read the first half");
        Assert.False(parsing.IsCompleted);
        Assert.True(parser.Position > 0 && parser.Position <= half, $"position {parser.Position}");
        await pipe.Writer.WriteAsync(rdb.AsMemory(half));
        await parsing.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("end ", visitor.Events[^1]);
        Assert.Equal(rdb.Length, parser.Position);
    }

    /// <summary>
    /// A source whose connection is reset half way through the snapshot (a TCP RST, as a crashed host or
    /// a middlebox sends it): the parser's read fails as a lost source link, which a sync retries, not as
    /// an unexpected error.
    /// </summary>
    [Fact]
    public async Task A_connection_reset_inside_the_snapshot_is_a_lost_source_link()
    {
        byte[] rdb = File.ReadAllBytes(Fixtures.RdbPath("debian-redis-7.0.15"));
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            Task source = Task.Run(async () =>
            {
                using Socket peer = await listener.AcceptSocketAsync();
                await peer.SendAsync(rdb.AsMemory(0, rdb.Length / 2), SocketFlags.None);
                peer.LingerState = new LingerOption(true, 0);
                peer.Close();
            });
            using RedisConnection link = await RedisConnection.ConnectAsync(RedisEndpoint.Parse("127.0.0.1:" + port), EndpointRole.Source, CancellationToken.None, null, hotPath: true);
            var parser = new RdbParser(link.Input, new RecordingVisitor());
            SyncException e = await Assert.ThrowsAsync<SyncException>(() => Task.Factory.StartNew(parser.Parse, TaskCreationOptions.LongRunning).WaitAsync(TimeSpan.FromSeconds(30)));
            Assert.Equal(SyncErrorIds.SourceLinkLost, e.ErrorId);
            Assert.Equal(SyncErrorKind.Retry, e.Kind);
            Assert.Contains($"The connection to the source 127.0.0.1:{port} was closed", e.Message);
            await source;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>Elements bigger than the read window, arriving a few bytes at a time, still reach the visitor whole.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Elements_larger_than_the_window_arrive_whole_through_small_reads(bool capture)
    {
        byte[] bigField = new byte[1_000_003];
        byte[] bigValue = new byte[3_000_017];
        new Random(7).NextBytes(bigField);
        new Random(8).NextBytes(bigValue);
        byte[] text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("compressible text ", 60000)));
        var w = new RdbWriter(10).SelectDb(0);
        w.Key(RdbType.Hash, "h").Length(3).String(bigField).String(bigValue).String("small").LzfString(text).LzfString(text).String("x");
        w.Key(RdbType.ZSet2, "z").Length(2).String(bigValue).BinaryDouble(2.5).String("m").BinaryDouble(-1);
        w.Key(RdbType.String, "s").String(bigValue);
        w.Key(RdbType.String, "after").String("ok");
        byte[] rdb = w.End(10);

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 16 * 1024, resumeWriterThreshold: 8 * 1024, useSynchronizationContext: false));
        Task writer = Task.Run(async () =>
        {
            var random = new Random(1);
            for (int at = 0; at < rdb.Length;)
            {
                int n = Math.Min(random.Next(1, 9000), rdb.Length - at);
                await pipe.Writer.WriteAsync(rdb.AsMemory(at, n));
                at += n;
            }
        });
        var visitor = new RecordingVisitor();
        await Task.Factory.StartNew(() => new RdbParser(pipe.Reader, visitor, new RdbParserOptions { CaptureRawValues = capture }).Parse(), TaskCreationOptions.LongRunning)
            .WaitAsync(TimeSpan.FromSeconds(60));
        await writer;

        string q(byte[] b) => RecordingVisitor.Text(b);
        Assert.Contains($"hash {q(bigField)}={q(bigValue)}", visitor.Events);
        Assert.Contains($"hash \"small\"={q(text)}", visitor.Events);
        Assert.Contains($"hash {q(text)}=\"x\"", visitor.Events);
        Assert.Contains($"zset {q(bigValue)} 2.5", visitor.Events);
        var chunks = visitor.Events.Where(e => e.StartsWith("chunk ", StringComparison.Ordinal)).ToList();
        Assert.Equal(bigValue.Length / (64 * 1024) + 2, chunks.Count);
        Assert.Equal("chunk \"ok\" at=0/2 Raw", chunks[^1]);
    }
}
