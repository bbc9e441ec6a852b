using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;
using RedisSync.Engine.Tests.Infrastructure;
using StackExchange.Redis;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>The class behind Remove-RedisSyncCheckpoint, against a real server: what is left on the target.</summary>
public sealed class CheckpointRemovalTests
{
    [Fact]
    public async Task Removes_the_checkpoint_and_an_expired_lease_and_nothing_else()
    {
        using RedisServer target = RedisServer.Start();
        IDatabase db = target.Db(0);
        db.StringSet(ReservedKeys.Checkpoint("orders"), "checkpoint");
        db.StringSet(ReservedKeys.Checkpoint("other"), "checkpoint");
        db.StringSet("orders", "user data");

        int removed = await CheckpointRemoval.RemoveAsync(RedisEndpoint.Parse(target.Endpoint), "orders", force: false, CancellationToken.None);

        Assert.Equal(1, removed);
        Assert.False(db.KeyExists(ReservedKeys.Checkpoint("orders")));
        Assert.True(db.KeyExists(ReservedKeys.Checkpoint("other")));
        Assert.Equal("user data", (string?)db.StringGet("orders"));
        Assert.Equal(0, await CheckpointRemoval.RemoveAsync(RedisEndpoint.Parse(target.Endpoint), "orders", force: false, CancellationToken.None));
    }

    [Fact]
    public async Task A_held_lease_is_refused_with_SyncAlreadyRunning_and_removed_with_force()
    {
        using RedisServer target = RedisServer.Start();
        IDatabase db = target.Db(0);
        db.StringSet(ReservedKeys.Checkpoint("orders"), "checkpoint");
        db.StringSet(ReservedKeys.Lease("orders"), "holder", System.TimeSpan.FromMinutes(1));
        RedisEndpoint endpoint = RedisEndpoint.Parse("redis://127.0.0.1:" + target.Port + "/5");

        var error = await Assert.ThrowsAsync<SyncException>(() => CheckpointRemoval.RemoveAsync(endpoint, "orders", force: false, CancellationToken.None));

        Assert.Equal(HostErrorIds.SyncAlreadyRunning, error.ErrorId);
        Assert.Contains(ReservedKeys.Lease("orders"), error.Message);
        Assert.Contains("-Force", error.Message);
        Assert.True(db.KeyExists(ReservedKeys.Checkpoint("orders")));
        Assert.Equal(2, await CheckpointRemoval.RemoveAsync(endpoint, "orders", force: true, CancellationToken.None));
        Assert.Equal(0L, (long)target.Db(0).Execute("DBSIZE"));
    }

    [Fact]
    public void Leases_are_reserved_keys()
    {
        Assert.Equal("redissync:lease:orders", ReservedKeys.Lease("orders"));
        Assert.True(ReservedKeys.IsReserved(System.Text.Encoding.ASCII.GetBytes(ReservedKeys.Lease("orders"))));
        Assert.False(ReservedKeys.IsReserved(System.Text.Encoding.ASCII.GetBytes("redissync-lease:orders")));
    }
}
