using System.Runtime.CompilerServices;

namespace RedisSync.Engine;

/// <summary>
/// The snapshot path's hot methods are compiled optimized at their first call
/// (<c>[MethodImpl(HotPath.Compile)]</c>): the runtime's tiering would run them unoptimized for the
/// first second of a copy. .NET Framework (the netstandard2.0 build) has no such option.
/// </summary>
internal static class HotPath
{
#if NETSTANDARD2_0
    public const MethodImplOptions Compile = 0;
#else
    public const MethodImplOptions Compile = MethodImplOptions.AggressiveOptimization;
#endif
}
