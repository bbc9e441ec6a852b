using System;
using System.Buffers;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Scan;

/// <summary>
/// Keys of the source, as they are now, onto the target: MEMORY USAGE, then DUMP with PEXPIRETIME (PTTL
/// before Redis 7) in pipelined rounds bounded in bytes, written as RESTORE … ABSTTL REPLACE through the
/// writer; a key gone from the source is deleted there. A key DUMP cannot carry — bigger than
/// <see cref="RestoreLimitBytes"/>, DUMP refused, or a payload of an RDB version newer than the target
/// loads — is read by type in chunks (HSCAN/SSCAN/ZSCAN, LRANGE, XRANGE, GETRANGE) and built under a
/// temporary name renamed into place: the key builder Repair-RedisData uses.
/// </summary>
internal sealed class KeyReader : IDisposable
{
    /// <summary>A value bigger than this (MEMORY USAGE) is read in chunks: DUMP and RESTORE hold it whole.</summary>
    internal const long RestoreLimitBytes = 8 * 1024 * 1024;

    /// <summary>The most bytes of DUMP payloads one pipelined round holds.</summary>
    private const long RoundBytes = 16 * 1024 * 1024;

    private readonly SyncOptions _options;
    private readonly ITarget _writer;
    private readonly DatabaseMap _databases;
    private readonly Action<SyncWarning> _warn;
    private RedisConnection? _source;
    private DataRepairer? _builder;
    private bool _absoluteTtl;
    private bool _dumpRefused;
    private bool _noMemoryUsage;
    private int _sourceDb = -1;

    private readonly WriteRateLimit? _readRate;

    /// <param name="options">The run's options.</param>
    /// <param name="writer">The target's writer.</param>
    /// <param name="databases">Source database to target database.</param>
    /// <param name="warn">Where warnings go.</param>
    /// <param name="readRate">-MaxReadRate: keys per second read from the source, shared with the verify passes; or null.</param>
    public KeyReader(SyncOptions options, ITarget writer, DatabaseMap databases, Action<SyncWarning> warn, WriteRateLimit? readRate)
    {
        _options = options;
        _writer = writer;
        _databases = databases;
        _warn = warn;
        _readRate = readRate;
    }

    /// <summary>Whether a key that exists on the target is replaced (else the writer's busy-key policy decides).</summary>
    public bool Replace { get; set; } = true;

    /// <summary>Keys built in chunks (too big for DUMP, or DUMP not possible).</summary>
    public long KeysBuilt { get; private set; }

