using System;
using System.Buffers;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Readers;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Writers;

// The link: the handshake, the send and receive loops on one connection, and the recovery after a loss.
internal sealed partial class TargetWriter
{
    /// <summary>
    /// Connects, logs in, waits while the target loads its dataset, names the connection, reads INFO
    /// server and the connection's CLIENT ID (-1 if the user may not ask).
    /// </summary>
    private static async Task<(RedisConnection Connection, ServerInfo Server, long ClientId, int Databases)> HandshakeAsync(RedisEndpoint endpoint, TargetWriterOptions options, CancellationToken ct)
    {
        RedisConnection connection = await RedisConnection.ConnectAsync(endpoint, EndpointRole.Target, ct, null, hotPath: true).ConfigureAwait(false);
        try
        {
            var loading = Stopwatch.StartNew();
            TimeSpan delay = TimeSpan.FromMilliseconds(50);
            while (true)
            {
                RespValue reply = await connection.ExecuteAsync(ct, "PING").ConfigureAwait(false);
                // NOPERM: a user without PING; the ACL check comes before the loading check, so go on.
                if (!reply.IsError || reply.ErrorCode == "NOPERM") break;
                if (reply.ErrorCode != "LOADING") throw HandshakeError(endpoint, reply, "PING");
                if (loading.Elapsed >= options.LoadingTimeout)
                {
                    throw new SyncException(SyncErrorIds.TargetUnreachable, SyncErrorKind.Retry,
                        $"The target {endpoint} is still loading its dataset after {options.LoadingTimeout} ({reply.AsString()}). Wait for it to finish, or raise LoadingTimeout.");
                }
                await Task.Delay(delay, ct).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerSecond));
            }
            if (options.ClientName != null)
            {
                RespValue reply = await connection.ExecuteAsync(ct, "CLIENT", "SETNAME", options.ClientName).ConfigureAwait(false);
                if (reply.IsError && reply.ErrorCode != "NOPERM") throw HandshakeError(endpoint, reply, "CLIENT SETNAME");
            }
            RespValue id = await connection.ExecuteAsync(ct, "CLIENT", "ID").ConfigureAwait(false);
            ServerInfo server = await connection.GetServerInfoAsync(ct).ConfigureAwait(false);
            int databases = await CountDatabasesAsync(connection, endpoint, ct).ConfigureAwait(false);
            return (connection, server, id.Kind == RespKind.Integer ? id.Integer : -1, databases);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The target's number of databases: CONFIG GET databases, or, where CONFIG is refused (managed
    /// services), the first database number SELECT refuses. Leaves the connection in the endpoint's database.
    /// </summary>
    private static async Task<int> CountDatabasesAsync(RedisConnection connection, RedisEndpoint endpoint, CancellationToken ct)
    {
        RespValue config = await connection.ExecuteAsync(ct, "CONFIG", "GET", "databases").ConfigureAwait(false);
        if (!config.IsError && config.Items.Length == 2 && int.TryParse(config.Items[1].AsString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int configured) && configured > 0) return configured;
        async Task<bool> Exists(int db) => !(await connection.ExecuteAsync(ct, "SELECT", db).ConfigureAwait(false)).IsError;
        int low = 1; // db 0 always exists; find the first that does not
        int high = 16;
        while (high < (1 << 20) && await Exists(high - 1).ConfigureAwait(false))
        {
            low = high;
            high *= 2;
        }
        while (low < high)
        {
            int middle = low + (high - low) / 2;
            if (await Exists(middle).ConfigureAwait(false)) low = middle + 1;
            else high = middle;
        }
        await connection.ExecuteOrThrowAsync(ct, "SELECT", endpoint.Database ?? 0).ConfigureAwait(false);
        return low;
    }

