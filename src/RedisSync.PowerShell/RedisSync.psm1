# The module's root: loads the build of the cmdlets for the PowerShell that imports it:
# net10.0 for PowerShell 7.6 and later (.NET 10), net8.0 for PowerShell 7.4 and 7.5, netstandard2.0
# for Windows PowerShell 5.1 and PowerShell 7.0-7.3. Where a precompiled (ReadyToRun) copy of that
# build sits beside it for this platform, such as net10.0-linux-x64, that one: the same code, without
# compiling it just in time first ($env:REDISSYNC_PORTABLE set to anything loads the portable build).
$build = 'netstandard2.0'
if ($PSVersionTable.PSEdition -eq 'Core' -and $PSVersionTable.PSVersion -ge [version]'7.4') {
    $build = if ([Environment]::Version.Major -ge 10) { 'net10.0' } else { 'net8.0' }
    $precompiled = "$build-$([System.Runtime.InteropServices.RuntimeInformation]::RuntimeIdentifier)"
    if (-not $env:REDISSYNC_PORTABLE -and (Test-Path -LiteralPath (Join-Path (Join-Path $PSScriptRoot $precompiled) 'RedisSync.dll'))) {
        $build = $precompiled
    }
}
Import-Module -Name (Join-Path (Join-Path $PSScriptRoot $build) 'RedisSync.dll')
