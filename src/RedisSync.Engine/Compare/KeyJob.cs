using System;
using System.Diagnostics;
using RedisSync.Engine.Rdb;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Compare;

/// <summary>Which scan found a key: keys on the source are judged by the source pass, the others by the target pass.</summary>
internal enum KeyOrigin : byte
{
    SourceScan,
    TargetScan,
}

internal enum JobStage : byte
{
    /// <summary>TYPE on the source (it picks the length command).</summary>
    SourceType,
    /// <summary>PTTL and the length command (STRLEN, LLEN, SCARD, ZCARD, HLEN, XLEN) on both sides, read in the same round.</summary>
    Length,
    /// <summary>TYPE and PTTL on the target: for a key the target pass found, or when the target's type differs.</summary>
    TargetType,
    /// <summary>The value itself, chunk by chunk (Full mode).</summary>
    Value,
}

internal enum JobOutcome : byte
{
    Continue,
    /// <summary>Classified: <see cref="KeyJob.Status"/> holds the verdict.</summary>
    Done,
    /// <summary>Not this pass's key (gone from the source, or on the source for the target pass).</summary>
    Drop,
    /// <summary>Too big for a batch: its value goes to the big-key pipeline.</summary>
    Escalate,
}

/// <summary>
/// The comparison of one key as a small state machine: each round it writes its commands to both
/// servers, then consumes their replies, until it reaches a verdict. A pipeline runs many at once.
/// </summary>
internal sealed class KeyJob
{
    private byte[] _key = Array.Empty<byte>();
    private int _keyStart;
    private int _keyLength;

    public ReadOnlySpan<byte> Key => new ReadOnlySpan<byte>(_key, _keyStart, _keyLength);

    public int Database { get; private set; }

    public KeyOrigin Origin { get; private set; }

    /// <summary>This is the second look at a key that differed: its verdict is final.</summary>
    public bool IsRecheck { get; private set; }

    /// <summary>The job owns its key and is counted as outstanding work (deep or recheck queues).</summary>
    public bool IsOwned { get; private set; }

    /// <summary>Runs in the big-key pipeline: may take as many rounds as its value needs.</summary>
    public bool InDeep { get; private set; }

    /// <summary>When a recheck is due (Stopwatch ticks).</summary>
    public long DueTicks { get; private set; }

    public JobStage Stage { get; private set; }

    public JobOutcome Outcome { get; private set; }

    public RedisType SourceType { get; private set; } = RedisType.None;

    public RedisType TargetType { get; private set; } = RedisType.None;

    public string? SourceTypeName { get; private set; }

    public string? TargetTypeName { get; private set; }

    /// <summary>PTTL on the source: -1 none, -2 gone.</summary>
    public long SourceTtl { get; private set; }

    public long TargetTtl { get; private set; }

    public long SourceLength { get; private set; }

    public RedisSync.KeyStatus Status { get; private set; }

    public string? Detail { get; private set; }

    /// <summary>Replies this round's commands will produce on each side.</summary>
    public int SourceReplies { get; set; }

    public int TargetReplies { get; set; }

    private ValueCheck? _value;

    /// <summary>The links this job's commands go to (chosen by the key's slot on a cluster).</summary>
    public ServerLink? SourceLink { get; set; }

    public ServerLink? TargetLink { get; set; }

    /// <summary>After an ASK: the node that imports the key's slot, asked with ASKING until the job is done (null: by the slot map).</summary>
    public ServerLink? AskSource { get; set; }

    public ServerLink? AskTarget { get; set; }

    /// <summary>Times the key was sent anew after MOVED or ASK, or after its slot moved to another link.</summary>
    public int Redirects { get; private set; }

    /// <summary>Starts the key's comparison over (its slot is served elsewhere now): what was read so far may be of another node.</summary>
    public void Restart()
    {
        Redirects++;
        StartOver();
    }

    /// <summary>Points the job at a key in a batch buffer and starts it over.</summary>
    public void Reset(byte[] buffer, int start, int length, int database, KeyOrigin origin)
    {
        _key = buffer;
        _keyStart = start;
        _keyLength = length;
        Database = database;
        Origin = origin;
        IsRecheck = false;
        IsOwned = false;
        InDeep = false;
        Redirects = 0;
        SourceLink = TargetLink = AskSource = AskTarget = null;
        StartOver();
    }

