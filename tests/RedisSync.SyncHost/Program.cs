using System;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using RedisSync.Engine;
using RedisSync.Engine.Net;
using RedisSync.Engine.Sync;

// Usage: RedisSync.SyncHost <source host:port> <target host:port> <name> [lease seconds] [shard]
// Runs a FullAndIncremental sync until SIGTERM (graceful stop) or SIGKILL; prints its pid, each phase and how it ended.
if (args.Length < 3 || args.Length > 5)
{
    Console.Error.WriteLine("usage: RedisSync.SyncHost <source> <target> <name> [lease seconds] [shard]");
    return 2;
}
var session = new SyncSession(new SyncOptions
{
    Name = args[2],
    Source = RedisEndpoint.Parse(args[0]),
    Target = RedisEndpoint.Parse(args[1]),
    Mode = RedisSync.SyncMode.FullAndIncremental,
    ReconnectTimeout = TimeSpan.FromSeconds(60),
    Shard = args.Length == 5 ? args[4] : null,
    LeaseTime = args.Length >= 4 ? TimeSpan.FromSeconds(double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture)) : TimeSpan.FromSeconds(10),
});
session.PhaseChanged += s => Console.WriteLine($"phase {s.Phase} full={s.FullResyncs} partial={s.PartialResyncs} scanned={s.KeysScanned} shard={s.Shard}");
session.Warning += w => Console.WriteLine($"warning {w.ErrorId}: {w.Message}");
using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    session.Stop();
});
try
{
    RedisSync.SyncStatus status = await session.RunAsync();
    Console.WriteLine($"ended {status.Phase}");
    return 0;
}
catch (SyncException ex)
{
    Console.WriteLine($"failed {ex.ErrorId}: {ex.Message}");
    return 1;
}
