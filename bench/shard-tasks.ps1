<#
.SYNOPSIS
What one shard task carries, alone and side by side with others: a source cluster of -Masters masters,
-Keys string keys of -ValueSize bytes on each, copied by Start-RedisSync -Shard -Mode Full, each task in
a pwsh process of its own into a standalone target of its own (so that no target is shared). First
one task alone, then every task at once; keys/s and MB/s of RDB per task, and in all. Not part of CI.

.EXAMPLE
pwsh bench/shard-tasks.ps1 -Masters 3 -Keys 300000
#>
param([int] $Masters = 3, [int] $Keys = 300000, [int] $ValueSize = 64)
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
$manifest = Join-Path $root 'out/RedisSync/RedisSync.psd1'
Import-Module (Join-Path $root 'tests/RedisSync.TestTools.psm1') -Force
$shell = @(Get-PowerShellCommand)
$cluster = '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', '--enable-debug-command', 'yes', '--save', '', '--repl-diskless-sync-delay', '0'
$nodes = @(1..$Masters | ForEach-Object { Start-LocalRedis $cluster })
$targets = @(1..$Masters | ForEach-Object { Start-LocalRedis '--save', '' })

function Start-Task($node, $target, [string] $name, [string] $output) {
    $id = (& redis-cli -p $node.Port CLUSTER MYID).Trim()
    $script = @"
Import-Module '$manifest'
`$clock = [Diagnostics.Stopwatch]::StartNew()
`$status = Start-RedisSync -Source $($node.Endpoint) -Target $($target.Endpoint) -Name $name -Shard $id -Mode Full -Wait
[pscustomobject]@{ Seconds = `$clock.Elapsed.TotalSeconds; Keys = `$status.KeysWritten; Bytes = `$status.SnapshotBytesReceived; Phase = [string] `$status.Phase } | ConvertTo-Json -Compress
"@
    $encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($script))
    $arguments = @($shell | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)
    Start-Process -FilePath $shell[0] -ArgumentList $arguments -PassThru -RedirectStandardOutput $output -RedirectStandardError "$output.err"
}

function Invoke-Round([int[]] $which, [string] $label) {
    foreach ($t in $targets) { $null = & redis-cli -p $t.Port FLUSHALL }
    $dir = [IO.Path]::GetTempPath()
    $runs = @(foreach ($i in $which) {
        $output = Join-Path $dir "shard-bench-$label-$i.json"
        @{ Index = $i; Output = $output; Process = (Start-Task $nodes[$i] $targets[$i] "bench-$label-$i" $output) }
    })
    $clock = [Diagnostics.Stopwatch]::StartNew()
    foreach ($run in $runs) { $run.Process.WaitForExit() }
    $wall = $clock.Elapsed.TotalSeconds
    $rows = foreach ($run in $runs) {
        $text = (Get-Content -LiteralPath $run.Output -Raw -ErrorAction Ignore) + ''
        $result = $text.Trim().Split("`n")[-1] | ConvertFrom-Json
        if ($result.Phase -ne 'Completed' -or $result.Keys -ne $Keys) { throw "task $($run.Index) ($label): $text $(Get-Content -LiteralPath "$($run.Output).err" -Raw)" }
        $onTarget = [int](& redis-cli -p $targets[$run.Index].Port DBSIZE)
        if ($onTarget -lt $Keys) { throw "task $($run.Index) ($label): the target holds $onTarget keys, not $Keys" }
        [pscustomobject]@{
            Round = $label; Task = $run.Index; Keys = $result.Keys; Seconds = [math]::Round($result.Seconds, 2)
            KeysPerSecond = [math]::Round($result.Keys / $result.Seconds); RdbMBPerSecond = [math]::Round($result.Bytes / 1MB / $result.Seconds, 1)
        }
    }
    $rows
    [pscustomobject]@{ Round = $label; Task = 'all'; Keys = $Keys * $runs.Count; Seconds = [math]::Round($wall, 2); KeysPerSecond = [math]::Round($Keys * $runs.Count / $wall); RdbMBPerSecond = $null }
}

try {
    $null = & redis-cli --cluster create @($nodes.Endpoint) --cluster-yes
    $deadline = (Get-Date).AddSeconds(30)
    while (@($nodes | Where-Object { (& redis-cli -p $_.Port CLUSTER INFO) -match 'cluster_state:ok' }).Count -lt $Masters) {
        if ((Get-Date) -gt $deadline) { throw 'the cluster did not form' }
        Start-Sleep -Milliseconds 200
    }
    # Keys of a hash tag that each master serves, so that each shard task copies -Keys keys.
    foreach ($node in $nodes) {
        $ranges = @(((& redis-cli -p $node.Port CLUSTER NODES) | Where-Object { $_ -match 'myself' }) -split ' ' | Select-Object -Skip 8)
        for ($i = 0; ; $i++) {
            $slot = [int](& redis-cli -p $node.Port CLUSTER KEYSLOT "t$i")
            if ($ranges | Where-Object { $ends = $_ -split '-'; $slot -ge [int]$ends[0] -and $slot -le [int]$ends[-1] }) { break }
        }
        $null = & redis-cli -p $node.Port DEBUG POPULATE $Keys "{t$i}:key" $ValueSize
    }
    $rows = @(Invoke-Round @(0) 'alone') + @(Invoke-Round @(0..($Masters - 1)) 'side-by-side')
    $rows | Format-Table -AutoSize | Out-String | Write-Host
    Write-Host "$([Environment]::ProcessorCount) cores; each task in its own pwsh, its master and its target on this machine too."
}
finally {
    foreach ($server in $nodes + $targets) { Stop-LocalRedis $server }
}
