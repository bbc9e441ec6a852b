using System.Collections;
using System.Collections.Generic;

namespace RedisSync.Engine.Config;

/// <summary>
/// A TOML array, read-only once parsed: the values in order, of any mix of types (TOML 1.0), each
/// a string, long, double, bool, <see cref="TomlDateTime"/>, <see cref="TomlArray"/> or <see cref="TomlTable"/>.
/// </summary>
public sealed class TomlArray : IReadOnlyList<object>
{
    private readonly List<object> _items = new List<object>();

    internal TomlArray(bool isArrayOfTables) => IsArrayOfTables = isArrayOfTables;

    /// <summary>True when <c>[[header]]</c> sections built the array (as opposed to a <c>key = [ … ]</c> value).</summary>
    public bool IsArrayOfTables { get; }

    public int Count => _items.Count;

    public object this[int index] => _items[index];

    public IEnumerator<object> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal void Add(object value) => _items.Add(value);
}
