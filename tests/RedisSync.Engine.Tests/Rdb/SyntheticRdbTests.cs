using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.Engine.Tests.Rdb;

/// <summary>Files built by <see cref="RdbWriter"/> for what no server fixture holds; each asserts what the visitor received.</summary>
public sealed class SyntheticRdbTests
{
    internal static T Parse<T>(byte[] file, T visitor, RdbParserOptions? options = null) where T : RdbVisitor
    {
        PipeReader reader = PipeReader.Create(new MemoryStream(file));
        new RdbParser(reader, visitor, options).Parse();
        reader.Complete();
        return visitor;
    }

    private static void AssertEvents(IEnumerable<string> expected, RecordingVisitor visitor) =>
        FixtureListingTests.AssertSameLines(expected.ToList(), visitor.Events);

    [Fact]
    public void Zipmap_hashes_of_redis_2_4_arrive_field_by_field()
    {
        byte[] longField = Encoding.ASCII.GetBytes(new string('f', 300));
        byte[] zipmap = RdbWriter.Zipmap((RdbWriter.Utf8("a"), RdbWriter.Utf8("1"), 0), (RdbWriter.Utf8("field"), RdbWriter.Utf8("value"), 3), (longField, RdbWriter.Utf8("x"), 0));
        var w = new RdbWriter(6).SelectDb(0);
        w.Key(RdbType.HashZipmap, "zm").String(zipmap);
        w.Key(RdbType.HashZipmap, "zm-lzf").LzfString(zipmap);
        byte[] file = w.End(6);
        var v = Parse(file, new RecordingVisitor());

        string big = RecordingVisitor.Text(longField);
        var fields = new[] { "hash \"a\"=\"1\"", "hash \"field\"=\"value\"", $"hash {big}=\"x\"", "keyend" };
        AssertEvents(new[] { "start 6", "select 0", "key db=0 \"zm\" type=HashZipmap expire=-1 idle=-1 freq=-1 length=3 raw=yes" }
            .Concat(fields).Append("key db=0 \"zm-lzf\" type=HashZipmap expire=-1 idle=-1 freq=-1 length=3 raw=yes").Concat(fields)
            .Append($"end {Crc64.Update(0, file.AsSpan(0, file.Length - 8)):x16}"), v);
    }

