using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>Broken input: the right error id, a message that says what and where, and only whole keys before it.</summary>
public sealed class CorruptionTests
{
    private const string Fixture = "debian-redis-7.0.15";

    private sealed class OffsetVisitor : RecordingVisitor
    {
        public Dictionary<string, long> Offsets { get; } = new();

        public override bool OnKey(in RdbKey key)
        {
            Offsets[Encoding.UTF8.GetString(key.Name)] = key.Offset;
            return base.OnKey(key);
        }
    }

    private static (byte[] File, OffsetVisitor Clean) Original()
    {
        byte[] file = File.ReadAllBytes(Fixtures.RdbPath(Fixture));
        return (file, SyntheticRdbTests.Parse(file, new OffsetVisitor()));
    }

    private static (SyncException Error, RecordingVisitor Visitor) Broken(byte[] file, bool wantElements = true)
    {
        var visitor = new RecordingVisitor(_ => wantElements);
        SyncException e = Assert.Throws<SyncException>(() => SyntheticRdbTests.Parse(file, visitor));
        return (e, visitor);
    }

    /// <summary>Every key that began before the error ended, except the last one when it is <paramref name="brokenKey"/>.</summary>
    private static void AssertOnlyWholeKeysBefore(RecordingVisitor v, string? brokenKey)
    {
        var keys = v.Events.Select((e, i) => (e, i)).Where(x => x.e.StartsWith("key ", StringComparison.Ordinal)).ToList();
        for (int k = 0; k < keys.Count; k++)
        {
            int next = k + 1 < keys.Count ? keys[k + 1].i : v.Events.Count;
            bool ended = v.Events.Skip(keys[k].i).Take(next - keys[k].i).Contains("keyend");
            bool isBroken = k == keys.Count - 1 && brokenKey != null && keys[k].e.Contains($" \"{brokenKey}\" ");
            Assert.True(ended != isBroken, $"key event '{keys[k].e}' ended={ended}");
        }
        Assert.DoesNotContain(v.Events, e => e.StartsWith("end ", StringComparison.Ordinal));
    }

    /// <summary>The checksum covers every byte, also those of keys the visitor skipped.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_changed_byte_inside_a_string_value_fails_the_checksum_at_the_end(bool wantElements)
    {
        var (file, clean) = Original();
        long at = clean.Offsets["s:rand20k"] + 1 + 1 + "s:rand20k".Length + 5 + 1000;
        file[at] ^= 0x5A;
        var (e, v) = Broken(file, wantElements);
        Assert.Equal(SyncErrorIds.RdbChecksumMismatch, e.ErrorId);
        Assert.Equal(file.Length - 8, e.Offset);
        Assert.Contains($"at byte {file.Length - 8}", e.Message);
        Assert.Contains("CRC64", e.Message);
        Assert.Equal(clean.Events.Count(x => x == "keyend"), v.Events.Count(x => x == "keyend"));
    }

    [Fact]
    public void A_changed_quicklist_container_is_a_structural_error_in_that_key()
    {
        var (file, clean) = Original();
        long at = clean.Offsets["l:small"] + 1 + 1 + "l:small".Length + 1;
        Assert.Equal(2, file[at]);
        file[at] = 5;
        var (e, v) = Broken(file);
        Assert.Equal(SyncErrorIds.RdbCorrupt, e.ErrorId);
        Assert.Equal("\"l:small\"", e.Key);
        Assert.Contains($"RDB corrupt at byte {at + 1} in key \"l:small\" (type 18 LIST_QUICKLIST_2): quicklist node container 5", e.Message);
        AssertOnlyWholeKeysBefore(v, "l:small");
    }

    [Fact]
    public void A_changed_intset_header_is_a_structural_error_in_that_key()
    {
        var (file, clean) = Original();
        long blob = clean.Offsets["set:int16"] + 1 + 1 + "set:int16".Length + 1;
        Assert.Equal(2, file[blob]);
        file[blob] = 3;
        var (e, v) = Broken(file);
        Assert.Equal(SyncErrorIds.RdbCorrupt, e.ErrorId);
        Assert.Equal(blob - 1, e.Offset);
        Assert.Contains("in key \"set:int16\" (type 11 SET_INTSET): intset has the invalid width 3", e.Message);
        AssertOnlyWholeKeysBefore(v, "set:int16");
    }

    [Fact]
    public void An_unknown_type_byte_is_reported_at_its_offset()
    {
        var (file, clean) = Original();
        long at = clean.Offsets["s:short"];
        file[at] = 30;
        var (e, v) = Broken(file);
        Assert.Equal(SyncErrorIds.RdbUnknownType, e.ErrorId);
        Assert.Equal(at, e.Offset);
        Assert.Contains($"at byte {at}: unknown value type 30", e.Message);
        AssertOnlyWholeKeysBefore(v, null);
        Assert.DoesNotContain(v.Events, x => x.Contains("\"s:short\""));
    }

