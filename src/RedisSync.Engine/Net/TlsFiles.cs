using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using System.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace RedisSync.Engine.Net;

/// <summary>The certificate files of a <see cref="TlsOptions"/>, read and checked.</summary>
internal sealed class TlsCredentials
{
    public TlsCredentials(X509Certificate2Collection? authorities, string? authorityPath, X509Certificate2? clientCertificate, string? clientCertificatePath, bool skipCheck)
    {
        Authorities = authorities;
        AuthorityPath = authorityPath;
        ClientCertificate = clientCertificate;
        ClientCertificatePath = clientCertificatePath;
        SkipCheck = skipCheck;
    }

    /// <summary>The only roots a server's chain may end in; null for the system's trusted roots.</summary>
    public X509Certificate2Collection? Authorities { get; }

    public string? AuthorityPath { get; }

    public X509Certificate2? ClientCertificate { get; }

    public string? ClientCertificatePath { get; }

    public bool SkipCheck { get; }
}

/// <summary>
/// Reads certificate files the way both builds can: PEM certificates by our own parser (netstandard2.0
/// has no PEM reader), a client certificate from a PFX file, or (.NET 8) from PEM with its key. Every
/// error names the setting and the file, and says how to fix it.
/// </summary>
internal static class TlsFiles
{
    private const string Certificate = "CERTIFICATE";

    public static TlsCredentials Load(TlsOptions options, Func<string, string> settingName)
    {
        string ca = settingName(nameof(TlsOptions.CertificateAuthorityPath));
        string cert = settingName(nameof(TlsOptions.ClientCertificatePath));
        string key = settingName(nameof(TlsOptions.ClientKeyPath));
        string password = settingName(nameof(TlsOptions.ClientCertificatePassword));
        string skip = settingName(nameof(TlsOptions.SkipCertificateCheck));
        if (options.SkipCertificateCheck && options.CertificateAuthorityPath != null)
        {
            throw Invalid(skip, $"it turns the check off that {ca} sets up; give only one of them.");
        }
        if (options.ClientCertificatePath == null && options.ClientKeyPath != null) throw Invalid(key, $"a key belongs to a client certificate: give the certificate with {cert}.");
        if (options.ClientCertificatePath == null && options.ClientCertificatePassword != null) throw Invalid(password, $"a password belongs to a client certificate: give the certificate with {cert}.");
        X509Certificate2Collection? authorities = options.CertificateAuthorityPath != null ? LoadAuthorities(options.CertificateAuthorityPath, ca) : null;
        X509Certificate2? client = options.ClientCertificatePath != null
            ? LoadClientCertificate(options.ClientCertificatePath, options.ClientKeyPath, options.ClientCertificatePassword, cert, key, password)
            : null;
        return new TlsCredentials(authorities, options.CertificateAuthorityPath, client, options.ClientCertificatePath, options.SkipCertificateCheck);
    }

    /// <summary>Every certificate of a PEM bundle.</summary>
    public static X509Certificate2Collection LoadAuthorities(string path, string setting)
    {
        string text = Encoding.ASCII.GetString(ReadBytes(path, setting));
        List<byte[]> blocks = PemBlocks(text, Certificate, path, setting);
        if (blocks.Count == 0)
        {
            throw Invalid(setting, $"'{path}' holds no PEM certificate (a block that starts with -----BEGIN CERTIFICATE-----). " +
                "A binary (DER) certificate converts with: openssl x509 -inform der -in <file> -out ca.pem");
        }
        var result = new X509Certificate2Collection();
        for (int i = 0; i < blocks.Count; i++)
        {
            try
            {
                result.Add(new X509Certificate2(blocks[i]));
            }
            catch (CryptographicException ex)
            {
                throw Invalid(setting, $"certificate {i + 1} of '{path}' cannot be read: {ex.Message.Trim()}");
            }
        }
        return result;
    }

    private static X509Certificate2 LoadClientCertificate(string path, string? keyPath, SecureString? password, string certSetting, string keySetting, string passwordSetting)
    {
        byte[] bytes = ReadBytes(path, certSetting);
        string text = Encoding.ASCII.GetString(bytes);
        if (text.IndexOf("-----BEGIN ", StringComparison.Ordinal) < 0)
        {
            if (keyPath != null) throw Invalid(keySetting, $"'{path}' is a PFX file, which holds its own key: leave {keySetting} out.");
            return LoadPfx(bytes, path, password, certSetting, passwordSetting);
        }
        return LoadPem(text, path, keyPath, password, certSetting, keySetting, passwordSetting);
    }

    private static X509Certificate2 LoadPfx(byte[] bytes, string path, SecureString? password, string certSetting, string passwordSetting)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = password != null
                ? new X509Certificate2(bytes, password, X509KeyStorageFlags.DefaultKeySet)
                : new X509Certificate2(bytes, (string?)null, X509KeyStorageFlags.DefaultKeySet);
        }
        catch (CryptographicException ex)
        {
            throw password == null
                ? Invalid(certSetting, $"'{path}' cannot be read as a PFX file ({ex.Message.Trim()}); if it has a password, give it with {passwordSetting}.")
                : Invalid(passwordSetting, $"'{path}' cannot be read as a PFX file with the password given ({ex.Message.Trim()}).");
        }
        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw Invalid(certSetting, $"'{path}' holds no private key, so it cannot prove the client's identity. Export the certificate with its key.");
        }
        return certificate;
    }

