using System;
using System.Collections.Generic;
using System.Linq;
using System.Text;
using System.Text.RegularExpressions;
using RedisSync.Engine.Rdb;

namespace RedisSync.Engine.Transform;

/// <summary>
/// A <see cref="SyncFilter"/> made ready to answer per key and per command, the same way for the
/// snapshot, the stream, Compare and Repair. It also remembers the keys it dropped for their type
/// (from the snapshot and the stream), so that a later EXPIRE, DEL or RENAME of such a key, whose
/// command does not say the type, is dropped too.
/// </summary>
internal sealed class KeyFilter
{
    private readonly KeyPattern[] _keys;
    private readonly KeyPattern[] _excludeKeys;
    private readonly Regex[] _regexes;
    private readonly Regex[] _excludeRegexes;
    private readonly HashSet<int>? _databases;
    private readonly HashSet<int> _excludeDatabases;
    private readonly HashSet<RedisType>? _types;
    private readonly HashSet<string>? _commands;
    private readonly HashSet<string>? _commandGroups;
    private readonly HashSet<string> _excludeCommands;
    private readonly HashSet<string> _excludeGroups;
    private readonly object _gate = new object();
    private readonly KeyIds _droppedForType = new KeyIds();

    private readonly Func<RedisSync.KeyCandidate, bool>? _where;

    private KeyFilter(SyncFilter filter, Func<RedisSync.KeyCandidate, bool>? where = null)
    {
        Filter = filter;
        _where = where;
        _keys = filter.Key.Select(Pattern).ToArray();
        _excludeKeys = filter.ExcludeKey.Select(Pattern).ToArray();
        _regexes = filter.KeyRegex.Select(r => Regex(r, "KeyRegex")).ToArray();
        _excludeRegexes = filter.ExcludeKeyRegex.Select(r => Regex(r, "ExcludeKeyRegex")).ToArray();
        _databases = filter.Database.Count > 0 ? new HashSet<int>(filter.Database.Select(db => Database(db, "Database"))) : null;
        _excludeDatabases = new HashSet<int>(filter.ExcludeDatabase.Select(db => Database(db, "ExcludeDatabase")));
        _types = filter.Type.Count > 0 ? new HashSet<RedisType>(filter.Type.Select(TypeOf)) : null;
        if (filter.Command.Count > 0)
        {
            _commands = new HashSet<string>(StringComparer.Ordinal);
            _commandGroups = new HashSet<string>(StringComparer.Ordinal);
            Commands(filter.Command, "Command", _commands, _commandGroups);
        }
        _excludeCommands = new HashSet<string>(StringComparer.Ordinal);
        _excludeGroups = new HashSet<string>(StringComparer.Ordinal);
        Commands(filter.ExcludeCommand, "ExcludeCommand", _excludeCommands, _excludeGroups);
        HasKeyPatterns = _keys.Length > 0 || _excludeKeys.Length > 0 || _regexes.Length > 0 || _excludeRegexes.Length > 0;
    }

    /// <summary>The filter as it was given.</summary>
    public SyncFilter Filter { get; }

    /// <summary>Whether keys are chosen by name.</summary>
    public bool HasKeyPatterns { get; }

    /// <summary>Whether keys are chosen by type (or by -Where, which sees the type): what the stream must remember of dropped keys.</summary>
    public bool HasTypes => _types != null || _where != null;

    /// <summary>Whether source databases are chosen.</summary>
    public bool HasDatabases => _databases != null || _excludeDatabases.Count > 0;

    /// <summary>The filter ready to use, or null when it keeps everything; a wrong value throws InvalidOptions naming it.</summary>
    public static KeyFilter? Compile(SyncFilter? filter) => filter == null || filter.IsEmpty ? null : new KeyFilter(filter);

    /// <summary>The filter with a -Where predicate besides (null when neither asks for anything).</summary>
    public static KeyFilter? Compile(SyncFilter? filter, Func<RedisSync.KeyCandidate, bool>? where) =>
        where == null ? Compile(filter) : new KeyFilter(filter ?? new SyncFilter(), where);

    /// <summary>Whether a -Where predicate chooses keys too.</summary>
    public bool HasWhere => _where != null;

    /// <summary>Whether keys dropped for their type or by -Where are remembered (their later generic commands are dropped too).</summary>
    private bool Remembers => _types != null || _where != null;

    /// <summary>The -Where predicate's answer for a key of a known type (true without a predicate).</summary>
    public bool KeepsWhere(int db, ReadOnlySpan<byte> key, RedisType type) =>
        _where == null || _where(new RedisSync.KeyCandidate(db, key.ToArray(), Name(type)));

    private static string Name(RedisType type) => type switch
    {
        RedisType.String => "string",
        RedisType.List => "list",
        RedisType.Hash => "hash",
        RedisType.Set => "set",
        RedisType.ZSet => "zset",
        RedisType.Stream => "stream",
        RedisType.Module => "module",
        _ => string.Empty,
    };

    /// <summary>A filter that keeps everything (for a stream whose keys are only renamed).</summary>
    public static KeyFilter Everything() => new KeyFilter(new SyncFilter());

    public bool KeepsDatabase(int db) => (_databases == null || _databases.Contains(db)) && !_excludeDatabases.Contains(db);

