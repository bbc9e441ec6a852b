using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

internal sealed partial class ClusterTarget
{
    /// <summary>
    /// Deletes the keys of the given hash slots on the masters that serve them (CLUSTER COUNTKEYSINSLOT, then
    /// CLUSTER GETKEYSINSLOT and UNLINK, a thousand at a time), RedisSync's own keys kept: before a new copy of
    /// one shard of a cluster source, whose slots are the same slots here (a key's slot depends on its name only).
    /// Returns how many keys were deleted. Call it with nothing of the shard in flight (after a drain).
    /// </summary>
    public async Task<long> DeleteSlotsAsync(IReadOnlyList<(int From, int To)> slots, CancellationToken ct)
    {
        Dictionary<NodeLink, List<int>> bySlot = MastersOf(slots);
        long deleted = 0;
        foreach (KeyValuePair<NodeLink, List<int>> master in bySlot)
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(master.Key.Endpoint, EndpointRole.Target, ct).ConfigureAwait(false);
            foreach (int slot in master.Value)
            {
                if ((await connection.ExecuteOrThrowAsync(ct, "CLUSTER", "COUNTKEYSINSLOT", slot).ConfigureAwait(false)).Integer == 0) continue;
                var kept = new HashSet<string>(StringComparer.Ordinal);
                while (true)
                {
                    RespValue page = await connection.ExecuteOrThrowAsync(ct, "CLUSTER", "GETKEYSINSLOT", slot, 1000 + kept.Count).ConfigureAwait(false);
                    var unlink = new List<object> { "UNLINK" };
                    foreach (RespValue key in page.Items)
                    {
                        byte[] name = key.Bytes ?? Array.Empty<byte>();
                        if (ReservedKeys.IsReserved(name)) kept.Add(Convert.ToBase64String(name));
                        else unlink.Add(name);
                    }
                    if (unlink.Count == 1) break;
                    deleted += (await connection.ExecuteOrThrowAsync(ct, unlink.ToArray()).ConfigureAwait(false)).Integer;
                }
            }
        }
        return deleted;
    }

    /// <summary>
    /// Whether a key that is not RedisSync's own is in any of the given hash slots (CLUSTER COUNTKEYSINSLOT, and
    /// CLUSTER GETKEYSINSLOT where a slot holds a few keys, which may all be reserved ones).
    /// </summary>
    public async Task<bool> HoldsUserKeysAsync(IReadOnlyList<(int From, int To)> slots, CancellationToken ct)
    {
        foreach (KeyValuePair<NodeLink, List<int>> master in MastersOf(slots))
        {
            using RedisConnection connection = await RedisConnection.ConnectAsync(master.Key.Endpoint, EndpointRole.Target, ct).ConfigureAwait(false);
            if ((await connection.ExecuteOrThrowAsync(ct, "DBSIZE").ConfigureAwait(false)).Integer == 0) continue;
            foreach (int slot in master.Value)
            {
                long count = (await connection.ExecuteOrThrowAsync(ct, "CLUSTER", "COUNTKEYSINSLOT", slot).ConfigureAwait(false)).Integer;
                if (count == 0) continue;
                // A slot holds few of RedisSync's own keys (checkpoints, leases): more than that is user data.
                if (count > 64) return true;
                RespValue keys = await connection.ExecuteOrThrowAsync(ct, "CLUSTER", "GETKEYSINSLOT", slot, count).ConfigureAwait(false);
                if (keys.Items.Any(k => !ReservedKeys.IsReserved(k.Bytes ?? Array.Empty<byte>()))) return true;
            }
        }
        return false;
    }

    /// <summary>The given hash slots, by the master that serves each now.</summary>
    private Dictionary<NodeLink, List<int>> MastersOf(IReadOnlyList<(int From, int To)> slots)
    {
        var bySlot = new Dictionary<NodeLink, List<int>>();
        lock (_gate)
        {
            foreach ((int from, int to) in slots)
            {
                for (int slot = Math.Max(0, from); slot <= Math.Min(ClusterSlots.Count - 1, to); slot++)
                {
                    NodeLink? owner = _owners[slot];
                    if (owner == null) continue;
                    if (!bySlot.TryGetValue(owner, out List<int>? list)) bySlot[owner] = list = new List<int>();
                    list.Add(slot);
                }
            }
        }
        return bySlot;
    }
}
