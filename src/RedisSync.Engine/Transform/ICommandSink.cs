using System;

namespace RedisSync.Engine.Transform;

/// <summary>
/// Where the transform writes commands: a target writer, or anything else that takes RESP commands.
/// A command is <see cref="BeginCommand"/>, its arguments, <see cref="EndCommand"/>; the sink
/// counts the arguments, so a command of any length can be built one element at a time.
/// </summary>
internal interface ICommandSink
{
    /// <summary>The database the following commands apply to; the sink sends SELECT only when it changes.</summary>
    void SelectDb(int db);

    void BeginCommand();

    void Arg(ReadOnlySpan<byte> value);

    void Arg(long value);

    /// <summary>Bytes of arguments in the command being built (to bound a command's size).</summary>
    long PendingCommandBytes { get; }

    void EndCommand();

    /// <summary>Appends commands already formatted as RESP (a key's commands staged whole).</summary>
    void WriteCommands(ReadOnlySpan<byte> resp, int commandCount);

    /// <summary>Every command of one key has been written (counted as a key once acknowledged).</summary>
    void KeyDone();

    /// <summary>Sends what is buffered now (the source went quiet: do not wait for a full batch).</summary>
    void Flush();
}
