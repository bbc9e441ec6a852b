using System;
using System.IO;
using System.Linq;
using System.Reflection;
using RedisSync.Engine.Hosting;
using Xunit;

namespace RedisSync.Engine.Tests.Infrastructure;

/// <summary>A script that matches on an error id finds every id explained in about_RedisSync.</summary>
public sealed class ErrorIdDocsTests
{
    [Fact]
    public void About_RedisSync_lists_every_error_id_that_exists()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "docs", "en-US", "about_RedisSync.md"))) dir = Path.GetDirectoryName(dir) ?? throw new FileNotFoundException("docs/en-US/about_RedisSync.md above " + AppContext.BaseDirectory);
        string about = File.ReadAllText(Path.Combine(dir, "docs", "en-US", "about_RedisSync.md"));
        string errors = about.Substring(about.IndexOf("## Errors", StringComparison.Ordinal));
        string[] ids = new[] { typeof(SyncErrorIds), typeof(HostErrorIds) }
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.Static))
            .Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!)
            .Append("InternalError")
            .Distinct()
            .ToArray();
        Assert.True(ids.Length > 30);
        string[] missing = ids.Where(id => !System.Text.RegularExpressions.Regex.IsMatch(errors, @"\b" + id + @"\b")).ToArray();
        Assert.Empty(missing);
    }
}