    [Fact]
    public void Rdb6_file_with_linked_list_set_zset_ziplists_and_intsets_parses()
    {
        var w = new RdbWriter(6).Aux("redis-ver", "3.2.13").SelectDb(0).ResizeDb(7, 1);
        w.ExpireSeconds(2000000000).Key(RdbType.List, "list").Length(5).String("a").IntString(-5).IntString(300).IntString(70000).LzfString(new string('x', 100));
        w.Key(RdbType.Set, "set").Length(2).String("m1").IntString(7);
        w.Key(RdbType.ZSet, "zset").Length(5).String("a").TextDouble(1.5).String("b").TextDouble(double.PositiveInfinity)
            .String("c").TextDouble(double.NegativeInfinity).String("d").TextDouble(-0.25).String("e").TextDouble(0.1);
        string longText = new string('y', 70);
        w.Key(RdbType.ListZiplist, "zl").String(RdbWriter.Ziplist("x", 5L, -100L, 1000L, 100000L, 5000000000L, longText, 12L, -1L));
        w.Key(RdbType.SetIntset, "is16").String(RdbWriter.Intset(2, 3, -2, 1));
        w.Key(RdbType.SetIntset, "is64").String(RdbWriter.Intset(8, 5000000000, -1));
        w.Key(RdbType.ZSetZiplist, "zz").String(RdbWriter.Ziplist("a", "1.5", "b", 2L, "c", "-inf"));
        w.Key(RdbType.HashZiplist, "hz").LzfString(RdbWriter.Ziplist("f", "v", "n", 7L, "long", longText));
        var v = Parse(w.End(6), new RecordingVisitor());

        AssertEvents(new[]
        {
            "start 6", "aux \"redis-ver\"=\"3.2.13\"", "select 0", "resize 7 1",
            "key db=0 \"list\" type=List expire=2000000000000 idle=-1 freq=-1 length=5 raw=yes",
            "list \"a\"", "list \"-5\"", "list \"300\"", "list \"70000\"", $"list \"{new string('x', 100)}\"", "keyend",
            "key db=0 \"set\" type=Set expire=-1 idle=-1 freq=-1 length=2 raw=yes", "set \"m1\"", "set \"7\"", "keyend",
            "key db=0 \"zset\" type=ZSet expire=-1 idle=-1 freq=-1 length=5 raw=yes",
            "zset \"a\" 1.5", "zset \"b\" inf", "zset \"c\" -inf", "zset \"d\" -0.25", "zset \"e\" 0.1", "keyend",
            "key db=0 \"zl\" type=ListZiplist expire=-1 idle=-1 freq=-1 length=9 raw=yes",
            "list \"x\"", "list \"5\"", "list \"-100\"", "list \"1000\"", "list \"100000\"", "list \"5000000000\"", $"list \"{longText}\"", "list \"12\"", "list \"-1\"", "keyend",
            "key db=0 \"is16\" type=SetIntset expire=-1 idle=-1 freq=-1 length=3 raw=yes", "set \"-2\"", "set \"1\"", "set \"3\"", "keyend",
            "key db=0 \"is64\" type=SetIntset expire=-1 idle=-1 freq=-1 length=2 raw=yes", "set \"-1\"", "set \"5000000000\"", "keyend",
            "key db=0 \"zz\" type=ZSetZiplist expire=-1 idle=-1 freq=-1 length=3 raw=yes", "zset \"a\" 1.5", "zset \"b\" 2", "zset \"c\" -inf", "keyend",
            "key db=0 \"hz\" type=HashZiplist expire=-1 idle=-1 freq=-1 length=3 raw=yes", "hash \"f\"=\"v\"", "hash \"n\"=\"7\"", $"hash \"long\"=\"{longText}\"", "keyend",
            v.Events[^1],
        }, v);
        Assert.StartsWith("end ", v.Events[^1]);
    }

    [Fact]
    public void Expire_in_seconds_becomes_absolute_milliseconds()
    {
        var w = new RdbWriter(3).SelectDb(2).ExpireSeconds(1700000000).Key(RdbType.String, "old").String("v").Key(RdbType.String, "next").String("w");
        var v = Parse(w.End(3), new RecordingVisitor());
        Assert.Contains("key db=2 \"old\" type=String expire=1700000000000 idle=-1 freq=-1 length=1 raw=yes", v.Events);
        Assert.Contains("key db=2 \"next\" type=String expire=-1 idle=-1 freq=-1 length=1 raw=yes", v.Events);
        Assert.Equal("end 0000000000000000", v.Events[^1]);
    }

    [Fact]
    public void Freq_and_idle_opcodes_reach_their_key_only()
    {
        var w = new RdbWriter(9).SelectDb(0);
        w.Freq(5).Key(RdbType.String, "hot").String("1");
        w.Idle(42).ExpireMs(4102444800000).Key(RdbType.String, "cold").String("2");
        w.Key(RdbType.String, "plain").String("3");
        var v = Parse(w.End(9), new RecordingVisitor());
        Assert.Contains("key db=0 \"hot\" type=String expire=-1 idle=-1 freq=5 length=1 raw=yes", v.Events);
        Assert.Contains("key db=0 \"cold\" type=String expire=4102444800000 idle=42 freq=-1 length=1 raw=yes", v.Events);
        Assert.Contains("key db=0 \"plain\" type=String expire=-1 idle=-1 freq=-1 length=1 raw=yes", v.Events);
    }

