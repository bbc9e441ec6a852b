using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace RedisSync.Engine.Transform;

/// <summary>
/// Which target database each source database goes to (the user's -DatabaseMap; a database not in
/// it keeps its number), checked against the databases the target has, so that a write never lands
/// in a database the map does not name.
/// </summary>
internal sealed class DatabaseMap
{
    private readonly IReadOnlyDictionary<int, int>? _map;

    /// <param name="map">Source database → target database, as the user gave it (null: every database keeps its number).</param>
    /// <param name="targetDatabases">How many databases the target has.</param>
    /// <param name="target">The target's address, for messages.</param>
    public DatabaseMap(IReadOnlyDictionary<int, int>? map, int targetDatabases, string target)
    {
        if (targetDatabases < 1) throw new ArgumentOutOfRangeException(nameof(targetDatabases), targetDatabases, "A target has at least one database.");
        _map = map != null && map.Count > 0 ? map : null;
        TargetDatabases = targetDatabases;
        Target = target;
    }

    /// <summary>How many databases the target has (0 to TargetDatabases − 1).</summary>
    public int TargetDatabases { get; }

    public string Target { get; }

    /// <summary>Whether any database changes its number.</summary>
    public bool IsIdentity => _map == null || _map.All(pair => pair.Key == pair.Value);

    /// <summary>The target database for a source database.</summary>
    /// <exception cref="SyncException">TargetDatabaseMissing: the target has no such database; the message names the map and what to do.</exception>
    public int Map(int sourceDb)
    {
        bool mapped = _map != null && _map.TryGetValue(sourceDb, out int targetDb);
        int result = mapped ? _map![sourceDb] : sourceDb;
        if (result < TargetDatabases) return result;
        throw Missing(sourceDb, result, mapped);
    }

    /// <summary>Checks every database the source holds keys in, and every entry of the map, before anything is written.</summary>
    public void CheckAll(IEnumerable<int> sourceDatabases)
    {
        foreach (int db in sourceDatabases) Map(db);
        if (_map == null) return;
        foreach (KeyValuePair<int, int> pair in _map.OrderBy(p => p.Key))
        {
            if (pair.Value >= TargetDatabases) throw Missing(pair.Key, pair.Value, mapped: true);
        }
    }

    /// <summary>The map as the user would write it, such as <c>@{ 0 = 1; 2 = 3 }</c>.</summary>
    public override string ToString() =>
        _map == null ? "@{ }" : "@{ " + string.Join("; ", _map.OrderBy(p => p.Key).Select(p => string.Format(CultureInfo.InvariantCulture, "{0} = {1}", p.Key, p.Value))) + " }";

    private SyncException Missing(int sourceDb, int targetDb, bool mapped)
    {
        string range = TargetDatabases == 1 ? "only database 0" : string.Format(CultureInfo.InvariantCulture, "databases 0 to {0}", TargetDatabases - 1);
        string why = mapped
            ? string.Format(CultureInfo.InvariantCulture, "-DatabaseMap {0} sends the source's database {1} to database {2}", this, sourceDb, targetDb)
            : string.Format(CultureInfo.InvariantCulture, "the source's database {0} keeps its number (-DatabaseMap does not name it)", sourceDb);
        string message = string.Format(CultureInfo.InvariantCulture,
            "{0}, but the target {1} has {2}. Map database {3} to one of them, for example -DatabaseMap @{{ {3} = 0 }} (database_map in a settings file). Nothing was written.",
            why, Target, range, sourceDb);
        return new SyncException(SyncErrorIds.TargetDatabaseMissing, SyncErrorKind.Stop, char.ToUpperInvariant(message[0]) + message.Substring(1));
    }
}
