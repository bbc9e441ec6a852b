using System.Runtime.CompilerServices;
namespace RedisSync.Engine.Rdb;

/// <summary>The value type byte that precedes a key in an RDB file (rdb.h <c>RDB_TYPE_*</c>).</summary>
internal enum RdbType : byte
{
    String = 0,
    List = 1,
    Set = 2,
    ZSet = 3,
    Hash = 4,
    ZSet2 = 5,
    ModulePreGa = 6,
    Module2 = 7,
    HashZipmap = 9,
    ListZiplist = 10,
    SetIntset = 11,
    ZSetZiplist = 12,
    HashZiplist = 13,
    ListQuicklist = 14,
    StreamListpacks = 15,
    HashListpack = 16,
    ZSetListpack = 17,
    ListQuicklist2 = 18,
    StreamListpacks2 = 19,
    SetListpack = 20,
    StreamListpacks3 = 21,
    HashMetadataPreGa = 22,
    HashListpackExPreGa = 23,
    HashMetadata = 24,
    HashListpackEx = 25,
}

/// <summary>The data type a user sees (TYPE), whatever its encoding in the file.</summary>
internal enum RedisType : byte
{
    String,
    List,
    Set,
    ZSet,
    Hash,
    Stream,
    Module,
    /// <summary>No such key (what TYPE answers for a missing key).</summary>
    None,
}

/// <summary>Facts about RDB types.</summary>
internal static class RdbTypes
{
    /// <summary>The user-visible type of an RDB type byte.</summary>
    [MethodImpl(HotPath.Compile)]
    public static RedisType ToRedisType(this RdbType type)
    {
        switch (type)
        {
            case RdbType.String: return RedisType.String;
            case RdbType.List:
            case RdbType.ListZiplist:
            case RdbType.ListQuicklist:
            case RdbType.ListQuicklist2: return RedisType.List;
            case RdbType.Set:
            case RdbType.SetIntset:
            case RdbType.SetListpack: return RedisType.Set;
            case RdbType.ZSet:
            case RdbType.ZSet2:
            case RdbType.ZSetZiplist:
            case RdbType.ZSetListpack: return RedisType.ZSet;
            case RdbType.StreamListpacks:
            case RdbType.StreamListpacks2:
            case RdbType.StreamListpacks3: return RedisType.Stream;
            case RdbType.ModulePreGa:
            case RdbType.Module2: return RedisType.Module;
            default: return RedisType.Hash;
        }
    }

    /// <summary>The rdb.h name without its RDB_TYPE_ prefix (HASH, ZSET_2, LIST_QUICKLIST_2, …), for messages and listings.</summary>
    public static string Name(this RdbType type)
    {
        int i = (int)type;
        return i < Names.Length && Names[i] != null ? Names[i]! : "UNKNOWN";
    }

    private static readonly string?[] Names =
    {
        "STRING", "LIST", "SET", "ZSET", "HASH", "ZSET_2", "MODULE_PRE_GA", "MODULE_2", null, "HASH_ZIPMAP",
        "LIST_ZIPLIST", "SET_INTSET", "ZSET_ZIPLIST", "HASH_ZIPLIST", "LIST_QUICKLIST", "STREAM_LISTPACKS",
        "HASH_LISTPACK", "ZSET_LISTPACK", "LIST_QUICKLIST_2", "STREAM_LISTPACKS_2", "SET_LISTPACK",
        "STREAM_LISTPACKS_3", "HASH_METADATA_PRE_GA", "HASH_LISTPACK_EX_PRE_GA", "HASH_METADATA", "HASH_LISTPACK_EX",
    };

    /// <summary>The oldest RDB version that holds this type (what a RESTORE target must load).</summary>
    public static int MinimumRdbVersion(this RdbType type)
    {
        switch (type)
        {
            case RdbType.HashMetadataPreGa:
            case RdbType.HashListpackExPreGa:
            case RdbType.HashMetadata:
            case RdbType.HashListpackEx: return 12;
            case RdbType.SetListpack:
            case RdbType.StreamListpacks3: return 11;
            case RdbType.HashListpack:
            case RdbType.ZSetListpack:
            case RdbType.ListQuicklist2:
            case RdbType.StreamListpacks2: return 10;
            case RdbType.StreamListpacks: return 9;
            case RdbType.Module2:
            case RdbType.ZSet2: return 8;
            case RdbType.ListQuicklist: return 7;
            default: return 6;
        }
    }
}
