namespace RedisSync.HelpGen;

/// <summary>How bad a finding is: an error stops the build, a warning says what the help will lose.</summary>
internal enum HelpSeverity
{
    Warning,
    Error,
}

/// <summary>
/// A finding about one markdown file, printed in MSBuild's canonical form
/// (<c>file(line): error HG1001: text</c>) so that the Exec task in RedisSync.HelpGen.targets turns it
/// into a build error or warning that points at the line.
/// </summary>
internal sealed record HelpDiagnostic(HelpSeverity Severity, string Code, string Path, int Line, string Message)
{
    /// <summary>The markdown does not follow the PlatyPS schema: the help cannot be built.</summary>
    public const string FormatError = "HG1001";

    /// <summary>The markdown is valid but New-ExternalHelp would fail or lose information on it.</summary>
    public const string PlatyPSFailure = "HG1002";

    /// <summary>Options or files the tool was given are wrong.</summary>
    public const string InputError = "HG1003";

    /// <summary>New-ExternalHelp accepts the markdown but drops or changes part of it.</summary>
    public const string TextDropped = "HG2001";

    public override string ToString()
    {
        string where = Line > 0 ? $"{Path}({Line})" : Path;
        string kind = Severity == HelpSeverity.Error ? "error" : "warning";
        return $"{where}: {kind} {Code}: {Message}";
    }
}

/// <summary>Stops reading a file at its first structural error; carries the finding.</summary>
internal sealed class HelpFormatException(HelpDiagnostic diagnostic) : System.Exception(diagnostic.ToString())
{
    public HelpDiagnostic Diagnostic { get; } = diagnostic;
}
