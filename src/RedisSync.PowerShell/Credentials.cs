using System.Collections;
using System.Management.Automation;
using System.Net;

namespace RedisSync;

/// <summary>Turns PowerShell's parameter types into the plain ones the engine takes.</summary>
internal static class Credentials
{
    /// <summary>The credential as the engine takes it; the password stays a SecureString until the login.</summary>
    public static NetworkCredential? ToNetwork(PSCredential? credential) =>
        credential == null || credential == PSCredential.Empty ? null : new NetworkCredential(credential.UserName ?? string.Empty, credential.Password);

    /// <summary>A hashtable with its PSObject wrappers removed (a value from a variable may be wrapped).</summary>
    public static IDictionary? Unwrap(Hashtable? table)
    {
        if (table == null) return null;
        var plain = new Hashtable();
        foreach (DictionaryEntry entry in table)
        {
            object key = entry.Key is PSObject k ? k.BaseObject : entry.Key;
            plain[key] = entry.Value is PSObject v ? v.BaseObject : entry.Value;
        }
        return plain;
    }
}
