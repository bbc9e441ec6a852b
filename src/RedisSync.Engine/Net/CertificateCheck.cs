using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace RedisSync.Engine.Net;

/// <summary>
/// Checks a server's certificate as a person would want it explained: the chain must end in one of
/// the given certificate authorities (or, without any, in a root the system trusts), every certificate
/// on the way must be valid today and fit for the job, and the host name given must be one the
/// certificate names. The same code runs in both builds: netstandard2.0 has no custom trust store, so
/// the chain is built with the given authorities as extra certificates and must pass through one of them.
/// </summary>
internal static class CertificateCheck
{
    private const string Renew = "Renew the server's certificate (its tls-cert-file), or the authority's.";
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string SubjectAlternativeName = "2.5.29.17";

    // Statuses that say only that the chain ends in a root the system does not trust: a given authority decides instead.
    private const X509ChainStatusFlags UntrustedEnd = X509ChainStatusFlags.UntrustedRoot | X509ChainStatusFlags.PartialChain;
    private const X509ChainStatusFlags NotChecked = X509ChainStatusFlags.RevocationStatusUnknown | X509ChainStatusFlags.OfflineRevocation;

    /// <summary>
    /// What is wrong with <paramref name="certificate"/> for <paramref name="host"/>, or null when it
    /// passes. <paramref name="handshakeChain"/> and <paramref name="errors"/> are what the TLS layer
    /// found against the system's roots (it also checks the host name).
    /// </summary>
    public static CertificateProblem? Problem(X509Certificate? certificate, X509Chain? handshakeChain, SslPolicyErrors errors, string host, TlsCredentials tls)
    {
        if (certificate == null || (errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            return new CertificateProblem("the server sent no certificate", "Give the server a certificate (tls-cert-file).");
        }
        using var leaf = new X509Certificate2(certificate);
        CertificateProblem? chain = tls.Authorities != null
            ? AgainstAuthorities(leaf, handshakeChain, tls.Authorities, tls.AuthorityPath!)
            : (errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0 ? AgainstSystem(leaf, handshakeChain) : null;
        CertificateProblem? name = (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0
            ? new CertificateProblem($"it is for {Names(leaf)}, not for the host '{host}' given", "Connect by a name the certificate is for, or have it reissued for this one.")
            : null;
        if (chain == null || name == null) return chain ?? name;
        return new CertificateProblem(chain.Text + "; and " + name.Text, chain.Advice + " " + name.Advice);
    }

    /// <summary>The chain must pass through one of the given certificates; everything up to it must be valid.</summary>
    private static CertificateProblem? AgainstAuthorities(X509Certificate2 leaf, X509Chain? handshakeChain, X509Certificate2Collection authorities, string path)
    {
        using var chain = NewChain(X509VerificationFlags.AllowUnknownCertificateAuthority);
        chain.ChainPolicy.ExtraStore.AddRange(authorities);
        if (handshakeChain != null)
        {
            // The intermediates the server sent.
            for (int i = 1; i < handshakeChain.ChainElements.Count; i++) chain.ChainPolicy.ExtraStore.Add(handshakeChain.ChainElements[i].Certificate);
        }
        chain.Build(leaf);
        X509ChainElementCollection elements = chain.ChainElements;
        int anchor = -1;
        for (int i = 0; i < elements.Count && anchor < 0; i++)
        {
            if (authorities.Cast<X509Certificate2>().Any(a => a.RawData.AsSpan().SequenceEqual(elements[i].Certificate.RawData))) anchor = i;
        }
        if (anchor < 0)
        {
            X509Certificate2 top = elements.Count > 0 ? elements[elements.Count - 1].Certificate : leaf;
            return new CertificateProblem($"it is issued by '{top.Issuer}', which is not one of the certificate authorities in '{path}'",
                "Add that authority's certificate to the file, or connect to the server you meant.");
        }
        for (int i = 0; i <= anchor; i++)
        {
            CertificateProblem? problem = ElementProblem(elements[i], i, UntrustedEnd | NotChecked);
            if (problem != null) return problem;
        }
        return null;
    }

    /// <summary>The TLS layer found the chain wrong against the system's roots: say why, from a chain built the same way.</summary>
    private static CertificateProblem AgainstSystem(X509Certificate2 leaf, X509Chain? handshakeChain)
    {
        using var chain = NewChain(X509VerificationFlags.NoFlag);
        if (handshakeChain != null)
        {
            for (int i = 1; i < handshakeChain.ChainElements.Count; i++) chain.ChainPolicy.ExtraStore.Add(handshakeChain.ChainElements[i].Certificate);
        }
        chain.Build(leaf);
        X509ChainElementCollection elements = chain.ChainElements;
        for (int i = 0; i < elements.Count; i++)
        {
            CertificateProblem? problem = ElementProblem(elements[i], i, UntrustedEnd | NotChecked);
            if (problem != null) return problem;
        }
        X509Certificate2 top = elements.Count > 0 ? elements[elements.Count - 1].Certificate : leaf;
        return new CertificateProblem($"it is issued by '{top.Issuer}', which this machine does not trust",
            "Give that authority's certificate with -CertificateAuthorityPath (a PEM file).");
    }

    private static X509Chain NewChain(X509VerificationFlags flags)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = flags;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthentication));
        return chain;
    }

