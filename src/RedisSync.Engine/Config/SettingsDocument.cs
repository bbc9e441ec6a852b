using System;
using System.Globalization;
using System.Text.RegularExpressions;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;
using Tomlyn.Syntax;

namespace RedisSync.Engine.Config;

/// <summary>
/// Parses a settings file with Tomlyn (TOML 1.1, duplicate keys and tables refused) into tables that
/// know where each key was written. Tomlyn's message for a syntax error is kept, with the place in the
/// file as written, unless its line holds a secret: the message could quote it.
/// </summary>
internal static class SettingsDocument
{
    private static readonly Regex QuotedPlace = new Regex(@"\((\d+),\d+\)", RegexOptions.CultureInvariant);

    public static SettingsTable Parse(SettingsText text)
    {
        DocumentSyntax syntax;
        try
        {
            syntax = SyntaxParser.Parse(text.Text, text.Path, true);
        }
        catch (ArgumentOutOfRangeException)
        {
            // Tomlyn's lexer fails (while formatting its own message) on a quoted string that ends
            // with a backslash at the end of the text; found by fuzzing (tests/RedisSync.Fuzz/regressions/settings).
            throw NotToml(text, Math.Max(0, text.Text.Length - 1), text.Text.EndsWith("\\", StringComparison.Ordinal)
                ? "the text ends inside a quoted string, after a backslash"
                : "an escape sequence in a quoted string is not valid");
        }
        foreach (DiagnosticMessage diagnostic in syntax.Diagnostics)
        {
            if (diagnostic.Kind == DiagnosticMessageKind.Error) throw NotToml(text, diagnostic.Span.Offset, diagnostic.Message);
        }

        var store = new TomlMetadataStore();
        var context = new SettingsToml(new TomlSerializerOptions { MetadataStore = store, SourceName = text.Path });
        TomlTable? root;
        try
        {
            root = TomlSerializer.Deserialize<TomlTable>(text.Text, context);
        }
        catch (TomlException ex)
        {
            throw NotToml(text, ex.Offset ?? 0, ex.Message);
        }
        return new SettingsTable(root ?? new TomlTable(), string.Empty, 0, 0, store, text);
    }

    private static SettingsException NotToml(SettingsText text, int offset, string message)
    {
        (int line, int column) = text.Place(offset);
        string? unset = text.UnsetVariableOn(line);
        if (unset != null) return new SettingsException(line, column, UnsetVariable(unset));
        string? secret = text.SecretOn(line);
        foreach (Match place in QuotedPlace.Matches(message))
        {
            secret ??= text.SecretOn(int.Parse(place.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture));
        }
        if (secret == null) return new SettingsException(line, column, "not valid TOML: " + message.Trim());
        string hint = secret == SettingsText.EnvironmentValue
            ? " (a ${NAME} value goes in as text, as RedisShake puts it: inside \"…\" a \" or \\ in the value needs a backslash before it)"
            : string.Empty;
        return new SettingsException(line, column, $"not valid TOML{hint}; the parser's message is left out because this line holds {secret}");
    }

    /// <summary>The error for a <c>${NAME}</c> whose variable is not set.</summary>
    public static string UnsetVariable(string name) =>
        $"the environment variable {name} is not set (the file uses ${{{name}}} here): set it, or write the value itself";
}

/// <summary>Tomlyn's metadata for its model type, generated at build, so that reading a settings file needs no reflection.</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class SettingsToml : TomlSerializerContext
{
    public SettingsToml(TomlSerializerOptions options)
        : base(options)
    {
    }
}
