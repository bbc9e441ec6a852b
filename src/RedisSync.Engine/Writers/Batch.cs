using System;
using System.Buffers;
using System.Runtime.CompilerServices;

namespace RedisSync.Engine.Writers;

/// <summary>
/// Commands formatted as RESP into one pooled buffer, sent with one write and kept until every reply
/// has arrived: the retained bytes name a failed command and make a resend possible.
/// </summary>
internal sealed class Batch : IBufferWriter<byte>
{
    private byte[] _buffer = Array.Empty<byte>();
    private byte[] _prefix = Array.Empty<byte>();

    /// <summary>Bytes written.</summary>
    public int Length;

    /// <summary>Commands in <see cref="Buffer"/>, the writer's own (SELECT, SET checkpoint, EXEC) included: one reply each.</summary>
    public int Frames;

    /// <summary>The caller's commands.</summary>
    public int Commands;

    /// <summary>The caller's <c>KeyDone</c> calls.</summary>
    public int Keys;

    /// <summary>The database the connection must be in before the batch's bytes run.</summary>
    public int StartDb;

    /// <summary>The database the connection is in after them.</summary>
    public int EndDb;

    /// <summary>A MULTI … EXEC batch.</summary>
    public bool Transactional;

    /// <summary>Where the checkpoint value lies in the buffer (transactional batches).</summary>
    public int CheckpointOffset;

    public int CheckpointLength;

    /// <summary>
    /// Frames sent before <see cref="Buffer"/>'s bytes, from <see cref="Prefix"/>: the lease guard
    /// (SELECT, WATCH, EVAL) and MULTI of a transactional batch; a heartbeat is a prefix alone.
    /// </summary>
    public int PrefixFrames;

    public int PrefixLength;

    /// <summary>Replies the batch gets: its prefix's and its buffer's.</summary>
    public int TotalFrames => PrefixFrames + Frames;

    /// <summary>Bytes on the wire: its prefix's and its buffer's.</summary>
    public int TotalLength => PrefixLength + Length;

    /// <summary>Which prefix frame is the lease guard's EVAL, or -1.</summary>
    public int GuardFrame;

    /// <summary>The lease guard answered 0: the lease is another run's, and the target discards the transaction (EXEC answers nil).</summary>
    public bool GuardFailed;

    /// <summary>A lease heartbeat: the guard alone, no data, no checkpoint.</summary>
    public bool Heartbeat;

    /// <summary>The commit point the batch ends at, when it was given as a position.</summary>
    public CommitPosition? Position;

    /// <summary>Sent before, on a link that was lost: sending it again is a resend.</summary>
    public bool WasSent;

    /// <summary>Commands of a transactional batch that the target refused while queueing them (it then discards the batch).</summary>
    public int QueueErrors;

    /// <summary>The target ran the transaction (EXEC answered an array, or a recovery found its checkpoint): the target's checkpoint key now holds its value.</summary>
    public bool Applied;

    /// <summary>The state at the last commit point, where a transactional batch may end.</summary>
    public bool HasCommit;

    public int CommitLength;

    public int CommitFrames;

    public int CommitCommands;

    public int CommitKeys;

    public int CommitDb;

    public byte[] Buffer => _buffer;

    public byte[] Prefix => _prefix;

    public ReadOnlyMemory<byte> Written => new ReadOnlyMemory<byte>(_buffer, 0, Length);

    public ReadOnlySpan<byte> CheckpointValue => new ReadOnlySpan<byte>(_buffer, CheckpointOffset, CheckpointLength);

    /// <summary>Readies a recycled batch, with room for <paramref name="capacity"/> bytes.</summary>
    [MethodImpl(HotPath.Compile)]
    public void Start(int capacity, int startDb, bool transactional)
    {
        if (_buffer.Length < capacity)
        {
            Release();
            _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        }
        Length = 0;
        Frames = Commands = Keys = 0;
        StartDb = EndDb = startDb;
        Transactional = transactional;
        CheckpointOffset = CheckpointLength = 0;
        PrefixFrames = PrefixLength = 0;
        GuardFrame = -1;
        GuardFailed = false;
        Heartbeat = false;
        Position = null;
        WasSent = false;
        QueueErrors = 0;
        Applied = false;
        HasCommit = false;
        CommitLength = CommitFrames = CommitCommands = CommitKeys = 0;
        CommitDb = startDb;
    }

    /// <summary>Returns the buffer to the pool.</summary>
    public void Release()
    {
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = Array.Empty<byte>();
        Length = 0;
    }

    /// <summary>Remembers the current state as a place where the batch may end.</summary>
    [MethodImpl(HotPath.Compile)]
    public void MarkCommit(int db)
    {
        HasCommit = true;
        CommitLength = Length;
        CommitFrames = Frames;
        CommitCommands = Commands;
        CommitKeys = Keys;
        CommitDb = db;
    }

    /// <summary>Cuts the batch back to its last commit point.</summary>
    [MethodImpl(HotPath.Compile)]
    public void TruncateToCommit()
    {
        Length = CommitLength;
        Frames = CommitFrames;
        Commands = CommitCommands;
        Keys = CommitKeys;
    }

    /// <summary>Makes room for <paramref name="extra"/> more bytes.</summary>
    [MethodImpl(HotPath.Compile)]
    public void Reserve(int extra)
    {
        if (_buffer.Length - Length >= extra) return;
        long wanted = Math.Max((long)_buffer.Length * 2, (long)Length + extra);
        if (wanted > int.MaxValue - 64) wanted = (long)Length + extra;
        if (wanted > int.MaxValue - 64) throw new InvalidOperationException("A batch cannot hold more than 2 GiB: a single command is too large.");
        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)wanted);
        System.Buffer.BlockCopy(_buffer, 0, bigger, 0, Length);
        if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 1));
        return new Memory<byte>(_buffer, Length, _buffer.Length - Length);
    }

    [MethodImpl(HotPath.Compile)]
    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Reserve(Math.Max(sizeHint, 1));
        return new Span<byte>(_buffer, Length, _buffer.Length - Length);
    }

    /// <summary>Sets the prefix (kept in an array of the batch's own, reused when the batch is recycled).</summary>
    [MethodImpl(HotPath.Compile)]
    public void SetPrefix(ReadOnlySpan<byte> bytes, int frames, int guardFrame)
    {
        if (_prefix.Length < bytes.Length) _prefix = new byte[Math.Max(bytes.Length, 2 * _prefix.Length)];
        bytes.CopyTo(_prefix);
        PrefixLength = bytes.Length;
        PrefixFrames = frames;
        GuardFrame = guardFrame;
    }

    /// <summary>Appends bytes as they are.</summary>
    [MethodImpl(HotPath.Compile)]
    public void Write(ReadOnlySpan<byte> bytes)
    {
        Reserve(bytes.Length);
        bytes.CopyTo(new Span<byte>(_buffer, Length, bytes.Length));
        Length += bytes.Length;
    }
}
