using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;
using RedisSync.Engine.Writers;

namespace RedisSync.Engine.Compare;

/// <summary>
/// One side of a compare's pipeline: a link to the server, or, when the server is a node of a
/// cluster, a link to each master, the key's slot choosing which. A MOVED reply makes the pipeline
/// read the slot map again (<see cref="RefreshAsync"/>) and send the key's commands anew.
/// </summary>
internal sealed class LinkSet : IDisposable
{
    private readonly RedisEndpoint _login;
    private readonly EndpointRole _role;
    private readonly ServerInfo _info;
    private readonly Dictionary<string, ServerLink> _byAddress = new Dictionary<string, ServerLink>(StringComparer.Ordinal);
    private readonly List<ServerLink> _links = new List<ServerLink>();
    private readonly ServerLink?[]? _owners;
    private Transform.KeyRename? _rename;

    private LinkSet(RedisEndpoint login, EndpointRole role, ServerInfo info, bool cluster)
    {
        _login = login;
        _role = role;
        _info = info;
        if (cluster) _owners = new ServerLink?[ClusterSlots.Count];
    }

    public EndpointRole Role => _role;

    /// <summary>The server is a node of a cluster: keys are routed by slot.</summary>
    public bool IsCluster => _owners != null;

    /// <summary>Every link (one per master of a cluster).</summary>
    public IReadOnlyList<ServerLink> Links => _links;

    /// <summary>On a target of a compare with -RenameKey: the source's key names → this server's (routing uses the renamed key).</summary>
    public Transform.KeyRename? Rename
    {
        get => _rename;
        set
        {
            _rename = value;
            foreach (ServerLink link in _links) link.Rename = value;
        }
    }

