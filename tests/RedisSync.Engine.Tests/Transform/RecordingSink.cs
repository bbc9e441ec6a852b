using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using RedisSync.Engine.Transform;

namespace RedisSync.Engine.Tests.Transform;

/// <summary>Keeps what the transform writes as readable command lines.</summary>
internal sealed class RecordingSink : ICommandSink
{
    private readonly List<string> _args = new List<string>();
    private long _bytes;

    public List<string> Commands { get; } = new List<string>();

    public long PendingCommandBytes => _bytes;

    public void SelectDb(int db) => Commands.Add("SELECT " + db);

    public void BeginCommand()
    {
        _args.Clear();
        _bytes = 0;
    }

    public void Arg(ReadOnlySpan<byte> value)
    {
        _args.Add(Encoding.UTF8.GetString(value));
        _bytes += value.Length;
    }

    public void Arg(long value) => _args.Add(value.ToString());

    public void EndCommand() => Commands.Add(string.Join(" ", _args));

    public void WriteCommands(ReadOnlySpan<byte> resp, int commandCount)
    {
        var buffer = new System.Buffers.ReadOnlySequence<byte>(resp.ToArray());
        var args = new List<System.Buffers.ReadOnlySequence<byte>>();
        while (RedisSync.Engine.Resp.RespParser.TryReadCommand(ref buffer, args, out _))
        {
            Commands.Add(string.Join(" ", args.Select(a => Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(a)))));
        }
    }

    public void KeyDone()
    {
    }

    public void Flush()
    {
    }
}
