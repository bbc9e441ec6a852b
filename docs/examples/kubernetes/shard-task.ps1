# shard-task.ps1: one shard task of a RedisSync sync of a cluster source, as a Kubernetes pod runs it
# (docs/examples/kubernetes/copy-job.yaml, live-sync.yaml). Every setting comes from the environment:
#
#   REDISSYNC_SOURCE       any node of the source cluster (host:port, redis:// or rediss://)
#   REDISSYNC_TARGET       the target (a server, or any node of a target cluster)
#   REDISSYNC_NAME         the sync's name: the same in every pod of the sync
#   REDISSYNC_SHARDS       the shards, one per pod, separated by spaces: a slot each master serves
#                          (for example "0 5461 10923") or the masters' node ids
#   REDISSYNC_MODE         Full (a copy that ends; the default) or FullAndIncremental (a live sync)
#   REDISSYNC_SOURCE_USER, REDISSYNC_SOURCE_PASSWORD_FILE, REDISSYNC_TARGET_USER,
#   REDISSYNC_TARGET_PASSWORD_FILE   optional: a user and a file that holds its password (a mounted Secret)
#   JOB_COMPLETION_INDEX   set by an Indexed Job; otherwise the number at the end of HOSTNAME (a
#                          StatefulSet's pod "redissync-2" runs the third shard)
#
# Exit code 0 when the copy completed, 1 when it failed (the error on stderr; a shard whose lease another
# pod still holds fails with SyncAlreadyRunning, and Kubernetes starts the pod again later), 2 when it was
# stopped before the end. A pod that dies leaves its shard's lease to expire; the pod that replaces it
# continues from the shard's checkpoint on the target.
$ErrorActionPreference = 'Stop'
Import-Module RedisSync

function Get-Setting([string] $Name, [string] $Default) {
    $value = [Environment]::GetEnvironmentVariable($Name)
    if ($value) { return $value }
    if ($PSBoundParameters.ContainsKey('Default')) { return $Default }
    throw "The environment variable $Name is not set."
}

function Get-Login([string] $Side) {
    $file = [Environment]::GetEnvironmentVariable("REDISSYNC_$($Side)_PASSWORD_FILE")
    if (-not $file) { return $null }
    $user = Get-Setting "REDISSYNC_$($Side)_USER" 'default'
    $password = ConvertTo-SecureString ((Get-Content -LiteralPath $file -Raw).TrimEnd("`r", "`n")) -AsPlainText -Force
    [pscredential]::new($user, $password)
}

$index = if ($env:JOB_COMPLETION_INDEX) { [int]$env:JOB_COMPLETION_INDEX }
elseif ($env:HOSTNAME -match '-(\d+)$') { [int]$Matches[1] }
else { throw "Neither JOB_COMPLETION_INDEX nor a HOSTNAME ending in -<number> says which shard this pod runs (HOSTNAME is '$env:HOSTNAME')." }
$shards = @((Get-Setting 'REDISSYNC_SHARDS') -split '\s+' | Where-Object { $_ })
if ($index -ge $shards.Count) { throw "This pod is number $index, but REDISSYNC_SHARDS names $($shards.Count) shards: '$env:REDISSYNC_SHARDS'." }

$sync = @{
    Source  = Get-Setting 'REDISSYNC_SOURCE'
    Target  = Get-Setting 'REDISSYNC_TARGET'
    Name    = Get-Setting 'REDISSYNC_NAME'
    Shard   = $shards[$index]
    Mode    = Get-Setting 'REDISSYNC_MODE' 'Full'
    Confirm = $false
    Wait    = $true
}
$sourceLogin = Get-Login 'SOURCE'
if ($sourceLogin) { $sync.SourceCredential = $sourceLogin }
$targetLogin = Get-Login 'TARGET'
if ($targetLogin) { $sync.TargetCredential = $targetLogin }

$status = Start-RedisSync @sync
if ($status.Phase -ne 'Completed') { exit 2 }
