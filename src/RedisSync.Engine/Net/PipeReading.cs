using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Net;

/// <summary>Blocking reads for the dedicated threads that parse the snapshot and the command stream, and read the writer's replies.</summary>
internal static class PipeReading
{
    /// <summary>
    /// Reads, blocking the calling (dedicated) thread when no data has arrived yet: in the kernel for a
    /// connection's own reader, else by waiting for the async read (a file, a test's pipe).
    /// </summary>
    [MethodImpl(HotPath.Compile)]
    public static ReadResult ReadBlocking(this PipeReader reader, CancellationToken cancellationToken)
    {
        if (reader is ConnectionReader connection) return connection.ReadBlocking(cancellationToken);
        ValueTask<ReadResult> pending = reader.ReadAsync(cancellationToken);
        return pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult();
    }
}
