using System.Collections.Generic;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Serialization;

namespace RedisSync.Engine.Config;

/// <summary>
/// One table of a settings file (the root or a section), read-only: its keys in the order written,
/// typed reads whose errors name the setting and its place, and errors placed where a key was written.
/// </summary>
internal sealed class SettingsTable
{
    private readonly TomlTable _table;
    private readonly TomlPropertiesMetadata? _metadata;
    private readonly TomlMetadataStore _store;
    private readonly SettingsText _text;

    internal SettingsTable(TomlTable table, string path, int line, int column, TomlMetadataStore store, SettingsText text)
    {
        _table = table;
        _store = store;
        _text = text;
        _store.TryGetProperties(table, out _metadata);
        Path = path;
        Line = line;
        Column = column;
    }

    /// <summary>The table's dotted name (<c>sync_reader</c>), empty for the root.</summary>
    public string Path { get; }

    /// <summary>Where the table is named (its header), or 0 for the root and for a table that was not written.</summary>
    public int Line { get; }

    public int Column { get; }

    /// <summary>The keys in the order the file wrote them.</summary>
    public IEnumerable<string> Keys => _table.Keys;

    public bool Contains(string key) => _table.ContainsKey(key);

    /// <summary>The setting's full name as a message shows it: <c>sync_reader.address</c>.</summary>
    public string NameOf(string key) => Path.Length == 0 ? key : Path + "." + key;

    /// <summary>The 1-based line and column where a key was written (0, 0 when unknown).</summary>
    public (int Line, int Column) PlaceOf(string key)
    {
        if (_metadata != null && _metadata.TryGetProperty(key, out TomlPropertyMetadata? property) && property?.Span is { } span)
        {
            return _text.Place(span.Offset);
        }
        return (Line, Column);
    }

    /// <summary>An error placed where <paramref name="key"/> was written.</summary>
    public SettingsException ErrorAt(string key, string reason)
    {
        (int line, int column) = PlaceOf(key);
        return new SettingsException(line, column, reason);
    }

    /// <summary>An error placed at the table's header.</summary>
    public SettingsException Error(string reason) => new SettingsException(Line, Column, reason);

    /// <summary>The raw value (string, long, double, bool, TomlDateTime, TomlArray, TomlTable or TomlTableArray), or null when absent.</summary>
    public object? GetValue(string key) => _table.TryGetValue(key, out object? value) ? value : null;

    /// <summary>A string setting, or null when absent; a <c>${NAME}</c> left in it (its variable is not set) is an error naming the variable.</summary>
    public string? GetString(string key)
    {
        string? value = Get<string>(key, "a string");
        if (value != null && _text.UnsetVariableIn(value, PlaceOf(key).Line) is { } unset)
        {
            throw new SettingsException(unset.Line, unset.Column, $"\"{NameOf(key)}\": {SettingsDocument.UnsetVariable(unset.Name)}");
        }
        return value;
    }

    public bool? GetBoolean(string key) => _table.TryGetValue(key, out object? value) ? Typed<bool>(key, value, "a boolean") : null;

    public long? GetInteger(string key) => _table.TryGetValue(key, out object? value) ? Typed<long>(key, value, "an integer") : null;

    /// <summary>A list of strings such as <c>["a", "b"]</c>, or null when absent; anything else is an error naming the setting.</summary>
    public IReadOnlyList<string>? GetStrings(string key)
    {
        TomlArray? array = Get<TomlArray>(key, "a list of strings");
        if (array == null) return null;
        var result = new List<string>(array.Count);
        foreach (object? item in array)
        {
            if (item is not string text) throw ErrorAt(key, $"\"{NameOf(key)}\" must be a list of strings, not one that holds {Describe(item)}");
            result.Add(text);
        }
        return result;
    }

    /// <summary>A list of integers such as <c>[0, 2]</c>, or null when absent; anything else is an error naming the setting.</summary>
    public IReadOnlyList<long>? GetIntegers(string key)
    {
        TomlArray? array = Get<TomlArray>(key, "a list of integers");
        if (array == null) return null;
        var result = new List<long>(array.Count);
        foreach (object? item in array)
        {
            if (item is not long number) throw ErrorAt(key, $"\"{NameOf(key)}\" must be a list of integers, not one that holds {Describe(item)}");
            result.Add(number);
        }
        return result;
    }

    /// <summary>A section, or null when absent.</summary>
    public SettingsTable? GetTable(string key)
    {
        TomlTable? table = Get<TomlTable>(key, "a table");
        if (table == null) return null;
        (int line, int column) = PlaceOf(key);
        return new SettingsTable(table, NameOf(key), line, column, _store, _text);
    }

    /// <summary>"a string", "an integer", … for messages about a value of the wrong kind.</summary>
    public static string Describe(object? value) => value switch
    {
        string _ => "a string",
        long _ => "an integer",
        double _ => "a float",
        bool _ => "a boolean",
        TomlDateTime _ => "a date-time",
        TomlArray _ => "an array",
        TomlTable _ => "a table",
        TomlTableArray _ => "an array of tables",
        _ => "nothing",
    };

    private T? Get<T>(string key, string wanted) where T : class =>
        _table.TryGetValue(key, out object? value) ? Typed<T>(key, value, wanted) : null;

    private T Typed<T>(string key, object? value, string wanted)
    {
        if (value is T typed) return typed;
        throw ErrorAt(key, $"\"{NameOf(key)}\" must be {wanted}, not {Describe(value)}");
    }
}
