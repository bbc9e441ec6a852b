using Xunit;

namespace RedisSync.Engine.Tests.Compare;

/// <summary>
/// Compare tests run one at a time and apart from other test classes: they start server pairs with
/// large data sets, and the bounded-memory test reads the process-wide allocation counter.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CompareCollection
{
    public const string Name = "Compare";
}