    private static SyncException HandshakeError(RedisEndpoint endpoint, RespValue reply, string command)
    {
        string text = reply.AsString() ?? string.Empty;
        if (reply.ErrorCode == "NOAUTH")
        {
            return new SyncException(SyncErrorIds.TargetNoAuth, SyncErrorKind.Stop,
                $"The target {endpoint} requires a login ({text}). {ErrorReplies.Advice("NOAUTH", EndpointRole.Target)}")
            { Command = command };
        }
        string advice = ErrorReplies.Advice(reply.ErrorCode, EndpointRole.Target);
        return new SyncException(ErrorReplies.IdOf(reply.ErrorCode, EndpointRole.Target), SyncErrorKind.Stop,
            $"{command} on the target {endpoint} failed: {text}" + (advice.Length > 0 ? ". " + advice : string.Empty)) { Command = command };
    }

    /// <summary>Reads the checkpoint key (SELECTs the checkpoint database and leaves the connection there).</summary>
    private async Task<byte[]?> ReadCheckpointAsync(RedisConnection connection, CancellationToken ct)
    {
        await connection.ExecuteOrThrowAsync(ct, "SELECT", _options.CheckpointDb).ConfigureAwait(false);
        RespValue reply = await connection.ExecuteOrThrowAsync(ct, "GET", _checkpointKey).ConfigureAwait(false);
        return reply.IsNull ? null : reply.Bytes;
    }

    /// <summary>Runs links one after the other until the writer stops or is disposed.</summary>
    private async Task RunAsync(RedisConnection connection)
    {
        while (true)
        {
            Exception? lost = await RunLinkAsync(connection).ConfigureAwait(false);
            connection.Dispose();
            if (lost == null || _disposeCts.IsCancellationRequested || _fault != null) return;
            int unanswered = 0;
            lock (_gate)
            {
                foreach (Batch batch in _unacked) unanswered += batch.Commands;
            }
            if (!_transactional && unanswered > 0)
            {
                Stop(new SyncException(SyncErrorIds.TargetLinkLost, SyncErrorKind.Stop,
                    $"The connection to the target {_endpoint} was lost ({Describe(lost)}) with {unanswered} commands sent but not acknowledged. " +
                    "The writer cannot know whether the target applied them, and sending them again could apply them twice, so it stops. " +
                    "Set a checkpoint key (transactional mode) to let the writer recover by itself.", lost));
                return;
            }
            try
            {
                connection = await ReconnectAsync(lost).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_disposeCts.IsCancellationRequested)
            {
                return;
            }
            catch (SyncException e)
            {
                Stop(e);
                return;
            }
            catch (Exception e)
            {
                // A Warning handler that threw, or a defect: the writer cannot go on.
                Stop(new SyncException(SyncErrorIds.TargetLinkLost, SyncErrorKind.Stop, $"The writer failed while reconnecting to the target {_endpoint}: {e.Message}", e));
                return;
            }
            _connection = connection;
            if (_disposeCts.IsCancellationRequested)
            {
                connection.Dispose();
                return;
            }
        }
    }

    /// <summary>
    /// Runs the send and receive loops on one connection, each on a thread of its own that blocks in the
    /// kernel (a pool thread per wake-up costs more CPU than the loops' work on a busy machine); returns
    /// what ended the link, or null if the writer stopped or was disposed.
    /// </summary>
    private async Task<Exception?> RunLinkAsync(RedisConnection connection)
    {
        using var linkCts = CancellationTokenSource.CreateLinkedTokenSource(_disposeCts.Token);
        Task<Exception?> send = DedicatedThread.Run("redissync-writer-send", () => SendLoop(connection, linkCts.Token));
        Task<Exception?> receive = DedicatedThread.Run("redissync-writer-receive", () => ReceiveLoop(connection, linkCts.Token));
        Task<Exception?> first = await Task.WhenAny(send, receive).ConfigureAwait(false);
        Exception? error = await first.ConfigureAwait(false);
        if (error == null && first == send)
        {
            // The writer stopped: the receive loop still counts the replies of what was sent.
            error = await receive.ConfigureAwait(false);
        }
        linkCts.Cancel();
        connection.Dispose();
        await (first == send ? receive : send).ConfigureAwait(false);
        return _disposeCts.IsCancellationRequested ? null : error;
    }

