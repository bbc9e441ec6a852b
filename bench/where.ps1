<#
.SYNOPSIS
What Start-RedisSync -Where costs: an RDB file of -Keys string keys copied with and without a
trivial predicate ({ $true }), keys per second of each (best of -Runs). Not part of CI.

.EXAMPLE
pwsh bench/where.ps1 -Keys 200000
#>
param([int] $Keys = 200000, [int] $Runs = 3)
$ErrorActionPreference = 'Stop'
$root = Split-Path -Parent $PSScriptRoot
Import-Module (Join-Path $root 'tests/RedisSync.TestTools.psm1') -Force
Import-Module (Join-Path $root 'out/RedisSync/RedisSync.psd1') -Force
$source = Start-LocalRedis '--enable-debug-command', 'yes'
$target = Start-LocalRedis
try {
    $reach = Get-RedisCliArguments $source
    $null = & redis-cli @reach DEBUG POPULATE $Keys key 16
    $null = & redis-cli @reach SAVE
    $rdb = Join-Path (& redis-cli @reach CONFIG GET dir | Select-Object -Last 1) 'dump.rdb'
    $targetReach = Get-RedisCliArguments $target
    $results = foreach ($case in @(@{ Name = 'no predicate'; Where = $null }, @{ Name = '-Where { $true }'; Where = { $true } })) {
        $best = [double]::MaxValue
        for ($i = 0; $i -lt $Runs; $i++) {
            $null = & redis-cli @targetReach FLUSHALL
            $parameters = @{ RdbPath = $rdb; Target = $target.Endpoint; Name = "where-bench"; Wait = $true }
            if ($case.Where) { $parameters.Where = $case.Where }
            $clock = [Diagnostics.Stopwatch]::StartNew()
            $status = Start-RedisSync @parameters
            $best = [math]::Min($best, $clock.Elapsed.TotalSeconds)
            if ($status.KeysWritten -ne $Keys) { throw "$($case.Name): $($status.KeysWritten) keys written, not $Keys" }
        }
        [pscustomobject]@{ Case = $case.Name; Keys = $Keys; Seconds = [math]::Round($best, 2); KeysPerSecond = [math]::Round($Keys / $best) }
    }
    $results | Format-Table -AutoSize | Out-String | Write-Host
}
finally {
    Stop-LocalRedis $source
    Stop-LocalRedis $target
}
