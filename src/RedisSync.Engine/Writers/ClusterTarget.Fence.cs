using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

/// <summary>The lease's fence on a cluster target: every slot stamped with this run's epoch, and the flushes guarded (<see cref="SlotFence"/>).</summary>
internal sealed partial class ClusterTarget
{
    /// <summary>
    /// Stamps every slot with this run's epoch (after <see cref="UseLease"/> with one, before the first unit) and takes what each slot
    /// applied from what its stamp read, which no older run can change after it. Returns the highest epoch found above this run's
    /// (a newer run's, or one left by a counter a flush reset; nothing is written then), or 0.
    /// </summary>
    public async Task<long> FenceAsync(CancellationToken ct)
    {
        if (!Fenced) return 0;
        (string?[] before, long higher) = await StampAsync(Enumerable.Range(0, ClusterSlots.Count).ToList(), ct).ConfigureAwait(false);
        if (higher > 0) return higher;
        if (_resume != null)
        {
            for (int s = 0; s < ClusterSlots.Count; s++) _resume[s] = SlotFence.OffsetOf(before[s]);
        }
        return 0;
    }

    private SyncException LeaseLost(int slot) =>
        new SyncException(SyncErrorIds.LeaseLost, SyncErrorKind.Stop,
            $"This run no longer holds its lease {KeyText.Format(_lease!.Key)} on the target {_login}: another run of the same sync took it " +
            $"({(slot >= 0 ? "slot " + slot + "'s" : "a slot's")} checkpoint carries a newer run's epoch). Nothing more is written by this run.")
        { Key = KeyText.Format(_lease.Key) };

