#Requires -Modules @{ ModuleName = 'Pester'; ModuleVersion = '5.0.0' }
# The cmdlet surface as PowerShell itself sees it. Run by ./build.ps1 -Test in a child PowerShell,
# against the module staged at out/RedisSync. The tests start their own redis-server processes on
# free loopback ports (tests/RedisSync.TestTools.psm1), each in its own temp folder, stopped by PID.

BeforeDiscovery {
    # -Skip and -ForEach are decided at discovery, before any BeforeAll runs.
    $HasRedis = [bool](Get-Command redis-server -CommandType Application -ErrorAction Ignore)
    $CanSignal = -not $IsWindows -and $PSVersionTable.PSEdition -eq 'Core'
    # PowerShell remoting over SSH, to an sshd the tests start (Debian's openssh-server).
    Import-Module (Join-Path $PSScriptRoot 'RedisSync.TestTools.psm1') -Force
    $HasSshd = Test-LocalSshd
    # A confirmation prompt fails at once in a non-interactive shell (build.ps1 runs the suite in one).
    $NonInteractive = [Environment]::GetCommandLineArgs() -contains '-NonInteractive'
    $Cmdlets = @('Start-RedisSync', 'Get-RedisSyncStatus', 'Stop-RedisSync', 'Compare-RedisData', 'Repair-RedisData', 'Remove-RedisSyncCheckpoint', 'Wait-RedisSync', 'Complete-RedisSync') |
        ForEach-Object { @{ Name = $_ } }

    # Every example of the help: "### Example N: title" and its powershell block, and the about topic's EXAMPLES block.
    $Examples = foreach ($file in Get-ChildItem -Path (Join-Path $PSScriptRoot '../docs/en-US') -Filter '*.md') {
        $text = (Get-Content -LiteralPath $file.FullName -Raw) -replace "`r`n", "`n"
        foreach ($match in [regex]::Matches($text, '(?m)^### (Example \d+: .+)\n```powershell\n([\s\S]*?)\n```')) {
            @{ File = $file.BaseName; Title = $match.Groups[1].Value; Code = $match.Groups[2].Value }
        }
        foreach ($match in [regex]::Matches($text, '(?m)^# EXAMPLES\n[^\n]*\n\n```\n([\s\S]*?)\n```')) {
            @{ File = $file.BaseName; Title = 'EXAMPLES'; Code = $match.Groups[1].Value }
        }
    }
}

BeforeAll {
    $script:Root = Resolve-Path (Join-Path $PSScriptRoot '..')
    $script:Manifest = Join-Path $Root 'out/RedisSync/RedisSync.psd1'
    $script:Module = Import-Module $Manifest -Force -PassThru
    Import-Module (Join-Path $PSScriptRoot 'RedisSync.TestTools.psm1') -Force

    function Invoke-Cli {
        param($Server, [Parameter(ValueFromRemainingArguments)] [string[]] $Arguments)
        $reach = Get-RedisCliArguments $Server
        & redis-cli @reach @Arguments
    }

    function Wait-Until {
        param([scriptblock] $Condition, [int] $Seconds = 60)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $Seconds s waiting for: $Condition" }
            Start-Sleep -Milliseconds 50
        }
    }

    function Remove-SyncJobs {
        Get-Job | Where-Object PSJobTypeName -eq 'RedisSyncJob' | Remove-Job -Force
    }

    function New-Secret([string] $Text) { ConvertTo-SecureString $Text -AsPlainText -Force }

    # A child PowerShell that runs $Script, its output in a file; its Process is the shell itself (not a launcher).
    function Start-ChildShell {
        param([string] $Script, [string] $Output)
        $shell = @(Get-PowerShellCommand)
        $encoded = [Convert]::ToBase64String([System.Text.Encoding]::Unicode.GetBytes($Script))
        $arguments = @($shell | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-EncodedCommand', $encoded)
        $program = $shell[0]
        if ($IsLinux) {
            # A shell run in the background without job control ignores SIGINT, and so would the child it starts: the
            # Ctrl+C tests would then hang. GNU env (coreutils 8.31 and later) resets it before it execs the child (same PID).
            $arguments = @('--default-signal=INT', $program) + $arguments
            $program = '/usr/bin/env'
        }
        Start-Process -FilePath $program -ArgumentList $arguments -PassThru -RedirectStandardOutput $Output -RedirectStandardError "$Output.err"
    }

    function Read-Text([string] $Path) { (Get-Content -LiteralPath $Path -Raw -ErrorAction Ignore) + '' }
}

