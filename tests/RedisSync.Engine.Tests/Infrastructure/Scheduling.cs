using System;
using System.Collections.Generic;
using System.Linq;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

// Most tests wait on servers (a copy, a failover, a reshard) far more than they compute: three at a time
// keep the 2-core CI machine busy without starving any; the longest collections start first, so that
// none of them is left running alone at the end of the suite.
[assembly: CollectionBehavior(MaxParallelThreads = 3)]
[assembly: TestCollectionOrderer("RedisSync.Engine.Tests.Infrastructure.LongestFirstOrderer", "RedisSync.Engine.Tests")]

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>
/// Marks a test class whose tests together take long (the seconds they took on the 2-core CI machine), so
/// that <see cref="LongestFirstOrderer"/> starts it before the short ones.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class RunsLongAttribute : Attribute
{
    public RunsLongAttribute(int seconds)
    {
        Seconds = seconds;
    }

    public int Seconds { get; }
}

/// <summary>
/// Orders the test collections longest first (by <see cref="RunsLongAttribute"/> on the class or on the
/// collection's definition), the others after them in xunit's own order.
/// </summary>
public sealed class LongestFirstOrderer : ITestCollectionOrderer
{
    private const string ClassCollectionPrefix = "Test collection for ";

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .Select((collection, index) => (collection, index, seconds: Seconds(collection)))
            .OrderByDescending(c => c.seconds)
            .ThenBy(c => c.index)
            .Select(c => c.collection)
            .ToList();

    private static int Seconds(ITestCollection collection)
    {
        ITypeInfo? type = collection.CollectionDefinition;
        if (type is null && collection.DisplayName.StartsWith(ClassCollectionPrefix, StringComparison.Ordinal))
        {
            type = collection.TestAssembly.Assembly.GetType(collection.DisplayName.Substring(ClassCollectionPrefix.Length));
        }
        IAttributeInfo? mark = type?.GetCustomAttributes(typeof(RunsLongAttribute).AssemblyQualifiedName).FirstOrDefault();
        return mark is null ? 0 : mark.GetConstructorArguments().OfType<int>().FirstOrDefault();
    }
}

/// <summary>
/// Tests that measure the process's heap or its allocations: alone, after every other test, so no other test's
/// allocations count.
/// </summary>
[CollectionDefinition(nameof(HeapMeasuringTests), DisableParallelization = true)]
public sealed class HeapMeasuringTests
{
}