    private void StartOver()
    {
        Stage = JobStage.SourceType;
        Outcome = JobOutcome.Continue;
        SourceType = TargetType = RedisType.None;
        SourceTypeName = TargetTypeName = null;
        SourceTtl = TargetTtl = -2;
        SourceLength = 0;
        Status = RedisSync.KeyStatus.Ok;
        Detail = null;
        _value?.Dispose();
        _value = null;
    }

    public byte[] CopyKey() => Key.ToArray();

    /// <summary>The key's name on <paramref name="link"/>'s server: on the target, renamed as -RenameKey says.</summary>
    public ReadOnlySpan<byte> KeyFor(ServerLink link) => link.Rename?.Rename(Key) is { } renamed ? renamed : Key;

    /// <summary>A job of its own for the second look, due after <paramref name="delay"/>.</summary>
    public KeyJob ForRecheck(TimeSpan delay)
    {
        KeyJob job = IsOwned ? this : Owned();
        job.StartOver();
        job.IsRecheck = true;
        job.InDeep = false;
        job.SourceLink = job.TargetLink = job.AskSource = job.AskTarget = null;
        job.DueTicks = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        return job;
    }

    /// <summary>A job for a key the target pass did not find on the source: its first look was the EXISTS.</summary>
    public static KeyJob ForTargetKey(ReadOnlySpan<byte> key, int database, TimeSpan delay)
    {
        var job = new KeyJob();
        byte[] copy = key.ToArray();
        job.Reset(copy, 0, copy.Length, database, KeyOrigin.TargetScan);
        job.IsOwned = true;
        job.IsRecheck = true;
        job.DueTicks = Stopwatch.GetTimestamp() + (long)(delay.TotalSeconds * Stopwatch.Frequency);
        return job;
    }

    /// <summary>A job of its own for the big-key pipeline, its value still to compare.</summary>
    public KeyJob ForDeep()
    {
        KeyJob job = IsOwned ? this : Owned();
        job.InDeep = true;
        job.SourceLink = job.TargetLink = job.AskSource = job.AskTarget = null;
        job.Outcome = JobOutcome.Continue;
        return job;
    }

    /// <summary>A copy that owns its key (and takes over the value check in progress).</summary>
    private KeyJob Owned()
    {
        byte[] copy = CopyKey();
        var job = new KeyJob
        {
            _key = copy,
            _keyStart = 0,
            _keyLength = copy.Length,
            Database = Database,
            Origin = Origin,
            IsRecheck = IsRecheck,
            IsOwned = true,
            Stage = Stage,
            SourceType = SourceType,
            TargetType = TargetType,
            SourceTypeName = SourceTypeName,
            TargetTypeName = TargetTypeName,
            SourceTtl = SourceTtl,
            TargetTtl = TargetTtl,
            SourceLength = SourceLength,
            _value = _value,
        };
        _value = null;
        return job;
    }

    /// <summary>This round reads (part of) the value: the rounds that a pipeline meters by size.</summary>
    public bool ReadsValue(CompareRun run) =>
        Stage == JobStage.Value || (Stage == JobStage.Length && run.Options.Mode == CompareMode.Full && SourceType != RedisType.Module);

    /// <summary>Skips this round (the pipeline's size limit): no commands, no replies.</summary>
    public void SitOut()
    {
        SatOut = true;
        SourceReplies = 0;
        TargetReplies = 0;
    }

    /// <summary>The job skipped the current round.</summary>
    public bool SatOut { get; private set; }

    /// <summary>Writes this round's commands.</summary>
    public void Emit(CompareRun run, ServerLink source, ServerLink target)
    {
        SatOut = false;
        switch (Stage)
        {
            case JobStage.SourceType:
                source.Command(CommandText.Type, Key);
                SourceReplies = 1;
                TargetReplies = 0;
                break;
            case JobStage.Length:
                source.Command(run.TtlCommand, Key);
                byte[]? length = KeyTypes.LengthCommand(SourceType);
                if (length != null)
                {
                    // The target gets the source type's length command instead of a TYPE: a key of
                    // another type answers WRONGTYPE, and only then is its TYPE asked for.
                    source.Command(length, Key);
                    target.Command(run.TtlCommand, KeyFor(target));
                    target.Command(length, KeyFor(target));
                    SourceReplies = 2;
                    TargetReplies = 2;
                    if (run.Options.Mode == CompareMode.Full)
                    {
                        // The value's first chunk rides along: most values fit in one.
                        _value = ValueCheck.Create(this, run);
                        (int s, int t) = _value.Emit(this, source, target);
                        SourceReplies += s;
                        TargetReplies += t;
                    }
                }
                else
                {
                    target.Command(CommandText.Type, KeyFor(target));
                    target.Command(run.TtlCommand, KeyFor(target));
                    SourceReplies = 1;
                    TargetReplies = 2;
                }
                break;
            case JobStage.TargetType:
                target.Command(CommandText.Type, KeyFor(target));
                target.Command(run.TtlCommand, KeyFor(target));
                SourceReplies = 0;
                TargetReplies = 2;
                break;
            default:
                (SourceReplies, TargetReplies) = _value!.Emit(this, source, target);
                break;
        }
    }