Describe 'The cmdlet surface' {
    It 'exports exactly the eight cmdlets' {
        (Get-Command -Module RedisSync).Name | Sort-Object | Should -Be @('Compare-RedisData', 'Complete-RedisSync', 'Get-RedisSyncStatus', 'Remove-RedisSyncCheckpoint', 'Repair-RedisData', 'Start-RedisSync', 'Stop-RedisSync', 'Wait-RedisSync')
        $Module.ExportedFunctions.Count | Should -Be 0
        $Module.ExportedAliases.Count | Should -Be 0
        $Module.ExportedVariables.Count | Should -Be 0
    }

    It 'loads the build for this PowerShell' {
        $dll = (Get-Command Start-RedisSync).ImplementingType.Assembly.Location
        $expected = if ($PSVersionTable.PSEdition -eq 'Core') { 'net8.0' } else { 'netstandard2.0' }
        Split-Path (Split-Path $dll -Parent) -Leaf | Should -Be $expected
    }

    It 'Start-RedisSync has the parameter sets Source (default), Sentinel, RdbPath and ConfigPath' {
        $command = Get-Command Start-RedisSync
        $command.ParameterSets.Name | Sort-Object | Should -Be @('ConfigPath', 'RdbPath', 'Sentinel', 'Source')
        $command.DefaultParameterSet | Should -Be 'Source'
        $command.Parameters['Mode'].ParameterType | Should -Be ([RedisSync.SyncMode])
        $command.Parameters['DatabaseMap'].ParameterType | Should -Be ([hashtable])
        $command.Parameters['SourceMode'].ParameterType | Should -Be ([RedisSync.SourceMode])
        $command.Parameters['EnableKeyspaceEvents'].ParameterType | Should -Be ([switch])
        $command.Parameters['ScanCount'].ParameterType | Should -Be ([int])
        $command.Parameters['Shard'].ParameterType | Should -Be ([string])
        $command.Parameters['Shard'].ParameterSets.Keys | Sort-Object | Should -Be @('ConfigPath', 'Source') -Because '-Shard names a shard of a cluster source, given by its address or in a settings file'
        foreach ($name in 'SourceMode', 'EnableKeyspaceEvents', 'ScanCount') {
            $command.Parameters[$name].ParameterSets.Keys | Sort-Object | Should -Be @('ConfigPath', 'Sentinel', 'Source') -Because "-$name applies to every live source"
        }
        $command.OutputType.Type | Should -Contain ([RedisSync.RedisSyncJob])
        $command.OutputType.Type | Should -Contain ([RedisSync.SyncStatus])
    }

    It 'takes credentials only as PSCredential, and a certificate password only as SecureString' {
        foreach ($command in Get-Command -Module RedisSync) {
            foreach ($parameter in $command.Parameters.Values) {
                if ($parameter.Name -like '*Credential') { $parameter.ParameterType | Should -Be ([pscredential]) }
                if ($parameter.Name -like '*Password*') {
                    $parameter.Name | Should -Be 'ClientCertificatePassword'
                    $parameter.ParameterType | Should -Be ([securestring])
                }
            }
        }
    }

    It '<Name> takes the TLS parameters' -ForEach @(
        @{ Name = 'Start-RedisSync' }, @{ Name = 'Get-RedisSyncStatus' }, @{ Name = 'Compare-RedisData' }, @{ Name = 'Repair-RedisData' }, @{ Name = 'Remove-RedisSyncCheckpoint' }) {
        $parameters = (Get-Command $Name).Parameters
        foreach ($switch in 'Tls', 'SkipCertificateCheck') { $parameters[$switch].ParameterType | Should -Be ([switch]) }
        foreach ($path in 'CertificateAuthorityPath', 'ClientCertificatePath', 'ClientKeyPath') { $parameters[$path].ParameterType | Should -Be ([string]) }
    }

    It '<Name> takes RedisSync jobs from the pipeline' -ForEach @(@{ Name = 'Get-RedisSyncStatus' }, @{ Name = 'Stop-RedisSync' }, @{ Name = 'Wait-RedisSync' }) {
        $job = (Get-Command $Name).Parameters['Job']
        $job.ParameterType | Should -Be ([RedisSync.RedisSyncJob])
        $job.Attributes.Where({ $_ -is [System.Management.Automation.ParameterAttribute] }).ValueFromPipeline | Should -Contain $true
    }

    It '<Name> supports -WhatIf and -Confirm' -ForEach @(
        @{ Name = 'Start-RedisSync' }, @{ Name = 'Stop-RedisSync' }, @{ Name = 'Repair-RedisData' }, @{ Name = 'Remove-RedisSyncCheckpoint' }, @{ Name = 'Complete-RedisSync' }) {
        (Get-Command $Name).Parameters.Keys | Should -Contain 'WhatIf'
        (Get-Command $Name).Parameters.Keys | Should -Contain 'Confirm'
    }

    It '<Name> asks first (ConfirmImpact High)' -ForEach @(@{ Name = 'Remove-RedisSyncCheckpoint' }, @{ Name = 'Complete-RedisSync' }) {
        $attribute = (Get-Command $Name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
        $attribute.ConfirmImpact | Should -Be 'High'
    }
}

Describe 'Help' {
    It 'Get-Help <Name> -Full: synopsis, description, two examples or more, every parameter, inputs and outputs' -ForEach $Cmdlets {
        $help = Get-Help $Name -Full
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis | Should -Not -Match "^\s*$Name"
        ($help.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty
        @($help.Examples.Example).Count | Should -BeGreaterOrEqual 2
        foreach ($example in $help.Examples.Example) {
            $example.Code | Should -Match $Name
            ($example.Remarks | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "$($example.Title) needs an explanation"
        }
        $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters
        foreach ($parameter in (Get-Command $Name).Parameters.Keys | Where-Object { $_ -notin $common }) {
            $documented = $help.Parameters.Parameter | Where-Object Name -eq $parameter | Select-Object -First 1
            $documented | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs help"
            ($documented.Description | Out-String).Trim() | Should -Not -BeNullOrEmpty -Because "-$parameter of $Name needs a description"
        }
        ($help.InputTypes | Out-String).Trim() | Should -Not -BeNullOrEmpty
        ($help.ReturnValues | Out-String).Trim() | Should -Not -BeNullOrEmpty
    }

    It 'has the about_RedisSync topic, which names every cmdlet' {
        $about = Get-Help about_RedisSync | Out-String
        $about | Should -Match 'SHORT DESCRIPTION'
        foreach ($name in (Get-Command -Module RedisSync).Name) { $about | Should -Match $name }
    }
}

Describe 'Errors have stable ids and categories' {
    It 'a bad address fails with InvalidEndpoint, InvalidArgument, and shows the password nowhere' {
        $record = $null
        try { Start-RedisSync -Source 'redis://user:hunter2@127.0.0.1:99999' -Target 127.0.0.1:1 -Wait } catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'InvalidEndpoint,RedisSync.Commands.StartRedisSyncCommand'
        $record.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $record.Exception.Message | Should -Match "-Source: 'redis://\*\*\*\*@127\.0\.0\.1:99999'"
        # What the module writes: the message, the target object, the category. (PowerShell itself shows
        # the command line as it was typed, in the position message: that is the user's own text.)
        foreach ($text in @($record.ToString(), $record.Exception.Message, "$($record.TargetObject)", $record.CategoryInfo.ToString(), "$($record.ErrorDetails)")) {
            $text | Should -Not -Match 'hunter2'
        }
    }

    It 'a database map that is not numbers fails with InvalidParameter, naming the entry' {
        { Start-RedisSync -Source 127.0.0.1:1 -Target 127.0.0.1:2 -DatabaseMap @{ a = 1 } -Wait } |
            Should -Throw -ErrorId 'InvalidParameter,RedisSync.Commands.StartRedisSyncCommand' -ExpectedMessage "*-DatabaseMap*'a' = 1*"
    }

    It 'an unreachable target fails with TargetUnreachable, ConnectionError' -Skip:(-not $HasRedis) {
        $port = Get-FreeTcpPort
        $record = $null
        try { Compare-RedisData 127.0.0.1:$port 127.0.0.1:$port -Summary } catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -BeLike '*Unreachable,RedisSync.Commands.CompareRedisDataCommand'
        $record.CategoryInfo.Category | Should -Be 'ConnectionError'
    }

    It 'a missing RDB file fails with RdbNotFound, ObjectNotFound' -Skip:(-not $HasRedis) {
        $target = Start-LocalRedis
        try {
            $record = $null
            try { Start-RedisSync -RdbPath (Join-Path $TestDrive 'missing.rdb') -Target $target.Endpoint -Wait } catch { $record = $_ }
            $record.FullyQualifiedErrorId | Should -Be 'RdbNotFound,RedisSync.Commands.StartRedisSyncCommand'
            $record.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }
        finally { Stop-LocalRedis $target }
    }

    It 'a name that runs nowhere writes SyncNotFound' {
        { Get-RedisSyncStatus -Name 'no-such-sync' -ErrorAction Stop } | Should -Throw -ErrorId 'SyncNotFound,RedisSync.Commands.GetRedisSyncStatusCommand'
        { Stop-RedisSync -Name 'no-such-sync' -ErrorAction Stop } | Should -Throw -ErrorId 'SyncNotFound,RedisSync.Commands.StopRedisSyncCommand'
        Get-RedisSyncStatus -Name 'no-such-*' | Should -BeNullOrEmpty
    }

    It 'a settings file with an unknown setting fails with InvalidConfig, naming its line' {
        $path = Join-Path $TestDrive 'typo.toml'
        Set-Content -LiteralPath $path -Value "name = 'x'`nflush_targt = true`n[target]`naddress = '127.0.0.1:1'`n"
        { Start-RedisSync -ConfigPath $path -Wait } | Should -Throw -ErrorId 'InvalidConfig,RedisSync.Commands.StartRedisSyncCommand' -ExpectedMessage '*flush_targt*'
    }
}

Describe 'A real sync between two local servers' -Skip:(-not $HasRedis) {
    BeforeAll {
        # Disk-based replication answers PSYNC at once (the diskless default waits 5 s for more replicas).
        $script:Source = Start-LocalRedis '--repl-diskless-sync', 'no'
        $script:Target = Start-LocalRedis
        $null = 1..200 | ForEach-Object { "SET key:$_ value:$_" } | & redis-cli -p $Source.Port
        $null = Invoke-Cli $Source EXPIRE 'key:1' 3600
        function script:Source-Keys { [int](Invoke-Cli $Source DBSIZE) }
    }

    AfterAll {
        Remove-SyncJobs
        Stop-LocalRedis $Source
        Stop-LocalRedis $Target
    }

    BeforeEach {
        $null = Invoke-Cli $Target FLUSHALL
    }

    AfterEach {
        Remove-SyncJobs
    }

    It '-WhatIf with -FlushTarget neither flushes the target nor starts a sync' {
        $null = Invoke-Cli $Target SET keep-me yes
        Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name whatif -FlushTarget -WhatIf
        Invoke-Cli $Target GET keep-me | Should -Be 'yes'
        Get-Job -Name whatif -ErrorAction Ignore | Should -BeNullOrEmpty
        Get-RedisSyncStatus -Name whatif -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It '-FlushTarget asks first: unanswered (a non-interactive shell), nothing is flushed and no sync starts' -Skip:(-not $NonInteractive) {
        $null = Invoke-Cli $Target SET keep-me yes
        { Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name unasked -FlushTarget -Wait } | Should -Throw
        Invoke-Cli $Target GET keep-me | Should -Be 'yes'
        Get-RedisSyncStatus -Name unasked -ErrorAction Ignore | Should -BeNullOrEmpty
    }

    It 'a Full sync with -Wait copies every key with its TTL and returns Completed' {
        $null = Invoke-Cli $Target SET stale yes
        $status = Start-RedisSync $Source.Endpoint $Target.Endpoint -Name full -Mode Full -FlushTarget -Confirm:$false -Wait
        $status | Should -BeOfType ([RedisSync.SyncStatus])
        $status.Phase | Should -Be ([RedisSync.SyncPhase]::Completed)
        $status.KeysWritten | Should -Be (Source-Keys)
        Invoke-Cli $Target GET 'key:200' | Should -Be 'value:200'
        Invoke-Cli $Target EXISTS stale | Should -Be '0'
        [int](Invoke-Cli $Target TTL 'key:1') | Should -BeGreaterThan 3000
        [int](Invoke-Cli $Target TTL 'key:2') | Should -Be -1
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
    }

    It 'Wait-Job returns when a Full job completes, and its output ends Completed' {
        $job = Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name fulljob -Mode Full
        $null = Wait-Job -Job $job -Timeout 120
        $job.State | Should -Be 'Completed'
        (Receive-Job -Job $job)[-1].Phase | Should -Be 'Completed'
        [int](Invoke-Cli $Target DBSIZE) | Should -Be ((Source-Keys) + 1) -Because 'the checkpoint is the one key more'
    }

    It 'a stop asked for before a Full job ends always leaves it Stopped (<Count> runs, the stop landing ever later)' -ForEach @(@{ Count = 24 }) {
        for ($i = 0; $i -lt $Count; $i++) {
            $job = Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name "race$i" -Mode Full -OnConflict Replace -Confirm:$false
            # From the start of the copy to just past its end: the later runs stop as the copy ends.
            $threshold = [math]::Round($i * 1.1 * (Source-Keys) / $Count)
            Wait-Until { $job.Status.KeysWritten -ge $threshold -or $job.State -ne 'Running' }
            $asked = [DateTime]::Now
            if ($i % 2) { Stop-Job -Job $job } else { $null = $job | Stop-RedisSync -Confirm:$false }
            if ($job.State -ne 'Stopped') {
                # Only a job whose copy had finished when the stop reached it may show another state: Completed, with
                # every key written. (Its PSEndTime is set after it decided, so it may be a moment after $asked.)
                $job.State | Should -Be 'Completed' -Because "run $i was asked to stop at $($asked.ToString('HH:mm:ss.fff'))"
                $job.Status.KeysWritten | Should -Be (Source-Keys) -Because "run $i ended Completed, so its copy was whole"
            }
            Remove-Job -Job $job
        }
    }

    It 'a second sync with a running name fails with SyncAlreadyRunning' {
        $job = Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name twice
        { Start-RedisSync -Source $Source.Endpoint -Target $Target.Endpoint -Name twice } |
            Should -Throw -ErrorId 'SyncAlreadyRunning,RedisSync.Commands.StartRedisSyncCommand'
        $job.State | Should -Be 'Running'
    }

    It 'a refused login fails the job with TargetAuthFailed and no password in its error' {
        $locked = Start-LocalRedis '--requirepass', 'right-one'
        try {
            $credential = [pscredential]::new('default', (New-Secret 'wrong-one'))
            $job = Start-RedisSync -Source $Source.Endpoint -Target $locked.Endpoint -TargetCredential $credential -Name locked
            $null = Wait-Job -Job $job -Timeout 60
            $job.State | Should -Be 'Failed'
            $errors = @()
            $null = Receive-Job -Job $job -ErrorVariable errors -ErrorAction SilentlyContinue
            $errors[-1].FullyQualifiedErrorId | Should -Be 'TargetAuthFailed,RedisSync.Commands.StartRedisSyncCommand'
            $errors[-1].CategoryInfo.Category | Should -Be 'AuthenticationError'
            $errors | Out-String | Should -Not -Match 'wrong-one|right-one'
        }
        finally { Stop-LocalRedis $locked }
    }

    It 'a settings file runs unattended and leaves its status file' {
        $path = Join-Path $TestDrive 'orders.toml'
        Set-Content -LiteralPath $path -Value @"
name = "orders-file"
mode = "Full"
flush_target = true
status_file = "orders-status.json"

[source]
address = "$($Source.Endpoint)"

[target]
address = "$($Target.Endpoint)"

[database_map]
0 = 3
"@
        $status = Start-RedisSync -ConfigPath $path -Confirm:$false -Wait
        $status.Phase | Should -Be 'Completed'
        Invoke-Cli $Target -n 3 GET 'key:7' | Should -Be 'value:7'
        Invoke-Cli $Target -n 0 EXISTS 'key:7' | Should -Be '0'
        $file = Get-Content -LiteralPath (Join-Path $TestDrive 'orders-status.json') -Raw | ConvertFrom-Json
        $file.Name | Should -Be 'orders-file'
        $file.Phase | Should -Be 'Completed'
        $file.KeysWritten | Should -Be (Source-Keys)
    }

    It "README's scheduled-task script runs unattended: exit code 0 when the copy completed, 1 when it failed" {
        $readme = (Get-Content -LiteralPath (Join-Path $Root 'README.md') -Raw) -replace "`r`n", "`n"
        $script = [regex]::Match($readme, '### A scheduled task\n[\s\S]*?```powershell\n([\s\S]*?)\n```').Groups[1].Value
        $script | Should -Match 'Start-RedisSync -ConfigPath'
        $folder = Join-Path $TestDrive 'task'
        $null = New-Item -ItemType Directory -Path $folder -Force
        Set-Content -LiteralPath (Join-Path $folder 'orders.ps1') -Value $script
        # The module is found by name, as after copying it into a folder of PSModulePath.
        $run = "`$env:PSModulePath = '$(Join-Path $Root 'out')' + [IO.Path]::PathSeparator + `$env:PSModulePath; & '$(Join-Path $folder 'orders.ps1')'; exit `$LASTEXITCODE"
        foreach ($case in @(@{ Target = $Target.Endpoint; Exit = 0 }, @{ Target = "127.0.0.1:$(Get-FreeTcpPort)"; Exit = 1 })) {
            Set-Content -LiteralPath (Join-Path $folder 'orders.toml') -Value "name = `"task`"`nmode = `"Full`"`nflush_target = true`n[source]`naddress = `"$($Source.Endpoint)`"`n[target]`naddress = `"$($case.Target)`"`n"
            Remove-Item -LiteralPath (Join-Path $folder 'orders-status.json') -ErrorAction Ignore
            $child = Start-ChildShell -Output (Join-Path $folder 'out.txt') -Script $run
            $child.WaitForExit(120000) | Should -BeTrue
            $child.ExitCode | Should -Be $case.Exit -Because (Read-Text (Join-Path $folder 'out.txt.err'))
        }
        Invoke-Cli $Target GET 'key:9' | Should -Be 'value:9'
        (Get-Content -LiteralPath (Join-Path $folder 'orders-status.json') -Raw | ConvertFrom-Json).LastErrorId | Should -Be 'TargetUnreachable'
    }

    It 'the status table fits 80 columns and keeps Phase, snapshot percent, keys, lag, the catch-up ETA and the last error' {
        $status = Start-RedisSync $Source.Endpoint $Target.Endpoint -Name 'a-long-sync-name' -Mode Full -Wait
        $lines = @(($status | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match 'Time\s+Name\s+Phase\s+Snap%\s+Keys\s+Lag\(ms\)\s+ETA\s+LastError'
        $lines[2] | Should -Match "a-long-sync\S* Completed\s+100\.0\s+$(Source-Keys)\s*$"
        $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
    }

    It 'Get-RedisSyncStatus -Shard writes a row per source shard, in 80 columns, also from the target' {
        $job = Start-RedisSync $Source.Endpoint $Target.Endpoint -Name 'shard-rows'
        Wait-Until { (Get-RedisSyncStatus -Name 'shard-rows').Phase -eq 'Streaming' }
        $rows = @(Get-RedisSyncStatus -Name 'shard-rows' -Shard)
        $rows.Count | Should -Be 1
        $rows[0] | Should -BeOfType ([RedisSync.ShardStatus])
        $rows[0].Phase | Should -Be 'Streaming'
        $rows[0].FullResyncs | Should -Be 1
        @($job | Get-RedisSyncStatus -Shard).Count | Should -Be 1
        $lines = @(($rows | Format-Table | Out-String -Width 80) -split "`n" | Where-Object { $_.Trim() })
        $lines[0] | Should -Match 'Source\s+Phase\s+Applied\s+Lag\(ms\)\s+Full\s+Partial'
        $lines | ForEach-Object { $_.TrimEnd().Length | Should -BeLessOrEqual 80 }
        Stop-RedisSync -Name 'shard-rows'
        $rows = @(Get-RedisSyncStatus -Name 'shard-rows' -Shard)
        $fromTarget = @(Get-RedisSyncStatus -Name 'shard-rows' -Target $Target.Endpoint -Shard)
        $fromTarget.Count | Should -Be 1
        $fromTarget[0].AppliedOffset | Should -Be $rows[0].AppliedOffset
    }
}

Describe 'Shard tasks of a cluster source' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:Nodes = 1..3 | ForEach-Object {
            Start-LocalRedis '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000',
                '--cluster-port', (Get-FreeTcpPort), '--repl-diskless-sync-delay', '0'
        }
        $script:Target = Start-LocalRedis
        $null = & redis-cli --cluster create @($Nodes.Endpoint) --cluster-yes
        Wait-Until { @($Nodes | Where-Object { (Invoke-Cli $_ CLUSTER INFO) -match 'cluster_state:ok' }).Count -eq 3 }
        foreach ($i in 1..60) { $null = & redis-cli -c -p $Nodes[0].Port SET "key:$i" "value:$i" }
        # Each master's slots, as its own line of CLUSTER NODES says (what -Shard takes).
        $script:Slots = foreach ($node in $Nodes) {
            $own = (Invoke-Cli $node CLUSTER NODES) | Where-Object { $_ -match 'myself' }
            (($own -split ' ') | Select-Object -Skip 8) -join ','
        }
    }

    AfterAll {
        Remove-SyncJobs
        $Nodes | ForEach-Object { Stop-LocalRedis $_ }
        Stop-LocalRedis $Target
    }

    It 'three -Shard tasks of one sync run as jobs side by side, each status names its shard, and a second task of a shard is refused' {
        $jobs = foreach ($range in $Slots) { Start-RedisSync $Nodes[0].Endpoint $Target.Endpoint -Name sharded -Shard $range }
        @($jobs).Count | Should -Be 3
        Wait-Until { @(Get-RedisSyncStatus -Name sharded | Where-Object Phase -eq 'Streaming').Count -eq 3 }
        $statuses = @(Get-RedisSyncStatus -Name sharded)
        $statuses.Shard | Sort-Object | Should -Be ($Slots | Sort-Object)
        foreach ($status in $statuses) { $status.Source | Should -BeLike "shard $($status.Shard) of the source cluster*" }
        Wait-Until { @(Invoke-Cli $Target KEYS 'key:*').Count -eq 60 }
        { Start-RedisSync $Nodes[0].Endpoint $Target.Endpoint -Name sharded -Shard $Slots[0] } |
            Should -Throw -ErrorId 'SyncAlreadyRunning,RedisSync.Commands.StartRedisSyncCommand'
        Stop-RedisSync -Name sharded
        @(Get-RedisSyncStatus -Name sharded | Where-Object Phase -eq 'Stopped').Count | Should -Be 3
        @(Invoke-Cli $Target KEYS 'redissync:lease:*' | Where-Object { $_ }).Count | Should -Be 0 -Because 'each task gave its lease back'
    }

    It 'a -Shard that names no master fails with ShardNotFound, naming it' {
        { Start-RedisSync $Nodes[0].Endpoint $Target.Endpoint -Name sharded-wrong -Shard 'abcdef0123' -Wait } |
            Should -Throw -ErrorId 'ShardNotFound,RedisSync.Commands.StartRedisSyncCommand' -ExpectedMessage "*-Shard 'abcdef0123'*"
    }
}

Describe 'Shard tasks over PowerShell remoting (sshd on loopback)' -Skip:(-not $HasRedis -or -not $HasSshd) {
    BeforeAll {
        $script:Sshd = Start-LocalSshd -ModulePath (Join-Path $Root 'out')
        $cluster = '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000'
        $script:SourceNodes = 1..3 | ForEach-Object { Start-LocalRedis ($cluster + @('--enable-debug-command', 'yes', '--repl-diskless-sync-delay', '0', '--repl-backlog-size', '64mb')) }
        $script:TargetNodes = 1..3 | ForEach-Object { Start-LocalRedis $cluster }
        $script:RaceTarget = Start-LocalRedis
        $null = & redis-cli --cluster create @($SourceNodes.Endpoint) --cluster-yes
        $null = & redis-cli --cluster create @($TargetNodes.Endpoint) --cluster-yes
        Wait-Until { @($SourceNodes + $TargetNodes | Where-Object { (Invoke-Cli $_ CLUSTER INFO) -match 'cluster_state:ok' }).Count -eq 6 }
        # A hash tag per source master, so that each shard gets its own keys and counters.
        $script:Tags = @{}
        foreach ($node in $SourceNodes) {
            $ranges = @(((Invoke-Cli $node CLUSTER NODES) | Where-Object { $_ -match 'myself' }) -split ' ' | Select-Object -Skip 8)
            for ($i = 0; ; $i++) {
                $slot = [int](Invoke-Cli $node CLUSTER KEYSLOT "t$i")
                if ($ranges | Where-Object { $ends = $_ -split '-'; $slot -ge [int]$ends[0] -and $slot -le [int]$ends[-1] }) { $Tags["t$i"] = $node; break }
            }
        }
        # 6,000 keys a shard: at -MaxWriteRate 2000 each snapshot takes 3 s, long enough to kill a task during it.
        foreach ($tag in $Tags.Keys) { $null = Invoke-Cli $Tags[$tag] DEBUG POPULATE 6000 "{$tag}:key" 32 }
        foreach ($tag in $Tags.Keys) { $null = Invoke-Cli $Tags[$tag] SET "{$tag}:ttl" 'soon' EX 3600 }
        $script:Sent = @{}
        foreach ($tag in $Tags.Keys) { $Sent[$tag] = 0 }
        # Increments and pushes on every shard; counted only when the master acknowledged each one.
        function script:Add-Writes {
            foreach ($tag in $Tags.Keys) {
                $n = $Sent[$tag]
                $commands = foreach ($i in 1..25) { "INCR {$tag}:counter"; "RPUSH {$tag}:list $($n + $i)" }
                $replies = @($commands | & redis-cli -p $Tags[$tag].Port)
                $replies.Count | Should -Be 50
                $replies | Where-Object { $_ -notmatch '^\d+$' } | Should -BeNullOrEmpty
                $Sent[$tag] = $n + 25
            }
        }
        function script:Shard-Rows { @(Get-RedisSyncStatus -Name spread -Shard) }
        # Every INCR and RPUSH that Add-Writes counted is on the target once (a server or a cluster at that port).
        function script:Assert-AppliedOnce([int] $Port) {
            foreach ($tag in $Tags.Keys) {
                [int](& redis-cli -c -p $Port GET "{$tag}:counter") | Should -Be $Sent[$tag] -Because "every INCR of {$tag} applied once"
                [int](& redis-cli -c -p $Port LLEN "{$tag}:list") | Should -Be $Sent[$tag] -Because "every RPUSH of {$tag} applied once"
            }
        }
        # What a failed test shows: each shard's row (or the status error), each tag's counter against what was sent, the job's warnings.
        function script:Get-ShardReport([string] $Name, $Job, [int] $Port) {
            $rows = Get-RedisSyncStatus -Name $Name -Shard 2>&1 | ForEach-Object {
                if ($_ -is [System.Management.Automation.ErrorRecord]) { "status error: $_" }
                else { "$($_.Source): $($_.Phase) on $($_.Session) process $($_.ProcessId), restarts $($_.Restarts), $($_.LastMove)" }
            }
            $counts = foreach ($tag in $Tags.Keys) { "$tag target $(& redis-cli -c -p $Port GET "{$tag}:counter") sent $($Sent[$tag])" }
            (@($rows) + @($counts) + @($Job.Warning.Message)) -join "`n"
        }
    }

    AfterAll {
        Get-Job | Where-Object PSJobTypeName -in 'RedisSyncShardedJob', 'RedisSyncJob' | Remove-Job -Force -ErrorAction Ignore
        Get-PSSession | Remove-PSSession -ErrorAction Ignore
        Stop-LocalSshd $Sshd
        $SourceNodes + $TargetNodes | ForEach-Object { Stop-LocalRedis $_ }
        Stop-LocalRedis $RaceTarget
    }

    It 'two hosts that start the same shard at once: one runs it, the other is refused with SyncAlreadyRunning' {
        $hosts = 1..2 | ForEach-Object { New-LocalSshSession $Sshd }
        $slots = (((Invoke-Cli $SourceNodes[0] CLUSTER NODES) | Where-Object { $_ -match 'myself' }) -split ' ')[8]
        $results = Invoke-Command -Session $hosts -ArgumentList $SourceNodes[0].Endpoint, $RaceTarget.Endpoint, $RaceTarget.Port, $slots -ScriptBlock {
            param($Source, $Target, $TargetPort, $Shard)
            Import-Module RedisSync
            $job = Start-RedisSync $Source $Target -Name race -Shard $Shard -Confirm:$false
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ($job.State -eq 'Running' -and $job.Status.Phase -ne 'Streaming' -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            $outcome = [pscustomobject]@{ State = [string]$job.State; Phase = [string]$job.Status.Phase; ErrorId = [string](@($job.Error) | Select-Object -First 1 | ForEach-Object FullyQualifiedErrorId); Message = [string]$job.Status.LastError }
            # The winner holds on until the other host has tried.
            $null = & redis-cli -p $TargetPort INCR race:tried
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ([int](& redis-cli -p $TargetPort GET race:tried) -lt 2 -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 50 }
            Stop-Job $job
            Remove-Job $job -Force
            $outcome
        }
        Remove-PSSession $hosts
        @($results).Count | Should -Be 2
        @($results | Where-Object Phase -eq 'Streaming').Count | Should -Be 1
        @($results | Where-Object ErrorId -like 'SyncAlreadyRunning,*').Count | Should -Be 1 -Because ($results | Format-List State, Phase, ErrorId, Message | Out-String)
    }

    It 'three sessions run the three shard tasks; a task killed during its snapshot and one killed while streaming move to the others; nothing is lost or applied twice' {
        $sessions = 1..3 | ForEach-Object { New-LocalSshSession $Sshd }
        $job = Start-RedisSync $SourceNodes[0].Endpoint $TargetNodes[1].Endpoint -Name spread -Session $sessions -MaxWriteRate 2000 -Confirm:$false
        try {
        $job.PSJobTypeName | Should -Be 'RedisSyncShardedJob'
        @($job.ChildJobs).Count | Should -Be 3

        # Kill the process of a task that is loading its snapshot.
        Wait-Until { @(Shard-Rows | Where-Object { $_.Phase -eq 'LoadingSnapshot' -and $_.ProcessId }).Count -gt 0 }
        $first = Shard-Rows | Where-Object { $_.Phase -eq 'LoadingSnapshot' -and $_.ProcessId } | Select-Object -First 1
        $first.Host | Should -Be '127.0.0.1'
        Stop-Process -Id $first.ProcessId -Force
        Wait-Until -Seconds 120 {
            Add-Writes
            $rows = Shard-Rows
            @($rows | Where-Object Phase -eq 'Streaming').Count -eq 3 -and ($rows | Where-Object Source -eq $first.Source).Restarts -eq 1
        }
        # The parent job's own bar: the whole sync (a snapshot loading until the moved task had its own), and where its tasks run.
        $bars = @($job.Progress | Where-Object ActivityId -eq (1000 + $job.Id))
        @($bars | Where-Object StatusDescription -like 'Loading snapshot*').Count | Should -BeGreaterThan 0
        $bars[-1].Activity | Should -BeLike "RedisSync 'spread': *"
        $bars[-1].CurrentOperation | Should -Match '^\d of 3 shard tasks running on \d of 3 sessions$'
        $moved = Shard-Rows | Where-Object Source -eq $first.Source
        $moved.Session | Should -Not -Be $first.Session
        $moved.LastMove | Should -Match ([regex]::Escape("left 127.0.0.1 (session $($first.Session)), process $($first.ProcessId)"))

        # Kill the process of a task that streams (on a session still alive), under writes.
        $second = Shard-Rows | Where-Object { $_.Source -ne $first.Source -and $_.Session -ne $first.Session } | Select-Object -First 1
        # That process may run the moved task too: each of its tasks moves.
        $alsoMoved = @(Shard-Rows | Where-Object ProcessId -eq $second.ProcessId).Count
        Add-Writes
        Stop-Process -Id $second.ProcessId -Force
        Wait-Until -Seconds 120 {
            Add-Writes
            $rows = Shard-Rows
            @($rows | Where-Object Phase -eq 'Streaming').Count -eq 3 -and ($rows | Where-Object Source -eq $second.Source).Restarts -eq 1
        }
        Add-Writes
        # Every write applied: each shard's lag back to 0 once the writes stop.
        Wait-Until -Seconds 60 { @(Shard-Rows | Where-Object { $_.Phase -eq 'Streaming' -and $_.LagBytes -eq 0 -and $_.AppliedOffset -gt 0 }).Count -eq 3 }
        $status = Get-RedisSyncStatus -Name spread
        $status.Shards.Count | Should -Be 3
        ($status.Shards | Measure-Object Restarts -Sum).Sum | Should -Be (1 + $alsoMoved)
        $status.KeysWritten | Should -BeGreaterThan 0
        @($job.Warning | Where-Object { $_.Message -match 'starts again on another session' }).Count | Should -Be (1 + $alsoMoved)
        @($status.Shards | Where-Object { $_.Host -eq '127.0.0.1' -and $_.ProcessId -and $_.Session }).Count | Should -Be 3

        @($job.Progress | Where-Object { $_.ActivityId -eq 1000 + $job.Id -and $_.StatusDescription -like 'Streaming: *' }).Count | Should -BeGreaterThan 0

        Stop-RedisSync -Name spread
        $job.State | Should -Be 'Stopped'
        @($job.ChildJobs | Where-Object State -eq 'Stopped').Count | Should -Be 3
        ($job.Progress | Select-Object -Last 1).RecordType | Should -Be 'Completed'

        Assert-AppliedOnce $TargetNodes[0].Port
        foreach ($tag in $Tags.Keys) { [int](& redis-cli -c -p $TargetNodes[0].Port TTL "{$tag}:ttl") | Should -BeGreaterThan 3000 }
        $summary = Compare-RedisData $SourceNodes[2].Endpoint $TargetNodes[2].Endpoint -Mode Full -Summary
        $summary.KeysCompared | Should -Be (3 * 6003)
        $summary.IsEqual | Should -BeTrue
        # Each task gave its lease back.
        foreach ($node in $TargetNodes) { @(Invoke-Cli $node KEYS 'redissync:lease:*' | Where-Object { $_ }).Count | Should -Be 0 }
        }
        catch {
            # What the tasks said, for the failure's message.
            $rows = Shard-Rows | ForEach-Object { "$($_.Source): $($_.Phase) on $($_.Session) process $($_.ProcessId), restarts $($_.Restarts), $($_.LastMove)" }
            $said = $job.ChildJobs | ForEach-Object { $_.Error | ForEach-Object { "error: $_" }; $_.Warning | ForEach-Object { "warning: $($_.Message)" } }
            throw "$_`n$($rows -join "`n")`n$($said -join "`n")`n$(@($job.Warning.Message) -join "`n")"
        }
    }

    It 'Complete-RedisSync cuts a sync over whose shard tasks run over sessions: each task stops, nothing differs, no key of the sync is left' {
        $null = Invoke-Cli $RaceTarget FLUSHALL
        $sessions = 1..3 | ForEach-Object { New-LocalSshSession $Sshd }
        $job = Start-RedisSync $SourceNodes[0].Endpoint $RaceTarget.Endpoint -Name cutover -Session $sessions -Confirm:$false
        Wait-Until -Seconds 120 { @(Get-RedisSyncStatus -Name cutover -Shard | Where-Object Phase -eq 'Streaming').Count -eq 3 }
        Add-Writes

        $report = Complete-RedisSync -Name cutover -PauseSourceWrites -Verify Full -Confirm:$false
        $report | Should -BeOfType ([RedisSync.CutOverReport])
        $report.Verdict | Should -Be 'Passed' -Because "$($report.Note) $($report.DifferentKeys)"
        $report.SourceOffsets.Count | Should -Be 3
        $report.KeysVerified | Should -Be (3 * 6003)
        $report.SyncStopped | Should -BeTrue
        $report.CheckpointRemoved | Should -BeTrue
        $job.State | Should -Be 'Stopped'
        @($job.ChildJobs | Where-Object State -eq 'Stopped').Count | Should -Be 3
        foreach ($tag in $Tags.Keys) {
            [int](Invoke-Cli $RaceTarget GET "{$tag}:counter") | Should -Be $Sent[$tag] -Because "every INCR of {$tag} made before the pause is on the target"
        }
        @(Invoke-Cli $RaceTarget KEYS 'redissync:*' | Where-Object { $_ }) | Should -BeNullOrEmpty
        # The source was unpaused: a write returns at once (a paused master would hold it for the pause's 30 s).
        foreach ($tag in $Tags.Keys) {
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            Invoke-Cli $Tags[$tag] SET "{$tag}:unpaused" 1 | Should -Be 'OK'
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 5
        }
        Remove-PSSession $sessions
    }

    It 'a host that stops answering (its process frozen) has its tasks moved; when it answers again it applies nothing twice' {
        $target = Start-LocalRedis
        $sessions = 1..2 | ForEach-Object { New-LocalSshSession $Sshd }
        $frozen = $null
        $job = Start-RedisSync $SourceNodes[0].Endpoint $target.Endpoint -Name frozen -Session $sessions -Confirm:$false
        try {
            Wait-Until -Seconds 120 { @(Get-RedisSyncStatus -Name frozen -Shard | Where-Object Phase -eq 'Streaming').Count -eq 3 }
            Add-Writes
            # Freeze one host's process (SIGSTOP): its connections stay open but nothing answers, as when a network cuts a host off.
            $row = Get-RedisSyncStatus -Name frozen -Shard | Select-Object -First 1
            $frozen = $row.ProcessId
            $frozenSession = $sessions | Where-Object Name -eq $row.Session
            $left = @(Get-RedisSyncStatus -Name frozen -Shard | Where-Object ProcessId -eq $frozen | ForEach-Object Source)
            & kill -STOP $frozen
            # A lease time (10 s) and 5 s without an answer: the tasks move, and start once the frozen process's leases ran out.
            Wait-Until -Seconds 120 {
                Add-Writes
                $rows = @(Get-RedisSyncStatus -Name frozen -Shard)
                @($rows | Where-Object { $_.Phase -eq 'Streaming' -and $_.ProcessId -ne $frozen }).Count -eq 3
            }
            $moved = @(Get-RedisSyncStatus -Name frozen -Shard | Where-Object Source -in $left)
            $moved.Count | Should -Be $left.Count
            $moved | ForEach-Object { $_.Restarts | Should -Be 1; $_.LastMove | Should -Match 'did not answer within 15 s' }
            # It answers again, with the writes it had not applied still in its replication links: its old tasks,
            # whose leases were taken, are stopped (if they had not stopped by themselves with LeaseLost) and forgotten.
            & kill -CONT $frozen
            $frozen = $null
            Wait-Until -Seconds 60 { Add-Writes; @($job.Warning | Where-Object { $_.Message -like "*(session $($frozenSession.Name)) answered again*" }).Count -eq 1 }
            $back = @($job.Warning | Where-Object { $_.Message -like '*answered again*' })[0].Message
            ([regex]::Matches($back, 'shard \S+ (was still running: stopped|had ended (Failed|Stopped))')).Count | Should -Be $left.Count -Because $back
            @(Invoke-Command -Session $frozenSession { @($global:RedisSyncShardTasks.Keys) }) | Should -BeNullOrEmpty
            Add-Writes
            Wait-Until -Seconds 60 { @(Get-RedisSyncStatus -Name frozen -Shard | Where-Object { $_.Phase -eq 'Streaming' -and $_.LagBytes -eq 0 -and $_.AppliedOffset -gt 0 }).Count -eq 3 }
            Stop-RedisSync -Name frozen
            $job.State | Should -Be 'Stopped'
            Assert-AppliedOnce $target.Port
        }
        catch {
            throw "$_`n$(Get-ShardReport frozen $job $target.Port)"
        }
        finally {
            if ($frozen) { & kill -CONT $frozen }
            Remove-Job $job -Force -ErrorAction Ignore
            Remove-PSSession $sessions
            Stop-LocalRedis $target
        }
    }

    It 'a host cut off from the job but not from Redis keeps its shards until it answers again; then they move, nothing lost or applied twice' {
        $target = Start-LocalRedis
        $sessions = 1..2 | ForEach-Object { New-LocalSshSession $Sshd }
        $cut = $null
        $job = Start-RedisSync $SourceNodes[0].Endpoint $target.Endpoint -Name cutoff -Session $sessions -Confirm:$false
        try {
            Wait-Until -Seconds 120 { @(Get-RedisSyncStatus -Name cutoff -Shard | Where-Object Phase -eq 'Streaming').Count -eq 3 }
            Add-Writes
            # Freeze the sshd process that carries one session: that host's process still reaches the source and the
            # target and runs its tasks, but this job hears nothing from it, as across a network partition.
            $row = Get-RedisSyncStatus -Name cutoff -Shard | Select-Object -First 1
            $away = $row.ProcessId
            $cutSession = $sessions | Where-Object Name -eq $row.Session
            $left = @(Get-RedisSyncStatus -Name cutoff -Shard | Where-Object ProcessId -eq $away | ForEach-Object Source)
            $cut = $away
            do { $cut = [int]((Get-Content "/proc/$cut/status" | Where-Object { $_ -like 'PPid:*' }) -split '\s+')[1] } until ((Get-Content "/proc/$cut/comm") -like 'sshd*' -or $cut -le 1)
            $cut | Should -BeGreaterThan 1
            & kill -STOP $cut
            Wait-Until -Seconds 60 {
                Add-Writes
                @(Get-RedisSyncStatus -Name cutoff -Shard | Where-Object { $_.Source -in $left -and $_.Restarts -eq 1 }).Count -eq $left.Count
            }
            (Get-RedisSyncStatus -Name cutoff -Shard | Where-Object Source -in $left | Select-Object -First 1).LastMove | Should -Match 'did not answer within 15 s'
            # The moved tasks wait for the leases the cut-off process renews, while it goes on applying its shards' writes.
            Add-Writes
            Wait-Until -Seconds 60 { @($Tags.Keys | Where-Object { [int](Invoke-Cli $target GET "{$_}:counter") -ne $Sent[$_] }).Count -eq 0 }
            $waiting = @(Get-RedisSyncStatus -Name cutoff -Shard | Where-Object Source -in $left)
            $waiting | ForEach-Object { $_.Phase | Should -BeIn 'Reconnecting', 'Connecting' }
            @($job.ChildJobs | Where-Object State -eq 'Failed') | Should -BeNullOrEmpty
            @($job.Warning | Where-Object { $_.Message -like '*runs again on*' }) | Should -BeNullOrEmpty
            # The partition heals: what ran there is stopped, gives its leases back, and the tasks start on the other session.
            & kill -CONT $cut
            $cut = $null
            Wait-Until -Seconds 120 {
                Add-Writes
                @(Get-RedisSyncStatus -Name cutoff -Shard | Where-Object { $_.Phase -eq 'Streaming' -and $_.ProcessId -ne $away }).Count -eq 3
            }
            $back = @($job.Warning | Where-Object { $_.Message -like "*(session $($cutSession.Name)) answered again*" })
            $back.Count | Should -Be 1
            ([regex]::Matches($back[0].Message, 'shard \S+ was still running: stopped')).Count | Should -Be $left.Count -Because $back[0].Message
            # Each moved task said once where it runs now.
            @($job.Warning | Where-Object { $_.Message -like '*runs again on*' }).Count | Should -Be $left.Count
            Add-Writes
            Wait-Until -Seconds 60 { @(Get-RedisSyncStatus -Name cutoff -Shard | Where-Object { $_.Phase -eq 'Streaming' -and $_.LagBytes -eq 0 -and $_.AppliedOffset -gt 0 }).Count -eq 3 }
            # The moved tasks continued from the checkpoints the stopped ones left, by partial resync.
            Get-RedisSyncStatus -Name cutoff -Shard | Where-Object Source -in $left | ForEach-Object { $_.FullResyncs | Should -Be 0; $_.PartialResyncs | Should -Be 1 }
            Stop-RedisSync -Name cutoff
            $job.State | Should -Be 'Stopped'
            Assert-AppliedOnce $target.Port
        }
        catch {
            throw "$_`n$(Get-ShardReport cutoff $job $target.Port)"
        }
        finally {
            if ($cut) { & kill -CONT $cut }
            Remove-Job $job -Force -ErrorAction Ignore
            Remove-PSSession $sessions
            Stop-LocalRedis $target
        }
    }

    It 'a settings file (-ConfigPath) runs over sessions, each host reading its own copy of it' {
        $source = Start-LocalRedis '--enable-debug-command', 'yes'
        $target = Start-LocalRedis
        $sessions = 1..2 | ForEach-Object { New-LocalSshSession $Sshd }
        try {
            $null = & redis-cli -p $source.Port DEBUG POPULATE 3000 'configured' 16
            $null = & redis-cli -p $source.Port SET 'expiring' 'soon' EX 3600
            $config = Join-Path $TestDrive 'over-sessions.toml'
            Set-Content -LiteralPath $config -Value "name = `"from-file`"`nmode = `"Full`"`n[source]`naddress = `"$($source.Endpoint)`"`n[target]`naddress = `"$($target.Endpoint)`"`n"
            $status = Start-RedisSync -ConfigPath $config -Session $sessions -Wait -Confirm:$false
            $status.Name | Should -Be 'from-file'
            $status.Phase | Should -Be 'Completed'
            # The 3,001 keys and the checkpoint of the sync the file names.
            [int](& redis-cli -p $target.Port DBSIZE) | Should -Be 3002
            (& redis-cli -p $target.Port EXISTS 'redissync:checkpoint:from-file') | Should -Be '1'
            [int](& redis-cli -p $target.Port TTL 'expiring') | Should -BeGreaterThan 3500
            (& redis-cli -p $target.Port GET 'configured:2999') | Should -Be (& redis-cli -p $source.Port GET 'configured:2999')

            # What each host checks before it starts its task: the file at that path, the same as the one read here.
            $start = [RedisSync.Commands.StartRedisSyncCommand].Assembly.GetType('RedisSync.Remoting.RemoteTaskScripts').GetField('Start').GetValue($null)
            $hash = (Get-FileHash -LiteralPath $config -Algorithm SHA256).Hash
            $other = Join-Path $TestDrive 'not-there.toml'
            (& ([scriptblock]::Create($start)) @{ ConfigPath = $other } 'k1' $hash).ErrorId | Should -Be 'ConfigFileMissing'
            Add-Content -LiteralPath $config -Value '# edited on this host'
            $refused = & ([scriptblock]::Create($start)) @{ ConfigPath = $config } 'k2' $hash
            $refused.ErrorId | Should -Be 'ConfigFileDiffers'
            $refused.Message | Should -BeLike "*$config*SHA-256*"
        }
        finally {
            Remove-PSSession $sessions
            Stop-LocalRedis $target
            Stop-LocalRedis $source
        }
    }

    It 'a master that a Sentinel watches runs as one task over sessions, and Complete-RedisSync cuts it over through the master the Sentinel names' {
        $master = Start-LocalRedis '--requirepass', 'sentinel-source-3', '--enable-debug-command', 'yes'
        $sentinel = Start-LocalSentinel -MasterPort $master.Port -MasterName 'orders' -AuthPass 'sentinel-source-3'
        $target = Start-LocalRedis
        $sessions = 1..2 | ForEach-Object { New-LocalSshSession $Sshd }
        try {
            $null = & redis-cli -p $master.Port -a 'sentinel-source-3' --no-auth-warning DEBUG POPULATE 2000 'watched' 16
            Wait-Until { (& redis-cli -p $sentinel.Port SENTINEL get-master-addr-by-name orders) -contains "$($master.Port)" }
            $login = [pscredential]::new('default', (ConvertTo-SecureString 'sentinel-source-3' -AsPlainText -Force))
            $job = Start-RedisSync -Sentinel $sentinel.Endpoint -MasterName orders -SourceCredential $login -Target $target.Endpoint -Name via-sentinel -Session $sessions -Confirm:$false
            $job.PSJobTypeName | Should -Be 'RedisSyncShardedJob'
            @($job.ChildJobs).Count | Should -Be 1
            Wait-Until -Seconds 120 { (Get-RedisSyncStatus -Name via-sentinel).Phase -eq 'Streaming' }
            $commands = foreach ($i in 1..40) { 'INCR counter'; "RPUSH list $i" }
            $replies = @($commands | & redis-cli -p $master.Port -a 'sentinel-source-3' --no-auth-warning)
            $replies.Count | Should -Be 80

            $report = Complete-RedisSync -Name via-sentinel -PauseSourceWrites -Verify Full -Confirm:$false
            $report.Verdict | Should -Be 'Passed' -Because "$($report.Note) $($report.DifferentKeys)"
            $report.SourceOffsets.Count | Should -Be 1
            $report.SourceOffsets[0] | Should -BeLike "127.0.0.1:$($master.Port) *"
            $report.KeysVerified | Should -Be 2002
            $report.CheckpointRemoved | Should -BeTrue
            $job.State | Should -Be 'Stopped'
            [int](& redis-cli -p $target.Port GET counter) | Should -Be 40
            [int](& redis-cli -p $target.Port LLEN list) | Should -Be 40
            @(& redis-cli -p $target.Port KEYS 'redissync:*' | Where-Object { $_ }) | Should -BeNullOrEmpty
        }
        finally {
            Remove-PSSession $sessions
            Stop-LocalRedis $target
            Stop-LocalRedis $sentinel
            Stop-LocalRedis $master
        }
    }
}

Describe 'The Kubernetes example' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:Nodes = 1..3 | ForEach-Object {
            Start-LocalRedis '--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000',
                '--cluster-port', (Get-FreeTcpPort), '--repl-diskless-sync-delay', '0'
        }
        $script:Target = Start-LocalRedis '--requirepass', 'pod-secret-7'
        $null = & redis-cli --cluster create @($Nodes.Endpoint) --cluster-yes
        Wait-Until { @($Nodes | Where-Object { (Invoke-Cli $_ CLUSTER INFO) -match 'cluster_state:ok' }).Count -eq 3 }
        foreach ($i in 1..90) { $null = & redis-cli -c -p $Nodes[0].Port SET "pod:$i" "value:$i" }
        $null = & redis-cli -c -p $Nodes[0].Port SET 'pod:ttl' 'soon' EX 3600
        # REDISSYNC_SHARDS as the example says: one slot that each master serves (its first).
        $script:Shards = foreach ($node in $Nodes) {
            $own = (Invoke-Cli $node CLUSTER NODES) | Where-Object { $_ -match 'myself' }
            (($own -split ' ')[8] -split '-')[0]
        }
        $script:Example = Join-Path $Root 'docs/examples/kubernetes'
    }

    AfterAll {
        $Nodes | ForEach-Object { Stop-LocalRedis $_ }
        Stop-LocalRedis $Target
    }

    It 'the YAML files run the shard script with the settings it reads' {
        $script = Get-Content -LiteralPath (Join-Path $Example 'shard-task.ps1') -Raw
        foreach ($file in 'copy-job.yaml', 'live-sync.yaml') {
            $yaml = Get-Content -LiteralPath (Join-Path $Example $file) -Raw
            $yaml | Should -Match '/opt/redissync/shard-task.ps1'
            foreach ($name in [regex]::Matches($yaml, 'name: (REDISSYNC_\w+)').ForEach({ $_.Groups[1].Value })) {
                $script | Should -Match $name -Because "$file sets $name"
            }
        }
    }

    It 'three pods (two of an Indexed Job, one of a StatefulSet) copy the cluster, one shard each, the password read from a file' {
        $folder = Join-Path $TestDrive 'pods'
        $null = New-Item -ItemType Directory -Path $folder -Force
        Set-Content -LiteralPath (Join-Path $folder 'target') -Value 'pod-secret-7'
        $pods = for ($i = 0; $i -lt 3; $i++) {
            $which = if ($i -lt 2) { "`$env:JOB_COMPLETION_INDEX = '$i'" } else { "`$env:JOB_COMPLETION_INDEX = ''; `$env:HOSTNAME = 'redissync-live-$i'" }
            $run = @"
`$env:PSModulePath = '$(Join-Path $Root 'out')' + [IO.Path]::PathSeparator + `$env:PSModulePath
$which
`$env:REDISSYNC_SOURCE = '$($Nodes[1].Endpoint)'
`$env:REDISSYNC_TARGET = '$($Target.Endpoint)'
`$env:REDISSYNC_NAME = 'pods'
`$env:REDISSYNC_SHARDS = '$($Shards -join ' ')'
`$env:REDISSYNC_TARGET_PASSWORD_FILE = '$(Join-Path $folder 'target')'
& '$(Join-Path $Example 'shard-task.ps1')'
exit `$LASTEXITCODE
"@
            Start-ChildShell -Output (Join-Path $folder "pod-$i.txt") -Script $run
        }
        for ($i = 0; $i -lt 3; $i++) {
            $pods[$i].WaitForExit(180000) | Should -BeTrue
            $pods[$i].ExitCode | Should -Be 0 -Because (Read-Text (Join-Path $folder "pod-$i.txt.err"))
        }
        $login = [pscredential]::new('default', (New-Secret 'pod-secret-7'))
        $summary = Compare-RedisData $Nodes[0].Endpoint $Target.Endpoint -TargetCredential $login -Mode Full -Summary
        $summary.IsEqual | Should -BeTrue
        $summary.KeysCompared | Should -Be 91
        $reach = @('-p', $Target.Port, '-a', 'pod-secret-7', '--no-auth-warning')
        [int](& redis-cli @reach TTL 'pod:ttl') | Should -BeGreaterThan 3000
        # Each pod took its own shard's lease (named by the master's slots) and gave it back.
        @(& redis-cli @reach KEYS 'redissync:checkpoint:pods:*' | Where-Object { $_ }).Count | Should -Be 3
        @(& redis-cli @reach KEYS 'redissync:lease:*' | Where-Object { $_ }).Count | Should -Be 0
    }

    It 'a pod numbered past the shards fails and names REDISSYNC_SHARDS' {
        $folder = Join-Path $TestDrive 'extra-pod'
        $null = New-Item -ItemType Directory -Path $folder -Force
        $run = "`$env:PSModulePath = '$(Join-Path $Root 'out')' + [IO.Path]::PathSeparator + `$env:PSModulePath; `$env:JOB_COMPLETION_INDEX = '3'; " +
            "`$env:REDISSYNC_SOURCE = '$($Nodes[0].Endpoint)'; `$env:REDISSYNC_TARGET = '$($Target.Endpoint)'; `$env:REDISSYNC_NAME = 'pods'; " +
            "`$env:REDISSYNC_SHARDS = '$($Shards -join ' ')'; & '$(Join-Path $Example 'shard-task.ps1')'; exit `$LASTEXITCODE"
        $pod = Start-ChildShell -Output (Join-Path $folder 'out.txt') -Script $run
        $pod.WaitForExit(60000) | Should -BeTrue
        $pod.ExitCode | Should -Be 1
        Read-Text (Join-Path $folder 'out.txt.err') | Should -Match 'REDISSYNC_SHARDS names 3 shards'
    }
}

Describe 'No password anywhere' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:LockedSource = Start-LocalRedis '--repl-diskless-sync', 'no', '--requirepass', 'source-secret-41'
        $script:LockedTarget = Start-LocalRedis '--requirepass', 'target-secret-42'
        $null = & redis-cli -p $LockedSource.Port --no-auth-warning -a 'source-secret-41' SET k v
        $script:SourceCredential = [pscredential]::new('default', (New-Secret 'source-secret-41'))
        $script:TargetCredential = [pscredential]::new('default', (New-Secret 'target-secret-42'))
    }

    AfterAll {
        Remove-SyncJobs
        Stop-LocalRedis $LockedSource
        Stop-LocalRedis $LockedTarget
    }

    It 'not in the job, its output, its status, its status file, the compare or an error' {
        $statusPath = Join-Path $TestDrive 'secret-status.json'
        $job = Start-RedisSync -Source $LockedSource.Endpoint -SourceCredential $SourceCredential -Target "redis://default:target-secret-42@$($LockedTarget.Endpoint)" `
            -Name secret -StatusPath $statusPath
        Wait-Until { (Get-RedisSyncStatus -Name secret).Phase -eq 'Streaming' }
        $seen = @(
            $job | Format-List * -Force | Out-String
            $job.Command
            $job.Location
            Get-RedisSyncStatus -Name secret | Format-List * | Out-String
            Receive-Job -Job $job -Keep | Format-List * | Out-String
            Read-Text $statusPath
            Compare-RedisData $LockedSource.Endpoint $LockedTarget.Endpoint -SourceCredential $SourceCredential -TargetCredential $TargetCredential -IncludeEqual | Format-List * | Out-String
        )
        $job | Stop-RedisSync -Confirm:$false
        $seen += Read-Text $statusPath
        $wrong = [pscredential]::new('default', (New-Secret 'not-the-secret-43'))
        try { Compare-RedisData $LockedSource.Endpoint $LockedTarget.Endpoint -SourceCredential $wrong -Summary } catch { $seen += $_.Exception.Message; $seen += "$($_.TargetObject)" }
        $seen += Get-RedisSyncStatus -Target $LockedTarget.Endpoint -TargetCredential $TargetCredential -Name secret | Format-List * | Out-String

        ($seen -join "`n") | Should -Match 'secret'
        ($seen -join "`n") | Should -Not -Match 'source-secret-41|target-secret-42|not-the-secret-43'
    }
}

Describe 'Remove-RedisSyncCheckpoint' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:Source = Start-LocalRedis '--repl-diskless-sync', 'no'
        $script:Target = Start-LocalRedis '--requirepass', 'remove-secret'
        $script:Credential = [pscredential]::new('default', (New-Secret 'remove-secret'))
        $null = Invoke-Cli $Source SET a 1
        function script:Target-Cli { & redis-cli -p $Target.Port --no-auth-warning -a 'remove-secret' @args }
    }

    AfterAll {
        Remove-SyncJobs
        Stop-LocalRedis $Source
        Stop-LocalRedis $Target
    }

    BeforeEach {
        $null = Target-Cli FLUSHALL
        $null = Start-RedisSync $Source.Endpoint $Target.Endpoint -TargetCredential $Credential -Name gone -Mode Full -Wait
    }

    It 'asks first: unanswered (a non-interactive shell), nothing is removed' -Skip:(-not $NonInteractive) {
        { Remove-RedisSyncCheckpoint -Target $Target.Endpoint -Name gone -TargetCredential $Credential } | Should -Throw
        Target-Cli EXISTS 'redissync:checkpoint:gone' | Should -Be '1'
    }

    It '-WhatIf removes nothing' {
        Remove-RedisSyncCheckpoint -Target $Target.Endpoint -Name gone -TargetCredential $Credential -WhatIf
        Target-Cli EXISTS 'redissync:checkpoint:gone' | Should -Be '1'
    }

    It 'removes the checkpoint and the lease, and leaves the data; the next run copies afresh' {
        $null = Target-Cli SET 'redissync:lease:gone' 'expired-holder' PX 1
        Wait-Until { (Target-Cli EXISTS 'redissync:lease:gone') -eq '0' }
        Remove-RedisSyncCheckpoint $Target.Endpoint gone -TargetCredential $Credential -Confirm:$false
        Target-Cli EXISTS 'redissync:checkpoint:gone' | Should -Be '0'
        Target-Cli GET a | Should -Be '1'
        { Remove-RedisSyncCheckpoint $Target.Endpoint gone -TargetCredential $Credential -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointNotFound,RedisSync.Commands.RemoveRedisSyncCheckpointCommand'
    }

    It 'refuses with SyncAlreadyRunning while a sync holds the lease; -Force removes both keys' {
        $null = Target-Cli SET 'redissync:lease:gone' 'host=elsewhere;pid=1' PX 60000
        { Remove-RedisSyncCheckpoint $Target.Endpoint gone -TargetCredential $Credential -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'SyncAlreadyRunning,RedisSync.Commands.RemoveRedisSyncCheckpointCommand' -ExpectedMessage '*redissync:lease:gone*-Force*'
        Target-Cli EXISTS 'redissync:checkpoint:gone' 'redissync:lease:gone' | Should -Be '2'

        Remove-RedisSyncCheckpoint $Target.Endpoint gone -TargetCredential $Credential -Force -Confirm:$false
        Target-Cli EXISTS 'redissync:checkpoint:gone' 'redissync:lease:gone' | Should -Be '0'
    }

    It 'takes the target and the name from a status object' {
        Get-RedisSyncStatus -Target $Target.Endpoint -TargetCredential $Credential -Name gone | Remove-RedisSyncCheckpoint -TargetCredential $Credential -Confirm:$false
        Target-Cli EXISTS 'redissync:checkpoint:gone' | Should -Be '0'
    }

    It 'a wrong password fails with TargetAuthFailed and shows no password' {
        $wrong = [pscredential]::new('default', (New-Secret 'wrong-remove-secret'))
        $record = $null
        try { Remove-RedisSyncCheckpoint $Target.Endpoint gone -TargetCredential $wrong -Confirm:$false -ErrorAction Stop } catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'TargetAuthFailed,RedisSync.Commands.RemoveRedisSyncCheckpointCommand'
        $record.Exception.Message | Should -Not -Match 'remove-secret'
        Target-Cli EXISTS 'redissync:checkpoint:gone' | Should -Be '1'
    }
}

Describe 'Ctrl+C in Start-RedisSync -Wait' -Skip:(-not $HasRedis -or -not $CanSignal) {
    BeforeAll {
        $script:Source = Start-LocalRedis '--repl-diskless-sync', 'no'
        $script:Target = Start-LocalRedis
        $null = 1..2000 | ForEach-Object { "SET key:$_ value:$_" } | & redis-cli -p $Source.Port
    }

    AfterAll {
        Stop-LocalRedis $Source
        Stop-LocalRedis $Target
    }

    It 'stops cleanly, writes the final status and exits (run <Run>: SIGINT while <When>)' -ForEach @(
        @{ Run = 1; When = 'Streaming' }, @{ Run = 2; When = 'Streaming' }, @{ Run = 3; When = 'Connecting' }) {
        $null = Invoke-Cli $Target FLUSHALL
        $output = Join-Path $TestDrive "ctrlc-$Run.txt"
        $statusPath = Join-Path $TestDrive "ctrlc-$Run.json"
        $child = Start-ChildShell -Output $output -Script @"
Import-Module '$Manifest'
Write-Host 'ready'
Start-RedisSync -Source $($Source.Endpoint) -Target $($Target.Endpoint) -Name ctrlc -StatusPath '$statusPath' -Wait
"@
        try {
            Wait-Until { (Read-Text $output) -match 'ready' }
            # Streaming: the checkpoint on the target says so (it lands with the snapshot's last batch).
            if ($When -eq 'Streaming') { Wait-Until { try { (Get-RedisSyncStatus -Target $Target.Endpoint -Name ctrlc).Phase -eq 'Streaming' } catch { $false } } }
            & kill -s INT $child.Id
            $child.WaitForExit(60000) | Should -BeTrue -Because 'the shell must not hang after Ctrl+C'
        }
        finally { if (-not $child.HasExited) { $child.Kill() } }

        Read-Text $output | Should -Match "Sync 'ctrlc' Stopped: \d+ keys and \d+ commands written, applied offset \d+"
        (Get-Content -LiteralPath $statusPath -Raw | ConvertFrom-Json).Phase | Should -Be 'Stopped'
        if ($When -eq 'Streaming') {
            (Get-RedisSyncStatus -Target $Target.Endpoint -Name ctrlc).Phase | Should -Be 'Stopped'
            [int](Invoke-Cli $Target DBSIZE) | Should -Be 2001
        }
    }
}

Describe 'Compare-RedisData and Repair-RedisData' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:Left = Start-LocalRedis
        $script:Right = Start-LocalRedis
    }

    BeforeEach {
        $null = Invoke-Cli $Left FLUSHALL
        $null = Invoke-Cli $Right FLUSHALL
        $null = Invoke-Cli $Left SET missing m
        $null = Invoke-Cli $Left SET changed new
        $null = Invoke-Cli $Right SET changed old
        $null = Invoke-Cli $Right SET extra x
    }

    AfterAll {
        Stop-LocalRedis $Left
        Stop-LocalRedis $Right
    }

    It 'streams the differences, each with its servers, and ends with the summary' {
        $result = @(Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full)
        $result[-1] | Should -BeOfType ([RedisSync.CompareSummary])
        $result[-1].IsEqual | Should -BeFalse
        $differences = @($result | Where-Object { $_ -is [RedisSync.KeyDifference] })
        $differences.ForEach({ "$($_.Status) $($_.Key)" }) | Sort-Object | Should -Be @('Extra extra', 'Missing missing', 'Value changed')
        $differences.Source | Should -Be (@($Left.Endpoint) * 3)
        $differences.Target | Should -Be (@($Right.Endpoint) * 3)
        @(Compare-RedisData $Left.Endpoint $Right.Endpoint -Summary).Count | Should -Be 1
    }

    It 'Repair-RedisData -WhatIf changes nothing' {
        Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full | Where-Object Status | Repair-RedisData -RemoveExtra -WhatIf
        Invoke-Cli $Right GET changed | Should -Be 'old'
        Invoke-Cli $Right EXISTS missing | Should -Be '0'
    }

    It 'Repair-RedisData takes the servers from the pipeline and makes them equal' {
        $repaired = Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full | Where-Object Status | Repair-RedisData -RemoveExtra -Confirm:$false
        $repaired | ForEach-Object { $_ | Should -BeOfType ([RedisSync.RepairResult]) }
        @($repaired).Count | Should -Be 3
        Invoke-Cli $Right GET changed | Should -Be 'new'
        Invoke-Cli $Right GET missing | Should -Be 'm'
        Invoke-Cli $Right EXISTS extra | Should -Be '0'
        (Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full -Summary).IsEqual | Should -BeTrue
    }

    It 'Repair-RedisData leaves extra keys without -RemoveExtra' {
        $null = Compare-RedisData $Left.Endpoint $Right.Endpoint -Mode Full | Where-Object Status | Repair-RedisData
        Invoke-Cli $Right GET changed | Should -Be 'new'
        Invoke-Cli $Right EXISTS extra | Should -Be '1'
    }
}

