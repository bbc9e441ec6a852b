#Requires -Version 5.1
<#
.SYNOPSIS
Builds the RedisSync module into out/RedisSync and, with -Test, runs the Pester suite.

.DESCRIPTION
Runs `dotnet build RedisSync.sln`, which compiles the cmdlets, the engine and the help and stages a
ready-to-import module at out/RedisSync. With -Test it runs tests/RedisSync.Tests.ps1 with Pester 5
in a child PowerShell (a loaded module cannot be unloaded) and ends with the line
"Tests Passed: N, Failed: M"; the exit code is 1 when a test failed.

.EXAMPLE
./build.ps1 -Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release',

    [switch] $Test
)

$ErrorActionPreference = 'Stop'
Set-Location -LiteralPath $PSScriptRoot

dotnet build RedisSync.sln -c $Configuration
if ($LASTEXITCODE -ne 0) { throw "dotnet build failed (exit code $LASTEXITCODE)." }
Write-Host "Module: $(Join-Path $PSScriptRoot 'out/RedisSync/RedisSync.psd1')"
if (-not $Test) { return }

$pester = Get-Module -ListAvailable -Name Pester | Where-Object Version -ge ([version]'5.0.0')
if (-not $pester) {
    try {
        Install-Module -Name Pester -MinimumVersion 5.0.0 -Scope CurrentUser -Force -SkipPublisherCheck -ErrorAction Stop
    }
    catch {
        Write-Warning "Pester 5 is not installed and could not be installed ($($_.Exception.Message)): tests/RedisSync.Tests.ps1 was not run."
        return
    }
}

# The same PowerShell (pwsh or powershell.exe) in a child process, so the module loads fresh.
$shell = (Get-Process -Id $PID).Path
$run = {
    param($Root)
    Import-Module Pester -MinimumVersion 5.0.0
    $configuration = New-PesterConfiguration
    $configuration.Run.Path = Join-Path $Root 'tests/RedisSync.Tests.ps1'
    $configuration.Run.PassThru = $true
    $configuration.Output.Verbosity = 'Detailed'
    $result = Invoke-Pester -Configuration $configuration
    "Tests Passed: $($result.PassedCount), Failed: $($result.FailedCount)"
    if ($result.FailedCount -gt 0 -or $result.Result -ne 'Passed') { exit 1 }
    exit 0
}
& $shell -NoProfile -Command $run -args $PSScriptRoot
exit $LASTEXITCODE