    /// <summary>Consumes this round's replies (taken on both links) and moves on.</summary>
    public void Consume(CompareRun run, ServerLink source, ServerLink target)
    {
        switch (Stage)
        {
            case JobStage.SourceType:
                SourceType = ReadType(source.Replies.Taken[0], source, out string? sourceName);
                SourceTypeName = sourceName;
                if (Origin == KeyOrigin.TargetScan)
                {
                    if (SourceType != RedisType.None) Outcome = JobOutcome.Drop;
                    else Stage = JobStage.TargetType;
                }
                else if (run.Options.KeyFilter is { } filter && (!filter.KeepsType(SourceType) || (SourceType != RedisType.None && !filter.KeepsWhere(Database, Key, SourceType))))
                {
                    Outcome = JobOutcome.Drop; // a type the filter leaves out, or a key -Where refuses
                }
                else
                {
                    if (SourceType == RedisType.None) Outcome = JobOutcome.Drop;
                    else Stage = JobStage.Length;
                }
                break;
            case JobStage.Length:
                ConsumeLength(run, source, target);
                break;
            case JobStage.TargetType:
                ConsumeTargetType(run, target);
                break;
            default:
                ConsumeValue(run, source, source.Replies.Taken, target, target.Replies.Taken);
                break;
        }
        if (Outcome == JobOutcome.Done || Outcome == JobOutcome.Drop) DropValue();
    }

    private void ConsumeValue(CompareRun run, ServerLink source, ReadOnlySpan<Reply> s, ServerLink target, ReadOnlySpan<Reply> t)
    {
        ValueCheck value = _value!;
        value.Consume(this, source, s, target, t);
        if (!value.Finished) return;
        string? difference = value.Difference;
        bool isTtl = value.DifferenceIsTtl;
        DropValue();
        if (difference != null && !isTtl) Finish(RedisSync.KeyStatus.Value, difference);
        else FinishWithTtl(run, difference);
    }

    private void DropValue()
    {
        _value?.Dispose();
        _value = null;
    }

    private void ConsumeLength(CompareRun run, ServerLink source, ServerLink target)
    {
        ReadOnlySpan<Reply> s = source.Replies.Taken;
        ReadOnlySpan<Reply> t = target.Replies.Taken;
        SourceTtl = ReadInteger(s[0], source, "PTTL");
        if (SourceTtl == -2)
        {
            Outcome = JobOutcome.Drop; // gone from the source since the scan
            return;
        }
        if (SourceType == RedisType.Module)
        {
            TargetType = ReadType(t[0], target, out string? targetName);
            TargetTypeName = targetName;
            TargetTtl = ReadInteger(t[1], target, "PTTL");
            if (TargetTtl == -2) TargetType = RedisType.None;
            if (TargetType == RedisType.None) Finish(RedisSync.KeyStatus.Missing, "not in the target");
            else if (TargetType != RedisType.Module || TargetTypeName != SourceTypeName) FinishAsTypeDifference();
            else FinishWithTtl(run, null);
            return;
        }
        TargetTtl = ReadInteger(t[0], target, "PTTL");
        if (TargetTtl == -2)
        {
            Finish(RedisSync.KeyStatus.Missing, "not in the target");
            return;
        }
        if (ChangedUnderUs(s[1]))
        {
            Finish(RedisSync.KeyStatus.Value, "the key changed during the compare");
            return;
        }
        if (ChangedUnderUs(t[1]))
        {
            Stage = JobStage.TargetType;
            return;
        }
        TargetType = SourceType;
        string command = KeyTypes.LengthCommandName(SourceType);
        SourceLength = ReadInteger(s[1], source, command);
        long targetLength = ReadInteger(t[1], target, command);
        if (SourceLength != targetLength)
        {
            Finish(RedisSync.KeyStatus.Value, $"{SourceLength} {KeyTypes.LengthWord(SourceType)} on the source, {targetLength} on the target");
        }
        else if (_value == null)
        {
            FinishWithTtl(run, null);
        }
        else
        {
            _value.Length = SourceLength;
            ConsumeValue(run, source, s.Slice(2), target, t.Slice(2));
            if (Outcome != JobOutcome.Continue) return;
            Stage = JobStage.Value;
            if (!InDeep && run.IsBig(SourceType, SourceLength)) Outcome = JobOutcome.Escalate;
        }
    }

