#Requires -Version 5.1
<#
.SYNOPSIS
A first sync, end to end, on two throwaway servers: what `./build.ps1 -Demo` runs.

.DESCRIPTION
Starts two redis-server processes on free loopback ports, each in a temp folder of its own, loads a
sample data set into the first (every type, a few big keys, TTLs, three databases), then shows the
cmdlets at work and prints each command before it runs it:

  1. a one-off full copy in the foreground (Start-RedisSync -Mode Full -Wait, with its progress bar);
  2. a sync job that copies and then streams, while the demo writes on the source (Get-RedisSyncStatus);
  3. Compare-RedisData, which finds no difference;
  4. Stop-RedisSync.

Both servers are stopped by PID and their folders removed at the end, also after an error or Ctrl+C.

.EXAMPLE
./docs/demo/Demo.ps1 -ModulePath ./out/RedisSync/RedisSync.psd1 -Keys 2000
#>
[CmdletBinding()]
param(
    # The module to demonstrate (build.ps1 passes the one it built).
    [Parameter(Mandatory)]
    [string] $ModulePath,

    # Small keys in the sample data set; the big keys grow with it.
    [ValidateRange(100, 10000000)]
    [int] $Keys = 200000
)

$ErrorActionPreference = 'Stop'
$ModulePath = (Resolve-Path -LiteralPath $ModulePath).Path
Import-Module (Join-Path $PSScriptRoot '../../tests/RedisSync.TestTools.psm1') -Force

function Show-Step([string] $Text) { Write-Host ''; Write-Host "== $Text" -ForegroundColor Green }

# Prints a command as it would be typed and returns it to be run here: . (Shown '...')
function Shown([string] $Command) {
    Write-Host "> $Command" -ForegroundColor Cyan
    [scriptblock]::Create($Command)
}

# Fills one database: strings, hashes, lists, sets, sorted sets and streams, one key in seven with a TTL.
$fill = @'
redis.call('SELECT', tonumber(ARGV[2]))
local n = tonumber(ARGV[1])
for i = 1, n do
  local kind = i % 10
  local key
  if kind < 6 then key = 'user:' .. i; redis.call('SET', key, 'name-' .. i .. '-' .. string.rep('x', i % 40))
  elseif kind == 6 then key = 'profile:' .. i; redis.call('HSET', key, 'name', 'n' .. i, 'age', i % 90, 'city', 'c' .. (i % 100))
  elseif kind == 7 then key = 'events:' .. i; redis.call('RPUSH', key, 'login', 'view:' .. (i % 13), 'logout')
  elseif kind == 8 then key = 'tags:' .. i; redis.call('SADD', key, 'a', 'b', 'c' .. (i % 7))
  elseif i % 20 == 9 then key = 'scores:' .. i; redis.call('ZADD', key, i, 'p1', i * 1.5, 'p2')
  else key = 'audit:' .. i; redis.call('XADD', key, '*', 'user', i, 'action', 'login') end
  if i % 7 == 0 then redis.call('PEXPIRE', key, 3600000 + i) end
end
return n
'@

