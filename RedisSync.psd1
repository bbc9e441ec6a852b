@{
    # Loads net8.0/RedisSync.dll (PowerShell 7.4+) or netstandard2.0/RedisSync.dll (Windows PowerShell 5.1), with the engine and its dependencies beside it.
    RootModule           = 'RedisSync.psm1'
    ModuleVersion        = '0.1.0'
    CompatiblePSEditions = 'Desktop', 'Core'
    GUID                 = 'c6f25c8e-4158-42ae-b6b1-ec463f4dbaaf'
    Author               = 'RedisSync contributors'
    CompanyName          = 'RedisSync contributors'
    Copyright            = '(c) RedisSync contributors.'
    Description          = 'Copies a live Redis (or Valkey) database into another one and keeps it in sync: a full copy as a replica (PSYNC), then every write, with checkpoints on the target so a stopped sync resumes.'
    PowerShellVersion    = '5.1'
    # netstandard2.0 needs .NET Framework 4.7.2 or later under Windows PowerShell.
    DotNetFrameworkVersion = '4.7.2'
    FormatsToProcess     = @('RedisSync.format.ps1xml')
    CmdletsToExport      = @('Start-RedisSync', 'Get-RedisSyncStatus', 'Stop-RedisSync', 'Compare-RedisData', 'Repair-RedisData', 'Remove-RedisSyncCheckpoint', 'Wait-RedisSync', 'Complete-RedisSync')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            Tags         = @('Redis', 'Valkey', 'Replication', 'Migration', 'Sync', 'PSEdition_Desktop', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            ReleaseNotes = 'First release: Start-RedisSync (live source, RDB file or settings file; job or -Wait), Get-RedisSyncStatus, Stop-RedisSync, Compare-RedisData, Repair-RedisData.'
        }
    }
}
