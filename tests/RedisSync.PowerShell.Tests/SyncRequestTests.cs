using System;
using System.Collections;
using System.IO;
using System.Net;
using System.Security;
using RedisSync.Engine;
using RedisSync.Engine.Hosting;
using RedisSync.Engine.Sync;
using RedisSync.Engine.Transform;
using RedisSync.PowerShell.Tests.Infrastructure;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>How Start-RedisSync's parameters become a sync's options (the binding logic behind the cmdlet).</summary>
public sealed class SyncRequestTests
{
    [Fact]
    public void Addresses_become_endpoints_with_the_default_mode_and_name()
    {
        SyncOptions options = new SyncRequest { Source = "10.0.0.5:6380", Target = "redis://10.0.0.6/2" }.Resolve(out string? status);

        Assert.Null(status);
        Assert.Equal("default", options.Name);
        Assert.Equal(SyncMode.FullAndIncremental, options.Mode);
        Assert.Equal(ConflictPolicy.Stop, options.OnConflict);
        Assert.Equal(("10.0.0.5", 6380), (options.Source!.Host, options.Source.Port));
        Assert.Equal(("10.0.0.6", 6379, 2), (options.Target.Host, options.Target.Port, options.Target.Database));
        Assert.False(options.FlushTarget);
    }

