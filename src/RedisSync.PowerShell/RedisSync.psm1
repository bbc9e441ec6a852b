# The module's root: loads the build of the cmdlets for the PowerShell that imports it.
# net8.0 for PowerShell 7.4 and later; netstandard2.0 for Windows PowerShell 5.1 and PowerShell 7.0-7.3.
$build = if ($PSVersionTable.PSEdition -eq 'Core' -and $PSVersionTable.PSVersion -ge [version]'7.4') { 'net8.0' } else { 'netstandard2.0' }
Import-Module -Name (Join-Path (Join-Path $PSScriptRoot $build) 'RedisSync.dll')
