using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RedisSync.Engine.Hosting;
using RedisSync.PowerShell.Tests.Infrastructure;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>
/// The cmdlets as PowerShell will see them, read from the staged module without running it: names,
/// parameter sets, mandatory flags, positions, pipeline binding, output types, ShouldProcess, the
/// manifest's exports, the format views, and whether Windows PowerShell 5.1 finds every dependency.
/// </summary>
public sealed class ModuleMetadataTests : IDisposable
{
    private readonly ModuleMetadata _module = new ModuleMetadata();

    /// <summary>The TLS parameters of every cmdlet that connects.</summary>
    private static readonly string[] Tls =
    {
        "-Tls <SwitchParameter>", "-CertificateAuthorityPath <String>", "-ClientCertificatePath <String>", "-ClientKeyPath <String>",
        "-ClientCertificatePassword <SecureString>", "-SkipCertificateCheck <SwitchParameter>",
    };

    /// <summary>What is copied: in every parameter set of Start-RedisSync.</summary>
    private static readonly string[] Filters =
    {
        "-Key <String[]>", "-ExcludeKey <String[]>", "-Database <Int32[]>", "-Type <String[]>", "-ExcludeCommand <String[]>", "-RenameKey <Hashtable>", "-Where <ScriptBlock>",
    };

    /// <summary>What is compared or repaired: the same filters, and the sync whose filter to use.</summary>
    private static readonly string[] PairFilters =
    {
        "-Database <Int32[]>", "-Key <String[]>", "-ExcludeKey <String[]>", "-Type <String[]>", "-SyncName <String>", "-RenameKey <Hashtable>", "-Where <ScriptBlock>",
    };

    public void Dispose() => _module.Dispose();

    [Fact]
    public void Start_RedisSync_has_a_source_a_sentinel_an_rdb_file_and_a_settings_file_parameter_set()
    {
        Type cmdlet = _module.Cmdlets()["Start-RedisSync"];
        string[] shared = new[] { "-TargetCredential <PSCredential>", "-MaxWriteRate <Int64>", "-Verify <Int64>", "-RepairMismatches <SwitchParameter>", "-StatusPath <String>", "-Wait <SwitchParameter>" }.Concat(Tls).Concat(Filters).ToArray();
        string[] copy = { "-Name <String>", "-DatabaseMap <Hashtable>", "-FlushTarget <SwitchParameter>", "-OnConflict <ConflictPolicy>", "-SkipFailedCommands <SwitchParameter>" };
        string[] live = { "-SourceMode <SourceMode>", "-EnableKeyspaceEvents <SwitchParameter>", "-ScanCount <Int32>", "-MaxReadRate <Int64>" };

        AssertParameters(cmdlet,
            Set("Source", "-Source <String> mandatory position=0", "-Target <String> mandatory position=1", "-SourceCredential <PSCredential>", "-Mode <SyncMode>", "-Shard <String>", "-Session <PSSession[]>", "-ThrottleLimit <Int32>")
                .Concat(Set("Source", shared)).Concat(Set("Source", copy)).Concat(Set("Source", live)),
            Set("Sentinel", "-Sentinel <String[]> mandatory", "-MasterName <String> mandatory", "-Target <String> mandatory", "-SentinelCredential <PSCredential>",
                "-SourceCredential <PSCredential>", "-Mode <SyncMode>", "-Session <PSSession[]>", "-ThrottleLimit <Int32>").Concat(Set("Sentinel", shared)).Concat(Set("Sentinel", copy)).Concat(Set("Sentinel", live)),
            Set("RdbPath", "-RdbPath <String> mandatory", "-Target <String> mandatory").Concat(Set("RdbPath", shared)).Concat(Set("RdbPath", copy)),
            Set("ConfigPath", "-ConfigPath <String> mandatory position=0", "-SourceCredential <PSCredential>", "-Shard <String>", "-Session <PSSession[]>", "-ThrottleLimit <Int32>").Concat(Set("ConfigPath", shared)).Concat(Set("ConfigPath", live)));
        AssertCmdlet(cmdlet, "Source", shouldProcess: true, impact: "High", "RedisSync.RedisSyncJob", "RedisSync.Remoting.RedisSyncShardedJob", "RedisSync.SyncStatus");
    }

