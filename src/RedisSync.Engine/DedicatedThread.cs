using System;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine;

/// <summary>
/// Runs the blocking parts of a sync (the RDB parser, the command stream, the writer's send and
/// receive loops) on a thread of their own, so they never hold a pool thread while they wait for the
/// network (a pool thread per wake-up costs more CPU than the loops' work on a busy machine).
/// </summary>
internal static class DedicatedThread
{
    public static Task Run(string name, Action work) => Run(name, () =>
    {
        work();
        return true;
    });

    public static Task<T> Run<T>(string name, Func<T> work)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                done.TrySetResult(work());
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
