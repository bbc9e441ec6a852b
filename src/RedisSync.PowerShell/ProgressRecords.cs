using System.Management.Automation;
using RedisSync.Engine.Hosting;

namespace RedisSync;

/// <summary>Copies the engine's plain progress into PowerShell's record.</summary>
internal static class ProgressRecords
{
    public static ProgressRecord From(SyncProgress progress) =>
        new ProgressRecord(progress.ActivityId, progress.Activity, progress.StatusDescription)
        {
            PercentComplete = progress.PercentComplete,
            SecondsRemaining = progress.SecondsRemaining,
            CurrentOperation = progress.CurrentOperation,
            RecordType = progress.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
}
