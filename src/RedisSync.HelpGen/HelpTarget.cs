namespace RedisSync.HelpGen;

/// <summary>What the help is built for: the module and the assembly whose cmdlets it documents.</summary>
internal sealed record HelpTarget(string ModuleName, string AssemblyFileName)
{
    /// <summary>The MAML file name PowerShell looks for next to the assembly, e.g. RedisSync.dll-Help.xml.</summary>
    public string HelpFileName => AssemblyFileName + "-Help.xml";
}