    [Fact]
    public void Get_RedisSyncStatus_finds_syncs_by_name_by_job_from_the_pipeline_or_on_a_target()
    {
        Type cmdlet = _module.Cmdlets()["Get-RedisSyncStatus"];

        AssertParameters(cmdlet,
            Set("Name", "-Name <String> position=0 bypropertyname", "-Shard <SwitchParameter>"),
            Set("Job", "-Job <RedisSyncJob> mandatory pipeline", "-Shard <SwitchParameter>"),
            Set("Target", "-Name <String> mandatory position=0", "-Target <String> mandatory", "-TargetCredential <PSCredential>", "-Shard <SwitchParameter>").Concat(Set("Target", Tls)));
        AssertCmdlet(cmdlet, "Name", shouldProcess: false, impact: null, "RedisSync.ShardStatus", "RedisSync.SyncStatus");
    }

    [Fact]
    public void Stop_RedisSync_takes_a_name_or_jobs_from_the_pipeline_and_supports_WhatIf()
    {
        Type cmdlet = _module.Cmdlets()["Stop-RedisSync"];

        AssertParameters(cmdlet,
            Set("Name", "-Name <String> position=0 bypropertyname", "-PassThru <SwitchParameter>"),
            Set("Job", "-Job <RedisSyncJob> mandatory pipeline", "-PassThru <SwitchParameter>"));
        AssertCmdlet(cmdlet, "Name", shouldProcess: true, impact: "Medium", "RedisSync.SyncStatus");
    }

    [Fact]
    public void Compare_RedisData_streams_differences_and_a_summary()
    {
        Type cmdlet = _module.Cmdlets()["Compare-RedisData"];

        AssertParameters(cmdlet, Set("__AllParameterSets",
            "-Source <String> mandatory position=0 bypropertyname", "-Target <String> mandatory position=1 bypropertyname", "-SourceCredential <PSCredential>", "-TargetCredential <PSCredential>",
            "-KeyPattern <String>", "-Mode <CompareMode>", "-TtlTolerance <TimeSpan?>", "-IncludeEqual <SwitchParameter>", "-Summary <SwitchParameter>")
            .Concat(Set("__AllParameterSets", PairFilters)).Concat(Set("__AllParameterSets", Tls)));
        AssertCmdlet(cmdlet, null, shouldProcess: false, impact: null, "RedisSync.KeyDifference", "RedisSync.CompareSummary");
    }

    [Fact]
    public void Repair_RedisData_takes_differences_and_their_servers_from_the_pipeline_and_asks_per_key()
    {
        Type cmdlet = _module.Cmdlets()["Repair-RedisData"];

        AssertParameters(cmdlet, Set("__AllParameterSets",
            "-InputObject <KeyDifference> mandatory pipeline", "-Source <String> mandatory position=0 bypropertyname", "-Target <String> mandatory position=1 bypropertyname",
            "-SourceCredential <PSCredential>", "-TargetCredential <PSCredential>", "-RemoveExtra <SwitchParameter>")
            .Concat(Set("__AllParameterSets", PairFilters)).Concat(Set("__AllParameterSets", Tls)));
        AssertCmdlet(cmdlet, null, shouldProcess: true, impact: "Medium", "RedisSync.RepairResult");
    }

    [Fact]
    public void Remove_RedisSyncCheckpoint_takes_a_target_and_a_name_and_asks_first()
    {
        Type cmdlet = _module.Cmdlets()["Remove-RedisSyncCheckpoint"];

        AssertParameters(cmdlet, Set("__AllParameterSets",
            "-Target <String> mandatory position=0 bypropertyname", "-Name <String> mandatory position=1 bypropertyname",
            "-TargetCredential <PSCredential>", "-Force <SwitchParameter>").Concat(Set("__AllParameterSets", Tls)));
        AssertCmdlet(cmdlet, null, shouldProcess: true, impact: "High");
    }

