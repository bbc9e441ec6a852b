using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;

namespace RedisSync;

/// <summary>
/// Windows PowerShell 5.1 has no binding redirects for the module's dependencies (System.Memory,
/// System.IO.Pipelines, …): when a dependency asks for another version than the one beside the
/// module, this hands it the one beside the module if it is as new. PowerShell 7 rarely needs it.
/// </summary>
public sealed class ModuleAssemblyResolver : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    private static readonly string ModuleDirectory = Path.GetDirectoryName(typeof(ModuleAssemblyResolver).Assembly.Location) ?? ".";

    /// <summary>Import-Module: hook the resolver.</summary>
    public void OnImport() => AppDomain.CurrentDomain.AssemblyResolve += Resolve;

    /// <summary>Remove-Module: unhook it.</summary>
    public void OnRemove(PSModuleInfo psModuleInfo) => AppDomain.CurrentDomain.AssemblyResolve -= Resolve;

    private static Assembly? Resolve(object? sender, ResolveEventArgs args)
    {
        var wanted = new AssemblyName(args.Name);
        string path = Path.Combine(ModuleDirectory, wanted.Name + ".dll");
        if (!File.Exists(path)) return null;
        AssemblyName present = AssemblyName.GetAssemblyName(path);
        if (wanted.Version != null && present.Version != null && present.Version < wanted.Version) return null;
        return Assembly.LoadFrom(path);
    }
}
