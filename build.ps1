#Requires -Version 5.1
<#
.SYNOPSIS
Builds the RedisSync module into out/RedisSync; with -Test runs every test, with -Demo shows a first sync.

.DESCRIPTION
Runs `dotnet build RedisSync.sln`, which compiles the cmdlets (for PowerShell 7.4+ and for Windows
PowerShell 5.1), the engine and the help and stages a ready-to-import module at out/RedisSync.

-Test then runs the xunit suites (`dotnet test`) and the Pester suite (tests/RedisSync.Tests.ps1,
Pester 5.7.1 restored from NuGet) in a child PowerShell of the same kind as this one (a loaded
module cannot be unloaded), and ends with the line "N passed, N failed" over both; the exit code
is 1 when a test failed.

-Demo starts two throwaway redis-server processes on free loopback ports, loads a sample data set
into one, and shows the cmdlets copying it, streaming writes, comparing and stopping; it stops both
servers and removes their folder at the end, also after Ctrl+C.

.EXAMPLE
./build.ps1 -Test

.EXAMPLE
./build.ps1 -Demo
#>
[CmdletBinding(DefaultParameterSetName = 'Build')]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [Parameter(Mandatory, ParameterSetName = 'Test')]
    [switch] $Test,

    [Parameter(Mandatory, ParameterSetName = 'Demo')]
    [switch] $Demo,

    # The number of small keys the demo loads (besides a few big ones).
    [Parameter(ParameterSetName = 'Demo')]
    [ValidateRange(100, 10000000)]
    [int] $DemoKeys = 200000
)

$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot

dotnet build RedisSync.sln -c $Configuration
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed (exit code $LASTEXITCODE)." }
$manifest = Join-Path $PSScriptRoot 'out/RedisSync/RedisSync.psd1'
Write-Host "Module: $manifest"

if ($Demo) {
    & (Join-Path $PSScriptRoot 'docs/demo/Demo.ps1') -ModulePath $manifest -Keys $DemoKeys
    return
}
if (-not $Test) { return }

$passed = 0
$failed = 0
$broken = @()
# Each failed test's name and the first lines of its message, repeated just before the totals so that
# a log cut to its end still says what failed.
$failures = [System.Collections.Generic.List[string]]::new()
$failureLines = 0
# What the test runners write to stderr is shown, not raised (Windows PowerShell turns it into errors).
$ErrorActionPreference = 'Continue'

# The xunit suites; "Passed!  - Failed: 0, Passed: 70, ..." closes each assembly's run.
dotnet test RedisSync.sln -c $Configuration --no-build 2>&1 | ForEach-Object {
    $line = "$_"
    if ($line -match '^\s*(Passed|Failed)!\s+-\s+Failed:\s+(\d+),\s+Passed:\s+(\d+)') {
        $failed += [int]$Matches[2]
        $passed += [int]$Matches[3]
    }
    if ($line -match '^\s+Failed \S+ \[') { $failures.Add($line.Trim()); $failureLines = 6 }
    elseif ($failureLines -gt 0 -and $line.Trim()) { $failures.Add('    ' + $line.Trim()); $failureLines-- }
    Write-Host $line
}
if ($LASTEXITCODE -ne 0) { $broken += "dotnet test (exit code $LASTEXITCODE)" }

# Pester from NuGet: restored into the package folder, imported from there by the child shell.
dotnet restore tests/PesterRestore/PesterRestore.csproj
if ($LASTEXITCODE -ne 0) { Write-Error "Pester could not be restored from NuGet (exit code $LASTEXITCODE)."; exit 1 }
$packages = (dotnet nuget locals global-packages --list) -replace '^global-packages:\s*', ''
$pester = Join-Path $packages.Trim() 'pester/5.7.1/tools/Pester.psd1'
if (-not (Test-Path -LiteralPath $pester)) { Write-Error "Pester was restored, but $pester is missing."; exit 1 }

$run = {
    param($Root, $PesterPath)
    Import-Module $PesterPath -Force
    $configuration = New-PesterConfiguration
    $configuration.Run.Path = Join-Path $Root 'tests/RedisSync.Tests.ps1'
    $configuration.Run.PassThru = $true
    $configuration.Output.Verbosity = 'Detailed'
    $result = Invoke-Pester -Configuration $configuration
    "Pester: $($result.PassedCount) passed, $($result.FailedCount + $result.FailedBlocksCount + $result.FailedContainersCount) failed, $($result.SkippedCount) skipped"
}
$quoted = { param($text) "'" + ($text -replace "'", "''") + "'" }
$command = "& {$run} $(& $quoted $PSScriptRoot) $(& $quoted $pester)"
$encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($command))
Import-Module (Join-Path $PSScriptRoot 'tests/RedisSync.TestTools.psm1') -Force
$shell = @(Get-PowerShellCommand)
$shellArgs = @($shell | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)
$pesterCounted = $false
& $shell[0] @shellArgs 2>&1 | ForEach-Object {
    $line = "$_"
    if ($line -match '^Pester: (\d+) passed, (\d+) failed') {
        $passed += [int]$Matches[1]
        $failed += [int]$Matches[2]
        $pesterCounted = $true
    }
    $plain = $line -replace '\x1b\[[0-9;]*m', ''
    if ($plain -match '^\s*\[-\] ') { $failures.Add($plain.Trim()); $failureLines = 4 }
    elseif ($failureLines -gt 0 -and $plain.Trim()) { $failures.Add('    ' + $plain.Trim()); $failureLines-- }
    Write-Host $line
}
if (-not $pesterCounted) { $broken += "the Pester suite ended before reporting results (exit code $LASTEXITCODE)" }

if ($failures.Count) {
    Write-Host 'Failed tests:'
    foreach ($text in $failures) { Write-Host "  $text" }
}
foreach ($why in $broken) { Write-Host "Failed: $why" }
if ($broken -and $failed -eq 0) { $failed = 1 }
Write-Host "$passed passed, $failed failed"
if ($failed -gt 0) { exit 1 }
exit 0