    [Fact]
    public void Every_cmdlet_is_a_sealed_Verb_Noun_Command_class_with_an_output_type()
    {
        IReadOnlyDictionary<string, Type> cmdlets = _module.Cmdlets();

        Assert.Equal(new[] { "Compare-RedisData", "Complete-RedisSync", "Get-RedisSyncStatus", "Remove-RedisSyncCheckpoint", "Repair-RedisData", "Start-RedisSync", "Stop-RedisSync", "Wait-RedisSync" }, cmdlets.Keys.OrderBy(k => k).ToArray());
        foreach (var (name, type) in cmdlets)
        {
            Assert.True(type.IsSealed, name);
            Assert.Equal("RedisSync.Commands." + name.Replace("-", "") + "Command", type.FullName);
            var bases = new List<string>();
            for (Type? b = type.BaseType; b != null; b = b.BaseType) bases.Add(b.Name);
            Assert.Contains("PSCmdlet", bases);
            // A Remove- cmdlet writes nothing, as Remove-Item does.
            if (!name.StartsWith("Remove-", StringComparison.Ordinal)) Assert.Contains(type.GetCustomAttributesData(), a => a.AttributeType.Name == "OutputTypeAttribute");
        }
    }

    [Fact]
    public void Credentials_are_PSCredential_parameters_and_no_parameter_takes_a_plain_password()
    {
        foreach (Type cmdlet in _module.Cmdlets().Values)
        {
            foreach (PropertyInfo property in cmdlet.GetProperties().Where(p => ModuleMetadata.Attribute(p, "ParameterAttribute") != null))
            {
                if (property.Name.EndsWith("Credential", StringComparison.Ordinal))
                {
                    Assert.Equal("System.Management.Automation.PSCredential", property.PropertyType.FullName);
                    Assert.NotNull(ModuleMetadata.Attribute(property, "CredentialAttribute"));
                }
                // A server's password comes in a PSCredential; a certificate's password (no user) is a SecureString, as Import-PfxCertificate takes it.
                bool password = property.Name.Contains("Password", StringComparison.OrdinalIgnoreCase);
                Assert.True(password == (property.PropertyType.FullName == "System.Security.SecureString"), $"{cmdlet.Name}.{property.Name} is {property.PropertyType.Name}");
                if (password) Assert.Equal("ClientCertificatePassword", property.Name);
            }
        }
    }

    [Fact]
    public void The_manifest_exports_exactly_the_cmdlets_of_the_dll_and_nothing_else()
    {
        string manifest = File.ReadAllText(Path.Combine(Paths.ModuleDirectory, "RedisSync.psd1"));

        Assert.Equal(_module.Cmdlets().Keys.OrderBy(k => k), ManifestList(manifest, "CmdletsToExport").OrderBy(k => k));
        foreach (string empty in new[] { "FunctionsToExport", "AliasesToExport", "VariablesToExport" })
        {
            Assert.Empty(ManifestList(manifest, empty));
        }
        Assert.Matches(@"RootModule\s*=\s*'RedisSync\.psm1'", manifest);
        Assert.Matches(@"CompatiblePSEditions\s*=\s*'Desktop',\s*'Core'", manifest);
        Assert.Matches(@"PowerShellVersion\s*=\s*'5\.1'", manifest);
        Assert.Matches(@"FormatsToProcess\s*=\s*@\('RedisSync\.format\.ps1xml'\)", manifest);
        Assert.Matches(@"ModuleVersion\s*=\s*'" + Regex.Escape(_module.Module.GetName().Version!.ToString(3)) + "'", manifest);
    }

