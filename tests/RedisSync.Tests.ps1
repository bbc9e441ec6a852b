#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The cmdlet surface as PowerShell itself sees it. Run by ./build.ps1 -Test in a child PowerShell,
# against the module staged at out/RedisSync. The sync tests start their own redis-server processes
# on free loopback ports (skipped where redis-server is not installed).

BeforeDiscovery {
    # -Skip is decided at discovery, before any BeforeAll runs.
    $HasRedis = [bool](Get-Command redis-server -ErrorAction Ignore)
}

BeforeAll {
    $script:Module = Import-Module (Join-Path $PSScriptRoot '../out/RedisSync/RedisSync.psd1') -Force -PassThru

    function Get-FreePort {
        $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $listener.Start()
        try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
    }

    function Start-TestRedis {
        param([string[]] $Arguments = @())
        $port = Get-FreePort
        $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('redissync-pester-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
        $null = New-Item -ItemType Directory -Path $dir
        $all = @('--port', $port, '--bind', '127.0.0.1', '--dir', $dir, '--appendonly', 'no', '--daemonize', 'no') + $Arguments
        $process = Start-Process -FilePath redis-server -ArgumentList $all -PassThru -RedirectStandardOutput (Join-Path $dir 'out.log')
        $deadline = [DateTime]::UtcNow.AddSeconds(20)
        while ((& redis-cli -p $port PING 2>$null) -ne 'PONG') {
            if ([DateTime]::UtcNow -gt $deadline) { throw "redis-server on port $port did not start" }
            Start-Sleep -Milliseconds 50
        }
        [pscustomobject]@{ Port = $port; Endpoint = "127.0.0.1:$port"; Process = $process; Dir = $dir }
    }

    function Stop-TestRedis {
        param($Server)
        if ($Server) {
            Stop-Process -Id $Server.Process.Id -Force -ErrorAction Ignore
            $Server.Process.WaitForExit(10000) | Out-Null
            Remove-Item -LiteralPath $Server.Dir -Recurse -Force -ErrorAction Ignore
        }
    }

    function Invoke-Cli {
        param($Server, [Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
        & redis-cli -p $Server.Port @Arguments
    }

    function Wait-Until {
        param([scriptblock] $Condition, [int] $Seconds = 60)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 100
        }
    }
}

Describe 'The cmdlet surface' {
    It 'exports exactly the five cmdlets' {
        (Get-Command -Module RedisSync).Name | Sort-Object | Should -Be @('Compare-RedisData', 'Get-RedisSyncStatus', 'Repair-RedisData', 'Start-RedisSync', 'Stop-RedisSync')
        $Module.ExportedFunctions.Count | Should -Be 0
        $Module.ExportedAliases.Count | Should -Be 0
    }

    It 'Start-RedisSync has the parameter sets Source (default), RdbPath and ConfigPath' {
        $command = Get-Command Start-RedisSync
        $command.ParameterSets.Name | Sort-Object | Should -Be @('ConfigPath', 'RdbPath', 'Source')
        $command.DefaultParameterSet | Should -Be 'Source'
        $command.Parameters['Mode'].ParameterType | Should -Be ([RedisSync.SyncMode])
        $command.Parameters['DatabaseMap'].ParameterType | Should -Be ([hashtable])
        $command.OutputType.Type | Should -Contain ([RedisSync.RedisSyncJob])
        $command.OutputType.Type | Should -Contain ([RedisSync.SyncStatus])
    }

    It 'takes credentials only as PSCredential' {
        foreach ($command in Get-Command -Module RedisSync) {
            foreach ($parameter in $command.Parameters.Values) {
                $parameter.Name | Should -Not -BeLike '*Password*'
                if ($parameter.Name -like '*Credential') { $parameter.ParameterType | Should -Be ([pscredential]) }
            }
        }
    }

    It '<Name> takes RedisSync jobs from the pipeline' -ForEach @(@{ Name = 'Get-RedisSyncStatus' }, @{ Name = 'Stop-RedisSync' }) {
        $job = (Get-Command $Name).Parameters['Job']
        $job.ParameterType | Should -Be ([RedisSync.RedisSyncJob])
        $job.Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipeline | Should -Contain $true
    }

    It 'Start-RedisSync and Stop-RedisSync support -WhatIf and -Confirm' {
        (Get-Command Start-RedisSync).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command Stop-RedisSync).Parameters.Keys | Should -Contain 'Confirm'
    }
}

Describe 'Help' {
    It 'documents <Name>: synopsis, two examples or more, every parameter' -ForEach @(
        @{ Name = 'Start-RedisSync' }, @{ Name = 'Get-RedisSyncStatus' }, @{ Name = 'Stop-RedisSync' }, @{ Name = 'Compare-RedisData' }, @{ Name = 'Repair-RedisData' }) {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match '^\s*Start-|^\s*Get-|^\s*Stop-'
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($parameter in (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }) {
            $documented = $help.Parameters.Parameter | Where-Object Name -eq $parameter | Select-Object -First 1
            $documented | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs help"
            ($documented.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs a description"
        }
    }

    It 'has the about_RedisSync topic' {
        Get-Help about_RedisSync | Out-String | Should -Match 'SHORT DESCRIPTION'
    }
}

Describe 'Errors have stable ids' {
    It 'a bad address fails with InvalidEndpoint and does not show the password' {
        { Start-RedisSync -Source 'redis://user:hunter2@127.0.0.1:99999' -Target 127.0.0.1:1 -Wait } |
            Should -Throw -ErrorId 'InvalidEndpoint,RedisSync.Commands.StartRedisSyncCommand'
        try { Start-RedisSync -Source 'redis://user:hunter2@127.0.0.1:99999' -Target 127.0.0.1:1 -Wait } catch { $_ | Out-String | Should -Not -Match 'hunter2'; $_.CategoryInfo.Category | Should -Be 'InvalidArgument' }
    }

    It 'a database map that is not numbers fails with InvalidParameter' {
        { Start-RedisSync -Source 127.0.0.1:1 -Target 127.0.0.1:2 -DatabaseMap @{ a = 1 } -Wait } |
            Should -Throw -ErrorId 'InvalidParameter,RedisSync.Commands.StartRedisSyncCommand'
    }

    It 'a missing RDB file fails with RdbNotFound' -Skip:(-not $HasRedis) {
        $target = Start-TestRedis
        try {
            { Start-RedisSync -RdbPath (Join-Path $TestDrive 'missing.rdb') -Target $target.Endpoint -Wait } |
                Should -Throw -ErrorId 'RdbNotFound,RedisSync.Commands.StartRedisSyncCommand'
        }
        finally { Stop-TestRedis $target }
    }

    It 'a name that runs nowhere writes SyncNotFound' {
        { Get-RedisSyncStatus -Name 'no-such-sync' -ErrorAction Stop } | Should -Throw -ErrorId 'SyncNotFound,RedisSync.Commands.GetRedisSyncStatusCommand'
        { Stop-RedisSync -Name 'no-such-sync' -ErrorAction Stop } | Should -Throw -ErrorId 'SyncNotFound,RedisSync.Commands.StopRedisSyncCommand'
        Get-RedisSyncStatus -Name 'no-such-*' | Should -BeNullOrEmpty
    }
}

Describe 'A real sync between two local servers' -Skip:(-not $HasRedis) {
    BeforeAll {
        # Disk-based replication answers PSYNC at once (see the skipped engine test for the diskless default).
        $script:Source = Start-TestRedis '--repl-diskless-sync', 'no'
        $script:Target = Start-TestRedis
        foreach ($i in 1..200) { $null = Invoke-Cli $Source SET "key:$i" "value:$i" }
        $null = Invoke-Cli $Source EXPIRE 'key:1' 3600
    }

    AfterAll {
        Get-Job | Where-Object PSJobTypeName -eq 'RedisSyncJob' | Remove-Job -Force
        Stop-TestRedis $Source
        Stop-TestRedis $Target
    }

    BeforeEach {
        $null = Invoke-Cli $Target FLUSHALL
    }

    It '-WhatIf with -FlushTarget neither flushes the target nor starts a sync' {
        $null = Invoke-Cli $Target SET keep-me yes
        Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name whatif -FlushTarget -WhatIf
        Invoke-Cli $Target GET keep-me | Should -Be 'yes'
        Get-Job -Name whatif -ErrorAction Ignore | Should -BeNullOrEmpty
        Get-RedisSyncStatus -Name whatif -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'a Full sync with -Wait copies every key with its TTL and returns Completed' {
        $status = Start-RedisSync $Source.Endpoint $Target.Endpoint -Name full -Mode Full -FlushTarget -Confirm:$false -Wait
        $status | Should -BeOfType ([RedisSync.SyncStatus])
        $status.Phase | Should -Be ([RedisSync.SyncPhase]::Completed)
        Invoke-Cli $Target GET 'key:200' | Should -Be 'value:200'
        [int](Invoke-Cli $Target TTL 'key:1') | Should -BeGreaterThan 3000
        [int](Invoke-Cli $Target DBSIZE) | Should -BeGreaterOrEqual 200
        Invoke-Cli $Target EXISTS 'redissync:checkpoint:full' | Should -Be '1'
    }

    It 'a job works with Get-Job, Receive-Job, Stop-Job, Wait-Job and Remove-Job' {
        $job = Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name live
        $job.PSJobTypeName | Should -Be 'RedisSyncJob'
        (Get-Job -Name live).InstanceId | Should -Be $job.InstanceId
        Wait-Until { (Get-RedisSyncStatus -Name live).Phase -eq 'Streaming' }
        $null = Invoke-Cli $Source SET written-later yes
        Wait-Until { (Invoke-Cli $Target GET written-later) -eq 'yes' }

        Stop-Job -Job $job
        $job.State | Should -Be 'Stopped'
        (Wait-Job -Job $job -Timeout 10).State | Should -Be 'Stopped'
        $output = @(Receive-Job -Job $job)
        $output | ForEach-Object { $_ | Should -BeOfType ([RedisSync.SyncStatus]) }
        $output[0].Phase | Should -Be 'Connecting'
        $output.Phase | Should -Contain 'Streaming'
        $output[-1].Phase | Should -Be 'Stopped'
        Invoke-Cli $Target EXISTS 'redissync:checkpoint:live' | Should -Be '1'

        Remove-Job -Job $job
        Get-Job -Name live -ErrorAction Ignore | Should -BeNullOrEmpty
        Get-RedisSyncStatus -Name live -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'Stop-RedisSync stops a piped job cleanly and Get-RedisSyncStatus -Target reads its checkpoint' {
        $job = Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name piped
        Wait-Until { ($job | Get-RedisSyncStatus).Phase -eq 'Streaming' }
        # The checkpoint lands with the target's acknowledgement of the snapshot's last batch.
        Wait-Until { try { (Get-RedisSyncStatus -Target $Target.Endpoint -Name piped).Phase -eq 'Streaming' } catch { $false } }

        $final = $job | Stop-RedisSync -PassThru -Confirm:$false
        $final.Phase | Should -Be 'Stopped'
        $job.State | Should -Be 'Stopped'
        $remote = Get-RedisSyncStatus -Target $Target.Endpoint -Name piped
        $remote.Phase | Should -Be 'Stopped'
        $remote.AppliedOffset | Should -Be $final.AppliedOffset
        Remove-Job -Job $job
    }

    It 'Wait-Job returns when a Full job completes, and its output ends Completed' {
        $job = Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name fulljob -Mode Full
        $null = Wait-Job -Job $job -Timeout 120
        $job.State | Should -Be 'Completed'
        (Receive-Job -Job $job)[-1].Phase | Should -Be 'Completed'
        Remove-Job -Job $job
    }

    It 'a second sync with a running name fails with SyncAlreadyRunning' {
        $job = Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name twice
        try {
            { Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name twice } |
                Should -Throw -ErrorId 'SyncAlreadyRunning,RedisSync.Commands.StartRedisSyncCommand'
        }
        finally { $job | Remove-Job -Force }
    }

    It 'a refused login fails the job with TargetAuthFailed and no password in its error' {
        $locked = Start-TestRedis '--requirepass', 'right-one'
        try {
            $credential = [pscredential]::new('default', (ConvertTo-SecureString 'wrong-one' -AsPlainText -Force))
            $job = Start-RedisSync -Source $Source.Endpoint -Target $locked.Endpoint -TargetCredential $credential -Name locked
            $null = Wait-Job -Job $job -Timeout 60
            $job.State | Should -Be 'Failed'
            $errors = @()
            $null = Receive-Job -Job $job -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[-1].FullyQualifiedErrorId | Should -BeLike 'TargetAuthFailed*'
            $errors | Out-String | Should -Not -Match 'wrong-one'
            $job | Remove-Job
        }
        finally { Stop-TestRedis $locked }
    }
}

Describe 'Compare-RedisData and Repair-RedisData' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:Left = Start-TestRedis
        $script:Right = Start-TestRedis
        $null = Invoke-Cli $Left SET missing m
        $null = Invoke-Cli $Left SET changed new
        $null = Invoke-Cli $Right SET changed old
        $null = Invoke-Cli $Right SET extra x
    }

    AfterAll {
        Stop-TestRedis $Left
        Stop-TestRedis $Right
    }

    It 'streams the differences and ends with the summary' {
        $result = @(Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full)
        $result[-1] | Should -BeOfType ([RedisSync.CompareSummary])
        $result[-1].IsEqual | Should -BeFalse
        ($result | Where-Object { $_ -is [RedisSync.KeyDifference] }).Status | Sort-Object | Should -Be @('Missing', 'Extra', 'Value' | Sort-Object)
        @(Compare-RedisData $Left.Endpoint $Right.Endpoint -Summary).Count | Should -Be 1
    }

    It 'Repair-RedisData -WhatIf changes nothing; without it the servers become equal' {
        Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full | Where-Object Status | Repair-RedisData $Left.Endpoint $Right.Endpoint -RemoveExtra -WhatIf
        Invoke-Cli $Right GET changed | Should -Be 'old'

        $repaired = Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full | Where-Object Status | Repair-RedisData $Left.Endpoint $Right.Endpoint -RemoveExtra -Confirm:$false
        $repaired | ForEach-Object { $_ | Should -BeOfType ([RedisSync.RepairResult]) }
        (Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full -Summary).IsEqual | Should -BeTrue
    }
}
