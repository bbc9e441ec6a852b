using Xunit;

namespace RedisSync.HelpGen.Tests.Infrastructure;

/// <summary>
/// A complete, valid cmdlet page (Get-Thing.md of module Thing) that tests change one piece of.
/// Every section is there, in platyPS's order, as New-MarkdownHelp writes them.
/// </summary>
internal static class CmdletPage
{
    public const string FileName = "Get-Thing.md";

    public const string Valid = """
        ---
        external help file: Thing.dll-Help.xml
        Module Name: Thing
        online version:
        schema: 2.0.0
        ---

        # Get-Thing

        ## SYNOPSIS
        Gets a thing.

        ## SYNTAX

        ```
        Get-Thing [-Name] <String> [<CommonParameters>]
        ```

        ## DESCRIPTION
        Gets the thing that has the name.

        ## EXAMPLES

        ### Example 1
        ```powershell
        PS C:\> Get-Thing -Name one
        ```

        Gets the thing named one.

        ## PARAMETERS

        ### -Name
        The name of the thing.

        ```yaml
        Type: String
        Parameter Sets: (All)
        Aliases:

        Required: True
        Position: 0
        Default value: None
        Accept pipeline input: False
        Accept wildcard characters: False
        ```

        ### CommonParameters
        This cmdlet supports the common parameters. For more information, see [about_CommonParameters](http://go.microsoft.com/fwlink/?LinkID=113216).

        ## INPUTS

        ### None

        ## OUTPUTS

        ### System.Object

        ## NOTES

        ## RELATED LINKS

        [about_Thing](about_Thing.md)

        """;

    /// <summary>The valid page with one piece of text replaced; fails when the piece is not there.</summary>
    public static string With(string piece, string replacement)
    {
        Assert.Contains(piece, Valid);
        return Valid.Replace(piece, replacement);
    }
}
