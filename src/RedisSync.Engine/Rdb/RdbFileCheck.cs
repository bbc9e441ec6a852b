using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Net;
using RedisSync.Engine.Resp;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// Reads a local RDB file whole, writing nothing, before a copy from it touches the target: every
/// value parsed to its last element, the CRC-64 footer, and no key twice in one database (a file
/// that Redis refuses to load, "Duplicated key found in RDB file"). Throws a <see cref="SyncException"/>
/// that names the file and says where it is broken (byte offset, the key being read); otherwise
/// returns what the file holds.
/// </summary>
/// <remarks>
/// Duplicates are found in bounded memory. The check keeps a 64-bit hash of each key (with its
/// database) in a <see cref="KeyHashSet"/> of at most <see cref="MaxKeyHashBytes"/>, about 12 bytes a
/// key; as Redis does when it loads a file, empty collections and keys already expired are not
/// counted (Redis skips them before it adds a key). A hash met twice is only a suspect: a second pass
/// over the file keeps the names of the keys with a suspect hash and fails on the first name that
/// comes again, or finds that the suspects were different keys whose hashes collided (rare: about
/// n²/2^65 for n keys). When the keys' hashes do not fit the budget, the hash space is split in
/// halves by its top bits: the pass goes on with one half and each other half gets a pass of its own,
/// so memory stays at the budget and a file of many more keys costs more passes instead.
/// </remarks>
internal sealed class RdbFileCheck
{
    /// <summary>Hashes a key name in its database to 64 bits.</summary>
    public delegate ulong KeyHasher(int db, ReadOnlySpan<byte> key);

    private const int MaxSuspects = 1024;

    private readonly string _path;
    private readonly CancellationToken _cancellationToken;
    private readonly long _now;

    public RdbFileCheck(string path, CancellationToken cancellationToken = default, long? nowMs = null)
    {
        _path = path;
        _cancellationToken = cancellationToken;
        _now = nowMs ?? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    }

    /// <summary>The most memory for the keys' hashes (default 256 MB: about 22 million keys a pass).</summary>
    public long MaxKeyHashBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>How a key in its database is hashed (a seam for tests that need hashes to collide).</summary>
    public KeyHasher Hasher { get; init; } = KeyHashSet.Hash;

