using System.Management.Automation;
using RedisSync.Engine.Hosting;

namespace RedisSync.Commands;

/// <summary>The parameters of the cmdlets that work on a source and a target at once (Compare-RedisData, Repair-RedisData), TLS included.</summary>
public abstract class ServerPairCommand : TlsCommand
{
    /// <summary>The source: host:port or redis[s]://[user[:password]@]host:port[/db].</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Source { get; set; } = null!;

    /// <summary>The target, in the same forms.</summary>
    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Target { get; set; } = null!;

    /// <summary>The source's user and password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? SourceCredential { get; set; }

    /// <summary>The target's user and password.</summary>
    [Parameter]
    [Credential]
    public PSCredential? TargetCredential { get; set; }

    /// <summary>The databases to look at; every database that holds keys when omitted.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public int[]? Database { get; set; }

    /// <summary>Only the keys that match one of these globs (as Start-RedisSync -Key).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? Key { get; set; }

    /// <summary>Leaves out the keys that match one of these globs (as Start-RedisSync -ExcludeKey).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? ExcludeKey { get; set; }

    /// <summary>Only keys of these types (as Start-RedisSync -Type).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    [ValidateSet("string", "list", "hash", "set", "zset", "stream", "module")]
    public string[]? Type { get; set; }

    /// <summary>Compares (or repairs) each source key with its renamed key on the target, as Start-RedisSync -RenameKey writes it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public System.Collections.Hashtable? RenameKey { get; set; }

    /// <summary>A predicate on each key ($_ has Key, Database and Type), as Start-RedisSync -Where: a key it refuses is neither compared nor repaired.</summary>
    [Parameter]
    [ValidateNotNull]
    public ScriptBlock? Where { get; set; }

    /// <summary>Uses the filter of the sync of this name, read from the target, so that "equal" means what the sync copies.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SyncName { get; set; }

    /// <summary>-Where made ready in a runspace of its own (null without it); the caller disposes it, on errors too.</summary>
    private protected WherePredicate? NewWhere() => Where != null ? new WherePredicate(Where) : null;

    /// <summary>The two servers, their credentials, TLS and the filter (with <paramref name="where"/>'s predicate), as the engine takes them.</summary>
    private protected CompareRequest NewRequest(WherePredicate? where) => new CompareRequest
    {
        Where = where != null ? where.Keeps : null,
        Source = Source,
        Target = Target,
        SourceCredential = Credentials.ToNetwork(SourceCredential),
        TargetCredential = Credentials.ToNetwork(TargetCredential),
        Tls = NewTlsRequest(),
        Database = Database,
        Key = Key,
        ExcludeKey = ExcludeKey,
        Type = Type,
        SyncName = SyncName,
        RenameKey = Credentials.Unwrap(RenameKey),
    };
}
