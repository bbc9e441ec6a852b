using System;

namespace RedisSync.Engine.Writers;

/// <summary>
/// One slot's share of a batch for a cluster target: its commands as RESP, sent as MULTI … SET the
/// slot's checkpoint … EXEC; or a command every master runs (FLUSHALL), which no later unit passes.
/// </summary>
internal sealed class SlotUnit
{
    public SlotUnit(int slot) => Slot = slot;

    public int Slot { get; }

    public PooledBuffer Body { get; } = new PooledBuffer(512);

    public int Commands;

    public int Keys;

    public int CommitLength;

    public int CommitCommands;

    public int CommitKeys;

    /// <summary>The batch the unit belongs to (grows with every batch a run seals).</summary>
    public long Seq;

    /// <summary>What the unit writes to its slot's checkpoint key (null without checkpoints).</summary>
    public byte[]? Value;

    /// <summary>A command for every master, in order with everything else (FLUSHALL, SCRIPT, FUNCTION).</summary>
    public bool IsBroadcast;

    // The dispatcher's state.
    public NodeLink? AskNode;
    public bool Verify;
    public UnitOutcome Outcome;
    public string? RedirectAddress;
    public SyncException? Error;
    public long FirstFailureTicks;

    /// <summary>Replies the unit gets.</summary>
    public int Frames(bool transactional) => IsBroadcast || !transactional ? Commands : Commands + 3 + (AskNode != null ? 1 : 0);

    public static SlotUnit Broadcast(byte[] command, int commands)
    {
        var unit = new SlotUnit(-1) { IsBroadcast = true, Commands = commands, CommitCommands = commands };
        unit.Body.Write(command);
        unit.CommitLength = unit.Body.Length;
        return unit;
    }

    public void MarkCommit()
    {
        CommitLength = Body.Length;
        CommitCommands = Commands;
        CommitKeys = Keys;
    }

    public void TruncateToCommit()
    {
        Body.Truncate(CommitLength);
        Commands = CommitCommands;
        Keys = CommitKeys;
    }

    /// <summary>Moves what follows the last commit point into a new unit of the same slot and cuts this one there.</summary>
    public SlotUnit SplitTail()
    {
        var tail = new SlotUnit(Slot);
        if (Body.Length > CommitLength)
        {
            tail.Body.Write(Body.WrittenSpan.Slice(CommitLength));
            tail.Commands = Commands - CommitCommands;
            tail.Keys = Keys - CommitKeys;
        }
        TruncateToCommit();
        return tail;
    }
}

/// <summary>What became of a unit sent to a master.</summary>
internal enum UnitOutcome
{
    None,
    Applied,
    Moved,
    Ask,
    Retry,
    Unknown,
    Failed,

    /// <summary>Its slot carries a newer run's epoch: this run lost its lease.</summary>
    Fenced,

    /// <summary>Its slot carries no epoch (flushed): stamped again once the lease is checked, then sent again.</summary>
    Unstamped,
}