    [Fact]
    public void The_module_folder_holds_a_build_for_PowerShell_7_and_one_for_Windows_PowerShell_with_the_same_cmdlets()
    {
        using var core = new ModuleMetadata("net8.0");
        string root = File.ReadAllText(Path.Combine(Paths.ModuleDirectory, "RedisSync.psm1"));

        Assert.Equal(_module.Cmdlets().Keys.OrderBy(k => k), core.Cmdlets().Keys.OrderBy(k => k));
        Assert.Contains(".NETCoreApp,Version=v8.0", core.Module.GetCustomAttributesData()
            .Where(a => a.AttributeType.Name == "TargetFrameworkAttribute").Select(a => (string)a.ConstructorArguments[0].Value!));
        Assert.Contains("'net8.0'", root);
        Assert.Contains("'netstandard2.0'", root);
        foreach (string framework in new[] { "net8.0", "netstandard2.0" })
        {
            Assert.True(File.Exists(Path.Combine(Paths.BuildDirectory(framework), "en-US", "RedisSync.dll-Help.xml")), $"{framework} has no help");
        }
        Assert.Empty(Directory.GetFiles(Paths.ModuleDirectory, "*.dll"));
    }

    [Fact]
    public void The_job_type_plugs_into_the_job_repository()
    {
        Type job = _module.Module.GetType("RedisSync.RedisSyncJob", throwOnError: true)!;
        Type adapter = _module.Module.GetType("RedisSync.RedisSyncJobSourceAdapter", throwOnError: true)!;

        // A Job2, through the module's base class that its sharded job shares.
        Type shared = _module.Module.GetType("RedisSync.SyncJobBase", throwOnError: true)!;
        Assert.Equal(shared, job.BaseType);
        Assert.Equal("System.Management.Automation.Job2", shared.BaseType!.FullName);
        Assert.True(job.IsSealed);
        Assert.Equal("RedisSyncJob", job.GetField("TypeName")!.GetRawConstantValue());
        Assert.Equal("System.Management.Automation.JobSourceAdapter", adapter.BaseType!.FullName);
        Assert.NotNull(adapter.GetConstructor(Type.EmptyTypes));
        Assert.Equal("RedisSync.SyncStatus", job.GetProperty("Status")!.PropertyType.FullName);
        foreach (string method in new[] { "StartJob", "StartJobAsync", "StopJob", "StopJobAsync" })
        {
            Assert.Contains(job.GetMethods(), m => m.Name == method && (m.DeclaringType == job || m.DeclaringType == shared));
        }
    }

    [Fact]
    public void The_module_resolves_its_dependencies_under_Windows_PowerShell()
    {
        Type resolver = _module.Module.GetType("RedisSync.ModuleAssemblyResolver", throwOnError: true)!;
        Assert.Contains(resolver.GetInterfaces(), i => i.Name == "IModuleAssemblyInitializer");

        // .NET Framework 4.7.2 provides these; everything else must be beside the module, at least as new as asked.
        var framework = new HashSet<string> { "netstandard", "mscorlib", "System", "System.Core", "System.Management.Automation" };
        var shipped = Directory.GetFiles(Paths.BuildDirectory(), "*.dll").Select(path => _module.Load(Path.GetFileName(path))).ToList();
        foreach (Assembly assembly in shipped)
        {
            foreach (AssemblyName reference in assembly.GetReferencedAssemblies())
            {
                if (framework.Contains(reference.Name!)) continue;
                Assembly? present = shipped.FirstOrDefault(a => a.GetName().Name == reference.Name);
                Assert.True(present != null, $"{assembly.GetName().Name} needs {reference.Name}, which is not in the module folder");
                Assert.True(present!.GetName().Version >= reference.Version,
                    $"{assembly.GetName().Name} needs {reference.Name} {reference.Version}; the module has {present.GetName().Version}");
            }
        }
        Assert.DoesNotContain(shipped, a => a.GetName().Name == "System.Management.Automation");
    }

    [Fact]
    public void Host_error_categories_are_PowerShell_error_categories()
    {
        Type category = _module.Automation.GetType("System.Management.Automation.ErrorCategory", throwOnError: true)!;
        var expected = category.GetFields(BindingFlags.Public | BindingFlags.Static).ToDictionary(f => f.Name, f => Convert.ToInt32(f.GetRawConstantValue()));

        foreach (HostErrorCategory value in Enum.GetValues<HostErrorCategory>())
        {
            Assert.True(expected.TryGetValue(value.ToString(), out int number), $"ErrorCategory has no {value}");
            Assert.Equal(number, (int)value);
        }
    }

