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

    /// <summary>The two servers, their credentials and TLS, as the engine takes them.</summary>
    private protected CompareRequest NewRequest() => new CompareRequest
    {
        Source = Source,
        Target = Target,
        SourceCredential = Credentials.ToNetwork(SourceCredential),
        TargetCredential = Credentials.ToNetwork(TargetCredential),
        Tls = NewTlsRequest(),
    };
}