    /// <summary>Checks the file on a thread of its own (it reads the whole file).</summary>
    public static Task<RdbFileSummary> RunAsync(string path, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => new RdbFileCheck(path, cancellationToken).Run(), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>Reads the file whole and returns what it holds, or throws where it is broken.</summary>
    public RdbFileSummary Run()
    {
        var pending = new Stack<(int Level, ulong Prefix)>();
        pending.Push((0, 0));
        var suspects = new HashSet<ulong>();
        Pass? first = null;
        int passes = 0;
        while (pending.Count > 0)
        {
            (int level, ulong prefix) = pending.Pop();
            var pass = new Pass(this, new KeyHashSet(MaxKeyHashBytes), level, prefix, pending, suspects, null);
            Parse(pass);
            passes++;
            first ??= pass;
        }
        if (suspects.Count > 0)
        {
            Parse(new Pass(this, null, 0, 0, pending, suspects, new Dictionary<ulong, List<SeenKey>>()));
            passes++;
        }
        Pass f = first!;
        return new RdbFileSummary(_path, new System.IO.FileInfo(_path).Length, f.Version, f.Checksum, f.KeysPerDatabase, f.ExpiredKeys,
            f.EmptyKeys, f.ModuleTypes, f.ModuleAux, f.Functions, passes);
    }

    private void Parse(Pass pass)
    {
        try
        {
            RdbParser.ParseFile(_path, pass, new RdbParserOptions { CaptureRawValues = false });
        }
        catch (SyncException e) when (e.ErrorId != SyncErrorIds.RdbNotFound && e.ErrorId != SyncErrorIds.RdbUnreadable)
        {
            throw new SyncException(e.ErrorId, e.Kind, $"The RDB file '{_path}' cannot be loaded: {e.Message}", e) { Key = e.Key, Offset = e.Offset };
        }
    }

    /// <summary>
    /// Before a copy from <paramref name="file"/>: a file with module values or module AUX data needs
    /// a target that has modules (as a server without the module refuses to load it). A target whose
    /// MODULE LIST is empty fails here, naming the module types; one that has modules gets the values
    /// by RESTORE, which it refuses if it lacks the type.
    /// </summary>
    public static async Task RequireModulesAsync(RdbFileSummary file, RedisEndpoint target, CancellationToken cancellationToken)
    {
        if (!file.HasModuleData) return;
        RespValue modules;
        using (RedisConnection control = await RedisConnection.ConnectAsync(target, EndpointRole.Target, cancellationToken).ConfigureAwait(false))
        {
            modules = await control.ExecuteAsync(cancellationToken, "MODULE", "LIST").ConfigureAwait(false);
        }
        if (modules.IsError || modules.Items.Length > 0) return;
        var what = new List<string>();
        foreach (KeyValuePair<string, ModuleUse> type in file.ModuleTypes)
        {
            what.Add($"values of module type '{type.Key}' ({type.Value.Keys} key{(type.Value.Keys == 1 ? "" : "s")}, the first {type.Value.FirstKey})");
        }
        foreach (string aux in file.ModuleAux) what.Add($"AUX data of module type '{aux}'");
        throw new SyncException(SyncErrorIds.TargetFeatureMissing, SyncErrorKind.Stop,
            $"The RDB file '{file.Path}' holds {string.Join(" and ", what)}, but the target {target} has no modules loaded (MODULE LIST is empty), " +
            "so it could not load them, as a Redis server without the module refuses such a file. Load the module on the target first (loadmodule); nothing was written.");
    }

    private readonly struct SeenKey
    {
        public SeenKey(int db, byte[] name, long offset)
        {
            Db = db;
            Name = name;
            Offset = offset;
        }

        public int Db { get; }

        public byte[] Name { get; }

        public long Offset { get; }
    }

    /// <summary>
    /// One read of the file: the facts of the summary, and the hashes of the keys in one part of the
    /// hash space (top <c>level</c> bits equal to <c>prefix</c>); or, with <c>names</c>, the pass that
    /// confirms suspects by name.
    /// </summary>
    private sealed class Pass : RdbVisitor
    {
        private readonly RdbFileCheck _check;
        private readonly KeyHashSet? _hashes;
        private readonly Stack<(int, ulong)> _pending;
        private readonly HashSet<ulong> _suspects;
        private readonly Dictionary<ulong, List<SeenKey>>? _names;
        private readonly Dictionary<int, long> _keysPerDatabase = new Dictionary<int, long>();
        private int _level;
        private ulong _prefix;

        private int _db;
        private ulong _hash;
        private bool _counted;
        private long _elements;
        private RedisType _type;
        private long _offset;
        private byte[]? _name;

        public Pass(RdbFileCheck check, KeyHashSet? hashes, int level, ulong prefix, Stack<(int, ulong)> pending, HashSet<ulong> suspects,
            Dictionary<ulong, List<SeenKey>>? names)
        {
            _check = check;
            _hashes = hashes;
            _level = level;
            _prefix = prefix;
            _pending = pending;
            _suspects = suspects;
            _names = names;
        }

        public int Version { get; private set; }

        public ulong Checksum { get; private set; }

        public IReadOnlyDictionary<int, long> KeysPerDatabase => _keysPerDatabase;

        public long ExpiredKeys { get; private set; }

        public long EmptyKeys { get; private set; }

        public Dictionary<string, ModuleUse> ModuleTypes { get; } = new Dictionary<string, ModuleUse>(StringComparer.Ordinal);

        public List<string> ModuleAux { get; } = new List<string>();

        public long Functions { get; private set; }

        public override void OnStart(int rdbVersion) => Version = rdbVersion;

        public override void OnModuleAux(ulong moduleId, string moduleName, ReadOnlySpan<byte> raw)
        {
            if (!ModuleAux.Contains(moduleName)) ModuleAux.Add(moduleName);
        }

        public override void OnFunction(ReadOnlySpan<byte> code) => Functions++;

        public override bool OnKey(in RdbKey key)
        {
            _check._cancellationToken.ThrowIfCancellationRequested();
            _db = key.Db;
            _type = key.Type.ToRedisType();
            _offset = key.Offset;
            _elements = 0;
            // As rdbLoad on a master: a key already expired is dropped before Redis looks for a duplicate.
            _counted = key.ExpireAtMs < 0 || key.ExpireAtMs > _check._now;
            if (!_counted) ExpiredKeys++;
            _hash = _check.Hasher(key.Db, key.Name);
            _name = _names != null && _suspects.Contains(_hash) ? key.Name.ToArray() : null;
            if (key.ModuleType != null)
            {
                if (!ModuleTypes.TryGetValue(key.ModuleType, out ModuleUse? use)) ModuleTypes[key.ModuleType] = use = new ModuleUse(KeyText.Format(key.Name));
                use.Keys++;
            }
            return true;
        }

        public override void OnListElement(ReadOnlySpan<byte> element) => _elements++;

        public override void OnSetMember(ReadOnlySpan<byte> member) => _elements++;

        public override void OnZSetMember(ReadOnlySpan<byte> member, double score) => _elements++;

        public override void OnHashField(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value, long expireAtMs)
        {
            if (expireAtMs < 0 || expireAtMs > _check._now) _elements++;
        }

        public override void OnKeyEnd()
        {
            bool collection = _type == RedisType.List || _type == RedisType.Set || _type == RedisType.ZSet || _type == RedisType.Hash;
            if (collection && _elements == 0)
            {
                EmptyKeys++;
                if (!_counted) ExpiredKeys--;
                return;
            }
            _keysPerDatabase[_db] = (_keysPerDatabase.TryGetValue(_db, out long n) ? n : 0) + 1;
            if (!_counted) return;
            if (_names != null)
            {
                if (_name != null) Confirm();
                return;
            }
            if (_level > 0 && _hash >> (64 - _level) != _prefix) return;
            while (true)
            {
                KeyHashSet.AddResult added = _hashes!.Add(_hash);
                if (added == KeyHashSet.AddResult.Present && _suspects.Count < MaxSuspects) _suspects.Add(_hash);
                if (added != KeyHashSet.AddResult.Full) return;
                Split();
                if (_hash >> (64 - _level) != _prefix) return;
            }
        }

        /// <summary>The hashes no longer fit: keep the lower half of this part of the hash space, leave the upper half to a pass of its own.</summary>
        private void Split()
        {
            _level++;
            _prefix <<= 1;
            _pending.Push((_level, _prefix | 1));
            int level = _level;
            ulong prefix = _prefix;
            _hashes!.RemoveWhere(h => h >> (64 - level) == prefix);
        }

        private void Confirm()
        {
            if (!_names!.TryGetValue(_hash, out List<SeenKey>? seen)) _names[_hash] = seen = new List<SeenKey>();
            foreach (SeenKey earlier in seen)
            {
                if (earlier.Db == _db && earlier.Name.AsSpan().SequenceEqual(_name))
                {
                    string key = KeyText.Format(_name);
                    throw new SyncException(SyncErrorIds.RdbDuplicateKey, SyncErrorKind.Stop,
                        $"RDB has a duplicated key at byte {_offset}: key {key} of database {_db} was already at byte {earlier.Offset}. " +
                        "Redis refuses to load such a file (\"Duplicated key found in RDB file\").")
                    { Key = key, Offset = _offset };
                }
            }
            seen.Add(new SeenKey(_db, _name!, _offset));
        }

        public override void OnEnd(ulong checksum) => Checksum = checksum;
    }
}