    /// <summary>What is wrong with one certificate of the chain (index 0 is the server's own), ignoring <paramref name="ignore"/>.</summary>
    private static CertificateProblem? ElementProblem(X509ChainElement element, int index, X509ChainStatusFlags ignore)
    {
        X509Certificate2 certificate = element.Certificate;
        string which = index == 0 ? "the server's certificate" : $"the certificate authority '{certificate.Subject}'";
        foreach (X509ChainStatus status in element.ChainElementStatus)
        {
            X509ChainStatusFlags flags = status.Status & ~ignore;
            if (flags == 0) continue;
            if ((flags & X509ChainStatusFlags.NotTimeValid) != 0)
            {
                return DateTime.Now > certificate.NotAfter
                    ? new CertificateProblem($"{which} expired on {Date(certificate.NotAfter)} (valid from {Date(certificate.NotBefore)})", Renew)
                    : new CertificateProblem($"{which} is not valid before {Date(certificate.NotBefore)}", "Check the clocks of this machine and of the server.");
            }
            if ((flags & X509ChainStatusFlags.Revoked) != 0) return new CertificateProblem($"{which} is revoked", Renew);
            if ((flags & (X509ChainStatusFlags.NotValidForUsage | X509ChainStatusFlags.InvalidExtension)) != 0)
            {
                return new CertificateProblem($"{which} is not meant for a TLS server (its extended key usage lacks serverAuth)", "Give the server a certificate for server authentication.");
            }
            string what = (flags & X509ChainStatusFlags.NotSignatureValid) != 0 ? $"the signature on {which} is not valid"
                : (flags & X509ChainStatusFlags.InvalidBasicConstraints) != 0 ? $"{which} is not a certificate authority, yet it issued a certificate of the chain"
                : $"{which} is not valid: {status.StatusInformation.Trim()}";
            return new CertificateProblem(what, "Have the server's certificate reissued.");
        }
        return null;
    }

    private static string Date(DateTime local) => local.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The names a certificate is for: its subject alternative names, or its common name when it has none.</summary>
    public static string Names(X509Certificate2 certificate)
    {
        List<string> names = AlternativeNames(certificate);
        if (names.Count > 0) return string.Join(", ", names);
        string cn = certificate.GetNameInfo(X509NameType.SimpleName, false);
        return string.IsNullOrEmpty(cn) ? "no host name" : "CN=" + cn;
    }

    /// <summary>
    /// The DNS names and IP addresses of the subject alternative name extension (RFC 5280 4.2.1.6),
    /// read from its DER form: netstandard2.0 has no reader for it, and its text form differs by platform.
    /// </summary>
    internal static List<string> AlternativeNames(X509Certificate2 certificate)
    {
        var names = new List<string>();
        X509Extension? extension = certificate.Extensions[SubjectAlternativeName];
        if (extension == null) return names;
        byte[] der = extension.RawData;
        int at = 0;
        if (!TryReadHeader(der, ref at, out byte tag, out int length) || tag != 0x30) return names;
        int end = Math.Min(der.Length, at + length);
        while (at < end && TryReadHeader(der, ref at, out tag, out length) && at + length <= end)
        {
            if (tag == 0x82) names.Add("DNS:" + System.Text.Encoding.ASCII.GetString(der, at, length));
            else if (tag == 0x87 && (length == 4 || length == 16)) names.Add("IP:" + new IPAddress(der.AsSpan(at, length).ToArray()));
            at += length;
        }
        return names;
    }

    /// <summary>A DER tag and length (short or long form up to four bytes); false on a malformed header.</summary>
    private static bool TryReadHeader(byte[] der, ref int at, out byte tag, out int length)
    {
        tag = 0;
        length = 0;
        if (at + 2 > der.Length) return false;
        tag = der[at++];
        int first = der[at++];
        if (first < 0x80)
        {
            length = first;
            return true;
        }
        int count = first & 0x7F;
        if (count == 0 || count > 4 || at + count > der.Length) return false;
        for (int i = 0; i < count; i++) length = (length << 8) | der[at++];
        return length >= 0;
    }
}

/// <summary>What is wrong with a server's certificate, and what the user can do about it.</summary>
internal sealed record CertificateProblem(string Text, string Advice);
