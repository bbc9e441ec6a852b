using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Xml;
using System.Xml.Linq;

namespace RedisSync.HelpGen.Maml;

/// <summary>
/// Writes the MAML of platyPS 0.14's MamlRenderer: the same elements, attributes and their order,
/// the same quirks (parameter descriptions repeated in every syntax item, no value element for a
/// switch in a syntax item, the <c>command:variableLength</c> attribute of accepted values, padded
/// example titles, relative related links written with an empty uri), serialized the way its
/// XDocument.Save does on Windows: two-space indentation, CRLF line breaks, UTF-8 declaration.
/// </summary>
internal static class MamlWriter
{
    private static readonly XNamespace Msh = "http://msh";
    private static readonly XNamespace MamlNs = "http://schemas.microsoft.com/maml/2004/10";
    private static readonly XNamespace CommandNs = "http://schemas.microsoft.com/maml/dev/command/2004/10";
    private static readonly XNamespace DevNs = "http://schemas.microsoft.com/maml/dev/2004/10";
    private static readonly XNamespace MsHelpNs = "http://msdn.microsoft.com/mshelp";

    private const string SwitchParameter = "SwitchParameter";

    /// <summary>The text of the -Help.xml file (without its byte order mark).</summary>
    public static string Write(IEnumerable<CommandHelp> commands)
    {
        var document = new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement(Msh + "helpItems", new XAttribute("schema", "maml"), commands.Select(Command)));

        var settings = new XmlWriterSettings
        {
            Indent = true,
            NewLineChars = "\r\n",
            NamespaceHandling = NamespaceHandling.OmitDuplicates,
            Encoding = new UTF8Encoding(false),
        };
        using var stream = new MemoryStream();
        using (var writer = XmlWriter.Create(stream, settings))
        {
            document.Save(writer);
        }

        return CharacterCleanup.Spaces(Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static XElement Command(CommandHelp command)
    {
        string verb = command.Name.Split('-')[0];
        string noun = command.Name.Substring(Math.Min(verb.Length + 1, command.Name.Length));
        return new XElement(CommandNs + "command",
            new XAttribute(XNamespace.Xmlns + "maml", MamlNs),
            new XAttribute(XNamespace.Xmlns + "command", CommandNs),
            new XAttribute(XNamespace.Xmlns + "dev", DevNs),
            new XAttribute(XNamespace.Xmlns + "MSHelp", MsHelpNs),
            new XElement(CommandNs + "details",
                new XElement(CommandNs + "name", command.Name),
                new XElement(CommandNs + "verb", verb),
                new XElement(CommandNs + "noun", noun),
                new XElement(MamlNs + "description", Paragraphs(command.Synopsis))),
            new XElement(MamlNs + "description", Paragraphs(command.Description)),
            new XElement(CommandNs + "syntax", command.Syntax.Select(item =>
                new XElement(CommandNs + "syntaxItem",
                    new XElement(MamlNs + "name", command.Name),
                    item.Parameters.Select(parameter => Parameter(parameter, inSyntax: true))))),
            new XElement(CommandNs + "parameters", command.Parameters.Select(parameter => Parameter(parameter, inSyntax: false))),
            new XElement(CommandNs + "inputTypes", command.Inputs.Select(input => TypeEntry("inputType", input))),
            new XElement(CommandNs + "returnValues", command.Outputs.Select(output => TypeEntry("returnValue", output))),
            new XElement(MamlNs + "alertSet", new XElement(MamlNs + "alert", Paragraphs(command.Notes))),
            new XElement(CommandNs + "examples", command.Examples.Select(Example)),
            new XElement(CommandNs + "relatedLinks", command.Links.Select(Link)));
    }

    /// <summary>One maml:para per CRLF-separated line, empty lines included, as platyPS splits text.</summary>
    private static IEnumerable<XElement> Paragraphs(string text) =>
        text.Split("\r\n").Select(line => new XElement(MamlNs + "para", line));

    private static XElement Parameter(ParameterHelp parameter, bool inSyntax)
    {
        string type = parameter.IsSwitch ? SwitchParameter : parameter.Type;
        bool isSwitch = type is SwitchParameter or "System.Management.Automation.SwitchParameter";
        string defaultValue = isSwitch && (string.IsNullOrEmpty(parameter.DefaultValue) || parameter.DefaultValue == "None")
            ? "False"
            : parameter.DefaultValue ?? "None";

        return new XElement(CommandNs + "parameter",
            new XAttribute("required", parameter.Required),
            new XAttribute("variableLength", true),
            new XAttribute("globbing", parameter.Globbing),
            new XAttribute("pipelineInput", parameter.PipelineInput),
            new XAttribute("position", parameter.Position.ToLowerInvariant()),
            new XAttribute("aliases", parameter.Aliases.Count > 0 ? string.Join(", ", parameter.Aliases) : "none"),
            new XElement(MamlNs + "name", parameter.Name),
            new XElement(MamlNs + "description", Paragraphs(parameter.Description)),
            inSyntax && parameter.AcceptedValues.Count > 0
                ? new XElement(CommandNs + "parameterValueGroup", parameter.AcceptedValues.Select(value =>
                    new XElement(CommandNs + "parameterValue",
                        new XAttribute("required", "false"),
                        new XAttribute(CommandNs + "variableLength", "false"),
                        value)))
                : null,
            !inSyntax || !isSwitch
                ? new XElement(CommandNs + "parameterValue",
                    new XAttribute("required", !parameter.IsSwitch),
                    new XAttribute("variableLength", false),
                    type)
                : null,
            new XElement(DevNs + "type",
                new XElement(MamlNs + "name", type),
                new XElement(MamlNs + "uri")),
            new XElement(DevNs + "defaultValue", defaultValue));
    }

    private static XElement TypeEntry(string element, TypeHelp type) =>
        new(CommandNs + element,
            new XElement(DevNs + "type", new XElement(MamlNs + "name", type.TypeName)),
            new XElement(MamlNs + "description", Paragraphs(type.Description)));

    private static XElement Example(ExampleHelp example) =>
        new(CommandNs + "example",
            new XElement(MamlNs + "title", PadTitle(example.Title)),
            new XElement(DevNs + "code", string.Join("\r\n\r\n", example.Code)),
            new XElement(DevNs + "remarks", Paragraphs(example.Remarks)));

    private static XElement Link(LinkHelp link) =>
        new(MamlNs + "navigationLink",
            new XElement(MamlNs + "linkText", link.Text),
            new XElement(MamlNs + "uri", CommandDocReader.IsAbsoluteUri(link.Uri) ? link.Uri : ""));

    /// <summary>"Example 1" becomes dashes, a space, the title, a space and dashes, about 64 characters in all.</summary>
    private static string PadTitle(string title)
    {
        if (string.IsNullOrWhiteSpace(title) || title.Length >= 62)
        {
            return title;
        }

        var dashes = new string('-', (64 - title.Length - 2) / 2);
        return dashes + " " + title + " " + dashes;
    }
}