    [Fact]
    public void SourceMode_and_EnableKeyspaceEvents_reach_the_options_and_replace_the_settings_file()
    {
        SyncOptions asked = new SyncRequest { Source = "src:6379", Target = "dst:6379", SourceMode = RedisSync.SourceMode.Scan, EnableKeyspaceEvents = true }.Resolve(out _);
        Assert.Equal(RedisSync.SourceMode.Scan, asked.SourceMode);
        Assert.True(asked.EnableKeyspaceEvents);
        Assert.Equal(RedisSync.SourceMode.Auto, new SyncRequest { Source = "src:6379", Target = "dst:6379" }.Resolve(out _).SourceMode);

        string dir = Directory.CreateTempSubdirectory("redissync-request-").FullName;
        try
        {
            string path = Path.Combine(dir, "sync.toml");
            File.WriteAllText(path, "source_mode = \"scan\"\nenable_keyspace_events = true\nscan_count = 250\n[source]\naddress = \"src:6379\"\n[target]\naddress = \"dst:6379\"\n");
            SyncOptions file = new SyncRequest { ConfigPath = path }.Resolve(out _);
            Assert.Equal(RedisSync.SourceMode.Scan, file.SourceMode);
            Assert.True(file.EnableKeyspaceEvents);
            Assert.Equal(250, file.ScanCount);
            SyncOptions asked2 = new SyncRequest { ConfigPath = path, SourceMode = RedisSync.SourceMode.Psync, ScanCount = 50 }.Resolve(out _);
            Assert.Equal(RedisSync.SourceMode.Psync, asked2.SourceMode);
            Assert.Equal(50, asked2.ScanCount);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Shard_reaches_the_options_replaces_the_settings_files_and_refuses_what_it_cannot_be()
    {
        Assert.Equal("0-5460", new SyncRequest { Source = "src:6379", Target = "dst:6379", Shard = "0-5460" }.Resolve(out _).Shard);
        Assert.Null(new SyncRequest { Source = "src:6379", Target = "dst:6379" }.Resolve(out _).Shard);
        var flush = Assert.Throws<SyncException>(() => new SyncRequest { Source = "src:6379", Target = "dst:6379", Shard = "0-5460", FlushTarget = true }.Resolve(out _));
        Assert.Equal(SyncErrorIds.InvalidOptions, flush.ErrorId);
        Assert.Contains("-Shard '0-5460'", flush.Message);
        var wrong = Assert.Throws<SyncException>(() => new SyncRequest { Source = "src:6379", Target = "dst:6379", Shard = "orders" }.Resolve(out _));
        Assert.Equal(SyncErrorIds.InvalidOptions, wrong.ErrorId);
        Assert.Contains("-Shard 'orders' is not a shard", wrong.Message);

        string dir = Directory.CreateTempSubdirectory("redissync-request-").FullName;
        try
        {
            string path = Path.Combine(dir, "sync.toml");
            File.WriteAllText(path, "name = \"orders\"\nshard = \"5461-10922\"\n[source]\naddress = \"src:6379\"\n[target]\naddress = \"dst:6379\"\n");
            Assert.Equal("5461-10922", new SyncRequest { ConfigPath = path }.Resolve(out _).Shard);
            Assert.Equal("a1b2c3", new SyncRequest { ConfigPath = path, Shard = "a1b2c3" }.Resolve(out _).Shard);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_credential_replaces_the_user_and_password_of_the_address()
    {
        var request = new SyncRequest
        {
            Source = "redis://olduser:oldpass@src:6379",
            Target = "dst:6379",
            SourceCredential = new NetworkCredential("replicator", Secure("s3cret")),
            TargetCredential = new NetworkCredential("default", Secure("t4rget")),
        };

        SyncOptions options = request.Resolve(out _);

        Assert.Equal("replicator", options.Source!.User);
        Assert.Equal("s3cret", options.Source.Password);
        Assert.Null(options.Target.User); // "default": AUTH with the password alone, as Redis before 6 expects
        Assert.Equal("t4rget", options.Target.Password);
        Assert.DoesNotContain("s3cret", options.Source.ToString());
    }

    [Fact]
    public void A_database_map_hashtable_accepts_numbers_and_numeric_strings()
    {
        var map = new Hashtable { [0] = 1, ["2"] = 3L, [4L] = " 5 " };

        SyncOptions options = new SyncRequest { Source = "a:1", Target = "b:2", DatabaseMap = map }.Resolve(out _);

        Assert.Equal(3, options.DatabaseMap!.Count);
        Assert.Equal(1, options.DatabaseMap[0]);
        Assert.Equal(3, options.DatabaseMap[2]);
        Assert.Equal(5, options.DatabaseMap[4]);
    }

    [Theory]
    [InlineData("x", 1, "'x' = 1 is not a pair of database numbers")]
    [InlineData(0, -1, "0 = -1 has a database number that is not 0 or more")]
    [InlineData(0, 1.5, "0 = 1.5 is not a pair of database numbers")]
    public void A_database_map_entry_that_is_not_two_database_numbers_is_named_in_the_error(object key, object value, string expected)
    {
        var map = new Hashtable { [key] = value };

        var error = Assert.Throws<SyncException>(() => new SyncRequest { Source = "a:1", Target = "b:2", DatabaseMap = map }.Resolve(out _));

        Assert.Equal(HostErrorIds.InvalidParameter, error.ErrorId);
        Assert.StartsWith("-DatabaseMap: ", error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void A_bad_address_names_the_parameter_and_hides_the_password()
    {
        var error = Assert.Throws<SyncException>(() =>
            new SyncRequest { Source = "redis://user:hunter2@src:99999", Target = "dst:6379" }.Resolve(out _));

        Assert.Equal(SyncErrorIds.InvalidEndpoint, error.ErrorId);
        Assert.StartsWith("-Source: ", error.Message);
        Assert.DoesNotContain("hunter2", error.Message);
        Assert.Equal(HostErrorCategory.InvalidArgument, HostErrors.CategoryOf(error.ErrorId));
    }

    [Fact]
    public void An_rdb_file_is_always_a_full_copy()
    {
        SyncOptions options = new SyncRequest { RdbPath = "/data/dump.rdb", Target = "dst:6379" }.Resolve(out _);
        Assert.Equal(SyncMode.Full, options.Mode);
        Assert.Null(options.Source);

        var error = Assert.Throws<SyncException>(() =>
            new SyncRequest { RdbPath = "/data/dump.rdb", Target = "dst:6379", Mode = SyncMode.Incremental }.Resolve(out _));
        Assert.Equal(HostErrorIds.InvalidParameter, error.ErrorId);
        Assert.StartsWith("-Mode: ", error.Message);
    }

    [Fact]
    public void Exactly_one_of_source_rdb_file_and_settings_file_is_required()
    {
        var none = Assert.Throws<SyncException>(() => new SyncRequest { Target = "dst:6379" }.Resolve(out _));
        var two = Assert.Throws<SyncException>(() => new SyncRequest { Source = "a:1", RdbPath = "/x.rdb", Target = "dst:6379" }.Resolve(out _));

        Assert.Equal(HostErrorIds.InvalidParameter, none.ErrorId);
        Assert.Equal(HostErrorIds.InvalidParameter, two.ErrorId);
    }

    [Fact]
    public void A_sync_name_with_a_space_is_refused_by_the_engine_check()
    {
        var error = Assert.Throws<SyncException>(() => new SyncRequest { Source = "a:1", Target = "b:2", Name = "two words" }.Resolve(out _));
        Assert.Equal(SyncErrorIds.InvalidOptions, error.ErrorId);
    }

    [Fact]
    public void A_settings_file_gives_every_setting_and_credentials_and_status_path_override_it()
    {
        string dir = Paths.TempDirectory();
        try
        {
            string config = Path.Combine(dir, "orders.toml");
            File.WriteAllText(config, """
                name = "orders"
                mode = "Full"
                flush_target = true
                on_conflict = "Replace"
                status_file = "status/orders.json"
                status_interval_seconds = 2
                [source]
                address = "redis://src:6379"
                password = "from-file"
                [target]
                address = "dst:6380"
                [database_map]
                0 = 3
                """);

            SyncOptions fromFile = new SyncRequest { ConfigPath = config }.Resolve(out string? status);
            Assert.Equal("orders", fromFile.Name);
            Assert.Equal(SyncMode.Full, fromFile.Mode);
            Assert.True(fromFile.FlushTarget);
            Assert.Equal(ConflictPolicy.Replace, fromFile.OnConflict);
            Assert.Equal(TimeSpan.FromSeconds(2), fromFile.StatusInterval);
            Assert.Equal("from-file", fromFile.Source!.Password);
            Assert.Equal(3, fromFile.DatabaseMap![0]);
            Assert.Equal(Path.Combine(dir, "status/orders.json"), status);

            SyncOptions overridden = new SyncRequest
            {
                ConfigPath = config,
                SourceCredential = new NetworkCredential("replicator", Secure("from-credential")),
                StatusPath = Path.Combine(dir, "other.json"),
            }.Resolve(out string? otherStatus);
            Assert.Equal("replicator", overridden.Source!.User);
            Assert.Equal("from-credential", overridden.Source.Password);
            Assert.Equal(Path.Combine(dir, "other.json"), otherStatus);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_shake_toml_gives_the_sync_its_settings_and_the_host_its_warnings()
    {
        string dir = Paths.TempDirectory();
        try
        {
            string config = Path.Combine(dir, "shake.toml");
            File.WriteAllText(config, "[sync_reader]\naddress = \"src:6379\"\npassword = \"from-file\"\n[redis_writer]\naddress = \"dst:6380\"\n[advanced]\nncpu = 4\n");
            var request = new SyncRequest { ConfigPath = config, SourceCredential = new NetworkCredential("replicator", Secure("from-credential")) };

            SyncOptions options = request.Resolve(out string? status);

            Assert.Equal("src", options.Source!.Host);
            Assert.Equal("from-credential", options.Source.Password);
            Assert.Equal(6380, options.Target.Port);
            Assert.Null(status);
            SyncWarning warning = Assert.Single(request.SettingsWarnings);
            Assert.Contains("line 7, column 1: \"advanced.ncpu\" = 4 is ignored, which is harmless", warning.Message);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_broken_settings_file_fails_with_InvalidConfig_naming_the_line()
    {
        string dir = Paths.TempDirectory();
        try
        {
            string config = Path.Combine(dir, "bad.toml");
            File.WriteAllText(config, "name = \"x\"\nflush_targt = true\n[target]\naddress = \"dst:1\"\n");

            var error = Assert.Throws<SyncException>(() => new SyncRequest { ConfigPath = config }.Resolve(out _));

            Assert.Equal(SyncErrorIds.InvalidConfig, error.ErrorId);
            Assert.Contains("flush_targt", error.Message);
            Assert.Equal(HostErrorCategory.InvalidData, HostErrors.CategoryOf(error.ErrorId));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Flushing_or_replacing_is_a_destructive_action_that_asks_first()
    {
        SyncOptions plain = new SyncRequest { Source = "a:1", Target = "b:2" }.Resolve(out _);
        SyncOptions flush = new SyncRequest { Source = "a:1", Target = "b:2", FlushTarget = true }.Resolve(out _);
        SyncOptions replace = new SyncRequest { RdbPath = "/d/dump.rdb", Target = "b:2", OnConflict = ConflictPolicy.Replace }.Resolve(out _);

        Assert.Null(SyncRequest.DestructiveAction(plain));
        Assert.StartsWith("Delete every key", SyncRequest.DestructiveAction(flush));
        Assert.Contains("replacing the keys that already exist", SyncRequest.DestructiveAction(replace));
        Assert.Contains("dump.rdb", SyncRequest.Action(replace));
        Assert.Contains("FullAndIncremental", SyncRequest.Action(plain));
    }

    [Theory]
    [InlineData(SyncErrorIds.SourceUnreachable, HostErrorCategory.ConnectionError)]
    [InlineData(SyncErrorIds.TargetAuthFailed, HostErrorCategory.AuthenticationError)]
    [InlineData(SyncErrorIds.TargetBusyKey, HostErrorCategory.ResourceExists)]
    [InlineData(SyncErrorIds.RdbNotFound, HostErrorCategory.ObjectNotFound)]
    [InlineData(SyncErrorIds.RdbCorrupt, HostErrorCategory.InvalidData)]
    [InlineData(SyncErrorIds.SourceTlsFailed, HostErrorCategory.SecurityError)]
    [InlineData(SyncErrorIds.TargetTlsFailed, HostErrorCategory.SecurityError)]
    [InlineData(HostErrorIds.SyncAlreadyRunning, HostErrorCategory.ResourceExists)]
    [InlineData(HostErrorIds.SyncNotFound, HostErrorCategory.ObjectNotFound)]
    [InlineData(SyncErrorIds.ShardNotFound, HostErrorCategory.ObjectNotFound)]
    [InlineData(SyncErrorIds.ShardAmbiguous, HostErrorCategory.InvalidArgument)]
    [InlineData("SomethingNew", HostErrorCategory.NotSpecified)]
    public void Every_error_id_is_filed_under_a_category(string id, HostErrorCategory category) =>
        Assert.Equal(category, HostErrors.CategoryOf(id));

    private static SecureString Secure(string text)
    {
        var secure = new SecureString();
        foreach (char c in text) secure.AppendChar(c);
        secure.MakeReadOnly();
        return secure;
    }
}

/// <summary>-Sentinel and -MasterName as Start-RedisSync binds them.</summary>
public sealed class SentinelRequestTests
{
    [Xunit.Fact]
    public void Sentinels_and_a_master_name_become_the_source_with_each_login_where_it_belongs()
    {
        var request = new RedisSync.Engine.Hosting.SyncRequest
        {
            Sentinel = new[] { "127.0.0.1:26379", "127.0.0.1:26380" },
            MasterName = "orders",
            SentinelCredential = new System.Net.NetworkCredential("watcher", "sentinel-pass"),
            SourceCredential = new System.Net.NetworkCredential("default", "master-pass"),
            Target = "127.0.0.1:6380",
        };
        RedisSync.Engine.Sync.SyncOptions options = request.Resolve(out _);
        Xunit.Assert.Null(options.Source);
        Xunit.Assert.Equal("orders", options.MasterName);
        Xunit.Assert.Equal(2, options.Sentinels!.Count);
        Xunit.Assert.Equal("watcher", options.Sentinels[0].User);
        Xunit.Assert.Equal("sentinel-pass", options.Sentinels[1].Password);
        Xunit.Assert.Equal("master-pass", options.MasterLogin!.Password);
        Xunit.Assert.Null(options.MasterLogin.User);
    }

    [Xunit.Fact]
    public void A_sentinel_without_a_master_name_is_refused_naming_MasterName()
    {
        var request = new RedisSync.Engine.Hosting.SyncRequest { Sentinel = new[] { "127.0.0.1:26379" }, Target = "127.0.0.1:6380" };
        RedisSync.Engine.SyncException e = Xunit.Assert.Throws<RedisSync.Engine.SyncException>(() => request.Resolve(out _));
        Xunit.Assert.StartsWith("-MasterName: ", e.Message);
    }
}
