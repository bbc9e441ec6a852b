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
}
