using System;
using System.Buffers;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Text;
using RedisSync.Engine;
using RedisSync.Engine.Config;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;

namespace RedisSync.Fuzz;

/// <summary>
/// One fuzz target per parser of bytes the engine does not control. Each takes one input and returns
/// normally, either because the parser accepted it or because it refused it with the documented error
/// (a <see cref="SyncException"/>; for a settings file also the <see cref="SettingsException"/> that
/// <c>SyncSettingsFile.Load</c> turns into InvalidConfig). Any other exception escapes: that is a
/// finding. Compiled into RedisSync.Fuzz (AFL, through SharpFuzz) and into RedisSync.Engine.Tests (replay).
/// </summary>
internal static class FuzzTargets
{
    /// <summary>The targets by name, as given on the command line.</summary>
    public static readonly string[] Names = { "rdb", "resp", "command", "endpoint", "settings" };

    /// <summary>A small bulk limit for the reply parser, so that the limit itself is reached by short inputs.</summary>
    public const long SmallMaxBulkLength = 1024;

    public static Action<byte[]> Get(string name) => name switch
    {
        "rdb" => Rdb,
        "resp" => Resp,
        "command" => Command,
        "endpoint" => Endpoint,
        "settings" => Settings,
        _ => throw new ArgumentException($"Unknown fuzz target '{name}'; the targets are {string.Join(", ", Names)}.", nameof(name)),
    };

    /// <summary>Runs a target; the documented errors count as a clean refusal. Returns the SyncException id, or null when accepted.</summary>
    public static string? Run(string name, byte[] input)
    {
        try
        {
            Get(name)(input);
            return null;
        }
        catch (SyncException e)
        {
            if (string.IsNullOrEmpty(e.ErrorId)) throw new InvalidOperationException("A SyncException without an id.", e);
            return e.ErrorId;
        }
        catch (SettingsException) when (name == "settings")
        {
            return "SettingsException";
        }
    }

    /// <summary>The streamed RDB (the bulk of a PSYNC reply) over a pipe that ends with the input, with and without the checksum check.</summary>
    public static void Rdb(byte[] input)
    {
        var options = new RdbParserOptions
        {
            ChunkSize = 1024,
            RawCaptureLimit = 4096,
            MaxModuleValueLength = 64 * 1024,
            // The fuzzer would otherwise spend its time on the checksum; one input in two checks it.
            VerifyChecksum = input.Length > 0 && (input[input.Length - 1] & 1) == 0,
        };
        PipeReader reader = PipeReader.Create(new ReadOnlySequence<byte>(input));
        try
        {
            new RdbParser(reader, new DiscardingVisitor(), options).Parse();
        }
        finally
        {
            reader.Complete();
        }
    }

    /// <summary>The reply parser: every frame of the input read as objects, then skipped, with a small bulk limit for the skip.</summary>
    public static void Resp(byte[] input)
    {
        var buffer = new ReadOnlySequence<byte>(input);
        while (RespParser.TryRead(ref buffer, out RespValue? value))
        {
            _ = value;
        }
        buffer = new ReadOnlySequence<byte>(input);
        while (RespParser.TrySkip(ref buffer, out RespFrame frame, SmallMaxBulkLength))
        {
            _ = frame;
        }
    }

    /// <summary>The replication stream as ReplicationStream.Run reads it: commands one after another, with the default bulk limit.</summary>
    public static void Command(byte[] input)
    {
        var args = new List<ReadOnlySequence<byte>>();
        var buffer = new ReadOnlySequence<byte>(input);
        while (RespParser.TryReadCommand(ref buffer, args, out ReadOnlySequence<byte> frame))
        {
            if (frame.Length == 0) throw new InvalidOperationException("TryReadCommand returned an empty frame, which would loop forever.");
        }
    }

    /// <summary>A connection string (-Source, -Target).</summary>
    public static void Endpoint(byte[] input)
    {
        _ = RedisEndpoint.Parse(Text(input));
    }

    /// <summary>A settings file of either form, as SyncSettingsFile.Load reads it once the file is in memory.</summary>
    public static void Settings(byte[] input)
    {
        string text = Text(input);
        _ = ShakeSettingsFile.Recognizes(text);
        _ = SyncSettingsFile.Parse(SettingsText.FromString("fuzz.toml", text), Path.GetTempPath());
    }

    private static string Text(byte[] input) => Encoding.UTF8.GetString(input);

    /// <summary>Takes every element (the command path), keeps nothing.</summary>
    private sealed class DiscardingVisitor : RdbVisitor
    {
        public override bool OnKey(in RdbKey key) => true;
    }
}
