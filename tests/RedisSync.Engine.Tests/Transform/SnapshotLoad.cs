using System;
using System.Collections.Generic;
using System.IO;
using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>Runs an RDB file through parser → transform → writer into a target, as a sync does.</summary>
internal static class SnapshotLoad
{
    public sealed class Result
    {
        public required RdbToCommands Transform { get; init; }
        public required List<SyncWarning> Warnings { get; init; }
        public SyncException? Error { get; init; }
        public long ParserAllocatedBytes { get; init; }
    }

    public static async Task<Result> RunAsync(string rdbPath, string target, bool useRestore = true, bool targetEmpty = true,
        ConflictPolicy policy = ConflictPolicy.Replace, Action<TargetWriterOptions>? configure = null)
    {
        var writerOptions = new TargetWriterOptions
        {
            BusyKeyPolicy = policy switch
            {
                ConflictPolicy.Replace => BusyKeyPolicy.Replace,
                ConflictPolicy.Skip => BusyKeyPolicy.Skip,
                _ => BusyKeyPolicy.Stop,
            },
        };
        configure?.Invoke(writerOptions);
        using TargetWriter writer = await TargetWriter.ConnectAsync(RedisEndpoint.Parse(target), writerOptions, CancellationToken.None);
        var warnings = new List<SyncWarning>();
        writer.Warning += w => { lock (warnings) warnings.Add(w); };
        var transform = new RdbToCommands(writer, new TransformOptions(writer.Server)
        {
            UseRestore = useRestore,
            TargetIsEmpty = targetEmpty,
            OnConflict = policy,
        });
        transform.Warning += w => { lock (warnings) warnings.Add(w); };
        SyncException? error = null;
        long allocated = 0;
        await Task.Factory.StartNew(() =>
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var file = new FileStream(rdbPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                var input = PipeReader.Create(file, new StreamPipeReaderOptions(bufferSize: 256 * 1024));
                new RdbParser(input, transform, new RdbParserOptions()).Parse();
                writer.Flush();
            }
            catch (SyncException ex)
            {
                transform.AbortKey();
                writer.Flush();
                error = ex;
            }
            allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        }, TaskCreationOptions.LongRunning);
        await writer.DrainAsync(CancellationToken.None);
        return new Result { Transform = transform, Warnings = warnings, Error = error, ParserAllocatedBytes = allocated };
    }
}
