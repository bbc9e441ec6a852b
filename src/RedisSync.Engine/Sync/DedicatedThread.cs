using System;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Sync;

/// <summary>
/// Runs the blocking parts of a sync (the RDB parser, the command stream) on a thread of their own,
/// so they never hold a pool thread while they wait for the network.
/// </summary>
internal static class DedicatedThread
{
    public static Task Run(string name, Action work)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                work();
                done.TrySetResult(true);
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }
}
