using System.Management.Automation;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;

namespace RedisSync;

/// <summary>
/// Engine errors as ErrorRecords: the error id is the engine's stable id (so the fully qualified id
/// is '&lt;Id&gt;,RedisSync.Commands.&lt;Cmdlet&gt;Command'), the category comes from <see cref="HostErrors"/>.
/// </summary>
internal static class ErrorRecords
{
    public static ErrorRecord From(SyncException error, object? target) =>
        new ErrorRecord(error, error.ErrorId, (ErrorCategory)(int)HostErrors.CategoryOf(error.ErrorId), target);

    /// <summary>An error raised away from a cmdlet (in a job): its id names the command as a cmdlet's would.</summary>
    public static ErrorRecord From(SyncException error, string command, object? target)
    {
        var record = new ErrorRecord(error, error.ErrorId + ",RedisSync.Commands." + command.Replace("-", string.Empty) + "Command",
            (ErrorCategory)(int)HostErrors.CategoryOf(error.ErrorId), target);
        return record;
    }
}
