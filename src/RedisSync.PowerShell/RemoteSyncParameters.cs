using System.Management.Automation;
using RedisSync.Engine.CutOver;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Net;

namespace RedisSync;

/// <summary>
/// A sync of another process as Wait-RedisSync -Target and Complete-RedisSync -Target see it: by its
/// checkpoint and lease on the target; the source from -Source, or the address its checkpoint names, with
/// -SourceCredential and the TLS parameters added (the checkpoint records no secret).
/// </summary>
internal static class RemoteSyncParameters
{
    public static SyncProbe Probe(string name, string target, PSCredential? targetCredential, string? source, PSCredential? sourceCredential, TlsRequest tls)
    {
        RedisEndpoint targetEndpoint = tls.ApplyTo(SyncRequest.WithCredential(HostErrors.ParseEndpoint("Target", target), Credentials.ToNetwork(targetCredential)));
        RedisEndpoint? sourceEndpoint = source == null ? null : tls.ApplyTo(SyncRequest.WithCredential(HostErrors.ParseEndpoint("Source", source), Credentials.ToNetwork(sourceCredential)));
        return SyncProbe.ForTarget(name, targetEndpoint, sourceEndpoint,
            recorded => tls.ApplyTo(sourceCredential != null ? SyncRequest.WithCredential(recorded, Credentials.ToNetwork(sourceCredential)) : recorded));
    }
}