    private void ConsumeTargetType(CompareRun run, ServerLink target)
    {
        ReadOnlySpan<Reply> t = target.Replies.Taken;
        TargetType = ReadType(t[0], target, out string? targetName);
        TargetTypeName = targetName;
        TargetTtl = ReadInteger(t[1], target, "PTTL");
        if (TargetTtl == -2) TargetType = RedisType.None;
        if (Origin == KeyOrigin.TargetScan)
        {
            if (TargetType == RedisType.None || (run.Options.KeyFilter is { } filter && (!filter.KeepsType(TargetType) || !filter.KeepsWhere(Database, Key, TargetType)))) Outcome = JobOutcome.Drop;
            else Finish(RedisSync.KeyStatus.Extra, "not in the source");
        }
        else if (TargetType == RedisType.None) Finish(RedisSync.KeyStatus.Missing, "not in the target");
        else if (TargetType == SourceType) Finish(RedisSync.KeyStatus.Value, "the key changed during the compare");
        else FinishAsTypeDifference();
    }

    private void FinishAsTypeDifference() =>
        Finish(RedisSync.KeyStatus.Type, $"{KeyTypes.Name(SourceType, SourceTypeName)} on the source, {KeyTypes.Name(TargetType, TargetTypeName)} on the target");

    /// <summary>Equal values: the verdict depends on the TTLs (and on a field TTL difference found in the value).</summary>
    private void FinishWithTtl(CompareRun run, string? fieldTtlDifference)
    {
        string? ttl = TtlDifference(SourceTtl, TargetTtl, run.ToleranceMs) ?? fieldTtlDifference;
        Finish(ttl != null ? RedisSync.KeyStatus.Ttl : RedisSync.KeyStatus.Ok, ttl);
    }

    private void Finish(RedisSync.KeyStatus status, string? detail)
    {
        Status = status;
        Detail = detail;
        Outcome = JobOutcome.Done;
    }

    /// <summary>Describes a TTL difference beyond the tolerance, or returns null.</summary>
    public static string? TtlDifference(long source, long target, long toleranceMs)
    {
        if (source < 0 && target < 0) return null;
        if (source < 0) return $"the target expires in {Duration(target)}, the source never";
        if (target < 0) return $"the source expires in {Duration(source)}, the target never";
        long delta = Math.Abs(source - target);
        if (delta <= toleranceMs) return null;
        return $"expires in {Duration(source)} on the source, {Duration(target)} on the target";
    }

    private static string Duration(long ms) =>
        ms < 10_000 ? ms.ToString(System.Globalization.CultureInfo.InvariantCulture) + " ms"
        : (ms / 1000.0).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " s";

    /// <summary>A WRONGTYPE reply: the key was replaced between two rounds.</summary>
    public static bool ChangedUnderUs(in Reply reply) =>
        reply.IsError && reply.Frame.FirstError.Length >= 9 && Bytes.Small(reply.Frame.FirstError, stackalloc byte[9]).Slice(0, 9).SequenceEqual("WRONGTYPE"u8);

    private RedisType ReadType(in Reply reply, ServerLink link, out string? otherName)
    {
        if (reply.IsError) throw link.Failed("TYPE", reply.ErrorText, CopyKey());
        return KeyTypes.Parse(reply.Frame.Payload, out otherName);
    }

    /// <summary>An integer reply, or the error that the server gave instead.</summary>
    public long ReadInteger(in Reply reply, ServerLink link, string command)
    {
        if (reply.IsError) throw link.Failed(command, reply.ErrorText, CopyKey());
        return reply.Integer;
    }
}
