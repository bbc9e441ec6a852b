using System;
using System.Collections.Generic;

namespace RedisSync.HelpGen.Maml;

/// <summary>
/// The help of one cmdlet as platyPS's MAML renderer needs it: texts already joined into
/// CRLF-separated paragraphs, parameters with their yaml metadata, syntax items per parameter set.
/// </summary>
internal sealed class CommandHelp
{
    public required string Name { get; init; }

    public required string Synopsis { get; init; }

    public required string Description { get; init; }

    /// <summary>One entry per parameter set, in the order platyPS derives them from the PARAMETERS section.</summary>
    public required IReadOnlyList<SyntaxItem> Syntax { get; init; }

    /// <summary>The PARAMETERS section: each parameter as described by its first yaml block.</summary>
    public required IReadOnlyList<ParameterHelp> Parameters { get; init; }

    public required IReadOnlyList<TypeHelp> Inputs { get; init; }

    public required IReadOnlyList<TypeHelp> Outputs { get; init; }

    public required string Notes { get; init; }

    public required IReadOnlyList<ExampleHelp> Examples { get; init; }

    /// <summary>Related links; the "Online Version:" link comes first when the front matter names one.</summary>
    public required IReadOnlyList<LinkHelp> Links { get; init; }
}

/// <summary>The parameters of one parameter set, ordered by position as platyPS orders them.</summary>
internal sealed record SyntaxItem(IReadOnlyList<ParameterHelp> Parameters);

/// <summary>
/// A parameter as one yaml block describes it. A parameter with several yaml blocks (its
/// attributes differ between parameter sets) has one of these per block; they share
/// <see cref="AcceptedValues"/>, as platyPS's shallow clones do.
/// </summary>
internal sealed record ParameterHelp
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    /// <summary>The yaml <c>Type</c>, as written.</summary>
    public required string Type { get; init; }

    public required bool Required { get; init; }

    /// <summary>The yaml <c>Position</c>: "Named" or a number, as written.</summary>
    public required string Position { get; init; }

    /// <summary>The yaml <c>Default value</c>, null when empty.</summary>
    public required string? DefaultValue { get; init; }

    /// <summary>The yaml <c>Accept pipeline input</c>, as written ("True (ByValue)", "False", ...).</summary>
    public required string PipelineInput { get; init; }

    public required bool Globbing { get; init; }

    public required IReadOnlyList<string> Aliases { get; init; }

    /// <summary>The yaml <c>Accepted values</c> of every block of this parameter so far.</summary>
    public required List<string> AcceptedValues { get; init; }

    /// <summary>True when Get-Help should show the parameter as a switch (no value).</summary>
    public bool IsSwitch =>
        string.Equals(Type, "SwitchParameter", StringComparison.OrdinalIgnoreCase) ||
        string.Equals(Type, "switch", StringComparison.OrdinalIgnoreCase);
}

/// <summary>An INPUTS or OUTPUTS entry: a type name and what it means.</summary>
internal sealed record TypeHelp(string TypeName, string Description);

/// <summary>An example: its title, its code blocks and the text after them.</summary>
internal sealed record ExampleHelp(string Title, IReadOnlyList<string> Code, string Remarks);

/// <summary>A related link; <see cref="Uri"/> is as written, the renderer keeps it only when absolute.</summary>
internal sealed record LinkHelp(string Text, string Uri);