# A few big keys in database 0: a hash, a list, a sorted set and a 1 MB string.
$big = @'
local n = tonumber(ARGV[1])
for i = 1, n, 500 do
  local fields, items, scored = {}, {}, {}
  for j = i, math.min(i + 499, n) do
    fields[#fields + 1] = 'field:' .. j; fields[#fields + 1] = 'value:' .. j
    items[#items + 1] = 'item:' .. j
    scored[#scored + 1] = j / 3; scored[#scored + 1] = 'member:' .. j
  end
  redis.call('HSET', 'big:hash', unpack(fields))
  redis.call('RPUSH', 'big:list', unpack(items))
  redis.call('ZADD', 'big:zset', unpack(scored))
end
redis.call('SET', 'big:string', string.rep('0123456789abcdef', 65536))
return n
'@

$servers = @()
try {
    Show-Step 'Two throwaway servers on free loopback ports'
    foreach ($role in 'source', 'target') {
        # Disk-based replication: the source answers a replica at once (the diskless default waits 5 s for more).
        $server = Start-LocalRedis '--repl-diskless-sync', 'no'
        $servers += $server
        Write-Host "The $role is redis-server PID $($server.Process.Id) on $($server.Endpoint) in $($server.Dir)"
    }
    $source = $servers[0].Endpoint
    $target = $servers[1].Endpoint
    $cli = { & redis-cli -p $servers[0].Port @args }

    Show-Step "A sample data set on the source: $Keys keys of every type in databases 0, 1 and 2, a few big keys"
    $perDb = @([int]($Keys * 0.8), [int]($Keys * 0.15))
    $perDb += $Keys - $perDb[0] - $perDb[1]
    for ($db = 0; $db -lt 3; $db++) { $null = & $cli EVAL $fill 0 $perDb[$db] $db }
    $null = & $cli EVAL $big 0 ([math]::Max(1000, [int]($Keys / 4)))
    & $cli INFO keyspace | Where-Object { $_ -match '^db\d' } | ForEach-Object { Write-Host "  $_" }

    . (Shown "Import-Module '$ModulePath'")

    Show-Step 'A one-off full copy in the foreground (progress bar; Ctrl+C would stop it cleanly)'
    . (Shown "`$copy = Start-RedisSync -Source $source -Target $target -Name demo-copy -Mode Full -Wait")
    . (Shown '$copy | Format-List Name, Phase, KeysWritten, KeysPerSecond, StartTime, Timestamp')

    Show-Step 'A sync job: a fresh full copy (the target is emptied first), then every write as it happens'
    . (Shown "`$job = Start-RedisSync -Source $source -Target $target -Name demo -FlushTarget -Confirm:`$false")
    . (Shown "while ((Get-RedisSyncStatus -Name demo).Phase -ne 'Streaming') { if (`$job.State -ne 'Running') { throw 'The sync job ended: ' + (`$job.Status.LastError) }; Start-Sleep -Milliseconds 200 }")

    Show-Step 'Writes on the source while the job streams'
    for ($i = 1; $i -le 100; $i++) { $null = & $cli INCR 'demo:counter' }
    Write-Host "> redis-cli -p $($servers[0].Port) INCR demo:counter   (100 times)" -ForegroundColor Cyan
    . (Shown "& redis-cli -p $($servers[0].Port) SET demo:greeting 'hello from the source' EX 600")
    . (Shown "& redis-cli -p $($servers[0].Port) DEL user:10 user:20")
    . (Shown "& redis-cli -p $($servers[0].Port) HSET big:hash field:new 'added while streaming'")
    . (Shown "while ((& redis-cli -p $($servers[1].Port) GET demo:counter) -ne '100') { Start-Sleep -Milliseconds 100 }")
    . (Shown 'Get-RedisSyncStatus -Name demo | Format-List Name, Phase, AppliedOffset, LagBytes, LagMilliseconds, KeysWritten, CommandsWritten')

    Show-Step 'Compare the servers: every value, not only types and lengths; TTLs read on two busy servers may be a moment apart'
    . (Shown "Compare-RedisData -Source $source -Target $target -Mode Full -TtlTolerance '00:00:01' -Summary | Format-List")

    Show-Step 'Stop the sync: in-flight writes drained, checkpoint recorded; the same -Name resumes from it'
    . (Shown 'Stop-RedisSync -Name demo -PassThru | Format-List Name, Phase, AppliedOffset')
    . (Shown 'Get-Job -Name demo | Format-Table Id, Name, PSJobTypeName, State')
}
finally {
    # Also on an error or Ctrl+C: no job, no server and no folder is left behind.
    Get-Job | Where-Object { $_.PSJobTypeName -eq 'RedisSyncJob' -and $_.Name -like 'demo*' } | Remove-Job -Force
    foreach ($server in $servers) {
        Stop-LocalRedis $server
        Write-Host "Stopped redis-server PID $($server.Process.Id) and removed $($server.Dir)"
    }
}
