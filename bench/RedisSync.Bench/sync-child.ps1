# The e2e benchmark's sync child as users run it: a pwsh that imports the module and runs
# Start-RedisSync (RedisSync.Bench e2e --child-module <path to RedisSync.psd1>). Speaks the same lines
# as the benchmark's own child (SyncChild.cs): "phase <Phase> keys=<n>" at each change, a "status …"
# line every 100 ms, and "done …" at the end; it stops when standard input says "stop" or closes.
param(
    [Parameter(Mandatory)] [string] $Module,
    [Parameter(Mandatory)] [string] $Source,
    [Parameter(Mandatory)] [string] $Target,
    [Parameter(Mandatory)] [string] $Name,
    [string] $Mode = 'FullAndIncremental'
)
$ErrorActionPreference = 'Stop'
Import-Module $Module
$clock = [System.Diagnostics.Stopwatch]::StartNew()

# Read with .NET, not a pipeline: this runs 10 times a second beside the sync it measures, on the same cores.
function Get-ProcField([string] $field) {
    $match = [regex]::Match([System.IO.File]::ReadAllText('/proc/self/status'), "(?m)^${field}:\s+(\d+)")
    if (-not $match.Success) { return 0 }
    [long]$match.Groups[1].Value * 1024
}

# Standard input read on the thread pool, so that the loop below keeps polling the status.
$stdin = [Console]::OpenStandardInput()
$buffer = [byte[]]::new(64)
$text = ''
$read = $stdin.ReadAsync($buffer, 0, $buffer.Length)
$stopAsked = $false

$job = Start-RedisSync -Source $Source -Target $Target -Name $Name -Mode $Mode
$lastPhase = ''
$status = $null
while ($true) {
    $status = Get-RedisSyncStatus -Name $Name -ErrorAction SilentlyContinue
    if ($status) {
        $phase = "$($status.Phase)"
        if ($phase -ne $lastPhase) {
            [Console]::Out.WriteLine("phase $phase keys=$($status.KeysWritten)")
            $lastPhase = $phase
        }
        [Console]::Out.WriteLine(('status ms={0} phase={1} keys={2} source={3} applied={4} lagbytes={5} lagms={6} rss={7}' -f
                $clock.ElapsedMilliseconds, $phase, $status.KeysWritten, $status.SourceOffset, $status.AppliedOffset,
                $status.LagBytes, [long]$status.LagMilliseconds, (Get-ProcField 'VmRSS')))
    }
    if ($job.State -in 'Completed', 'Failed', 'Stopped') { break }
    if (-not $stopAsked -and $read.IsCompleted) {
        $count = $read.Result
        if ($count -gt 0) { $text += [System.Text.Encoding]::ASCII.GetString($buffer, 0, $count) }
        if ($count -eq 0 -or $text -match 'stop') {
            $stopAsked = $true
            Stop-RedisSync -Name $Name
        }
        else {
            $read = $stdin.ReadAsync($buffer, 0, $buffer.Length)
        }
    }
    Start-Sleep -Milliseconds 100
}
$final = $job | Receive-Job -Keep -ErrorAction SilentlyContinue | Where-Object { $_ -is [RedisSync.SyncStatus] } | Select-Object -Last 1
if (-not $final) { $final = $status }
if ($job.State -eq 'Failed') {
    [Console]::Out.WriteLine("failed $($job.ChildJobs[0].JobStateInfo.Reason.Message)")
}
$me = [System.Diagnostics.Process]::GetCurrentProcess()
[Console]::Out.WriteLine([string]::Format([cultureinfo]::InvariantCulture,
        'done phase={0} seconds={1:0.000} keys={2} hwm={3} allocated={4} gcs={5}/{6}/{7} cpu={8:0.00}+{9:0.00}',
        $final.Phase, $clock.Elapsed.TotalSeconds, $final.KeysWritten, (Get-ProcField 'VmHWM'), [GC]::GetTotalAllocatedBytes($false),
        [GC]::CollectionCount(0), [GC]::CollectionCount(1), [GC]::CollectionCount(2),
        $me.UserProcessorTime.TotalSeconds, $me.PrivilegedProcessorTime.TotalSeconds))
if ($job.State -eq 'Failed') { exit 1 }
exit 0