Describe 'TLS' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:Certs = New-TestCertificates (Join-Path $TestDrive 'certs')
        $script:TlsSource = Start-LocalRedis '--repl-diskless-sync', 'no' -Certificates $Certs -AuthClients yes
        $script:TlsTarget = Start-LocalRedis -Certificates $Certs -AuthClients yes
        $script:WrongHost = Start-LocalRedis -Certificates $Certs -Certificate wrong-host
        $script:Plain = Start-LocalRedis
        $reach = Get-RedisCliArguments $TlsSource
        $null = 1..100 | ForEach-Object { "SET key:$_ value:$_" } | & redis-cli @reach
        $script:Tls = @{ Tls = $true; CertificateAuthorityPath = (Join-Path $Certs 'ca.crt'); ClientCertificatePath = (Join-Path $Certs 'client.pfx'); ClientCertificatePassword = (New-Secret 'pfx-password') }
        $script:SourceAddress = "localhost:$($TlsSource.Port)"
        $script:TargetAddress = "localhost:$($TlsTarget.Port)"
    }

    AfterAll {
        Remove-SyncJobs
        foreach ($server in $TlsSource, $TlsTarget, $WrongHost, $Plain) { Stop-LocalRedis $server }
    }

    It 'a sync between two mutual-TLS servers copies everything; its checkpoint is read and removed over TLS' {
        $status = Start-RedisSync $SourceAddress $TargetAddress -Name tls -Mode Full -FlushTarget -Confirm:$false -Wait @Tls
        $status.Phase | Should -Be 'Completed'
        Invoke-Cli $TlsTarget GET key:42 | Should -Be 'value:42'
        (Get-RedisSyncStatus -Target $TargetAddress -Name tls @Tls).Phase | Should -Be 'Stopped'
        Remove-RedisSyncCheckpoint $TargetAddress tls -Confirm:$false @Tls
        Invoke-Cli $TlsTarget EXISTS redissync:checkpoint:tls | Should -Be '0'
    }

    It 'Compare-RedisData finds the differences over TLS and Repair-RedisData repairs them from the pipeline' {
        $null = Invoke-Cli $TlsTarget SET key:1 changed
        $null = Invoke-Cli $TlsTarget SET extra x
        $differences = @(Compare-RedisData $SourceAddress $TargetAddress -Mode Full @Tls | Where-Object Status)
        $differences.Key | Sort-Object | Should -Be @('extra', 'key:1')
        $differences.Source | Should -Be (@("rediss://$SourceAddress") * 2)
        $null = $differences | Repair-RedisData -RemoveExtra -Confirm:$false @Tls
        (Compare-RedisData $SourceAddress $TargetAddress -Mode Full -Summary @Tls).IsEqual | Should -BeTrue
    }

    It 'a certificate for another host name fails with TargetTlsFailed, SecurityError, naming both names' {
        $record = $null
        try { Compare-RedisData $Plain.Endpoint "rediss://localhost:$($WrongHost.Port)" -CertificateAuthorityPath (Join-Path $Certs 'ca.crt') -Summary -ErrorAction Stop }
        catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'TargetTlsFailed,RedisSync.Commands.CompareRedisDataCommand'
        $record.CategoryInfo.Category | Should -Be 'SecurityError'
        $record.Exception.Message | Should -Match "it is for DNS:wrong\.example, not for the host 'localhost' given"
    }

    It '-SkipCertificateCheck connects anyway and warns once per server, with what the check would find' {
        $result = Compare-RedisData "rediss://localhost:$($WrongHost.Port)" $Plain.Endpoint -SkipCertificateCheck -Summary -WarningVariable warnings -WarningAction SilentlyContinue
        $result.IsEqual | Should -BeTrue
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -Match "The certificate of the source localhost:$($WrongHost.Port) is not checked.*DNS:wrong\.example"
    }

    It 'a certificate parameter where no server uses TLS fails with InvalidParameter, naming it' {
        { Compare-RedisData $Plain.Endpoint $Plain.Endpoint -CertificateAuthorityPath (Join-Path $Certs 'ca.crt') } |
            Should -Throw -ErrorId 'InvalidParameter,RedisSync.Commands.CompareRedisDataCommand' -ExpectedMessage '-CertificateAuthorityPath: no server of this command is reached over TLS*'
    }

    It 'a wrong PFX password fails with InvalidParameter naming -ClientCertificatePassword, and shows no password' {
        $bad = $Tls.Clone()
        $bad.ClientCertificatePassword = New-Secret 'not-the-pfx-password'
        $record = $null
        try { Start-RedisSync $SourceAddress $TargetAddress -Name badpfx -Wait @bad }
        catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'InvalidParameter,RedisSync.Commands.StartRedisSyncCommand'
        $record.Exception.Message | Should -Match '^-ClientCertificatePassword: '
        $record | Out-String | Should -Not -Match 'not-the-pfx-password|pfx-password'
    }
}