    /// <summary>Stamps slots again that a flush left without an epoch, once the lease is checked to be still this run's.</summary>
    private async Task RestampAsync(IReadOnlyCollection<int> slots, CancellationToken ct)
    {
        byte[] key = _lease!.Key;
        int slot = ClusterSlots.Of(key);
        for (int attempt = 0; ; attempt++)
        {
            NodeLink? link;
            lock (_gate) link = _owners[slot];
            RespValue? held = link == null ? null : await link.TryExecuteAsync(ct, "GET", key).ConfigureAwait(false);
            if (held != null && !held.IsError)
            {
                if (held.Bytes == null || !held.Bytes.AsSpan().SequenceEqual(_lease.Value)) throw LeaseLost(slots.First());
                break;
            }
            if (attempt == 20)
            {
                throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop,
                    $"The master of the lease {KeyText.Format(key)} on the target cluster {_login} did not answer ({held?.AsString() ?? "link lost"}), so slots left without the lease's epoch could not be stamped again.");
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
            try
            {
                await RefreshAsync(ct).ConfigureAwait(false);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
            {
            }
        }
        (_, long higher) = await StampAsync(slots, ct).ConfigureAwait(false);
        if (higher > 0) throw LeaseLost(slots.First());
    }

    /// <summary>
    /// The stamp script on each slot's master, pipelined per master, following MOVED (the map read again), ASK (ASKING to the
    /// importing node) and a slot in transit; returns each slot's checkpoint as it was before, and the highest epoch above this run's.
    /// </summary>
    private async Task<(string?[] Before, long Higher)> StampAsync(IReadOnlyCollection<int> slots, CancellationToken ct)
    {
        var before = new string?[ClusterSlots.Count];
        var pending = new HashSet<int>(slots);
        var asks = new Dictionary<int, NodeLink>();
        long higher = 0;
        var clock = Stopwatch.StartNew();
        string epoch = _lease!.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture);
        while (pending.Count > 0)
        {
            var groups = new Dictionary<NodeLink, List<int>>();
            bool refresh = false;
            lock (_gate)
            {
                foreach (int s in pending)
                {
                    NodeLink? link = asks.TryGetValue(s, out NodeLink? ask) ? ask : _owners[s];
                    if (link == null)
                    {
                        refresh = true;
                        continue;
                    }
                    if (!groups.TryGetValue(link, out List<int>? list)) groups[link] = list = new List<int>();
                    list.Add(s);
                }
            }
            foreach (KeyValuePair<NodeLink, List<int>> group in groups)
            {
                NodeLink link = group.Key;
                try
                {
                    RedisConnection connection = await link.ConnectAsync(ct).ConfigureAwait(false);
                    foreach (int s in group.Value)
                    {
                        if (asks.ContainsKey(s)) RespFormatter.WriteRaw(connection.Output, "*1\r\n$6\r\nASKING\r\n"u8);
                        RespFormatter.WriteCommand(connection.Output, "EVAL", SlotFence.Stamp, 1, SlotKey(s), epoch);
                    }
                    await connection.Output.FlushAsync(ct).ConfigureAwait(false);
                    foreach (int s in group.Value)
                    {
                        bool asked = asks.Remove(s);
                        if (asked) await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                        RespValue reply = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
                        if (!reply.IsError && reply.Items.Length == 2)
                        {
                            string? value = reply.Items[1].IsNull ? null : reply.Items[1].AsString();
                            if (reply.Items[0].Integer == 0) higher = Math.Max(higher, SlotFence.EpochOf(value));
                            else before[s] = value;
                            pending.Remove(s);
                            continue;
                        }
                        switch (reply.ErrorCode)
                        {
                            case "MOVED":
                                refresh = true;
                                break;
                            case "ASK":
                                asks[s] = LinkFor(AddressOf(reply.AsString() ?? string.Empty));
                                break;
                            case "TRYAGAIN":
                            case "CLUSTERDOWN":
                            case "LOADING":
                            case "MASTERDOWN":
                                break;
                            default:
                                throw new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                                    $"The target {link.Endpoint} refused the script that stamps slot {s} with the lease's epoch ({reply.AsString()}). Let the sync's user run EVAL, then start it again.") { Command = "EVAL" };
                        }
                    }
                }
                catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException || (ex is SyncException sync && sync.Kind == SyncErrorKind.Retry))
                {
                    link.Drop();
                    refresh = true;
                }
            }
            if (pending.Count == 0) break;
            if (clock.Elapsed > _options.ReconnectTimeout)
            {
                throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop,
                    $"The target cluster {_login} did not let {pending.Count} slots be stamped with the lease's epoch within {_options.ReconnectTimeout.TotalSeconds:0} s (slot {pending.First()} among them): its masters are down or moving slots. Start the sync again when the cluster is healthy.");
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
            if (!refresh) continue;
            try
            {
                await RefreshAsync(ct).ConfigureAwait(false);
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Retry)
            {
            }
        }
        return (before, higher);
    }

    /// <summary>
    /// FLUSHALL (FLUSHDB) on one master under the fence of one of its slots, that slot's stamp written again in the same transaction:
    /// null to try again (a lost link, a redirect, the watched key touched), else the flush's reply.
    /// </summary>
    private async Task<RespValue?> FencedFlushAsync(NodeLink link, object[] command, CancellationToken ct)
    {
        int slot = -1;
        lock (_gate)
        {
            for (int s = 0; s < ClusterSlots.Count && slot < 0; s++) if (_owners[s] == link) slot = s;
        }
        if (slot < 0) return null;
        string key = SlotKey(slot);
        try
        {
            RedisConnection connection = await link.ConnectAsync(ct).ConfigureAwait(false);
            RespFormatter.WriteCommand(connection.Output, "WATCH", key);
            RespFormatter.WriteCommand(connection.Output, "EVAL", SlotFence.GuardBytes, 1, key, _lease!.Epoch);
            RespFormatter.WriteCommand(connection.Output, "MULTI");
            RespFormatter.WriteCommand(connection.Output, command);
            RespFormatter.WriteCommand(connection.Output, "SET", key, "- 0 -:0 " + _lease.Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture));
            RespFormatter.WriteCommand(connection.Output, "EXEC");
            await connection.Output.FlushAsync(ct).ConfigureAwait(false);
            var replies = new RespValue[6];
            for (int i = 0; i < replies.Length; i++) replies[i] = await connection.ReadReplyAsync(ct).ConfigureAwait(false);
            RespValue guard = replies[1], exec = replies[5];
            if (!guard.IsError && guard.Integer == 0) throw LeaseLost(slot);
            if (!guard.IsError && guard.Integer == 2)
            {
                await RestampAsync(new[] { slot }, ct).ConfigureAwait(false);
                return null;
            }
            if (exec.Kind == RespKind.Array && !exec.IsNull) return exec.Items[0];
            if (replies[0].IsError && replies[0].ErrorCode != "MOVED" && replies[0].ErrorCode != "ASK" && replies[0].ErrorCode != "TRYAGAIN" && replies[0].ErrorCode != "CLUSTERDOWN") return replies[0];
            if (guard.IsError && guard.ErrorCode != "MOVED" && guard.ErrorCode != "ASK" && guard.ErrorCode != "TRYAGAIN" && guard.ErrorCode != "CLUSTERDOWN") return guard;
            return null;
        }
        catch (Exception ex) when (ex is IOException || ex is ObjectDisposedException || ex is InvalidOperationException || (ex is SyncException sync && sync.Kind == SyncErrorKind.Retry))
        {
            link.Drop();
            return null;
        }
    }
}
