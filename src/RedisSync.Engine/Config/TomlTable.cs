using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Diagnostics.CodeAnalysis;

namespace RedisSync.Engine.Config;

/// <summary>How a table came to exist, which decides whether a later header or dotted key may add to it.</summary>
internal enum TomlTableKind
{
    /// <summary>The document itself, or a table a <c>[header]</c> (or <c>[[header]]</c>) defined.</summary>
    Header,

    /// <summary>Created as a parent of a header (<c>a</c> in <c>[a.b]</c>); a later <c>[a]</c> may still define it once.</summary>
    Implicit,

    /// <summary>Created by a dotted key (<c>a</c> in <c>a.b = 1</c>); only dotted keys of the same section extend it.</summary>
    Dotted,

    /// <summary>An inline table <c>{ … }</c>: complete as written, nothing may add to it.</summary>
    Inline,
}

/// <summary>
/// A TOML table, read-only once parsed: keys in document order, each with its value and the place
/// it was defined, so a settings binder can name the line of a bad setting.
/// </summary>
public sealed class TomlTable : IEnumerable<KeyValuePair<string, object>>
{
    private readonly List<string> _order = new List<string>();
    private readonly Dictionary<string, Entry> _entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
    private ReadOnlyCollection<string>? _keys;

    internal TomlTable(TomlTableKind kind) => Kind = kind;

    internal TomlTableKind Kind { get; set; }

    /// <summary>How many keys the table holds (an empty section is still a table).</summary>
    public int Count => _order.Count;

    /// <summary>The keys in the order the document defined them, for binders that reject unknown settings.</summary>
    public IReadOnlyList<string> Keys => _keys ??= _order.AsReadOnly();

    /// <summary>The value of a key of this table (not a dotted path); throws <see cref="KeyNotFoundException"/> when absent.</summary>
    public object this[string key] => _entries.TryGetValue(key, out Entry entry)
        ? entry.Value
        : throw new KeyNotFoundException($"The table has no key \"{key}\".");

    /// <summary>Whether the table defines a key (not a dotted path), for a binder's presence checks.</summary>
    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <summary>
    /// Reads an optional setting by its dotted path (TOML key syntax: <c>source.tls."ca-file"</c>).
    /// False when it is absent; a <see cref="TomlException"/> naming its line when it is there with
    /// the wrong type. T is object, string, long, int (range-checked), double (integers accepted),
    /// bool, <see cref="TomlDateTime"/>, <see cref="TomlArray"/> or <see cref="TomlTable"/>.
    /// </summary>
    public bool TryGet<T>(string dottedPath, [MaybeNullWhen(false)] out T value)
    {
        string[] path = ParsePath(dottedPath);
        TomlTable table = this;
        for (int i = 0; ; i++)
        {
            if (!table._entries.TryGetValue(path[i], out Entry entry))
            {
                value = default;
                return false;
            }

            if (i == path.Length - 1)
            {
                value = Convert<T>(entry, path);
                return true;
            }

            if (entry.Value is not TomlTable child)
            {
                throw new TomlException(entry.Line, entry.Column,
                    $"{TomlKey.Display(path, i + 1)} must be a table, not {Describe(entry.Value)}");
            }

            table = child;
        }
    }

    /// <summary>A required section by its dotted path; a <see cref="TomlException"/> when it is absent or not a table.</summary>
    public TomlTable GetTable(string dottedPath)
    {
        if (TryGet<TomlTable>(dottedPath, out TomlTable? table)) return table;
        throw new TomlException(0, 0, $"table {TomlKey.Display(ParsePath(dottedPath), int.MaxValue)} is missing");
    }

    /// <summary>An error placed where <paramref name="key"/> was defined, for binders (unknown setting, value out of range).</summary>
    public TomlException ErrorAt(string key, string reason) =>
        _entries.TryGetValue(key, out Entry entry)
            ? new TomlException(entry.Line, entry.Column, reason)
            : throw new KeyNotFoundException($"The table has no key \"{key}\".");

    /// <summary>The keys and values in document order.</summary>
    public IEnumerator<KeyValuePair<string, object>> GetEnumerator()
    {
        foreach (string key in _order) yield return new KeyValuePair<string, object>(key, _entries[key].Value);
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal bool TryGetEntry(string key, out Entry entry) => _entries.TryGetValue(key, out entry);

    internal void Add(string key, object value, int line, int column)
    {
        _entries.Add(key, new Entry(value, line, column));
        _order.Add(key);
    }

    /// <summary>Places a table a header defines at that header rather than where a longer header first implied it.</summary>
    internal void MoveEntry(string key, int line, int column) =>
        _entries[key] = new Entry(_entries[key].Value, line, column);

    /// <summary>"a string", "an integer", … for messages about a value of the wrong kind.</summary>
    internal static string Describe(object value) => value switch
    {
        string _ => "a string",
        long _ => "an integer",
        double _ => "a float",
        bool _ => "a boolean",
        TomlDateTime dateTime => (dateTime.Kind == TomlDateTimeKind.OffsetDateTime ? "an " : "a ")
            + TomlDateTime.KindName(dateTime.Kind),
        TomlArray array => array.IsArrayOfTables ? "an array of tables" : "an array",
        TomlTable table => table.Kind == TomlTableKind.Inline ? "an inline table" : "a table",
        _ => value.GetType().Name,
    };

    private static string[] ParsePath(string dottedPath)
    {
        if (dottedPath is null) throw new ArgumentNullException(nameof(dottedPath));
        try
        {
            return TomlParser.ParseDottedKey(dottedPath);
        }
        catch (TomlException e)
        {
            throw new ArgumentException($"\"{dottedPath}\" is not a TOML key: {e.Reason}.", nameof(dottedPath), e);
        }
    }

    private static T Convert<T>(Entry entry, string[] path)
    {
        object value = entry.Value;
        Type type = typeof(T);
        string wanted;
        if (type == typeof(object) || type == typeof(string) || type == typeof(long) || type == typeof(bool)
            || type == typeof(TomlDateTime) || type == typeof(TomlArray) || type == typeof(TomlTable))
        {
            if (value is T same) return same;
            wanted = type == typeof(string) ? "a string"
                : type == typeof(long) ? "an integer"
                : type == typeof(bool) ? "a boolean"
                : type == typeof(TomlDateTime) ? "a date-time"
                : type == typeof(TomlArray) ? "an array"
                : "a table";
        }
        else if (type == typeof(int))
        {
            if (value is long number)
            {
                if (number < int.MinValue || number > int.MaxValue)
                {
                    throw new TomlException(entry.Line, entry.Column,
                        $"{TomlKey.Display(path, path.Length)} is {number}, outside the range {int.MinValue} to {int.MaxValue}");
                }

                return (T)(object)(int)number;
            }

            wanted = "an integer";
        }
        else if (type == typeof(double))
        {
            if (value is double real) return (T)(object)real;
            if (value is long whole) return (T)(object)(double)whole;
            wanted = "a number";
        }
        else
        {
            throw new NotSupportedException($"TOML values cannot be read as {type.Name}.");
        }

        throw new TomlException(entry.Line, entry.Column, $"{TomlKey.Display(path, path.Length)} must be {wanted}, not {Describe(value)}");
    }

    /// <summary>A value and the place its key was defined.</summary>
    internal readonly record struct Entry(object Value, int Line, int Column);
}