    /// <summary>
    /// Connects to <paramref name="endpoint"/>, or, when <paramref name="map"/> is given (a cluster), to every
    /// master it names.
    /// </summary>
    public static async Task<LinkSet> ConnectAsync(RedisEndpoint endpoint, EndpointRole role, ServerInfo info, SlotMap? map, CancellationToken cancellationToken)
    {
        var set = new LinkSet(endpoint, role, info, map != null);
        try
        {
            if (map == null) set.Add(await ServerLink.ConnectAsync(endpoint, role, info, cancellationToken).ConfigureAwait(false), null);
            else await set.ApplyAsync(map, cancellationToken).ConfigureAwait(false);
            return set;
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>Connects to <paramref name="endpoint"/> (reading its features), or to every master of the cluster it is a node of.</summary>
    public static async Task<LinkSet> ConnectAsync(RedisEndpoint endpoint, EndpointRole role, CancellationToken cancellationToken)
    {
        ServerLink first = await ServerLink.ConnectAsync(endpoint, role, null, cancellationToken).ConfigureAwait(false);
        if (!first.Info.IsCluster)
        {
            var single = new LinkSet(endpoint, role, first.Info, cluster: false);
            single.Add(first, null);
            return single;
        }
        SlotMap map;
        try
        {
            map = await SlotMap.ReadAsync(first.Connection, endpoint, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            first.Dispose();
        }
        return await ConnectAsync(endpoint, role, first.Info, map, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Closes every link and connects again to the masters the slot map names now (after a redirect that left replies unread).</summary>
    public async Task ReconnectAsync(CancellationToken cancellationToken)
    {
        if (_owners == null) return;
        SlotMap map = await SlotMap.ReadAsync(_links.Select(l => l.Connection.Endpoint).Append(_login), _role, cancellationToken).ConfigureAwait(false);
        Dispose();
        _byAddress.Clear();
        await ApplyAsync(map, cancellationToken).ConfigureAwait(false);
    }

    private void Add(ServerLink link, string? address)
    {
        link.Rename = _rename;
        _links.Add(link);
        if (address != null) _byAddress[address] = link;
    }

    /// <summary>The link for a key named as on the source (renamed here when this is a target with -RenameKey).</summary>
    public ServerLink For(ReadOnlySpan<byte> sourceKey)
    {
        if (_owners == null) return _links[0];
        ReadOnlySpan<byte> name = _rename?.Rename(sourceKey) is { } renamed ? renamed : sourceKey;
        int slot = ClusterSlots.Of(name);
        return _owners[slot] ?? throw NoMaster(slot);
    }

    private SyncException NoMaster(int slot) => new SyncException(
        _role == EndpointRole.Source ? SyncErrorIds.SourceUnreachable : SyncErrorIds.TargetUnreachable, SyncErrorKind.Stop,
        $"No master of the {RedisConnection.RoleName(_role)} cluster {_login} serves slot {slot.ToString(CultureInfo.InvariantCulture)} (CLUSTER SLOTS). Fix the cluster, then compare again.");

    /// <summary>Flushes every link.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_links.Count == 1)
        {
            await _links[0].FlushAsync(cancellationToken).ConfigureAwait(false);
            return;
        }
        foreach (ServerLink link in _links) await link.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the slot map again (after MOVED) from a master it knows or the node the user gave, and links to new masters.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_owners == null) return;
        SlotMap map = await SlotMap.ReadAsync(_links.Select(l => l.Connection.Endpoint).Append(_login), _role, cancellationToken).ConfigureAwait(false);
        await ApplyAsync(map, cancellationToken).ConfigureAwait(false);
    }

    private async Task ApplyAsync(SlotMap map, CancellationToken cancellationToken)
    {
        Array.Clear(_owners!, 0, _owners!.Length);
        foreach ((int from, int to, RedisEndpoint master) in map.Ranges)
        {
            string address = master.Host + ":" + master.Port.ToString(CultureInfo.InvariantCulture);
            if (!_byAddress.TryGetValue(address, out ServerLink? link))
            {
                link = await ServerLink.ConnectAsync(master, _role, _info, cancellationToken).ConfigureAwait(false);
                Add(link, address);
            }
            for (int slot = from; slot <= to; slot++) _owners[slot] = link;
        }
    }

    /// <summary>A MOVED or ASK error reply among <paramref name="replies"/>: the key's slot is served elsewhere now, or being moved to <paramref name="address"/> (ASK).</summary>
    public static bool Redirected(ReadOnlySpan<Reply> replies, out bool ask, out string? address)
    {
        ask = false;
        address = null;
        Span<byte> scratch = stackalloc byte[6];
        foreach (Reply reply in replies)
        {
            if (!reply.IsError) continue;
            ReadOnlySpan<byte> head = Bytes.Small(reply.Frame.FirstError, scratch);
            if (head.StartsWith("MOVED "u8)) return true;
            if (head.StartsWith("ASK "u8))
            {
                // ASK <slot> <host:port>
                string[] words = reply.ErrorText.Split(' ');
                ask = true;
                address = words.Length >= 3 ? words[2] : null;
                return true;
            }
        }
        return false;
    }

    /// <summary>The link to the node at <paramref name="address"/> (host:port, as an ASK reply names it), connected on first use.</summary>
    public async Task<ServerLink> LinkToAsync(string address, CancellationToken cancellationToken)
    {
        if (_byAddress.TryGetValue(address, out ServerLink? link)) return link;
        int colon = address.LastIndexOf(':');
        string host = colon > 0 ? address.Substring(0, colon) : address;
        if (host.Length == 0) host = _login.Host;
        if (colon <= 0 || !int.TryParse(address.Substring(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port)) port = _login.Port;
        var endpoint = _login.At(host, port);
        link = await ServerLink.ConnectAsync(endpoint, _role, _info, cancellationToken).ConfigureAwait(false);
        Add(link, address);
        return link;
    }

    public void Dispose()
    {
        foreach (ServerLink link in _links) link.Dispose();
        _links.Clear();
    }
}
