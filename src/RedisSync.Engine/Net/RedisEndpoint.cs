using System;
using System.Globalization;

namespace RedisSync.Engine.Net;

/// <summary>
/// Where a server is and how to log in: parsed from <c>host:port</c> or
/// <c>redis[s]://[user[:password]@]host:port[/db]</c>. <see cref="ToString"/> never shows the password.
/// </summary>
public sealed class RedisEndpoint
{
    /// <summary>A server by host and port, without login or database.</summary>
    public RedisEndpoint(string host, int port)
    {
        Host = host;
        Port = port;
    }

    /// <summary>The host name or address.</summary>
    public string Host { get; }

    /// <summary>The TCP port.</summary>
    public int Port { get; }

    /// <summary>ACL user name, or null for the default user.</summary>
    public string? User { get; init; }

    /// <summary>The password. Kept in memory only; never formatted into text.</summary>
    public string? Password { get; init; }

    /// <summary>The database given in a URL path, if any.</summary>
    public int? Database { get; init; }

    /// <summary>Connect with TLS (<c>rediss://</c>, or -Tls).</summary>
    public bool UseTls { get; init; }

    /// <summary>How a TLS connection checks the server and which client certificate it shows; defaults (the system's trusted roots, no client certificate) when null.</summary>
    public TlsOptions? Tls { get; init; }

    /// <summary>Parses a connection string; the error names what was wrong (never the password).</summary>
    public static RedisEndpoint Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw Invalid(text, "it is empty");
        text = text.Trim();
        bool tls = false;
        string? user = null, password = null;
        int? db = null;
        string rest = text;
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            string s = text.Substring(0, scheme).ToLowerInvariant();
            if (s == "rediss") tls = true;
            else if (s != "redis") throw Invalid(text, $"the scheme '{s}' is not redis:// or rediss://");
            rest = text.Substring(scheme + 3);
            int slash = rest.IndexOf('/');
            if (slash >= 0)
            {
                string path = rest.Substring(slash + 1);
                rest = rest.Substring(0, slash);
                if (path.Length > 0)
                {
                    if (!int.TryParse(path, NumberStyles.None, CultureInfo.InvariantCulture, out int d)) throw Invalid(text, $"the database '{path}' is not a number");
                    db = d;
                }
            }
            int at = rest.LastIndexOf('@');
            if (at >= 0)
            {
                string userInfo = rest.Substring(0, at);
                rest = rest.Substring(at + 1);
                int colon = userInfo.IndexOf(':');
                if (colon >= 0)
                {
                    user = Uri.UnescapeDataString(userInfo.Substring(0, colon));
                    password = Uri.UnescapeDataString(userInfo.Substring(colon + 1));
                }
                else
                {
                    user = Uri.UnescapeDataString(userInfo);
                }
                if (user.Length == 0) user = null;
            }
        }
        string host;
        string portText;
        if (rest.StartsWith("[", StringComparison.Ordinal))
        {
            int close = rest.IndexOf(']');
            if (close < 0) throw Invalid(Redact(text, password), "an IPv6 address lacks its closing ']'");
            host = rest.Substring(1, close - 1);
            portText = rest.Length > close + 1 && rest[close + 1] == ':' ? rest.Substring(close + 2) : string.Empty;
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            host = colon >= 0 ? rest.Substring(0, colon) : rest;
            portText = colon >= 0 ? rest.Substring(colon + 1) : string.Empty;
        }
        if (host.Length == 0) throw Invalid(Redact(text, password), "the host is missing");
        int port = 6379;
        if (portText.Length > 0 && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port < 1 || port > 65535))
        {
            throw Invalid(Redact(text, password), $"the port '{portText}' is not a number from 1 to 65535");
        }
        return new RedisEndpoint(host, port) { User = user, Password = password, Database = db, UseTls = tls };
    }

    /// <summary>A copy with other credentials (from a PSCredential or a config file).</summary>
    public RedisEndpoint WithCredential(string? user, string? password) =>
        new RedisEndpoint(Host, Port) { User = user, Password = password, Database = Database, UseTls = UseTls, Tls = Tls };

    /// <summary>Another node with this one's login and TLS settings (a cluster's masters, named by CLUSTER SLOTS or a redirect); database 0.</summary>
    public RedisEndpoint At(string host, int port) =>
        new RedisEndpoint(host, port) { User = User, Password = Password, UseTls = UseTls, Tls = Tls };

    /// <summary>A copy that connects with TLS when <paramref name="useTls"/> (else as the address says), checked as <paramref name="tls"/> says.</summary>
    public RedisEndpoint WithTls(bool useTls, TlsOptions? tls) =>
        new RedisEndpoint(Host, Port) { User = User, Password = Password, Database = Database, UseTls = UseTls || useTls, Tls = tls };

    /// <summary><c>host:port</c>, with the user when there is one; never the password.</summary>
    public override string ToString()
    {
        string hostPart = Host.IndexOf(':') >= 0 ? "[" + Host + "]" : Host;
        string userPart = User != null ? User + "@" : string.Empty;
        return userPart + hostPart + ":" + Port.ToString(CultureInfo.InvariantCulture);
    }

    private static string Redact(string text, string? password) =>
        string.IsNullOrEmpty(password) ? text : text.Replace(password, "****");

    private static SyncException Invalid(string text, string why)
    {
        // A URL that failed to parse may still hold a password after the scheme: cut the user info.
        int at = text.LastIndexOf('@');
        int scheme = text.IndexOf("://", StringComparison.Ordinal);
        if (at > scheme && scheme >= 0) text = text.Substring(0, scheme + 3) + "****@" + text.Substring(at + 1);
        return new SyncException(SyncErrorIds.InvalidEndpoint, SyncErrorKind.Stop,
            $"'{text}' is not a valid Redis address: {why}. Use host:port or redis://[user[:password]@]host:port[/db].");
    }
}
