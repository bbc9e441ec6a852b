using System;
using System.Runtime.CompilerServices;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Transform;

/// <summary>
/// Holds every command of one small key until the key has been read whole, so the target only
/// ever receives complete keys. In guarded mode the commands become the arguments of one EVAL
/// that first checks the key does not exist (the BUSYKEY semantics of RESTORE, for keys that
/// must be rebuilt with commands).
/// </summary>
internal sealed class KeyStage : ICommandSink, IDisposable
{
    /// <summary>KEYS[1] is the key; ARGV is, per command, its argument count and then its arguments.</summary>
    internal const string GuardScript =
        "if redis.call('exists', KEYS[1]) == 1 then return redis.error_reply('BUSYKEY Target key name already exists.') end " +
        "local i = 1 local n = #ARGV " +
        "while i <= n do local c = tonumber(ARGV[i]) redis.call(unpack(ARGV, i + 1, i + c)) i = i + c + 1 end " +
        "return 'OK'";

    private static readonly byte[] GuardScriptBytes = System.Text.Encoding.ASCII.GetBytes(GuardScript);

    private readonly PooledBuffer _args = new PooledBuffer();
    private readonly PooledBuffer _commands = new PooledBuffer();
    private int _argCount;
    private int _commandCount;
    private int _scriptArgCount;
    private bool _guarded;

    public int CommandCount => _commandCount;

    public long PendingCommandBytes => _args.Length;

    /// <summary>Starts a new key.</summary>
    [MethodImpl(HotPath.Compile)]
    public void Reset(bool guarded)
    {
        _guarded = guarded;
        _args.Clear();
        _commands.Clear();
        _argCount = 0;
        _commandCount = 0;
        _scriptArgCount = 0;
    }

    public void SelectDb(int db) => throw new InvalidOperationException("A staged key does not change databases.");

    [MethodImpl(HotPath.Compile)]
    public void BeginCommand()
    {
        _args.Clear();
        _argCount = 0;
    }

    [MethodImpl(HotPath.Compile)]
    public void Arg(ReadOnlySpan<byte> value)
    {
        RespFormatter.WriteBulk(_args, value);
        _argCount++;
    }

    [MethodImpl(HotPath.Compile)]
    public void Arg(long value)
    {
        RespFormatter.WriteBulk(_args, value);
        _argCount++;
    }

    [MethodImpl(HotPath.Compile)]
    public void EndCommand()
    {
        if (_guarded)
        {
            RespFormatter.WriteBulk(_commands, _argCount);
            _scriptArgCount += _argCount + 1;
        }
        else
        {
            RespFormatter.WriteArrayHeader(_commands, _argCount);
        }
        _commands.Write(_args.WrittenSpan);
        _commandCount++;
    }

    public void WriteCommands(ReadOnlySpan<byte> resp, int commandCount) =>
        throw new InvalidOperationException("A staged key is built command by command.");

    public void KeyDone()
    {
    }

    public void Flush()
    {
    }

    /// <summary>Hands the key's commands to the sink (as one guarded EVAL, or as they are).</summary>
    [MethodImpl(HotPath.Compile)]
    public void FlushTo(ICommandSink sink, ReadOnlySpan<byte> key)
    {
        if (_commandCount == 0) return;
        if (!_guarded)
        {
            sink.WriteCommands(_commands.WrittenSpan, _commandCount);
            return;
        }
        _args.Clear();
        RespFormatter.WriteArrayHeader(_args, 4 + _scriptArgCount);
        RespFormatter.WriteBulk(_args, "EVAL"u8);
        RespFormatter.WriteBulk(_args, GuardScriptBytes);
        RespFormatter.WriteBulk(_args, "1"u8);
        RespFormatter.WriteBulk(_args, key);
        _args.Write(_commands.WrittenSpan);
        sink.WriteCommands(_args.WrittenSpan, 1);
    }

    public void Dispose()
    {
        _args.Dispose();
        _commands.Dispose();
    }
}