#if NET8_0_OR_GREATER
    private static X509Certificate2 LoadPem(string certText, string path, string? keyPath, SecureString? password, string certSetting, string keySetting, string passwordSetting)
    {
        if (PemBlocks(certText, Certificate, path, certSetting).Count == 0) throw Invalid(certSetting, $"'{path}' holds no PEM certificate (-----BEGIN CERTIFICATE-----).");
        string keyFile = keyPath ?? path;
        string keyText = keyPath != null ? Encoding.ASCII.GetString(ReadBytes(keyPath, keySetting)) : certText;
        if (keyText.IndexOf("PRIVATE KEY-----", StringComparison.Ordinal) < 0)
        {
            throw keyPath == null
                ? Invalid(certSetting, $"'{path}' holds a certificate but no private key: give the key file with {keySetting}, or use a PFX file.")
                : Invalid(keySetting, $"'{keyPath}' holds no PEM private key (-----BEGIN PRIVATE KEY-----).");
        }
        if (keyText.IndexOf("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal) >= 0)
        {
            throw Invalid(keySetting, $"the key in '{keyFile}' is encrypted in OpenSSL's old format; convert it with: openssl pkcs8 -topk8 -in {keyFile} -out client.key");
        }
        bool encrypted = keyText.IndexOf("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal) >= 0;
        if (encrypted && password == null) throw Invalid(passwordSetting, $"the key in '{keyFile}' is encrypted: give its password.");
        X509Certificate2 certificate;
        try
        {
            certificate = encrypted ? FromEncryptedPem(certText, keyText, password!) : X509Certificate2.CreateFromPem(certText, keyText);
        }
        catch (Exception ex) when (ex is CryptographicException || ex is ArgumentException)
        {
            throw encrypted
                ? Invalid(passwordSetting, $"the key in '{keyFile}' cannot be decrypted with the password given, or does not belong to the certificate in '{path}' ({ex.Message.Trim()}).")
                : Invalid(keyPath != null ? keySetting : certSetting, $"the key in '{keyFile}' cannot be read, or does not belong to the certificate in '{path}' ({ex.Message.Trim()}).");
        }
        if (!OperatingSystem.IsWindows()) return certificate;
        // Windows' TLS (Schannel) takes a client key only from a key store, not from memory: import it as a PFX.
        using (certificate)
        {
            return new X509Certificate2(certificate.Export(X509ContentType.Pkcs12), (string?)null, X509KeyStorageFlags.DefaultKeySet);
        }
    }

    private static unsafe X509Certificate2 FromEncryptedPem(string certText, string keyText, SecureString password)
    {
        IntPtr chars = Marshal.SecureStringToGlobalAllocUnicode(password);
        try
        {
            return X509Certificate2.CreateFromEncryptedPem(certText, keyText, new ReadOnlySpan<char>((void*)chars, password.Length));
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(chars);
        }
    }
#else
    private static X509Certificate2 LoadPem(string certText, string path, string? keyPath, SecureString? password, string certSetting, string keySetting, string passwordSetting)
    {
        // netstandard2.0 cannot join a key to a certificate (no CopyWithPrivateKey, no PKCS#8 import).
        string keyFile = keyPath ?? path;
        throw Invalid(certSetting, $"'{path}' is a PEM file, and Windows PowerShell 5.1 takes a client certificate only as a PFX file. " +
            $"Make one with: openssl pkcs12 -export -in {path} -inkey {keyFile} -out client.pfx (then give its password with {passwordSetting}), or use PowerShell 7.4 or later.");
    }
#endif

    /// <summary>
    /// The decoded blocks of one PEM label (<c>-----BEGIN label-----</c> … <c>-----END label-----</c>)
    /// in file order; text between blocks is ignored, as OpenSSL does.
    /// </summary>
    internal static List<byte[]> PemBlocks(string text, string label, string path, string setting)
    {
        string begin = "-----BEGIN " + label + "-----";
        string end = "-----END " + label + "-----";
        var blocks = new List<byte[]>();
        int at = 0;
        while ((at = text.IndexOf(begin, at, StringComparison.Ordinal)) >= 0)
        {
            int start = at + begin.Length;
            int stop = text.IndexOf(end, start, StringComparison.Ordinal);
            if (stop < 0) throw Invalid(setting, $"block {blocks.Count + 1} of '{path}' has no {end} line.");
            try
            {
                blocks.Add(Convert.FromBase64String(text.Substring(start, stop - start)));
            }
            catch (FormatException)
            {
                throw Invalid(setting, $"block {blocks.Count + 1} of '{path}' is not base64 text.");
            }
            at = stop + end.Length;
        }
        return blocks;
    }

    private static byte[] ReadBytes(string path, string setting)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException || ex is UnauthorizedAccessException || ex is ArgumentException || ex is NotSupportedException)
        {
            throw Invalid(setting, $"cannot read '{path}': {ex.Message}");
        }
    }

    private static SyncException Invalid(string setting, string why) =>
        new SyncException(SyncErrorIds.InvalidOptions, SyncErrorKind.Stop, $"{setting}: {why}");
}
