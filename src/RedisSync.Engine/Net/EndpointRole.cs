namespace RedisSync.Engine.Net;

/// <summary>Which side of a sync a connection serves; it names the errors a connection raises.</summary>
internal enum EndpointRole
{
    Source,
    Target,
}
