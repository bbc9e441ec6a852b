using System;
using System.IO;
using System.Text;
using System.Xml;
using System.Xml.Linq;
using System.Xml.XPath;
using Xunit;

namespace RedisSync.HelpGen.Tests.Infrastructure;

/// <summary>
/// A temporary docs/en-US folder and an output folder for one test; deleted on dispose.
/// Builds the help of the module "Thing" (Thing.dll) unless told otherwise.
/// </summary>
internal sealed class DocsFolder : IDisposable
{
    public static readonly HelpTarget Thing = new("Thing", "Thing.dll");

    private DocsFolder(string root)
    {
        Root = root;
        Docs = Path.Combine(root, "docs", "en-US");
        Output = Path.Combine(root, "out", "en-US");
        Directory.CreateDirectory(Docs);
    }

    public string Root { get; }

    public string Docs { get; }

    public string Output { get; }

    public static DocsFolder Create() =>
        new(Path.Combine(Path.GetTempPath(), "helpgen-" + Guid.NewGuid().ToString("N")));

    /// <summary>The sample docs of the test project (tests/.../Samples/docs).</summary>
    public static string SampleDocs => Path.Combine(AppContext.BaseDirectory, "Samples", "docs");

    public static string Sample(string fileName) => Path.Combine(AppContext.BaseDirectory, "Samples", fileName);

    /// <summary>Writes a markdown file with LF line breaks, as the repository stores them.</summary>
    public string Write(string fileName, string text)
    {
        string path = Path.Combine(Docs, fileName);
        File.WriteAllText(path, text.Replace("\r\n", "\n"), new UTF8Encoding(false));
        return path;
    }

    internal HelpBuild.Result Build(HelpTarget? target = null) => HelpBuild.Run(Docs, Output, target ?? Thing);

    /// <summary>Builds and loads the MAML; fails the test when the build reports an error.</summary>
    internal XDocument BuildMaml()
    {
        var result = Build();
        Assert.True(result.Succeeded, string.Join(Environment.NewLine, result.Diagnostics));
        return XDocument.Load(Path.Combine(Output, Thing.HelpFileName));
    }

    /// <summary>Reads a written file as text, checking that it starts with the UTF-8 byte order mark as platyPS's files do.</summary>
    public static string ReadWithBom(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF, $"{path} has no UTF-8 byte order mark");
        return new UTF8Encoding(false).GetString(bytes, 3, bytes.Length - 3);
    }

    /// <summary>A text file of the repository with CRLF line breaks, as the generator writes them.</summary>
    public static string WithCrlf(string text) => text.Replace("\r\n", "\n").Replace("\n", "\r\n");

    /// <summary>The 1-based line of the first line of <paramref name="text"/> that contains <paramref name="snippet"/>.</summary>
    public static int LineOf(string text, string snippet)
    {
        string[] lines = text.Replace("\r\n", "\n").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Contains(snippet, StringComparison.Ordinal))
            {
                return i + 1;
            }
        }

        throw new ArgumentException($"'{snippet}' is not in the text");
    }

    /// <summary>XPath over MAML with the prefixes platyPS's own tests use (msh, maml, command, dev, MSHelp).</summary>
    public static string[] Select(XDocument maml, string xpath)
    {
        var namespaces = new XmlNamespaceManager(new NameTable());
        namespaces.AddNamespace("msh", "http://msh");
        namespaces.AddNamespace("maml", "http://schemas.microsoft.com/maml/2004/10");
        namespaces.AddNamespace("command", "http://schemas.microsoft.com/maml/dev/command/2004/10");
        namespaces.AddNamespace("dev", "http://schemas.microsoft.com/maml/dev/2004/10");
        namespaces.AddNamespace("MSHelp", "http://msdn.microsoft.com/mshelp");
        var result = new System.Collections.Generic.List<string>();
        foreach (XElement element in maml.XPathSelectElements(xpath, namespaces))
        {
            result.Add(element.Value);
        }

        return result.ToArray();
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A process that still holds a file: the temp folder is cleaned by the system later.
        }
    }
}