Describe 'Start-RedisSync chooses what is copied' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:WSource = Start-LocalRedis '--repl-diskless-sync-delay', '0'
        $script:WTarget = Start-LocalRedis
    }

    AfterAll {
        Remove-SyncJobs
        Stop-LocalRedis $WSource
        Stop-LocalRedis $WTarget
    }

    It '-Where runs in a runspace of its own, off the pipeline thread, on the snapshot and on the stream' {
        $null = Invoke-Cli $WSource SET 'user:1' a
        $null = Invoke-Cli $WSource SET 'user:2' b
        $null = Invoke-Cli $WSource XADD 'user:stream' '*' f v
        $null = Invoke-Cli $WSource SET 'order:1' c
        $pipelineThread = [Threading.Thread]::CurrentThread.ManagedThreadId
        $mine = 'not visible in the predicate'
        # The predicate sees neither this session's variables ($mine) nor runs on this thread.
        $where = [scriptblock]::Create("`$_.Key -like 'user:*' -and `$_.Type -ne 'stream' -and `$null -eq `$mine -and [Threading.Thread]::CurrentThread.ManagedThreadId -ne $pipelineThread")
        $job = Start-RedisSync $WSource.Endpoint $WTarget.Endpoint -Name where -Where $where
        try {
            Wait-Until { (Invoke-Cli $WTarget EXISTS 'user:2') -eq '1' }
            $null = Invoke-Cli $WSource SET 'user:3' d
            $null = Invoke-Cli $WSource XADD 'user:stream2' '*' f v
            $null = Invoke-Cli $WSource SET 'order:2' e
            $null = Invoke-Cli $WSource EXPIRE 'user:stream' 100
            $null = Invoke-Cli $WSource SET 'user:marker' 1
            Wait-Until { (Invoke-Cli $WTarget EXISTS 'user:marker') -eq '1' }
            (Invoke-Cli $WTarget EXISTS 'user:1' 'user:2' 'user:3') | Should -Be '3'
            (Invoke-Cli $WTarget EXISTS 'user:stream' 'user:stream2' 'order:1' 'order:2') | Should -Be '0'
            $job.Status.Filter | Should -BeNullOrEmpty
            [Threading.Thread]::CurrentThread.ManagedThreadId | Should -Be $pipelineThread
        }
        finally { Stop-RedisSync -Name where }
    }

    It 'a -Where that throws stops the sync with WherePredicateFailed, naming the key' {
        $null = Invoke-Cli $WTarget FLUSHALL
        $record = $null
        try { Start-RedisSync $WSource.Endpoint $WTarget.Endpoint -Name where-fails -Mode Full -Wait -Where { throw 'no such thing' } -ErrorAction Stop }
        catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'WherePredicateFailed,RedisSync.Commands.StartRedisSyncCommand'
        $record.Exception.Message | Should -Match 'no such thing'
    }

    It 'the filter parameters are in every parameter set and reach the sync' {
        $null = Invoke-Cli $WTarget FLUSHALL
        $status = Start-RedisSync $WSource.Endpoint $WTarget.Endpoint -Name filtered -Mode Full -Wait -Key 'user:*' -ExcludeKey 'user:2' -Type string -RenameKey @{ 'user:*' = 'u:*' }
        $status.Filter | Should -Be "-Key 'user:*' -ExcludeKey 'user:2' -Type string -RenameKey @{ 'user:*' = 'u:*' }"
        (Invoke-Cli $WTarget EXISTS 'u:1' 'u:3') | Should -Be '2'
        (Invoke-Cli $WTarget EXISTS 'u:2' 'user:1' 'u:stream' 'order:1') | Should -Be '0'
        (Compare-RedisData $WSource.Endpoint $WTarget.Endpoint -SyncName filtered -Summary).IsEqual | Should -BeTrue
        foreach ($set in 'Source', 'Sentinel', 'RdbPath', 'ConfigPath') {
            $parameters = (Get-Command Start-RedisSync).ParameterSets | Where-Object Name -eq $set | ForEach-Object { $_.Parameters.Name }
            foreach ($name in 'Key', 'ExcludeKey', 'Database', 'Type', 'ExcludeCommand', 'RenameKey', 'Where') { $parameters | Should -Contain $name -Because "the $set set" }
        }
    }
}