    [Fact]
    public void Every_format_view_selects_a_module_type_and_shows_its_properties()
    {
        XDocument format = XDocument.Load(Path.Combine(Paths.ModuleDirectory, "RedisSync.format.ps1xml"));
        var types = _module.Module.GetExportedTypes().Concat(_module.Load("RedisSync.Engine.dll").GetExportedTypes()).ToDictionary(t => t.FullName!);
        var views = format.Descendants("View").ToList();

        Assert.Contains(views, v => v.Element("TableControl") != null && (string?)v.Element("ViewSelectedBy")!.Element("TypeName") == "RedisSync.SyncStatus");
        Assert.Contains(views, v => v.Element("ListControl") != null && (string?)v.Element("ViewSelectedBy")!.Element("TypeName") == "RedisSync.SyncStatus");
        foreach (XElement view in views)
        {
            string typeName = (string)view.Element("ViewSelectedBy")!.Element("TypeName")!;
            Assert.True(types.TryGetValue(typeName, out Type? type), $"view {(string?)view.Element("Name")} selects {typeName}, which the module does not export");
            foreach (XElement property in view.Descendants("PropertyName"))
            {
                Assert.True(type!.GetProperty(property.Value) != null, $"{typeName} has no property {property.Value}");
            }
            foreach (XElement script in view.Descendants("ScriptBlock"))
            {
                foreach (Match use in Regex.Matches(script.Value, @"\$_\.(\w+)"))
                {
                    Assert.True(type!.GetProperty(use.Groups[1].Value) != null, $"{typeName} has no property {use.Groups[1].Value}");
                }
            }
        }
    }

    private static IEnumerable<string> Set(string set, params string[] lines) => lines.Select(line => set + ": " + line);

    private static void AssertParameters(Type cmdlet, params IEnumerable<string>[] sets)
    {
        string[] expected = sets.SelectMany(s => s).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        string[] actual = ModuleMetadata.ParameterLines(cmdlet).OrderBy(s => s, StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual);
    }

    private static void AssertCmdlet(Type cmdlet, string? defaultSet, bool shouldProcess, string? impact, params string[] outputTypes)
    {
        CustomAttributeData attribute = ModuleMetadata.Attribute(cmdlet, "CmdletAttribute")!;
        Assert.Equal(defaultSet, ModuleMetadata.Named<string?>(attribute, "DefaultParameterSetName", null));
        Assert.Equal(shouldProcess, ModuleMetadata.Named(attribute, "SupportsShouldProcess", false));
        int? confirmImpact = attribute.NamedArguments.Where(a => a.MemberName == "ConfirmImpact").Select(a => (int?)Convert.ToInt32(a.TypedValue.Value)).FirstOrDefault();
        string? impactName = confirmImpact == null ? null : new[] { "None", "Low", "Medium", "High" }[confirmImpact.Value];
        Assert.Equal(impact, impactName);
        string[] outputs = cmdlet.GetCustomAttributesData().Where(a => a.AttributeType.Name == "OutputTypeAttribute")
            .SelectMany(a => ((IEnumerable<CustomAttributeTypedArgument>)a.ConstructorArguments[0].Value!).Select(t => ((Type)t.Value!).FullName!))
            .OrderBy(n => n).ToArray();
        Assert.Equal(outputTypes.OrderBy(n => n).ToArray(), outputs);
    }

    private static List<string> ManifestList(string manifest, string key)
    {
        Match match = Regex.Match(manifest, key + @"\s*=\s*@\(([^)]*)\)");
        Assert.True(match.Success, $"the manifest has no {key} = @(...)");
        return Regex.Matches(match.Groups[1].Value, @"'([^']*)'").Select(m => m.Groups[1].Value).ToList();
    }
}