    public bool KeepsName(ReadOnlySpan<byte> key)
    {
        if (!HasKeyPatterns) return true;
        if (_keys.Length > 0 || _regexes.Length > 0)
        {
            bool allowed = false;
            foreach (KeyPattern pattern in _keys)
            {
                if (pattern.IsMatch(key))
                {
                    allowed = true;
                    break;
                }
            }
            if (!allowed && _regexes.Length > 0)
            {
                string text = Text(key);
                allowed = _regexes.Any(r => r.IsMatch(text));
            }
            if (!allowed) return false;
        }
        foreach (KeyPattern pattern in _excludeKeys)
        {
            if (pattern.IsMatch(key)) return false;
        }
        if (_excludeRegexes.Length > 0)
        {
            string text = Text(key);
            if (_excludeRegexes.Any(r => r.IsMatch(text))) return false;
        }
        return true;
    }

    public bool KeepsType(RedisType type) => _types == null || type == RedisType.None || _types.Contains(type);

    /// <summary>Whether the live stream applies a command (by its name and its group).</summary>
    public bool KeepsCommand(string upperName, CommandSpec? spec)
    {
        string group = spec?.Group ?? string.Empty;
        if (_commands != null && !_commands.Contains(upperName) && !_commandGroups!.Contains(group)) return false;
        return !_excludeCommands.Contains(upperName) && !_excludeGroups.Contains(group);
    }

    /// <summary>A snapshot key: kept, or dropped (and remembered when dropped for its type).</summary>
    public bool Keeps(int db, ReadOnlySpan<byte> key, RedisType type)
    {
        if (!KeepsDatabase(db) || !KeepsName(key)) return false;
        if (KeepsType(type) && KeepsWhere(db, key, type)) return true;
        RememberDropped(db, key);
        return false;
    }

    /// <summary>Whether a key was dropped for its type (by the snapshot or an earlier command).</summary>
    public bool WasDroppedForType(int db, ReadOnlySpan<byte> key)
    {
        if (!Remembers) return false;
        lock (_gate) return _droppedForType.Contains(db, key);
    }

    public void RememberDropped(int db, ReadOnlySpan<byte> key)
    {
        if (!Remembers) return;
        lock (_gate) _droppedForType.Add(db, key);
    }

    public void Forget(int db, ReadOnlySpan<byte> key)
    {
        if (!Remembers) return;
        lock (_gate) _droppedForType.Remove(db, key);
    }

    /// <summary>Every key remembered in <paramref name="db"/> forgotten (FLUSHDB), or all of them (db −1: FLUSHALL).</summary>
    public void ForgetDatabase(int db)
    {
        if (!Remembers) return;
        lock (_gate) _droppedForType.Clear(db);
    }

    /// <summary>The remembered keys of two databases trade places (SWAPDB).</summary>
    public void SwapDatabases(int a, int b)
    {
        if (!Remembers) return;
        lock (_gate) _droppedForType.Swap(a, b);
    }

    /// <summary>A -Type name (string, list, hash, set, zset, stream, module) as the type; anything else is refused by name.</summary>
    public static RedisType TypeOf(string name) =>
        SyncFilter.TypeNames.Contains((name ?? string.Empty).Trim().ToLowerInvariant())
            ? TypeNamed(name)
            : throw Invalid($"-Type '{name}' is not a type: give one or more of {string.Join(", ", SyncFilter.TypeNames)}.");

    /// <summary>A type as TYPE names it: None for no key, Module for a module's own type name (such as ReJSON-RL).</summary>
    public static RedisType TypeNamed(string? name) => (name ?? string.Empty).Trim().ToLowerInvariant() switch
    {
        "string" => RedisType.String,
        "list" => RedisType.List,
        "hash" => RedisType.Hash,
        "set" => RedisType.Set,
        "zset" => RedisType.ZSet,
        "stream" => RedisType.Stream,
        "" or "none" => RedisType.None,
        _ => RedisType.Module,
    };

    private static string Text(ReadOnlySpan<byte> key) => Encoding.UTF8.GetString(key.ToArray());

    private static KeyPattern Pattern(string pattern)
    {
        if (string.IsNullOrEmpty(pattern)) throw Invalid("a key pattern is empty: give a glob such as 'user:*', or leave -Key out to copy every key.");
        return new KeyPattern(pattern);
    }

    private static Regex Regex(string pattern, string parameter)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException ex)
        {
            throw Invalid($"-{parameter} '{pattern}' is not a regular expression: {ex.Message}");
        }
    }

    private static int Database(int db, string parameter) =>
        db >= 0 ? db : throw Invalid($"-{parameter} {db} is not a database number (0 or more).");

    private static void Commands(IEnumerable<string> given, string parameter, HashSet<string> names, HashSet<string> groups)
    {
        foreach (string raw in given)
        {
            string item = (raw ?? string.Empty).Trim();
            if (item.StartsWith("@", StringComparison.Ordinal))
            {
                string group = item.Substring(1).ToLowerInvariant().Replace('_', '-');
                if (group == "sortedset" || group == "zset") group = "sorted-set";
                if (!CommandKeys.Groups.Contains(group))
                {
                    throw Invalid($"-{parameter} '{raw}' is not a command group: give one of {string.Join(", ", CommandKeys.Groups.Select(g => "@" + g))}.");
                }
                groups.Add(group);
            }
            else
            {
                if (item.Length == 0) throw Invalid($"-{parameter}: a command name is empty.");
                names.Add(item.ToUpperInvariant());
            }
        }
    }

    private static SyncException Invalid(string message) => new SyncException(SyncErrorIds.InvalidOptions, SyncErrorKind.Stop, message);
}
