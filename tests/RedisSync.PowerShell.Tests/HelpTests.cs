using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using RedisSync.PowerShell.Tests.Infrastructure;
using Xunit;

namespace RedisSync.PowerShell.Tests;

/// <summary>What Get-Help will show, read from the MAML the build compiled from docs/en-US: every cmdlet and parameter documented, with examples.</summary>
public sealed class HelpTests : IDisposable
{
    private static readonly XNamespace Maml = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace Command = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace Dev = "http://schemas.microsoft.com/maml/dev/2004/10";

    private readonly ModuleMetadata _module = new ModuleMetadata();
    private readonly Dictionary<string, XElement> _help;

    public HelpTests()
    {
        XDocument maml = XDocument.Load(Path.Combine(Paths.BuildDirectory(), "en-US", "RedisSync.dll-Help.xml"));
        _help = maml.Root!.Elements(Command + "command").ToDictionary(c => c.Element(Command + "details")!.Element(Command + "name")!.Value);
    }

    public void Dispose() => _module.Dispose();

    public static TheoryData<string> CmdletNames() => new() { "Start-RedisSync", "Get-RedisSyncStatus", "Stop-RedisSync", "Compare-RedisData", "Repair-RedisData", "Remove-RedisSyncCheckpoint", "Wait-RedisSync", "Complete-RedisSync" };

    [Fact]
    public void Every_cmdlet_of_the_dll_has_help_and_the_help_names_no_other()
    {
        Assert.Equal(_module.Cmdlets().Keys.OrderBy(k => k), _help.Keys.OrderBy(k => k));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Help_has_a_synopsis_a_description_and_at_least_two_examples_with_code(string name)
    {
        XElement help = _help[name];

        Assert.False(string.IsNullOrWhiteSpace(help.Element(Command + "details")!.Element(Maml + "description")!.Value));
        Assert.True(help.Element(Maml + "description")!.Elements(Maml + "para").Count() >= 1);
        var examples = help.Element(Command + "examples")!.Elements(Command + "example").ToList();
        Assert.True(examples.Count >= 2, $"{name} has {examples.Count} example(s)");
        Assert.All(examples, example => Assert.Contains(name, example.Element(Dev + "code")!.Value));
        Assert.All(examples, example => Assert.Contains(example.Element(Dev + "remarks")!.Elements(Maml + "para"), p => p.Value.Length > 0));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Every_parameter_is_documented_and_every_documented_parameter_exists(string name)
    {
        Type cmdlet = _module.Cmdlets()[name];
        var parameters = cmdlet.GetProperties().Where(p => ModuleMetadata.Attribute(p, "ParameterAttribute") != null).Select(p => p.Name).ToList();
        if (SupportsShouldProcess(cmdlet)) parameters.AddRange(new[] { "WhatIf", "Confirm" });
        var documented = _help[name].Element(Command + "parameters")!.Elements(Command + "parameter")
            .ToDictionary(p => p.Element(Maml + "name")!.Value, p => p.Element(Maml + "description")!.Value.Trim());

        Assert.Equal(parameters.OrderBy(p => p), documented.Keys.OrderBy(p => p));
        Assert.All(documented, pair => Assert.False(pair.Value.Length == 0, $"-{pair.Key} has no description"));
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void The_syntax_lists_each_parameter_set_as_the_cmdlet_declares_it(string name)
    {
        Type cmdlet = _module.Cmdlets()[name];
        var declared = ModuleMetadata.ParameterLines(cmdlet)
            .Select(line => Regex.Match(line, @"^(\w+): -(\w+) <[^>]+>( mandatory)?( position=(\d+))?"))
            .GroupBy(m => m.Groups[1].Value)
            .Select(set => string.Join(" ", set.Select(m => $"{m.Groups[2].Value}:{(m.Groups[3].Success ? "required" : "optional")}:{(m.Groups[5].Success ? m.Groups[5].Value : "named")}").OrderBy(s => s)))
            .OrderBy(s => s)
            .ToList();
        var syntax = _help[name].Element(Command + "syntax")!.Elements(Command + "syntaxItem")
            .Select(item => string.Join(" ", item.Elements(Command + "parameter")
                .Where(p => p.Element(Maml + "name")!.Value is not ("WhatIf" or "Confirm"))
                .Select(p => $"{p.Element(Maml + "name")!.Value}:{(p.Attribute("required")!.Value == "true" ? "required" : "optional")}:{p.Attribute("position")!.Value.ToLowerInvariant()}")
                .OrderBy(s => s)))
            .OrderBy(s => s)
            .ToList();

        Assert.Equal(declared, syntax);
    }

    [Theory]
    [MemberData(nameof(CmdletNames))]
    public void Examples_use_only_parameters_that_exist(string name)
    {
        IReadOnlyDictionary<string, Type> cmdlets = _module.Cmdlets();
        foreach (XElement example in _help[name].Element(Command + "examples")!.Elements(Command + "example"))
        {
            string code = example.Element(Dev + "code")!.Value;
            foreach (Match call in Regex.Matches(code, @"(Start-RedisSync|Get-RedisSyncStatus|Stop-RedisSync|Compare-RedisData|Repair-RedisData|Remove-RedisSyncCheckpoint|Wait-RedisSync|Complete-RedisSync)([^\n|;]*)"))
            {
                Type cmdlet = cmdlets[call.Groups[1].Value];
                var known = cmdlet.GetProperties().Select(p => p.Name).Concat(new[] { "WhatIf", "Confirm", "Verbose", "ErrorAction" }).ToHashSet(StringComparer.OrdinalIgnoreCase);
                // Operators inside a script block (-Where { $_.Key -like … }) are not parameters.
                string arguments = Regex.Replace(call.Groups[2].Value, @"\{[^{}]*\}", "{}");
                foreach (Match parameter in Regex.Matches(arguments, @"(?<=\s)-(\w+)"))
                {
                    Assert.True(known.Contains(parameter.Groups[1].Value), $"an example of {name} uses {call.Groups[1].Value} -{parameter.Groups[1].Value}, which does not exist");
                }
            }
        }
    }

    [Fact]
    public void The_about_topic_is_compiled_and_names_every_cmdlet()
    {
        string about = File.ReadAllText(Path.Combine(Paths.BuildDirectory(), "en-US", "about_RedisSync.help.txt"));

        Assert.StartsWith("TOPIC", about.TrimStart('\uFEFF'));
        foreach (string cmdlet in _module.Cmdlets().Keys) Assert.Contains(cmdlet, about);
    }

    private static bool SupportsShouldProcess(Type cmdlet) =>
        ModuleMetadata.Named(ModuleMetadata.Attribute(cmdlet, "CmdletAttribute")!, "SupportsShouldProcess", false);
}
