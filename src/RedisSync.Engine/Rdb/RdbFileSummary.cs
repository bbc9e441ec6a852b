using System.Collections.Generic;
using System.Linq;

namespace RedisSync.Engine.Rdb;

/// <summary>What a whole-file check (<see cref="RdbFileCheck"/>) found in an RDB file that it passed.</summary>
internal sealed class RdbFileSummary
{
    public RdbFileSummary(string path, long bytes, int rdbVersion, ulong checksum, IReadOnlyDictionary<int, long> keysPerDatabase,
        long expiredKeys, long emptyKeysSkipped, IReadOnlyDictionary<string, ModuleUse> moduleTypes, IReadOnlyList<string> moduleAux,
        long functions, int passes)
    {
        Path = path;
        Bytes = bytes;
        RdbVersion = rdbVersion;
        Checksum = checksum;
        KeysPerDatabase = keysPerDatabase;
        ExpiredKeys = expiredKeys;
        EmptyKeysSkipped = emptyKeysSkipped;
        ModuleTypes = moduleTypes;
        ModuleAux = moduleAux;
        Functions = functions;
        Passes = passes;
    }

    public string Path { get; }

    /// <summary>The file's size.</summary>
    public long Bytes { get; }

    public int RdbVersion { get; }

    /// <summary>The CRC-64 in the file's footer, which matched (0: the file has none).</summary>
    public ulong Checksum { get; }

    /// <summary>Keys per database (SELECTDB number), empty collections left out.</summary>
    public IReadOnlyDictionary<int, long> KeysPerDatabase { get; }

    public long Keys => KeysPerDatabase.Values.Sum();

    /// <summary>Keys (counted in <see cref="KeysPerDatabase"/>) whose TTL had passed when the file was checked: a copy leaves them out.</summary>
    public long ExpiredKeys { get; }

    /// <summary>Empty collections, which Redis skips when it loads a file (and so does a copy).</summary>
    public long EmptyKeysSkipped { get; }

    /// <summary>Module values by module type (the 9-character name in the module id).</summary>
    public IReadOnlyDictionary<string, ModuleUse> ModuleTypes { get; }

    /// <summary>Module types that wrote AUX data (module-wide state), in file order.</summary>
    public IReadOnlyList<string> ModuleAux { get; }

    /// <summary>Function libraries.</summary>
    public long Functions { get; }

    /// <summary>How many times the file was read: once, plus a pass per extra part of the key-hash space, plus one to confirm a suspected duplicate.</summary>
    public int Passes { get; }

    /// <summary>Whether the file holds anything that only a module on the target can load.</summary>
    public bool HasModuleData => ModuleTypes.Count > 0 || ModuleAux.Count > 0;
}

/// <summary>How many values of one module type a file holds, and the first key, to name in messages.</summary>
internal sealed class ModuleUse
{
    public ModuleUse(string firstKey) => FirstKey = firstKey;

    public string FirstKey { get; }

    public long Keys { get; set; }
}
