namespace RedisSync.Engine.Net;

/// <summary>
/// The one map from a Redis error reply's code (its first word: NOAUTH, OOM, READONLY, …) to the
/// error id a user sees, by the role of the server that sent it, and what the user can do about it.
/// </summary>
internal static class ErrorReplies
{
    /// <summary>The error id for an error reply <paramref name="code"/> from a server in <paramref name="role"/>.</summary>
    public static string IdOf(string code, EndpointRole role)
    {
        bool source = role == EndpointRole.Source;
        return code switch
        {
            "NOAUTH" => source ? SyncErrorIds.SourceAuthFailed : SyncErrorIds.TargetNoAuth,
            "WRONGPASS" => source ? SyncErrorIds.SourceAuthFailed : SyncErrorIds.TargetAuthFailed,
            "NOPERM" => source ? SyncErrorIds.SourceAuthFailed : SyncErrorIds.TargetNoPermission,
            "READONLY" or "NOREPLICAS" when !source => SyncErrorIds.TargetReadOnly,
            "OOM" when !source => SyncErrorIds.TargetOutOfMemory,
            "BUSYKEY" when !source => SyncErrorIds.TargetBusyKey,
            "LOADING" => source ? SyncErrorIds.SourceLoading : SyncErrorIds.TargetUnreachable,
            _ => source ? SyncErrorIds.ProtocolError : SyncErrorIds.TargetCommandFailed,
        };
    }

    /// <summary>The first word of an error reply's text.</summary>
    public static string CodeOf(string text)
    {
        int space = text.IndexOf(' ');
        return space < 0 ? text : text.Substring(0, space);
    }

    /// <summary>What to do about an error of <paramref name="code"/> from a server in <paramref name="role"/>, as a sentence; empty when there is nothing general to say.</summary>
    public static string Advice(string code, EndpointRole role)
    {
        string credential = role == EndpointRole.Source ? "-SourceCredential" : "-TargetCredential";
        string section = role == EndpointRole.Source ? "[source]" : "[target]";
        return code switch
        {
            "NOAUTH" => $"Give its user and password with {credential} (or {section} password in a settings file).",
            "WRONGPASS" => $"Check the user and password given with {credential} (or {section} user and password in a settings file).",
            "NOPERM" => role == EndpointRole.Source
                ? "Grant the user what a replica needs (ACL SETUSER <user> +psync +replconf +info; see ACL users in about_RedisSync)."
                : "Grant it with ACL SETUSER (the commands, and the keys: the data's and redissync:*; see ACL users in about_RedisSync), or sync as another user.",
            "READONLY" => "Point -Target at its primary, or make the target a primary (REPLICAOF NO ONE).",
            "NOREPLICAS" => "Connect the target's replicas, or lower its min-replicas-to-write.",
            "OOM" => "Raise maxmemory on the target, free memory there, or choose a maxmemory-policy that evicts keys; then start the sync again.",
            _ => string.Empty,
        };
    }
}
