using System.Collections.Generic;
using System.Linq;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;
using RedisSync.Engine.Tests.Infrastructure;

namespace RedisSync.Engine.Tests.Compare;

/// <summary>Runs a compare between two test servers and collects what it reports.</summary>
internal static class CompareHarness
{
    public static RedisEndpoint Endpoint(RedisServer server) => RedisEndpoint.Parse(server.Endpoint);

    public static async Task<(List<KeyDifference> Keys, CompareSummary Summary)> RunAsync(RedisServer source, RedisServer target, CompareOptions? options = null, CancellationToken cancellationToken = default)
    {
        var keys = new List<KeyDifference>();
        var comparer = new DataComparer(Endpoint(source), Endpoint(target), options);
        CompareSummary summary = await comparer.RunAsync(keys.Add, cancellationToken);
        return (keys, summary);
    }

    /// <summary>Reported keys by name (each key must be reported once).</summary>
    public static Dictionary<string, KeyDifference> ByKey(IEnumerable<KeyDifference> keys) => keys.ToDictionary(k => k.Key);
}