    [Fact]
    public void Slot_info_opcode_and_slot_info_aux_field_are_reported()
    {
        var w = new RdbWriter(12).Aux("slot-info", "slot 866 keys 2 expires 1").SelectDb(0).ResizeDb(2, 1).SlotInfo(866, 2, 1);
        w.Key(RdbType.String, "{a}1").String("x").SlotInfo(15495, 1, 0).Key(RdbType.String, "a").String("y");
        var v = Parse(w.End(), new RecordingVisitor());
        Assert.Equal(new[] { "aux \"slot-info\"=\"slot 866 keys 2 expires 1\"", "select 0", "resize 2 1", "slot 866 keys=2 expires=1" }, v.Events.Skip(1).Take(4));
        Assert.Contains("slot 15495 keys=1 expires=0", v.Events);
        Assert.Equal(2, v.Events.Count(e => e == "keyend"));
    }

    /// <summary>A module value's body: one of each annotated opcode, then EOF.</summary>
    internal static void ModuleBody(RdbWriter w)
    {
        w.Length(1).Length(5);                  // SINT 5
        w.Length(2).Length(1UL << 40);          // UINT
        w.Length(3).Raw(BitConverter.GetBytes(1.25f));
        w.Length(4).BinaryDouble(-2.5);
        w.Length(5).String("plain");
        w.Length(5).LzfString(new string('z', 200));
        w.Length(5).IntString(-12345);
        w.Length(0);                            // EOF
    }

