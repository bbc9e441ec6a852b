# Throwaway redis-server processes and child shells, for the Pester suite, build.ps1 and the demo.
# Each server runs on a free loopback port (never 6379) in a temp folder of its own, and is stopped by PID.

Set-StrictMode -Version 3

function Get-FreeTcpPort {
    # A port the system just handed out and released: free on 127.0.0.1 for the moment.
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start()
    try { $listener.LocalEndpoint.Port } finally { $listener.Stop() }
}

function Test-TcpPort {
    param([int] $Port)
    $client = [System.Net.Sockets.TcpClient]::new()
    try {
        $client.Connect([System.Net.IPAddress]::Loopback, $Port)
        $true
    }
    catch { $false }
    finally { $client.Dispose() }
}

function Wait-TcpPort {
    # True once something accepts connections on the port; false when the process exited or the time ran out.
    param([int] $Port, [System.Diagnostics.Process] $Process, [int] $TimeoutSeconds)
    $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
    while (-not (Test-TcpPort $Port)) {
        if ($Process.HasExited -or [DateTime]::UtcNow -gt $deadline) { return $false }
        Start-Sleep -Milliseconds 50
    }
    $true
}

function New-TestCertificates {
    <#
    .SYNOPSIS
    Makes the certificates of the TLS tests in a new folder with openssl (tests/fixtures/tls/make-certificates.sh); returns the folder.
    #>
    param([Parameter(Mandatory)] [string] $Path)
    $null = New-Item -ItemType Directory -Path $Path -Force
    $output = & sh (Join-Path $PSScriptRoot 'fixtures/tls/make-certificates.sh') $Path 2>&1
    if ($LASTEXITCODE -ne 0) { throw "make-certificates.sh failed (is openssl installed?): $output" }
    $Path
}