Describe 'Compare-RedisData and Repair-RedisData take -Where' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:CSource = Start-LocalRedis '--repl-diskless-sync-delay', '0'
        $script:CTarget = Start-LocalRedis
        $script:UserStrings = { $_.Key -like 'user:*' -and $_.Type -ne 'hash' }
        function Set-Differences {
            $null = Invoke-Cli $CSource FLUSHALL
            $null = Invoke-Cli $CTarget FLUSHALL
            foreach ($server in $CSource, $CTarget) { $null = Invoke-Cli $server SET 'user:1' a }
            $null = Invoke-Cli $CSource SET 'user:2' b
            $null = Invoke-Cli $CTarget SET 'user:2' changed
            $null = Invoke-Cli $CSource SET 'order:1' c
            $null = Invoke-Cli $CTarget SET 'order:1' changed
            $null = Invoke-Cli $CTarget SET 'order:2' extra
            $null = Invoke-Cli $CTarget SET 'user:9' extra
            $null = Invoke-Cli $CSource HSET 'user:h' f v
        }
    }

    AfterAll {
        Remove-SyncJobs
        Stop-LocalRedis $CSource
        Stop-LocalRedis $CTarget
    }

    It 'Compare -Where ignores the differing keys the predicate drops and reports those it keeps, on both sides' {
        Set-Differences
        $differences = @(Compare-RedisData $CSource.Endpoint $CTarget.Endpoint -Mode Full -Where $UserStrings | Where-Object { $_ -is [RedisSync.KeyDifference] })
        @($differences | ForEach-Object { "$($_.Key)=$($_.Status)" } | Sort-Object) | Should -Be @('user:2=Value', 'user:9=Extra')
        @(Compare-RedisData $CSource.Endpoint $CTarget.Endpoint -Mode Full | Where-Object { $_ -is [RedisSync.KeyDifference] }).Count | Should -Be 5
    }

    It 'Repair -Where repairs only the keys the predicate keeps' {
        Set-Differences
        $results = @(Compare-RedisData $CSource.Endpoint $CTarget.Endpoint -Mode Full | Where-Object Status |
            Repair-RedisData -Where $UserStrings -RemoveExtra -Confirm:$false)
        $results.Count | Should -Be 5
        (Invoke-Cli $CTarget GET 'user:2') | Should -Be 'b'
        (Invoke-Cli $CTarget EXISTS 'user:9') | Should -Be '0'
        (Invoke-Cli $CTarget GET 'order:1') | Should -Be 'changed'
        (Invoke-Cli $CTarget EXISTS 'order:2' 'user:h') | Should -Be '1'
        @($results | Where-Object Detail -eq 'left out by -Where' | ForEach-Object Key | Sort-Object) | Should -Be @('order:1', 'order:2', 'user:h')
    }

    It 'a -Where that throws fails with WherePredicateFailed, naming the key, and its runspace is closed' {
        Set-Differences
        $open = { @(Get-Runspace | Where-Object { $_.RunspaceStateInfo.State -eq 'Opened' }).Count }
        $before = & $open
        $record = $null
        try { Compare-RedisData $CSource.Endpoint $CTarget.Endpoint -Summary -Where { throw 'no such thing' } -ErrorAction Stop }
        catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'WherePredicateFailed,RedisSync.Commands.CompareRedisDataCommand'
        $record.Exception.Message | Should -Match 'failed on key db0 (user|order):\w+: no such thing'
        $difference = Compare-RedisData $CSource.Endpoint $CTarget.Endpoint -Key 'user:2' | Where-Object Status
        $record = $null
        try { $difference | Repair-RedisData -Where { throw 'no such thing' } -ErrorAction Stop }
        catch { $record = $_ }
        $record.FullyQualifiedErrorId | Should -Be 'WherePredicateFailed,RedisSync.Commands.RepairRedisDataCommand'
        $record.Exception.Message | Should -Match 'failed on key db0 user:2: no such thing'
        & $open | Should -Be $before
    }

    It '-SyncName of a sync that used -Where fails with WherePredicateRequired without -Where, and compares with it' {
        Set-Differences
        $null = Invoke-Cli $CTarget FLUSHALL
        $null = Start-RedisSync $CSource.Endpoint $CTarget.Endpoint -Name wsync -Mode Full -Wait -Where $UserStrings
        (Invoke-Cli $CTarget EXISTS 'user:1' 'user:2') | Should -Be '2'
        { Compare-RedisData $CSource.Endpoint $CTarget.Endpoint -SyncName wsync -Summary } |
            Should -Throw -ErrorId 'WherePredicateRequired,RedisSync.Commands.CompareRedisDataCommand' -ExpectedMessage "*sync 'wsync' chose its keys with -Where*"
        $difference = [RedisSync.KeyDifference]::new(0, [Text.Encoding]::UTF8.GetBytes('user:1'), 'Value')
        { $difference | Repair-RedisData $CSource.Endpoint $CTarget.Endpoint -SyncName wsync } |
            Should -Throw -ErrorId 'WherePredicateRequired,RedisSync.Commands.RepairRedisDataCommand'
        (Compare-RedisData $CSource.Endpoint $CTarget.Endpoint -SyncName wsync -Where $UserStrings -Mode Full -Summary).IsEqual | Should -BeTrue
    }
}

