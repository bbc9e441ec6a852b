using System;
using System.Buffers;
using System.Text;
using RedisSync.Engine.Rdb;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

public sealed class Crc64Tests
{
    [Fact]
    public void Crc64_matches_redis_test_vector()
    {
        // crc64.c's own test: crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca
        Assert.Equal(0xe9c6d914c4b8d9caUL, Crc64.Update(0, Encoding.ASCII.GetBytes("123456789")));
    }

    [Fact]
    public void Crc64_over_pieces_equals_crc64_over_the_whole()
    {
        var data = new byte[10_000];
        new Random(3).NextBytes(data);
        ulong whole = Crc64.Update(0, data);
        ulong pieces = 0;
        for (int at = 0, n = 1; at < data.Length; at += n, n = n * 2 + 1) pieces = Crc64.Update(pieces, data.AsSpan(at, Math.Min(n, data.Length - at)));
        Assert.Equal(whole, pieces);
    }
}