    /// <summary>h:big's field count 1000 (0x43 0xE8) becomes 15592: the parse runs into the next key's bytes and stops there.</summary>
    [Fact]
    public void A_changed_length_makes_the_parse_fail_rather_than_invent_data()
    {
        var (file, clean) = Original();
        long at = clean.Offsets["h:big"] + 1 + 1 + "h:big".Length;
        Assert.Equal(0x43, file[at]);
        file[at] ^= 0x3F;
        var (e, v) = Broken(file);
        Assert.Equal(SyncErrorIds.RdbCorrupt, e.ErrorId);
        Assert.Equal("\"h:big\"", e.Key);
        Assert.Contains("in key \"h:big\" (type 4 HASH): unknown string encoding", e.Message);
        AssertOnlyWholeKeysBefore(v, "h:big");
    }

    [Theory]
    [InlineData(5)]
    [InlineData(9)]
    [InlineData(-1)]
    [InlineData(-8)]
    [InlineData(-9)]
    public void A_truncated_file_is_reported_at_its_end(int cut)
    {
        var (file, clean) = Original();
        int length = cut > 0 ? cut : file.Length + cut;
        var (e, v) = Broken(file.AsSpan(0, length).ToArray());
        Assert.Equal(SyncErrorIds.RdbTruncated, e.ErrorId);
        Assert.Equal(length, e.Offset);
        Assert.StartsWith($"RDB truncated at byte {length}", e.Message);
        if (cut < -8) AssertOnlyWholeKeysBefore(v, null);
        else if (cut < 0) Assert.Equal(clean.Events.Count(x => x == "keyend"), v.Events.Count(x => x == "keyend"));
    }

    [Theory]
    [InlineData("s:rand20k", 3000)]
    [InlineData("l:big", 500)]
    [InlineData("st:main", 100)]
    [InlineData("h:big", 7)]
    public void A_file_cut_inside_a_key_names_no_key_as_complete(string key, int into)
    {
        var (file, clean) = Original();
        int length = (int)clean.Offsets[key] + into;
        var (e, v) = Broken(file.AsSpan(0, length).ToArray());
        Assert.Equal(SyncErrorIds.RdbTruncated, e.ErrorId);
        Assert.Equal(length, e.Offset);
        AssertOnlyWholeKeysBefore(v, key);
    }

    [Theory]
    [InlineData("RADIS0010", SyncErrorIds.RdbCorrupt, "not an RDB file")]
    [InlineData("REDIS0099", SyncErrorIds.RdbUnsupportedVersion, "\"REDIS0099\" is RDB version 99")]
    [InlineData("REDIS0013", SyncErrorIds.RdbUnsupportedVersion, "\"REDIS0013\" is RDB version 13")]
    [InlineData("VALKEY080", SyncErrorIds.RdbUnsupportedVersion, "\"VALKEY080\" is Valkey 9's RDB format")]
    [InlineData("REDIS00x1", SyncErrorIds.RdbCorrupt, "no RDB version number")]
    public void A_wrong_header_names_what_it_found(string header, string errorId, string message)
    {
        byte[] file = File.ReadAllBytes(Fixtures.RdbPath(Fixture));
        Encoding.ASCII.GetBytes(header).CopyTo(file, 0);
        var (e, v) = Broken(file);
        Assert.Equal(errorId, e.ErrorId);
        Assert.Contains(message, e.Message);
        Assert.Equal(0, e.Offset);
        Assert.Empty(v.Events);
    }

    private sealed class ThrowingVisitor : RecordingVisitor
    {
        public override bool OnKey(in RdbKey key) => throw new ArgumentException("a defect in the visitor");
    }

    /// <summary>Only the parser's own faults count as a corrupt file: a defect in what reads its output stays a defect.</summary>
    [Fact]
    public void An_exception_of_the_visitor_is_not_taken_for_a_corrupt_file()
    {
        byte[] file = File.ReadAllBytes(Fixtures.RdbPath(Fixture));
        ArgumentException e = Assert.Throws<ArgumentException>(() => SyntheticRdbTests.Parse(file, new ThrowingVisitor()));
        Assert.Equal("a defect in the visitor", e.Message);
        Assert.False(RdbParser.IsParserFault(e));
    }

    [Fact]
    public void An_index_or_arithmetic_fault_in_the_parser_code_counts_as_a_corrupt_file()
    {
        int ip = -1, op = 0;
        Exception fault = Assert.ThrowsAny<Exception>(() => Lzf.Decode(new byte[] { 1, 2 }, ref ip, new byte[4], ref op));
        Assert.True(RdbParser.IsParserFault(fault), fault.ToString());
        Assert.False(RdbParser.IsParserFault(new InvalidOperationException()));
    }
}
