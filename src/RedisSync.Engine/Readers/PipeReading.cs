using System.IO.Pipelines;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Readers;

/// <summary>Blocking reads for the dedicated threads that parse the snapshot and the command stream.</summary>
internal static class PipeReading
{
    /// <summary>Reads, blocking the calling (dedicated) thread when no data has arrived yet.</summary>
    public static ReadResult ReadBlocking(this PipeReader reader, CancellationToken cancellationToken)
    {
        ValueTask<ReadResult> pending = reader.ReadAsync(cancellationToken);
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }
}