    /// <summary>Connects its own source link (pipelined rounds) and the chunked key builder.</summary>
    public async Task ConnectAsync(RedisEndpoint source, RedisConnection control, ServerInfo info, CancellationToken cancellationToken)
    {
        _source = await RedisConnection.ConnectAsync(source, EndpointRole.Source, cancellationToken).ConfigureAwait(false);
        _absoluteTtl = info.IsValkey || info.Version.Major >= 7;
        _builder = await DataRepairer.ConnectAsync(source, _options.Target, new RepairOptions { RemoveExtra = true, Method = RepairMethod.Commands }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Copies <paramref name="keys"/> of source database <paramref name="db"/> as they are now.</summary>
    public async Task CopyAsync(int db, IReadOnlyList<byte[]> keys, CancellationToken cancellationToken, bool? replace = null)
    {
        if (keys.Count == 0) return;
        RedisConnection source = _source!;
        bool replacing = replace ?? Replace;
        int targetDb = _databases.Map(db);
        if (_sourceDb != db)
        {
            await source.ExecuteOrThrowAsync(cancellationToken, "SELECT", db).ConfigureAwait(false);
            _sourceDb = db;
        }
        var build = new List<byte[]>();
        if (_dumpRefused)
        {
            await BuildAsync(db, targetDb, keys, cancellationToken).ConfigureAwait(false);
            return;
        }
        long[] sizes = await SizesAsync(source, keys, cancellationToken).ConfigureAwait(false);
        int next = 0;
        while (next < keys.Count)
        {
            var round = new List<byte[]>();
            long bytes = 0;
            for (; next < keys.Count && (round.Count == 0 || bytes + sizes[next] <= RoundBytes); next++)
            {
                if (sizes[next] > RestoreLimitBytes)
                {
                    build.Add(keys[next]);
                    continue;
                }
                round.Add(keys[next]);
                bytes += sizes[next];
            }
            if (round.Count == 0) continue;
            if (_readRate != null) await _readRate.TakeAsync(round.Count, cancellationToken).ConfigureAwait(false);
            foreach (byte[] key in round)
            {
                RespFormatter.WriteCommand(source.Output, "DUMP", key);
                RespFormatter.WriteCommand(source.Output, _absoluteTtl ? "PEXPIRETIME" : "PTTL", key);
            }
            await source.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < round.Count; i++)
            {
                RespValue dump = await source.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                RespValue ttl = await source.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
                byte[] key = round[i];
                if (dump.IsError)
                {
                    if (!_dumpRefused)
                    {
                        _dumpRefused = true;
                        _warn(new SyncWarning(SyncErrorIds.DumpRefused, SyncErrorKind.Skip, null, "DUMP",
                            $"The source {source.Endpoint} refused DUMP ({dump.AsString()}): every key is read by type in chunks, which is slower. Allow DUMP for the sync's user to copy keys whole."));
                    }
                    build.Add(key);
                    continue;
                }
                if (ttl.IsError)
                {
                    throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop,
                        $"{(_absoluteTtl ? "PEXPIRETIME" : "PTTL")} on the source {source.Endpoint} failed: {ttl.AsString()}") { Command = _absoluteTtl ? "PEXPIRETIME" : "PTTL" };
                }
                if (dump.IsNull || dump.Bytes == null || ttl.Integer == -2)
                {
                    WriteDelete(targetDb, key);
                    continue;
                }
                if (DataRepairer.PayloadVersion(new ReadOnlySequence<byte>(dump.Bytes)) > Math.Min(_writer.Server.RdbVersion, _options.TargetRdbVersionLimit ?? int.MaxValue))
                {
                    build.Add(key);
                    continue;
                }
                WriteRestore(targetDb, key, dump.Bytes, ttl.Integer, replacing);
            }
        }
        if (build.Count > 0) await BuildAsync(db, targetDb, build, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>MEMORY USAGE of each key (pipelined); 0 where it is refused or the key is gone.</summary>
    private async Task<long[]> SizesAsync(RedisConnection source, IReadOnlyList<byte[]> keys, CancellationToken cancellationToken)
    {
        var sizes = new long[keys.Count];
        if (_noMemoryUsage) return sizes;
        foreach (byte[] key in keys) RespFormatter.WriteCommand(source.Output, "MEMORY", "USAGE", key);
        await source.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < keys.Count; i++)
        {
            RespValue usage = await source.ReadReplyAsync(cancellationToken).ConfigureAwait(false);
            if (usage.IsError) _noMemoryUsage = true;
            else if (!usage.IsNull) sizes[i] = usage.Integer;
        }
        return sizes;
    }

    private void WriteRestore(int targetDb, byte[] key, byte[] payload, long ttl, bool replace)
    {
        bool absolute = _absoluteTtl && ttl >= 0;
        _writer.SelectDb(targetDb);
        _writer.BeginCommand();
        _writer.Arg("RESTORE"u8);
        _writer.Arg(key);
        _writer.Arg(ttl >= 0 ? ttl : 0);
        _writer.Arg(payload);
        if (replace) _writer.Arg("REPLACE"u8);
        if (absolute) _writer.Arg("ABSTTL"u8);
        _writer.EndCommand();
        _writer.KeyDone();
    }

    private void WriteDelete(int targetDb, byte[] key)
    {
        _writer.SelectDb(targetDb);
        _writer.BeginCommand();
        _writer.Arg("DEL"u8);
        _writer.Arg(key);
        _writer.EndCommand();
    }

    /// <summary>
    /// Keys read by type in chunks, on the builder's own links: the writer drains first, so nothing it
    /// holds for these keys lands after them.
    /// </summary>
    private async Task BuildAsync(int db, int targetDb, IReadOnlyList<byte[]> keys, CancellationToken cancellationToken)
    {
        await _writer.DrainAsync(cancellationToken).ConfigureAwait(false);
        foreach (byte[] key in keys)
        {
            if (_readRate != null) await _readRate.TakeAsync(1, cancellationToken).ConfigureAwait(false);
            try
            {
                await _builder!.RepairAsync(new RedisSync.KeyDifference(db, key, RedisSync.KeyStatus.Missing), targetDb, cancellationToken).ConfigureAwait(false);
                KeysBuilt++;
            }
            catch (SyncException ex) when (ex.Kind == SyncErrorKind.Skip)
            {
                _warn(new SyncWarning(ex.ErrorId, SyncErrorKind.Skip, ex.Key, ex.Command, ex.Message));
            }
        }
    }

    public void Dispose()
    {
        _builder?.Dispose();
        _source?.Dispose();
    }
}