    [Fact]
    public void Module_aux_arrives_as_its_raw_bytes()
    {
        ulong id = RdbWriter.ModuleId("MyModType", 3);
        var w = new RdbWriter(10).Byte(0xF7);
        long from = w.Position;
        w.Length(id).Length(2).Length(2);
        ModuleBody(w);
        long to = w.Position;
        w.SelectDb(0).Key(RdbType.String, "after").String("ok");
        byte[] file = w.End(10);
        var v = Parse(file, new RecordingVisitor());
        Assert.Equal($"module-aux MyModType id={id} raw={Convert.ToHexString(file, (int)from, (int)(to - from))}", v.Events[1]);
        Assert.Contains("chunk \"ok\" at=0/2 Raw", v.Events);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Module_value_is_captured_exactly_and_never_decoded(bool captureOthers)
    {
        ulong id = RdbWriter.ModuleId("ReJSON-RL", 3);
        var w = new RdbWriter(10).SelectDb(0).Key(RdbType.Module2, "mod");
        long from = w.Position;
        w.Length(id);
        ModuleBody(w);
        long to = w.Position;
        w.Key(RdbType.String, "after").String("ok");
        byte[] file = w.End(10);
        var v = Parse(file, new RecordingVisitor(), new RdbParserOptions { CaptureRawValues = captureOthers });

        Assert.Equal(file.AsSpan((int)from, (int)(to - from)).ToArray(), v.RawValues["mod"]);
        int at = v.Events.IndexOf("key db=0 \"mod\" type=Module2 expire=-1 idle=-1 freq=-1 length=-1 raw=yes");
        Assert.True(at > 0, string.Join("\n", v.Events));
        Assert.Equal("keyend", v.Events[at + 1]);
        Assert.Equal($"key db=0 \"after\" type=String expire=-1 idle=-1 freq=-1 length=2 raw={(captureOthers ? "yes" : "no")}", v.Events[at + 2]);
        Assert.Equal("chunk \"ok\" at=0/2 Raw", v.Events[at + 3]);
    }

    [Fact]
    public void Module_value_larger_than_the_limit_arrives_without_raw_value_and_is_skipped()
    {
        var w = new RdbWriter(10).SelectDb(0).Key(RdbType.Module2, "mod").Length(RdbWriter.ModuleId("bigmodule", 1));
        ModuleBody(w);
        w.Key(RdbType.String, "after").String("ok");
        var v = Parse(w.End(10), new RecordingVisitor(), new RdbParserOptions { MaxModuleValueLength = 16 });
        Assert.Contains("key db=0 \"mod\" type=Module2 expire=-1 idle=-1 freq=-1 length=-1 raw=no", v.Events);
        Assert.Contains("chunk \"ok\" at=0/2 Raw", v.Events);
    }

    [Fact]
    public void Module_value_of_4_0_release_candidates_is_a_clear_error()
    {
        var w = new RdbWriter(8).SelectDb(0).Key(RdbType.String, "ok").String("1").Key(RdbType.ModulePreGa, "m").Length(1);
        var v = new RecordingVisitor();
        var e = Assert.Throws<SyncException>(() => Parse(w.End(8), v));
        Assert.Equal(SyncErrorIds.RdbCorrupt, e.ErrorId);
        Assert.Contains("MODULE_PRE_GA", e.Message);
        Assert.Contains("in key \"m\" (type 6 MODULE_PRE_GA)", e.Message);
        Assert.Equal("\"m\"", e.Key);
        Assert.Equal("keyend", v.Events[^1]);
    }

    [Fact]
    public void Hash_field_ttls_of_every_7_4_form_are_absolute_milliseconds()
    {
        const long t1 = 4102444800000, t2 = 4260211200000;
        var w = new RdbWriter(12).SelectDb(0);
        w.Key(RdbType.HashMetadataPreGa, "h22").Length(2).Length((ulong)t1).String("f1").String("v1").Length(0).String("f2").IntString(2);
        w.Key(RdbType.HashListpackExPreGa, "h23").String(RdbWriter.Listpack("f1", "v1", t2, "f2", 5L, 0L));
        w.Key(RdbType.HashMetadata, "h24").Int64LE(t1).Length(2).Length(0).String("a").String("1").Length((ulong)(t2 - t1 + 1)).String("b").String("2");
        w.Key(RdbType.HashListpackEx, "h25").Int64LE(t1).LzfString(RdbWriter.Listpack("x", "y", t1, "p", "q", 0L));
        var v = Parse(w.End(), new RecordingVisitor());
        AssertEvents(new[]
        {
            "start 12", "select 0",
            "key db=0 \"h22\" type=HashMetadataPreGa expire=-1 idle=-1 freq=-1 length=2 raw=yes", $"hash \"f1\"=\"v1\" ttl={t1}", "hash \"f2\"=\"2\"", "keyend",
            "key db=0 \"h23\" type=HashListpackExPreGa expire=-1 idle=-1 freq=-1 length=2 raw=yes", $"hash \"f1\"=\"v1\" ttl={t2}", "hash \"f2\"=\"5\"", "keyend",
            "key db=0 \"h24\" type=HashMetadata expire=-1 idle=-1 freq=-1 length=2 raw=yes", "hash \"a\"=\"1\"", $"hash \"b\"=\"2\" ttl={t2}", "keyend",
            "key db=0 \"h25\" type=HashListpackEx expire=-1 idle=-1 freq=-1 length=2 raw=yes", $"hash \"x\"=\"y\" ttl={t1}", "hash \"p\"=\"q\"", "keyend",
            v.Events[^1],
        }, v);
    }

    [Fact]
    public void Checksum_zero_means_the_server_saved_without_one()
    {
        var w = new RdbWriter(10).SelectDb(0).Key(RdbType.String, "k").String("v");
        var v = Parse(w.End(10, checksum: false), new RecordingVisitor());
        Assert.Equal("end 0000000000000000", v.Events[^1]);
    }

    [Fact]
    public async Task Files_before_version_5_end_at_eof_without_a_checksum_and_leave_what_follows()
    {
        byte[] rdb = new RdbWriter(4).SelectDb(0).Key(RdbType.String, "k").String("v").End(4);
        byte[] withTail = rdb.Concat(Encoding.ASCII.GetBytes("+TAIL\r\n")).ToArray();
        var pipe = new Pipe();
        pipe.Writer.Write(withTail);
        await pipe.Writer.FlushAsync();
        var parser = new RdbParser(pipe.Reader, new RecordingVisitor());
        parser.Parse();
        Assert.Equal(rdb.Length, parser.Position);
        Assert.True(pipe.Reader.TryRead(out ReadResult rest));
        Assert.Equal("+TAIL\r\n", Encoding.ASCII.GetString(rest.Buffer.ToArray()));
    }

    [Fact]
    public void Function_of_7_0_release_candidates_gets_its_shebang_and_loads()
    {
        const string code = "redis.register_function('rc_fn', function(keys, args) return 1 end)";
        var w = new RdbWriter(10).Byte(0xF6).String("rclib").String("LUA").Length(1).String("a description").String(code);
        w.Byte(0xF6).String("rclib2").String("LUA").Length(0).String(code.Replace("rc_fn", "rc_fn2"));
        var v = Parse(w.End(10), new RecordingVisitor());
        Assert.Equal("function \"#!LUA name=rclib\\x0a" + code + "\"", v.Events[1]);

        using RedisServer server = RedisServer.Start();
        var codes = new[] { "#!LUA name=rclib\n" + code, "#!LUA name=rclib2\n" + code.Replace("rc_fn", "rc_fn2") };
        foreach (string c in codes) server.Db().Execute("FUNCTION", "LOAD", c);
        Assert.Equal("1", server.Db().Execute("FCALL", "rc_fn2", 0).ToString());
    }

    [Fact]
    public void Every_listpack_and_ziplist_integer_width_reads_back_as_decimal_text()
    {
        long[] values = { 0, 127, 128, -1, 4095, -4096, 4096, 32767, -32768, 32768, 8388607, -8388608, 8388608, int.MaxValue, int.MinValue, (long)int.MaxValue + 1, long.MaxValue, long.MinValue, 12, 13, -129 };
        object[] entries = values.Select(x => (object)x).ToArray();
        var w = new RdbWriter(10).SelectDb(0);
        w.Key(RdbType.ListQuicklist2, "lp").Length(1).Length(2).String(RdbWriter.Listpack(entries));
        w.Key(RdbType.ListQuicklist, "zl").Length(1).String(RdbWriter.Ziplist(entries));
        var v = Parse(w.End(10), new RecordingVisitor());
        string[] expected = values.Select(x => $"list \"{x}\"").ToArray();
        int lp = v.Events.IndexOf("node Packed");
        int zl = v.Events.IndexOf("node Ziplist");
        Assert.Equal(expected, v.Events.Skip(lp + 1).Take(values.Length));
        Assert.Equal(expected, v.Events.Skip(zl + 1).Take(values.Length));
    }

    [Fact]
    public void Deleted_stream_entries_are_reported_at_their_place_among_live_ones()
    {
        var v = new RecordingVisitor();
        RdbParser.ParseFile(Fixtures.RdbPath("debian-redis-7.0.15"), v);
        int start = v.Events.FindIndex(e => e.StartsWith("key db=0 \"st:main\"", StringComparison.Ordinal));
        var ids = new List<(bool Deleted, string Id)>();
        for (int i = start + 1; !v.Events[i].StartsWith("stream ", StringComparison.Ordinal); i++)
        {
            string e = v.Events[i];
            if (e.StartsWith("entry ", StringComparison.Ordinal)) ids.Add((false, e.Split(' ')[1]));
            else if (e.StartsWith("deleted ", StringComparison.Ordinal)) ids.Add((true, e.Split(' ')[1]));
        }
        Assert.Equal(115, ids.Count(x => !x.Deleted));
        Assert.Equal(new[] { "1700000000000-2", "1700000003000-1", "1700000012000-2", "1700000019000-1", "1700000029000-3" }, ids.Where(x => x.Deleted).Select(x => x.Id));
        var parsed = ids.Select(x => x.Id.Split('-').Select(ulong.Parse).ToArray()).Select(p => new StreamId(p[0], p[1])).ToList();
        for (int i = 1; i < parsed.Count; i++) Assert.True(parsed[i - 1].CompareTo(parsed[i]) < 0, $"{parsed[i - 1]} before {parsed[i]}");
        Assert.Contains("pending 1700000003000-1 time=", string.Join("\n", v.Events));
    }
}