    private Exception? SendLoop(RedisConnection connection, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                Batch? batch = null;
                lock (_gate)
                {
                    if (_fault != null) return null;
                    if (_unsent.Count > 0)
                    {
                        batch = _unsent.Dequeue();
                        _unacked.Enqueue(batch);
                    }
                }
                if (batch == null)
                {
                    _sendSignal.Wait(ct);
                    continue;
                }
                if (_options.RateLimit != null && !_options.RateLimit.Take(batch.Commands, ct)) ct.ThrowIfCancellationRequested();
                // Counted before the write: the replies may come back before the write call returns.
                Statistics.Sent(batch.Commands, batch.TotalLength, resent: batch.WasSent);
                batch.WasSent = true;
                if (batch.PrefixLength > 0) connection.WriteBlocking(batch.Prefix, 0, batch.PrefixLength);
                if (batch.Length > 0) connection.WriteBlocking(batch.Buffer, 0, batch.Length);
            }
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private Exception? ReceiveLoop(RedisConnection connection, CancellationToken ct)
    {
        PipeReader input = connection.Input;
        try
        {
            while (true)
            {
                if (_fault != null && UnansweredBatches() == 0) return null;
                ReadResult result = input.ReadBlocking(ct);
                ReadOnlySequence<byte> buffer = result.Buffer;
                try
                {
                    ProcessReplies(ref buffer);
                }
                catch (Exception e)
                {
                    // Bad replies, a defect, or a Warning handler that threw: the writer cannot go on.
                    Stop(e as SyncException ?? new SyncException(SyncErrorIds.TargetCommandFailed, SyncErrorKind.Stop,
                        $"The writer failed while reading the replies of the target {_endpoint}: {e.Message}", e));
                    return null;
                }
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted || result.IsCanceled) return connection.LinkLost(null);
            }
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private int UnansweredBatches()
    {
        lock (_gate) return _unacked.Count;
    }

    /// <summary>Reconnects with backoff until <see cref="TargetWriterOptions.ReconnectTimeout"/>, then settles what the lost link left unanswered.</summary>
    private async Task<RedisConnection> ReconnectAsync(Exception lost)
    {
        CancellationToken ct = _disposeCts.Token;
        var clock = Stopwatch.StartNew();
        Exception last = lost;
        TimeSpan delay = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            if (clock.Elapsed > _options.ReconnectTimeout)
            {
                throw new SyncException(SyncErrorIds.TargetLinkLost, SyncErrorKind.Stop,
                    $"The connection to the target {_endpoint} was lost ({Describe(lost)}) and could not be re-established within {_options.ReconnectTimeout}: {Describe(last)}", last);
            }
            await Task.Delay(delay, ct).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.TicksPerSecond));
            RedisConnection? connection = null;
            // A target that accepts the connection but never answers (a frozen process) must not hold the writer forever.
            TimeSpan patience = _options.ReconnectTimeout + _options.LoadingTimeout;
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(patience);
            try
            {
                (connection, ServerInfo server, long clientId, int databases) = await HandshakeAsync(_endpoint, _options, attempt.Token).ConfigureAwait(false);
                _server = server;
                DatabaseCount = databases;
                int resent = await SettleAsync(connection, attempt.Token).ConfigureAwait(false);
                _clientId = clientId;
                Statistics.Reconnected();
                var recovered = new SyncException(SyncErrorIds.TargetLinkLost, SyncErrorKind.Retry,
                    $"The connection to the target {_endpoint} was lost ({Describe(lost)}); the writer reconnected after {clock.Elapsed.TotalSeconds:0.0} s" +
                    (_transactional ? $" and sends again the {resent} batches the target had not applied." : "."), lost);
                Statistics.Error(recovered);
                Warning?.Invoke(new SyncWarning(recovered.ErrorId, recovered.Kind, null, null, recovered.Message));
                return connection;
            }
            catch (Exception e) when (IsTransient(e))
            {
                connection?.Dispose();
                last = e;
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                connection?.Dispose();
                last = new TimeoutException($"the target did not answer within {patience}");
            }
            catch
            {
                connection?.Dispose();
                throw;
            }
        }
    }

    private static bool IsTransient(Exception e) =>
        (e is SyncException s && s.Kind == SyncErrorKind.Retry) || e is IOException || e is SocketException || e is ObjectDisposedException;

    /// <summary>
    /// After a reconnect: finds which unanswered batches the target applied (their checkpoint value is
    /// the one it holds), counts them as acknowledged, and queues the rest to be sent first, in order.
    /// Leaves the connection in the database the next batch starts in. Returns how many batches go again.
    /// </summary>
    private async Task<int> SettleAsync(RedisConnection connection, CancellationToken ct)
    {
        // The lost connection may live on at the target with batches in its query buffer (a link cut on
        // our side while the target holds clients under CLIENT PAUSE, as a failover does): they would run
        // later, next to their resent copies. Kill it first ("No such client" when it is gone already).
        if (_clientId >= 0) await connection.ExecuteAsync(ct, "CLIENT", "KILL", "ID", _clientId).ConfigureAwait(false);
        int connectionDb = _connectionDb;
        byte[]? held = null;
        if (_transactional)
        {
            held = await ReadCheckpointAsync(connection, ct).ConfigureAwait(false);
            connectionDb = _options.CheckpointDb;
        }
        int resend;
        int nextDb;
        lock (_gate)
        {
            ResetReplyState();
            if (_transactional)
            {
                int applied = -1;
                int index = 0;
                foreach (Batch batch in _unacked)
                {
                    if (held != null && batch.CheckpointValue.SequenceEqual(held)) applied = index;
                    index++;
                }
                if (applied < 0 && !AcknowledgedEquals(held))
                {
                    throw new SyncException(SyncErrorIds.CheckpointInvalid, SyncErrorKind.Stop,
                        $"After reconnecting, the checkpoint key {KeyText.Format(_checkpointKey)} on the target {_endpoint} holds {(held == null ? "nothing" : KeyText.Format(held))}, " +
                        $"which is neither the last acknowledged checkpoint ({(_acknowledgedLength < 0 ? "none" : KeyText.Format(_acknowledged.AsSpan(0, _acknowledgedLength)))}) nor that of a batch in flight. " +
                        "The target lost acknowledged writes (a restart without persistence, a failover to a lagging replica) or another client changed the key, " +
                        "so the writer cannot tell what to send again; it stops. Start a new full sync.")
                    { Key = KeyText.Format(_checkpointKey) };
                }
                for (int i = 0; i <= applied; i++)
                {
                    Batch batch = _unacked.Dequeue();
                    batch.Applied = !batch.Heartbeat;
                    AcknowledgeLocked(batch);
                }
            }
            resend = _unacked.Count;
            if (resend > 0)
            {
                var pending = new List<Batch>(_unacked);
                pending.AddRange(_unsent);
                _unacked.Clear();
                _unsent.Clear();
                foreach (Batch batch in pending) _unsent.Enqueue(batch);
            }
            nextDb = _unsent.Count > 0 ? _unsent.Peek().StartDb : _queuedEndDb;
        }
        if (nextDb != connectionDb) await connection.ExecuteOrThrowAsync(ct, "SELECT", nextDb).ConfigureAwait(false);
        return resend;
    }

    private bool AcknowledgedEquals(byte[]? value) =>
        value == null ? _acknowledgedLength < 0 : _acknowledgedLength == value.Length && _acknowledged.AsSpan(0, value.Length).SequenceEqual(value);

    /// <summary>Ends the writer with a Stop-kind error: the producer's next call throws it, the send loop stops.</summary>
    private void Stop(SyncException error)
    {
        Statistics.Error(error);
        lock (_gate)
        {
            if (_fault != null) return;
            _fault = error;
            Monitor.PulseAll(_gate);
            _drained?.TrySetException(error);
            _drained = null;
        }
        _sendSignal.Release();
    }

    private static string Describe(Exception e) => e is SyncException ? e.Message.TrimEnd('.') : e.GetType().Name + ": " + e.Message.TrimEnd('.');
}
