using System.Globalization;
using System.Text;

namespace RedisSync.Engine.Writers;

/// <summary>
/// The lease as a cluster target enforces it, slot by slot: a per-slot MULTI cannot watch the lease key
/// (another slot), so each run that takes the lease draws an epoch, higher than any earlier holder's, and
/// writes it into every slot's checkpoint key; each per-slot transaction then runs under WATCH of that key
/// after a guard that discards it when the key carries a higher epoch (or none).
/// </summary>
/// <remarks>
/// <para>A slot's checkpoint value is <c>&lt;o|s&gt; &lt;position&gt; &lt;run token&gt;:&lt;batch&gt; &lt;epoch&gt;</c>;
/// a slot stamped but not yet written by its run reads <c>- 0 -:0 &lt;epoch&gt;</c>.</para>
/// <para>On the wire a unit is <c>WATCH k</c>, <c>EVAL guard 1 k epoch</c>, <c>MULTI</c> … <c>SET k value</c>
/// <c>EXEC</c>. The guard answers 1 when the key's epoch is at most this run's; otherwise it touches the key
/// (so the watched transaction is discarded, EXEC answers nil) and answers 0 (a higher epoch: another run
/// took the lease) or 2 (no stamp: the slot was flushed, see below).</para>
/// <para>Why the slots the new holder has not written yet keep exactly once: on taking the lease the new
/// holder stamps every one of the 16,384 slots with one script each, which reads the slot's checkpoint and
/// raises its epoch in the same step. For each slot, an older run's unit and the stamp are ordered by the
/// master that serves it: a unit before the stamp is in the offset the stamp read, which the new holder's
/// resume then skips (it drops per slot what that slot's checkpoint says it applied); a unit after the
/// stamp meets the higher epoch and is discarded. So no slot can take an older run's write after the new
/// holder read its position, whether the new holder writes that slot soon or never.</para>
/// <para>A flush (FLUSHALL replayed, -FlushTarget) deletes the stamps; the flush itself runs guarded on each
/// master, and a slot without a stamp refuses every run's unit (2) until a run that still holds the lease
/// (checked on the lease's master first) stamps it again, so an older run cannot slip in after a flush.</para>
/// </remarks>
internal static class SlotFence
{
    /// <summary>KEYS: the slot's checkpoint. ARGV: this run's epoch. 1: go on; 0: a higher epoch; 2: no stamp.</summary>
    internal const string Guard =
        "local v = redis.call('get', KEYS[1]) " +
        "if not v then redis.call('set', KEYS[1], '-') redis.call('del', KEYS[1]) return 2 end " +
        "local e = tonumber(string.match(v, '^%S+ %S+ %S+ (%d+)$') or '0') " +
        "if e > tonumber(ARGV[1]) then redis.call('set', KEYS[1], v) return 0 end " +
        "return 1";

    /// <summary>KEYS: the slot's checkpoint. ARGV: this run's epoch. {1, value before} once stamped; {0, value} when its epoch is higher.</summary>
    internal const string Stamp =
        "local v = redis.call('get', KEYS[1]) " +
        "local e = tonumber(v and string.match(v, '^%S+ %S+ %S+ (%d+)$') or '0') " +
        "if e > tonumber(ARGV[1]) then return {0, v} end " +
        "local base = v and string.match(v, '^(%S+ %S+ %S+)') or '- 0 -:0' " +
        "redis.call('set', KEYS[1], base .. ' ' .. ARGV[1]) " +
        "return {1, v or false}";

    /// <summary>KEYS: the sync's checkpoint, the checkpoint of its slot. ARGV: the value, this run's epoch. 1: written; 0: a higher epoch; 2: no stamp.</summary>
    internal const string SetGlobal =
        "local v = redis.call('get', KEYS[2]) " +
        "if not v then return 2 end " +
        "local e = tonumber(string.match(v, '^%S+ %S+ %S+ (%d+)$') or '0') " +
        "if e > tonumber(ARGV[2]) then return 0 end " +
        "redis.call('set', KEYS[1], ARGV[1]) return 1";

    internal static readonly byte[] GuardBytes = Encoding.ASCII.GetBytes(Guard);

    /// <summary>The epoch a slot checkpoint's value carries (0 for one written before epochs, or none).</summary>
    public static long EpochOf(string? value)
    {
        string[] parts = (value ?? string.Empty).Split(' ');
        return parts.Length == 4 && long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out long epoch) ? epoch : 0;
    }

    /// <summary>The stream offset a slot checkpoint's value says its slot applied, or -1 (none, or a snapshot's).</summary>
    public static long OffsetOf(string? value)
    {
        string[] parts = (value ?? string.Empty).Split(' ');
        return parts.Length >= 3 && parts[0] == "o" && long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out long offset) ? offset : -1;
    }
}
