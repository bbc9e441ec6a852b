using System.Linq;

namespace RedisSync.Remoting;

/// <summary>
/// What the parent job of Start-RedisSync -Session runs in each session: short pipelines that start a
/// shard task as a job of the session's process, read its state, stop it and forget it. The task's job
/// lives in the session (in $global:RedisSyncShardTasks, by a key the parent made), so a session runs
/// as many tasks as it is given while each pipeline stays short.
/// </summary>
internal static class RemoteTaskScripts
{
    /// <summary>The SHA-256 of a file, in hex as Get-FileHash writes it.</summary>
    public static string HashOf(string path)
    {
        using var sha = System.Security.Cryptography.SHA256.Create();
        using System.IO.FileStream file = System.IO.File.OpenRead(path);
        return string.Concat(sha.ComputeHash(file).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// Imports the module, starts the task; returns its process id, or ErrorId and Message when the start
    /// was refused (an error object rather than an exception, so the parent reads its id).
    /// </summary>
    public const string Start = @"
param([hashtable] $Parameters, [string] $Key, [string] $ConfigHash)
try {
    if ($ConfigHash) {
        $path = [string] $Parameters['ConfigPath']
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
            return [pscustomobject]@{ ProcessId = $PID; ErrorId = 'ConfigFileMissing'; Message = ""the settings file $path is not on this host: copy it there, at the same path, as with the module."" }
        }
        if ((Get-FileHash -LiteralPath $path -Algorithm SHA256).Hash -ne $ConfigHash) {
            return [pscustomobject]@{ ProcessId = $PID; ErrorId = 'ConfigFileDiffers'; Message = ""the settings file $path on this host is not the one Start-RedisSync read (its SHA-256 differs): copy the same file to every host."" }
        }
    }
    if (-not (Get-Module RedisSync)) { Import-Module RedisSync -ErrorAction Stop }
    if ($Parameters.ContainsKey('Where')) { $Parameters['Where'] = [scriptblock]::Create([string] $Parameters['Where']) }
    if ($null -eq $global:RedisSyncShardTasks) { $global:RedisSyncShardTasks = @{} }
    $job = Start-RedisSync @Parameters -Confirm:$false -ErrorAction Stop
    $global:RedisSyncShardTasks[$Key] = $job
    [pscustomobject]@{ ProcessId = $PID; ErrorId = $null; Message = $null }
}
catch {
    [pscustomobject]@{ ProcessId = $PID; ErrorId = ($_.FullyQualifiedErrorId -split ',')[0]; Message = $_.Exception.Message }
}
";

    /// <summary>
    /// The task's state: first a record (State, the errors as 'id&#9;message' and the warnings, taken out of
    /// the job), then its status, then the statuses it wrote since the last read (each a separate object,
    /// so that remoting serializes their properties).
    /// </summary>
    public const string Poll = @"
param([string] $Key)
$job = if ($null -ne $global:RedisSyncShardTasks) { $global:RedisSyncShardTasks[$Key] }
if ($null -eq $job) { return [pscustomobject]@{ State = 'Missing'; Errors = @(); Warnings = @() } }
$errors = @($job.Error.ReadAll() | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] + ""`t"" + $_.Exception.Message })
$warnings = @($job.Warning.ReadAll() | ForEach-Object { $_.Message })
[pscustomobject]@{ State = [string] $job.JobStateInfo.State; Errors = [string[]] $errors; Warnings = [string[]] $warnings }
$job.Status
$job.Output.ReadAll()
";

    /// <summary>Stops the task (it drains, checkpoints and gives its lease back) and waits until it has.</summary>
    public const string Stop = @"
param([string] $Key)
$job = if ($null -ne $global:RedisSyncShardTasks) { $global:RedisSyncShardTasks[$Key] }
if ($null -ne $job) { $job.StopJob() }
";

    /// <summary>Stops and forgets the given tasks that this session holds; writes a line for each (its shard and how it was).</summary>
    public const string StopAll = @"
param([string[]] $Keys)
if ($null -eq $global:RedisSyncShardTasks) { return }
foreach ($key in $Keys) {
    $job = $global:RedisSyncShardTasks[$key]
    if ($null -eq $job) { continue }
    $state = [string] $job.JobStateInfo.State
    $last = @($job.Error) | Select-Object -Last 1 | ForEach-Object { ($_.FullyQualifiedErrorId -split ',')[0] }
    if ($state -eq 'Running') { $job.StopJob() }
    $global:RedisSyncShardTasks.Remove($key)
    Remove-Job -Job $job -Force
    $shard = ($key -split ' ')[-2]
    if ($state -eq 'Running') { ""shard $shard was still running: stopped"" } else { ""shard $shard had ended $state"" + $(if ($last) { "" ($last)"" }) }
}
";

    /// <summary>Forgets an ended task's job.</summary>
    public const string Remove = @"
param([string] $Key)
$job = if ($null -ne $global:RedisSyncShardTasks) { $global:RedisSyncShardTasks[$Key] }
if ($null -ne $job) { $global:RedisSyncShardTasks.Remove($Key); Remove-Job -Job $job -Force }
";
}
