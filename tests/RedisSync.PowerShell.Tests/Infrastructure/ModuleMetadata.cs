using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace RedisSync.PowerShell.Tests.Infrastructure;

/// <summary>
/// The RedisSync.dll of one build in the staged module read with MetadataLoadContext (System.Management.Automation
/// from the PowerShellStandard package, the rest from the build's folder and the runtime), nothing run.
/// </summary>
internal sealed class ModuleMetadata : IDisposable
{
    private const string AllSets = "__AllParameterSets";
    private readonly MetadataLoadContext _context;

    private readonly string _directory;

    public ModuleMetadata(string framework = "netstandard2.0")
    {
        _directory = Paths.BuildDirectory(framework);
        var paths = new List<string>(Directory.GetFiles(_directory, "*.dll")) { Paths.PowerShellReference };
        paths.AddRange(Directory.GetFiles(RuntimeEnvironment.GetRuntimeDirectory(), "*.dll")
            .Where(path => !paths.Any(p => Path.GetFileName(p) == Path.GetFileName(path))));
        _context = new MetadataLoadContext(new PathAssemblyResolver(paths));
        Module = _context.LoadFromAssemblyPath(Path.Combine(_directory, "RedisSync.dll"));
        Automation = _context.LoadFromAssemblyPath(Paths.PowerShellReference);
    }

    public Assembly Module { get; }

    public Assembly Automation { get; }

    public Assembly Load(string fileName) => _context.LoadFromAssemblyPath(Path.Combine(_directory, fileName));

    /// <summary>Every cmdlet class of the module, by Verb-Noun.</summary>
    public IReadOnlyDictionary<string, Type> Cmdlets() =>
        Module.GetExportedTypes()
            .Select(type => (type, attribute: Attribute(type, "CmdletAttribute")))
            .Where(pair => pair.attribute != null)
            .ToDictionary(pair => $"{pair.attribute!.ConstructorArguments[0].Value}-{pair.attribute.ConstructorArguments[1].Value}", pair => pair.type);

    public static CustomAttributeData? Attribute(MemberInfo member, string name) =>
        member.GetCustomAttributesData().FirstOrDefault(a => a.AttributeType.Name == name);

    public static T Named<T>(CustomAttributeData attribute, string name, T fallback)
    {
        foreach (CustomAttributeNamedArgument argument in attribute.NamedArguments)
        {
            if (argument.MemberName == name) return (T)argument.TypedValue.Value!;
        }
        return fallback;
    }

    /// <summary>
    /// One line per parameter and parameter set, as Get-Command's syntax would list it:
    /// "Set: -Name &lt;Type&gt; mandatory position=0 pipeline bypropertyname". Common parameters are not listed.
    /// </summary>
    public static List<string> ParameterLines(Type cmdlet)
    {
        var parameters = cmdlet.GetProperties()
            .Select(p => (p, attributes: p.GetCustomAttributesData().Where(a => a.AttributeType.Name == "ParameterAttribute").ToList()))
            .Where(x => x.attributes.Count > 0)
            .ToList();
        var sets = parameters.SelectMany(x => x.attributes).Select(a => Named(a, "ParameterSetName", AllSets)).Where(s => s != AllSets).Distinct().ToList();
        if (sets.Count == 0) sets.Add(AllSets);
        var lines = new List<string>();
        foreach (string set in sets)
        {
            foreach (var (property, attributes) in parameters)
            {
                CustomAttributeData? attribute = attributes.FirstOrDefault(a => Named(a, "ParameterSetName", AllSets) == set)
                    ?? attributes.FirstOrDefault(a => Named(a, "ParameterSetName", AllSets) == AllSets);
                if (attribute == null) continue;
                string line = $"{set}: -{property.Name} <{TypeName(property.PropertyType)}>";
                if (Named(attribute, "Mandatory", false)) line += " mandatory";
                int position = Named(attribute, "Position", int.MinValue);
                if (position != int.MinValue) line += " position=" + position;
                if (Named(attribute, "ValueFromPipeline", false)) line += " pipeline";
                if (Named(attribute, "ValueFromPipelineByPropertyName", false)) line += " bypropertyname";
                lines.Add(line);
            }
        }
        return lines;
    }

    private static string TypeName(Type type)
    {
        Type? inner = type.IsGenericType && type.GetGenericTypeDefinition().FullName == "System.Nullable`1" ? type.GetGenericArguments()[0] : null;
        return inner != null ? inner.Name + "?" : type.Name;
    }

    public void Dispose() => _context.Dispose();
}
