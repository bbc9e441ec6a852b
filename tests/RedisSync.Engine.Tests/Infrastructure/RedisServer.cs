using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Threading;
using StackExchange.Redis;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> for one test: a free loopback port (never 6379), its own temp dir,
/// stopped by PID. <see cref="Restart"/> keeps the port and the dir (and so the data, with persistence).
/// A server from <see cref="StartTls"/> listens only for TLS, with a certificate of <see cref="TestCertificates"/>.
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string[] _args;
    private readonly TlsSetup? _tls;
    private Process? _process;
    private ConnectionMultiplexer? _mux;

    private RedisServer(string dir, int port, string[] args, TlsSetup? tls)
    {
        Dir = dir;
        Port = port;
        _args = args;
        _tls = tls;
    }

    /// <summary>How a TLS server is set up: its certificate (server, wrong-host, expired, untrusted) and tls-auth-clients (no, yes, optional).</summary>
    private sealed record TlsSetup(string Certificate, string AuthClients);

    /// <summary>Listens only for TLS (port 0, tls-port).</summary>
    public bool IsTls => _tls != null;

    /// <summary>The directory that holds the server's files (dump.rdb, log).</summary>
    public string Dir { get; }

    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>.</summary>
    public string Endpoint => "127.0.0.1:" + Port;

    public int Pid => _process?.Id ?? 0;

    /// <summary>Starts a server with the given extra config arguments (for example "--requirepass", "x").</summary>
    public static RedisServer Start(params string[] args) => Start(null, args);

    /// <summary>
    /// Starts a TLS-only server with the certificate <paramref name="certificate"/> of <see cref="TestCertificates.Shared"/>;
    /// <paramref name="authClients"/> is its tls-auth-clients (yes: mutual TLS with a client certificate by the test CA).
    /// </summary>
    public static RedisServer StartTls(string certificate = "server", string authClients = "no", params string[] args) =>
        Start(new TlsSetup(certificate, authClients), args);

    private static RedisServer Start(TlsSetup? tls, string[] args)
    {
        string exe = FindServer();
        for (int attempt = 0; ; attempt++)
        {
            string dir = Path.Combine(Path.GetTempPath(), "redissync-test-" + Guid.NewGuid().ToString("N").Substring(0, 12));
            Directory.CreateDirectory(dir);
            var server = new RedisServer(dir, FreePort(), args, tls);
            try
            {
                server.Launch(exe);
                return server;
            }
            catch (Exception) when (attempt < 3)
            {
                server.Dispose();
            }
        }
    }

    private void Launch(string exe)
    {
        var argList = new List<string>
        {
            "--port", _tls == null ? Port.ToString() : "0", "--bind", "127.0.0.1", "--dir", Dir, "--logfile", "redis.log",
            "--daemonize", "no", "--save", "", "--appendonly", "no", "--protected-mode", "no",
        };
        if (_tls != null)
        {
            TestCertificates certificates = TestCertificates.Shared;
            argList.AddRange(new[]
            {
                "--tls-port", Port.ToString(), "--tls-cert-file", certificates.Path(_tls.Certificate + ".crt"),
                "--tls-key-file", certificates.Path(_tls.Certificate + ".key"), "--tls-ca-cert-file", certificates.CaPath,
                "--tls-auth-clients", _tls.AuthClients,
            });
        }
        argList.AddRange(_args);
        var psi = new ProcessStartInfo(exe)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Dir,
        };
        foreach (string a in argList) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntilReady();
    }

    private void WaitUntilReady()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"redis-server on port {Port} exited at start: {Log()}");
            }
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                using Stream s = _tls == null ? client.GetStream() : TestTlsStream(client.GetStream());
                s.ReadTimeout = 2000;
                byte[] ping = "PING\r\n"u8.ToArray();
                s.Write(ping);
                var buf = new byte[64];
                int n = s.Read(buf);
                string reply = System.Text.Encoding.ASCII.GetString(buf, 0, n);
                if (reply.StartsWith("+PONG") || reply.StartsWith("-NOAUTH")) return;
            }
            catch (SocketException) { }
            catch (IOException) { }
            catch (System.Security.Authentication.AuthenticationException) { }
            Thread.Sleep(20);
        }
        throw new TimeoutException($"redis-server on port {Port} did not answer PING: {Log()}");
    }

    private static readonly Lazy<X509Certificate2> s_clientCertificate = new Lazy<X509Certificate2>(() => TestCertificates.Shared.LoadClient());

    /// <summary>The test's own TLS: any server certificate, the test CA's client certificate (the engine's checks are what the tests test).</summary>
    private static SslStream TestTlsStream(Stream inner)
    {
        var ssl = new SslStream(inner, false, (_, _, _, _) => true, (_, _, _, _, _) => s_clientCertificate.Value);
        ssl.AuthenticateAsClient("localhost", new X509CertificateCollection { s_clientCertificate.Value }, System.Security.Authentication.SslProtocols.None, false);
        return ssl;
    }

    /// <summary>Options for an independent StackExchange.Redis client of <paramref name="endpoint"/> (TLS as the test's own when <paramref name="tls"/>).</summary>
    public static ConfigurationOptions ClientOptions(string endpoint, bool tls)
    {
        var options = ConfigurationOptions.Parse(endpoint);
        options.AllowAdmin = true;
        options.SyncTimeout = 60000;
        options.AsyncTimeout = 60000;
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 10000;
        if (tls)
        {
            options.Ssl = true;
            options.CertificateValidation += (_, _, _, _) => true;
            options.CertificateSelection += (_, _, _, _, _) => s_clientCertificate.Value;
        }
        return options;
    }

    /// <summary>The server's log file, for failure messages.</summary>
    public string Log()
    {
        string path = Path.Combine(Dir, "redis.log");
        try { return File.Exists(path) ? string.Join("\n", File.ReadAllLines(path).TakeLast(20)) : "(no log)"; }
        catch (IOException) { return "(log unreadable)"; }
    }

    /// <summary>An independent client (StackExchange.Redis) with admin commands allowed.</summary>
    public ConnectionMultiplexer Client(string? password = null)
    {
        if (_mux != null && _mux.IsConnected) return _mux;
        _mux?.Dispose();
        ConfigurationOptions options = ClientOptions(Endpoint, IsTls);
        if (password != null) options.Password = password;
        _mux = ConnectionMultiplexer.Connect(options);
        return _mux;
    }

    public IDatabase Db(int db = 0) => Client().GetDatabase(db);

    /// <summary>Runs redis-cli against this server and returns its stdout.</summary>
    public string Cli(params string[] args) => RunTool("redis-cli", CliArguments().Concat(args));

    /// <summary>A redis-cli for scripts that take one (populate.sh): redis-cli itself, or for a TLS server a wrapper that adds the TLS arguments.</summary>
    public string CliProgram()
    {
        if (_tls == null) return "redis-cli";
        string wrapper = System.IO.Path.Combine(Dir, "redis-cli-tls");
        string[] tls = CliArguments().Skip(4).Select(a => "'" + a + "'").ToArray();
        File.WriteAllText(wrapper, "#!/bin/sh\nexec redis-cli " + string.Join(" ", tls) + " \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return wrapper;
    }

    /// <summary>How redis-cli reaches this server: host, port, and for a TLS server the test's client certificate (the server's not checked).</summary>
    private string[] CliArguments()
    {
        if (_tls == null) return new[] { "-h", "127.0.0.1", "-p", Port.ToString() };
        TestCertificates certificates = TestCertificates.Shared;
        return new[] { "-h", "127.0.0.1", "-p", Port.ToString(), "--tls", "--insecure", "--cert", certificates.ClientCertificate, "--key", certificates.ClientKey };
    }

    /// <summary>Runs a shell command with PORT set to this server's port.</summary>
    public string Shell(string command)
    {
        var psi = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        psi.Environment["PORT"] = Port.ToString();
        using var p = Process.Start(psi)!;
        string err = "";
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) err += e.Data + "\n"; };
        p.BeginErrorReadLine();
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"'{command}' failed ({p.ExitCode}): {err}");
        return output;
    }

    private static string RunTool(string tool, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(tool) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        // redis-cli prints its --cluster errors on standard output: show both, the end of it where it is long.
        if (p.ExitCode != 0) throw new InvalidOperationException($"{tool} {string.Join(" ", args.Take(3))} failed ({p.ExitCode}): {err}{Tail(output, 2000)}");
        return output;
    }

    private static string Tail(string text, int length) => text.Length <= length ? text : "..." + text.Substring(text.Length - length);

    /// <summary>SAVE, then the path of the dump file.</summary>
    public string Save()
    {
        Cli("SAVE");
        return Path.Combine(Dir, "dump.rdb");
    }

    /// <summary>Kills the process (SIGKILL) and waits for it to go.</summary>
    public void Kill()
    {
        _mux?.Dispose();
        _mux = null;
        if (_process == null) return;
        try
        {
            if (!_process.HasExited) _process.Kill();
            _process.WaitForExit(10000);
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Stops the server with SIGTERM (it saves first when persistence is on) and waits.</summary>
    public void Stop()
    {
        _mux?.Dispose();
        _mux = null;
        if (_process == null) return;
        if (!_process.HasExited)
        {
            RunTool("kill", new[] { "-TERM", _process.Id.ToString() });
            if (!_process.WaitForExit(30000)) _process.Kill();
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts the server again on the same port and dir (after <see cref="Stop"/> or <see cref="Kill"/>).</summary>
    public void Restart()
    {
        if (_process != null) Stop();
        Launch(FindServer());
    }

    public void Dispose()
    {
        Kill();
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    internal static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port == 6379 ? FreePort() : port;
    }

    private static string FindServer()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Concat(new[] { "/usr/bin", "/usr/local/bin" }))
        {
            string path = Path.Combine(dir, "redis-server");
            if (File.Exists(path)) return path;
        }
        throw new InvalidOperationException("redis-server is not installed: run 'apt-get install -y redis-server' (the tests start their own servers).");
    }
}
