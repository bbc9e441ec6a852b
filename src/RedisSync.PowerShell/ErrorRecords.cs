using System.Management.Automation;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;

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

    /// <summary>An address as an error's target object: without its password (or a placeholder when it does not parse).</summary>
    public static string Address(string? address)
    {
        try
        {
            return CompareRunner.Address(RedisEndpoint.Parse(address ?? string.Empty));
        }
        catch (SyncException)
        {
            return "(an address that is not valid)";
        }
    }
}