function Start-LocalRedis {
    <#
    .SYNOPSIS
    Starts redis-server on a free loopback port in a new temp folder; returns Port, Endpoint, Process, Dir and Tls.
    .DESCRIPTION
    With -Certificates (a folder from New-TestCertificates) the server listens only for TLS, with the
    certificate -Certificate of that folder, and takes client certificates as -AuthClients says
    (tls-auth-clients: no, yes or optional); Tls is then the folder.
    #>
    param([string[]] $Arguments = @(), [int] $TimeoutSeconds = 20, [string] $Certificates, [string] $Certificate = 'server', [string] $AuthClients = 'no')

    if (-not (Get-Command redis-server -CommandType Application -ErrorAction Ignore)) {
        throw 'redis-server is not installed. Install it first: "sudo apt-get install redis-server" (Debian, Ubuntu), "brew install redis" (macOS), or run this in WSL (Windows).'
    }
    $port = Get-FreeTcpPort
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('redissync-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    $null = New-Item -ItemType Directory -Path $dir
    $listen = if ($Certificates) {
        @('--port', 0, '--tls-port', $port, '--tls-cert-file', (Join-Path $Certificates "$Certificate.crt"), '--tls-key-file', (Join-Path $Certificates "$Certificate.key"),
            '--tls-ca-cert-file', (Join-Path $Certificates 'ca.crt'), '--tls-auth-clients', $AuthClients)
    }
    else { @('--port', $port) }
    $all = $listen + @('--bind', '127.0.0.1', '--dir', $dir, '--appendonly', 'no', '--daemonize', 'no') + $Arguments
    $process = Start-Process -FilePath (Get-Command redis-server -CommandType Application)[0].Source -ArgumentList $all -PassThru `
        -RedirectStandardOutput (Join-Path $dir 'out.log') -RedirectStandardError (Join-Path $dir 'err.log')
    $server = [pscustomobject]@{ Port = $port; Endpoint = "127.0.0.1:$port"; Process = $process; Dir = $dir; Tls = $(if ($Certificates) { $Certificates } else { $null }) }
    # Accepting connections is enough: a server with requirepass answers PING with NOAUTH.
    if (-not (Wait-TcpPort $port $process $TimeoutSeconds)) {
        $log = Get-Content -LiteralPath (Join-Path $dir 'out.log') -Raw -ErrorAction Ignore
        Stop-LocalRedis $server
        throw "redis-server on port $port did not start: $log"
    }
    $server
}

function Start-LocalSentinel {
    <#
    .SYNOPSIS
    Starts a Sentinel (redis-server --sentinel) on a free loopback port in a new temp folder, watching the master on
    127.0.0.1:<MasterPort> as <MasterName> (quorum 1, logging in with -AuthPass when given); returns Port, Endpoint, Process and Dir, like Start-LocalRedis.
    #>
    param([Parameter(Mandatory)] [int] $MasterPort, [string] $MasterName = 'mymaster', [string] $AuthPass, [int] $TimeoutSeconds = 20)

    $port = Get-FreeTcpPort
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('redissync-sentinel-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    $null = New-Item -ItemType Directory -Path $dir
    # Sentinel rewrites its configuration file: it must be one of its own.
    $config = Join-Path $dir 'sentinel.conf'
    Set-Content -LiteralPath $config -Value @(
        "port $port", 'bind 127.0.0.1', "dir $dir", "sentinel monitor $MasterName 127.0.0.1 $MasterPort 1",
        "sentinel down-after-milliseconds $MasterName 5000", "sentinel failover-timeout $MasterName 10000"
        $(if ($AuthPass) { "sentinel auth-pass $MasterName $AuthPass" }))
    $process = Start-Process -FilePath (Get-Command redis-server -CommandType Application)[0].Source -ArgumentList $config, '--sentinel' -PassThru `
        -RedirectStandardOutput (Join-Path $dir 'out.log') -RedirectStandardError (Join-Path $dir 'err.log')
    $server = [pscustomobject]@{ Port = $port; Endpoint = "127.0.0.1:$port"; Process = $process; Dir = $dir; Tls = $null }
    if (-not (Wait-TcpPort $port $process $TimeoutSeconds)) {
        $log = Get-Content -LiteralPath (Join-Path $dir 'out.log') -Raw -ErrorAction Ignore
        Stop-LocalRedis $server
        throw "the Sentinel on port $port did not start: $log"
    }
    $server
}

function Stop-LocalRedis {
    <#
    .SYNOPSIS
    Stops a server from Start-LocalRedis by its PID and removes its folder.
    #>
    param($Server)
    if (-not $Server) { return }
    if (-not $Server.Process.HasExited) {
        Stop-Process -Id $Server.Process.Id -Force -ErrorAction Ignore
        $null = $Server.Process.WaitForExit(10000)
    }
    Remove-Item -LiteralPath $Server.Dir -Recurse -Force -ErrorAction Ignore
}

function Get-PowerShellCommand {
    <#
    .SYNOPSIS
    The program that runs this PowerShell and the arguments that start another one like it.
    .DESCRIPTION
    pwsh as a .NET tool runs as `dotnet pwsh.dll` (so the process to signal is that dotnet, not the
    pwsh launcher), an installed pwsh as itself, Windows PowerShell as powershell.exe.
    #>
    $program = (Get-Process -Id $PID).Path
    if ([System.IO.Path]::GetFileNameWithoutExtension($program) -eq 'dotnet') { return @($program, (Join-Path $PSHOME 'pwsh.dll')) }
    @($program)
}

function Get-RedisCliArguments {
    <#
    .SYNOPSIS
    The redis-cli arguments that reach a server from Start-LocalRedis: its port, and for a TLS server the test client certificate (the server's not checked).
    #>
    param($Server)
    $arguments = @('-p', $Server.Port)
    if ($Server.Tls) { $arguments += @('--tls', '--insecure', '--cert', (Join-Path $Server.Tls 'client.crt'), '--key', (Join-Path $Server.Tls 'client.key')) }
    $arguments
}


function Test-LocalSshd {
    <#
    .SYNOPSIS
    True where Start-LocalSshd can run: PowerShell 7 off Windows, with Debian's openssh-server and ssh-keygen.
    #>
    -not $IsWindows -and $PSVersionTable.PSEdition -eq 'Core' -and (Test-Path -LiteralPath '/usr/sbin/sshd') -and
        [bool](Get-Command ssh-keygen -CommandType Application -ErrorAction Ignore)
}

function Start-LocalSshd {
    <#
    .SYNOPSIS
    Starts an sshd of its own (Debian's openssh-server) on a free loopback port, with its own host key, config and
    authorized key, and PowerShell's SSH subsystem; returns Port, KeyPath, Process and Dir.
    .DESCRIPTION
    The subsystem runs this PowerShell's own program (for pwsh as a .NET tool: dotnet pwsh.dll -sshs), so
    $PID in a session is the process that serves it. -ModulePath goes first on the sessions' PSModulePath.
    Never the system's service: this sshd runs in the foreground (-D) and is stopped by its PID.
    #>
    param([string] $ModulePath, [int] $TimeoutSeconds = 20)
    $sshd = '/usr/sbin/sshd'
    if (-not (Test-Path -LiteralPath $sshd)) { throw 'sshd is not installed: "sudo apt-get install openssh-server" (Debian, Ubuntu).' }
    $port = Get-FreeTcpPort
    $dir = Join-Path ([System.IO.Path]::GetTempPath()) ('redissync-sshd-' + [guid]::NewGuid().ToString('N').Substring(0, 12))
    $null = New-Item -ItemType Directory -Path $dir
    foreach ($name in 'host_key', 'client_key') {
        $output = & ssh-keygen -q -t ed25519 -N '' -C "redissync-test-$name" -f (Join-Path $dir $name) 2>&1
        if ($LASTEXITCODE -ne 0) { throw "ssh-keygen failed: $output" }
    }
    Copy-Item -LiteralPath (Join-Path $dir 'client_key.pub') -Destination (Join-Path $dir 'authorized_keys')
    # sshd wants its privilege separation folder (made by the package's service, which is not started here).
    if (-not (Test-Path -LiteralPath '/run/sshd')) { $null = New-Item -ItemType Directory -Path '/run/sshd' -Force }
    $shell = @(Get-PowerShellCommand)
    $dotnetRoot = Split-Path -Parent ([System.IO.Path]::GetFullPath($shell[0]))
    $modules = @($ModulePath, [Environment]::GetEnvironmentVariable('PSModulePath')) | Where-Object { $_ }
    $config = @(
        "Port $port"
        'ListenAddress 127.0.0.1'
        "HostKey $(Join-Path $dir 'host_key')"
        "PidFile $(Join-Path $dir 'sshd.pid')"
        "AuthorizedKeysFile $(Join-Path $dir 'authorized_keys')"
        'PubkeyAuthentication yes'
        'PasswordAuthentication no'
        'KbdInteractiveAuthentication no'
        'PermitRootLogin prohibit-password'
        'UsePAM no'
        'StrictModes no'
        "SetEnv PSModulePath=$($modules -join [IO.Path]::PathSeparator) DOTNET_ROOT=$dotnetRoot"
        "Subsystem powershell $($shell -join ' ') -sshs -NoLogo -NoProfile"
    )
    Set-Content -LiteralPath (Join-Path $dir 'sshd_config') -Value $config
    $process = Start-Process -FilePath $sshd -ArgumentList @('-D', '-e', '-f', (Join-Path $dir 'sshd_config')) -PassThru `
        -RedirectStandardOutput (Join-Path $dir 'out.log') -RedirectStandardError (Join-Path $dir 'err.log')
    $server = [pscustomobject]@{ Port = $port; KeyPath = (Join-Path $dir 'client_key'); Process = $process; Dir = $dir }
    if (-not (Wait-TcpPort $port $process $TimeoutSeconds)) {
        $log = Get-Content -LiteralPath (Join-Path $dir 'err.log') -Raw -ErrorAction Ignore
        Stop-LocalSshd $server
        throw "sshd on port $port did not start: $log"
    }
    $server
}

function New-LocalSshSession {
    <#
    .SYNOPSIS
    A PowerShell session over SSH to an sshd from Start-LocalSshd (as the current user, with its key; the host key not checked).
    #>
    param($Sshd)
    $options = @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
    New-PSSession -HostName 127.0.0.1 -Port $Sshd.Port -UserName ([Environment]::UserName) -KeyFilePath $Sshd.KeyPath -Options $options -ErrorAction Stop
}

function Stop-LocalSshd {
    <#
    .SYNOPSIS
    Stops an sshd from Start-LocalSshd by its PID (the sessions' processes end with their connections) and removes its folder.
    #>
    param($Sshd)
    if (-not $Sshd) { return }
    if (-not $Sshd.Process.HasExited) {
        Stop-Process -Id $Sshd.Process.Id -Force -ErrorAction Ignore
        $null = $Sshd.Process.WaitForExit(10000)
    }
    Remove-Item -LiteralPath $Sshd.Dir -Recurse -Force -ErrorAction Ignore
}
Export-ModuleMember -Function Get-FreeTcpPort, New-TestCertificates, Start-LocalRedis, Start-LocalSentinel, Stop-LocalRedis, Get-RedisCliArguments, Get-PowerShellCommand, Test-LocalSshd, Start-LocalSshd, New-LocalSshSession, Stop-LocalSshd