Describe 'Every help example runs against local servers' -Skip:(-not $HasRedis) {
    BeforeAll {
        $script:Source = Start-LocalRedis '--repl-diskless-sync', 'no'
        $script:Target = Start-LocalRedis
        $null = 1..300 | ForEach-Object { "SET user:$_ name-$_" } | & redis-cli -p $Source.Port
        $null = Invoke-Cli $Source HSET 'order:1' id 1 total 12.5
        # The user of the credential example.
        $null = Invoke-Cli $Source ACL SETUSER replicator on '>replicator-password' '~*' '&*' '+@all'
        # The TLS examples' servers: each wants a client certificate from the test CA, and has a certificate for localhost.
        $script:Certs = New-TestCertificates (Join-Path $TestDrive 'example-certs')
        $script:TlsSource = Start-LocalRedis '--repl-diskless-sync', 'no' -Certificates $Certs -AuthClients yes
        $script:TlsTarget = Start-LocalRedis -Certificates $Certs -AuthClients optional
        $reach = Get-RedisCliArguments $TlsSource
        $null = 1..50 | ForEach-Object { "SET user:$_ name-$_" } | & redis-cli @reach
        $script:Addresses = [ordered]@{
            'redis://10.0.0.5:6379' = "redis://$($Source.Endpoint)"
            '10.0.0.5:6379'         = $Source.Endpoint
            '10.0.0.6:6379'         = $Target.Endpoint
            '127.0.0.1:6379'        = $Source.Endpoint
            '127.0.0.1:6380'        = $Target.Endpoint
            'primary.example.net:6379' = "localhost:$($TlsSource.Port)"
            'cache.example.net:6380'   = "localhost:$($TlsTarget.Port)"
            './out/RedisSync/RedisSync.psd1' = $Manifest
        }
        $script:Folder = Join-Path $TestDrive 'examples'
        # The remoting example's hosts: sessions to an sshd of the test's own.
        $script:Sshd = if (Test-LocalSshd) { Start-LocalSshd -ModulePath (Join-Path $Root 'out') }
    }

    AfterAll {
        Remove-SyncJobs
        foreach ($server in $Source, $Target, $TlsSource, $TlsTarget) { Stop-LocalRedis $server }
        Stop-LocalSshd $Sshd
    }

    BeforeEach {
        Remove-SyncJobs
        $null = Invoke-Cli $Target FLUSHALL
        $null = Invoke-Cli $TlsTarget FLUSHALL
        Remove-Item -LiteralPath $Folder -Recurse -Force -ErrorAction Ignore
        $null = New-Item -ItemType Directory -Path $Folder
        # What the examples name in the current folder: an RDB file and a settings file.
        Copy-Item -LiteralPath (Join-Path $Root 'tests/fixtures/rdb/debian-redis-7.0.15/dump.rdb') -Destination $Folder
        Copy-Item -LiteralPath (Join-Path $Certs 'ca.crt') -Destination (Join-Path $Folder 'ca.pem')
        Copy-Item -LiteralPath (Join-Path $Certs 'client.pfx') -Destination $Folder
        Set-Content -LiteralPath (Join-Path $Folder 'orders.toml') -Value "name = `"orders`"`nmode = `"Full`"`n[source]`naddress = `"$($Source.Endpoint)`"`n[target]`naddress = `"$($Target.Endpoint)`"`n"
    }

    It '<File>: <Title>' -ForEach $Examples {
        $code = $Code
        foreach ($address in $Addresses.Keys) { $code = $code.Replace($address, $Addresses[$address]) }
        $code | Should -Not -Match '6379|6380|10\.0\.0\.' -Because 'every server an example names is one of the test servers'
        # What an example expects to exist already: the checkpoint it reads, the sync it stops.
        if ($code -match 'Get-RedisSyncStatus -Target' -and $code -notmatch 'Start-RedisSync') {
            $null = Start-RedisSync $Source.Endpoint $Target.Endpoint -Name orders -Mode Full -Wait
        }
        if ($code -match 'Stop-RedisSync' -and $code -notmatch 'Start-RedisSync') {
            $null = Start-RedisSync $Source.Endpoint $Target.Endpoint -Name orders
        }
        # A cut-over from another process: the sync runs in a shell of its own, as a scheduled task's would.
        $other = $null
        if ($code -match 'Complete-RedisSync[^\n]*-Target' -and $code -notmatch 'Start-RedisSync') {
            $other = Start-ChildShell -Output (Join-Path $TestDrive 'other-sync.txt') -Script "Import-Module '$Manifest'; Start-RedisSync '$($Source.Endpoint)' '$($Target.Endpoint)' -Name orders -Wait"
        }
        if ($code -match 'New-PSSession' -and -not $Sshd) { Set-ItResult -Skipped -Because 'no sshd here to open sessions to'; return }
        # Stand in for the hosts of New-PSSession (each a session to the local sshd).
        function New-PSSession { param([string[]] $HostName, $UserName) foreach ($name in $HostName) { New-LocalSshSession $Sshd } }
        # Stand in for the prompts of Get-Credential and Read-Host (a test cannot type).
        function Get-Credential { param($UserName, $Message) [pscredential]::new($UserName, (New-Secret 'replicator-password')) }
        function Read-Host { param([switch] $AsSecureString, $Prompt) New-Secret 'pfx-password' }

        Push-Location -LiteralPath $Folder
        try {
            $ErrorActionPreference = 'Stop'
            $written = & ([scriptblock]::Create($code)) 2>&1 | Out-String -Width 120
        }
        finally {
            Pop-Location
            if ($other -and -not $other.WaitForExit(60000)) { $other.Kill() }
        }
        $written | Should -Not -Match 'Exception|Error:'
        if ($other) { Read-Text (Join-Path $TestDrive 'other-sync.txt') | Should -Match 'Stopped' -Because 'the sync of the other process was stopped through the target' }
    }
}

Describe 'The demo' -Skip:(-not $HasRedis) {
    It 'runs end to end with a small data set, ends with no difference and leaves no server running' {
        $output = Join-Path $TestDrive 'demo.txt'
        $child = Start-ChildShell -Output $output -Script "& '$(Join-Path $Root 'build.ps1')' -Demo -DemoKeys 2000"
        $child.WaitForExit(300000) | Should -BeTrue
        $text = Read-Text $output
        $child.ExitCode | Should -Be 0 -Because "$text $(Read-Text "$output.err")"
        $text | Should -Match '> \$copy = Start-RedisSync -Source'
        $text | Should -Match '> Compare-RedisData'
        $text | Should -Match 'IsEqual\s*:\s*(\x1b\[[0-9;]*m)*True'
        $servers = [regex]::Matches($text, 'redis-server PID (\d+) on 127\.0\.0\.1:\d+ in (\S+)')
        $servers.Count | Should -Be 2
        foreach ($server in $servers) {
            Get-Process -Id ([int]$server.Groups[1].Value) -ErrorAction Ignore | Should -BeNullOrEmpty
            Test-Path -LiteralPath $server.Groups[2].Value | Should -BeFalse
        }
    }
}

Describe 'The demo, interrupted' -Skip:(-not $HasRedis -or -not $CanSignal) {
    It 'stops both servers and removes their folders after Ctrl+C' {
        $output = Join-Path $TestDrive 'demo-ctrlc.txt'
        $child = Start-ChildShell -Output $output -Script "& '$(Join-Path $Root 'docs/demo/Demo.ps1')' -ModulePath '$Manifest' -Keys 2000"
        try {
            Wait-Until { (Read-Text $output) -match '== A sync job' }
            & kill -s INT $child.Id
            $child.WaitForExit(60000) | Should -BeTrue -Because 'the demo must not hang after Ctrl+C'
        }
        finally { if (-not $child.HasExited) { $child.Kill() } }
        $text = Read-Text $output
        $servers = [regex]::Matches($text, 'redis-server PID (\d+) on 127\.0\.0\.1:\d+ in (\S+)')
        $servers.Count | Should -Be 2
        foreach ($server in $servers) {
            $text | Should -Match "Stopped redis-server PID $($server.Groups[1].Value) and removed"
            Get-Process -Id ([int]$server.Groups[1].Value) -ErrorAction Ignore | Should -BeNullOrEmpty
            Test-Path -LiteralPath $server.Groups[2].Value | Should -BeFalse
        }
    }
}
