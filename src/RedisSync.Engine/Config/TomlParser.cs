using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace RedisSync.Engine.Config;

/// <summary>
/// A strict TOML 1.0.0 reader over a whole document in memory (settings files are small): one pass,
/// the structure here (lines, keys, headers, arrays, inline tables and the rules on redefining
/// tables), the scalars in TomlParser.Scalars.cs. Every error names its line and column.
/// </summary>
internal sealed partial class TomlParser
{
    private readonly string _text;
    private readonly StringBuilder _scratch = new StringBuilder();
    private int _pos;
    private int _line = 1;
    private int _lineStart;

    private TomlParser(string text)
    {
        _text = text;
        RejectLoneSurrogates();
    }

    /// <summary>Parses a whole document; the text holds no byte order mark (TomlDocument strips one).</summary>
    public static TomlTable ParseDocument(string text) => new TomlParser(text).ParseDocument();

    /// <summary>Splits a dotted key written in TOML syntax (<c>a."b.c".d</c>) into its parts.</summary>
    public static string[] ParseDottedKey(string key)
    {
        var parser = new TomlParser(key);
        List<KeyPart> parts = parser.ParseKey();
        if (parser._pos < key.Length)
        {
            throw parser.Error($"expected the end of the key, found {parser.Found(parser._pos)}");
        }

        var names = new string[parts.Count];
        for (int i = 0; i < names.Length; i++) names[i] = parts[i].Name;
        return names;
    }

    private TomlTable ParseDocument()
    {
        var root = new TomlTable(TomlTableKind.Header);
        TomlTable section = root;
        while (true)
        {
            SkipSpaces();
            if (_pos >= _text.Length) return root;
            char c = _text[_pos];
            if (c == '[')
            {
                section = ParseHeader(root);
                EndLine("after the table header");
            }
            else if (c == '#' || c == '\n' || c == '\r')
            {
                EndLine("");
            }
            else
            {
                ParseKeyValue(section);
                EndLine("after the value");
            }
        }
    }

    // ---- lines, whitespace, comments ----

    private void SkipSpaces()
    {
        while (_pos < _text.Length && (_text[_pos] == ' ' || _text[_pos] == '\t')) _pos++;
    }

    /// <summary>Spaces, comments and newlines, as allowed between array elements.</summary>
    private void SkipBlank()
    {
        while (true)
        {
            SkipSpaces();
            if (_pos < _text.Length && _text[_pos] == '#') SkipComment();
            if (!TryNewLine()) return;
        }
    }

    /// <summary>What may follow a line's content: spaces, a comment, then a newline or the end of the file.</summary>
    private void EndLine(string context)
    {
        SkipSpaces();
        if (_pos < _text.Length && _text[_pos] == '#') SkipComment();
        if (_pos >= _text.Length || TryNewLine()) return;
        string after = context.Length == 0 ? "" : " " + context;
        throw Error($"expected the end of the line{after}, found {Found(_pos)}");
    }

    private bool TryNewLine()
    {
        if (_pos >= _text.Length) return false;
        char c = _text[_pos];
        if (c == '\r')
        {
            if (_pos + 1 >= _text.Length || _text[_pos + 1] != '\n')
            {
                throw Error("a carriage return (U+000D) must be followed by a line feed");
            }

            _pos++;
        }
        else if (c != '\n')
        {
            return false;
        }

        _pos++;
        _line++;
        _lineStart = _pos;
        return true;
    }

    private void SkipComment()
    {
        for (_pos++; _pos < _text.Length; _pos++)
        {
            char c = _text[_pos];
            if (c == '\n' || (c == '\r' && _pos + 1 < _text.Length && _text[_pos + 1] == '\n')) return;
            if (IsControl(c)) throw Error($"{Found(_pos)} is not allowed in a comment");
        }
    }

    /// <summary>Control characters TOML forbids outside escapes: U+0000–U+001F but tab, and DEL.</summary>
    private static bool IsControl(char c) => (c < 0x20 && c != '\t') || c == 0x7F;

    private static bool IsDigit(char c) => c >= '0' && c <= '9';

    // ---- keys and key/value pairs ----

    private List<KeyPart> ParseKey()
    {
        var parts = new List<KeyPart>(2);
        while (true)
        {
            SkipSpaces();
            int start = _pos;
            char c = _pos < _text.Length ? _text[_pos] : '\0';
            string name;
            if (c == '"' || c == '\'')
            {
                if (Peek(1) == c && Peek(2) == c) throw Error("a key cannot be a multi-line string");
                name = c == '"' ? ReadBasicString() : ReadLiteralString();
            }
            else if (_pos < _text.Length && TomlKey.IsBare(c))
            {
                while (_pos < _text.Length && TomlKey.IsBare(_text[_pos])) _pos++;
                name = _text.Substring(start, _pos - start);
            }
            else
            {
                throw Error(parts.Count == 0
                    ? $"expected a key, found {Found(_pos)}"
                    : $"expected a key after '.', found {Found(_pos)}");
            }

            parts.Add(new KeyPart(name, _line, Column(start)));
            SkipSpaces();
            if (_pos >= _text.Length || _text[_pos] != '.') return parts;
            _pos++;
        }
    }

    private void ParseKeyValue(TomlTable table)
    {
        List<KeyPart> key = ParseKey();
        if (_pos >= _text.Length || _text[_pos] != '=')
        {
            throw Error($"expected '=' after the key {Display(key, key.Count)}, found {Found(_pos)}");
        }

        _pos++;
        SkipSpaces();
        object value = ParseValue();
        for (int i = 0; i < key.Count - 1; i++) table = Descend(table, key, i, header: false);
        KeyPart last = key[key.Count - 1];
        if (table.TryGetEntry(last.Name, out TomlTable.Entry existing))
        {
            throw ErrorAt(last, $"duplicate key {Display(key, key.Count)} (already defined at line {existing.Line})");
        }

        table.Add(last.Name, value, last.Line, last.Column);
    }

    // ---- [table] and [[array of tables]] headers ----

    private TomlTable ParseHeader(TomlTable root)
    {
        bool isArray = Peek(1) == '[';
        _pos += isArray ? 2 : 1;
        List<KeyPart> key = ParseKey();
        string close = isArray ? "]]" : "]";
        for (int i = 0; i < close.Length; i++)
        {
            if (_pos >= _text.Length || _text[_pos] != ']')
            {
                throw Error($"expected '{close}' to close the {(isArray ? "array-of-tables" : "table")} header, found {Found(_pos)}");
            }

            _pos++;
        }

        TomlTable parent = root;
        for (int i = 0; i < key.Count - 1; i++) parent = Descend(parent, key, i, header: true);
        return isArray ? DefineArrayElement(parent, key) : DefineTable(parent, key);
    }

    /// <summary>
    /// One step down a dotted key or a header path. A header may pass through any table but an
    /// inline one, and into the last table of an array of tables; a dotted key only through the
    /// tables dotted keys of the same section created (TOML 1.0: a table's keys are all defined
    /// under one header).
    /// </summary>
    private TomlTable Descend(TomlTable table, List<KeyPart> key, int index, bool header)
    {
        KeyPart part = key[index];
        if (!table.TryGetEntry(part.Name, out TomlTable.Entry entry))
        {
            var child = new TomlTable(header ? TomlTableKind.Implicit : TomlTableKind.Dotted);
            table.Add(part.Name, child, part.Line, part.Column);
            return child;
        }

        string name = Display(key, index + 1);
        switch (entry.Value)
        {
            case TomlTable { Kind: TomlTableKind.Inline }:
                throw ErrorAt(part, $"cannot add to the inline table {name} (line {entry.Line}): an inline table is complete as written");
            case TomlTable existing when header || existing.Kind == TomlTableKind.Dotted:
                return existing;
            case TomlTable:
                throw ErrorAt(part, $"cannot add keys to the table {name} with a dotted key: a table header created it (line {entry.Line})");
            case TomlArray { IsArrayOfTables: true } array when header:
                return (TomlTable)array[array.Count - 1];
            default:
                throw ErrorAt(part, $"{name} is already {TomlTable.Describe(entry.Value)} (line {entry.Line}), not a table");
        }
    }

    private TomlTable DefineTable(TomlTable parent, List<KeyPart> key)
    {
        KeyPart last = key[key.Count - 1];
        string name = Display(key, key.Count);
        if (!parent.TryGetEntry(last.Name, out TomlTable.Entry entry))
        {
            var table = new TomlTable(TomlTableKind.Header);
            parent.Add(last.Name, table, last.Line, last.Column);
            return table;
        }

        switch (entry.Value)
        {
            case TomlTable { Kind: TomlTableKind.Implicit } table:
                table.Kind = TomlTableKind.Header;
                parent.MoveEntry(last.Name, last.Line, last.Column);
                return table;
            case TomlTable { Kind: TomlTableKind.Header }:
                throw ErrorAt(last, $"table {name} is defined twice (first at line {entry.Line})");
            case TomlTable { Kind: TomlTableKind.Dotted }:
                throw ErrorAt(last, $"table {name} was already defined by dotted keys (line {entry.Line})");
            case TomlTable:
                throw ErrorAt(last, $"table {name} was already defined as an inline table (line {entry.Line})");
            case TomlArray { IsArrayOfTables: true }:
                throw ErrorAt(last, $"{name} is an array of tables (line {entry.Line}): add to it with [[...]], not [...]");
            default:
                throw ErrorAt(last, $"{name} is already {TomlTable.Describe(entry.Value)} (line {entry.Line}), not a table");
        }
    }

    private TomlTable DefineArrayElement(TomlTable parent, List<KeyPart> key)
    {
        KeyPart last = key[key.Count - 1];
        TomlArray array;
        if (!parent.TryGetEntry(last.Name, out TomlTable.Entry entry))
        {
            array = new TomlArray(isArrayOfTables: true);
            parent.Add(last.Name, array, last.Line, last.Column);
        }
        else if (entry.Value is TomlArray { IsArrayOfTables: true } existing)
        {
            array = existing;
        }
        else
        {
            string name = Display(key, key.Count);
            throw ErrorAt(last, entry.Value is TomlArray
                ? $"cannot add tables to {name} with [[...]]: it is an array value (line {entry.Line})"
                : $"{name} is already {TomlTable.Describe(entry.Value)} (line {entry.Line}), not an array of tables");
        }

        var table = new TomlTable(TomlTableKind.Header);
        array.Add(table);
        return table;
    }

    // ---- values ----

    private object ParseValue()
    {
        if (_pos >= _text.Length) throw Error("expected a value, found the end of the file");
        char c = _text[_pos];
        switch (c)
        {
            case '"':
                return Peek(1) == '"' && Peek(2) == '"' ? ReadMultilineString('"') : ReadBasicString();
            case '\'':
                return Peek(1) == '\'' && Peek(2) == '\'' ? ReadMultilineString('\'') : ReadLiteralString();
            case '[':
                return ParseArray();
            case '{':
                return ParseInlineTable();
        }

        if (IsDigit(c) && IsDigit(Peek(1)))
        {
            if (Peek(2) == ':') return ParseLocalTime();
            if (IsDigit(Peek(2)) && IsDigit(Peek(3)) && Peek(4) == '-') return ParseDate();
        }

        if (IsDigit(c) || c == '+' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        {
            return ParseWord();
        }

        throw Error($"expected a value, found {Found(_pos)}");
    }

    private TomlArray ParseArray()
    {
        int openLine = _line;
        int openColumn = Column(_pos);
        _pos++;
        var array = new TomlArray(isArrayOfTables: false);
        while (true)
        {
            SkipBlank();
            if (_pos >= _text.Length) throw Error($"expected ']' to close the array opened at line {openLine}, column {openColumn}, found the end of the file");
            if (_text[_pos] == ']')
            {
                _pos++;
                return array;
            }

            array.Add(ParseValue());
            SkipBlank();
            char c = _pos < _text.Length ? _text[_pos] : '\0';
            if (c == ']')
            {
                _pos++;
                return array;
            }

            if (_pos >= _text.Length) throw Error($"expected ']' to close the array opened at line {openLine}, column {openColumn}, found the end of the file");
            if (c != ',') throw Error($"expected ',' or ']' after an array element, found {Found(_pos)}");

            _pos++;
        }
    }

    private TomlTable ParseInlineTable()
    {
        _pos++;
        var table = new TomlTable(TomlTableKind.Inline);
        SkipSpaces();
        if (_pos < _text.Length && _text[_pos] == '}')
        {
            _pos++;
            return table;
        }

        while (true)
        {
            ParseKeyValue(table);
            SkipSpaces();
            char c = _pos < _text.Length ? _text[_pos] : '\0';
            if (c == '}')
            {
                _pos++;
                return table;
            }

            if (c != ',')
            {
                throw Error(c == '\n' || c == '\r'
                    ? "an inline table must be on one line: expected ',' or '}', found the end of the line"
                    : $"expected ',' or '}}' in the inline table, found {Found(_pos)}");
            }

            _pos++;
            SkipSpaces();
            if (_pos < _text.Length && _text[_pos] == '}')
            {
                throw Error("an inline table cannot end with a trailing comma");
            }
        }
    }

    // ---- positions and errors ----

    private char Peek(int ahead) => _pos + ahead < _text.Length ? _text[_pos + ahead] : '\0';

    private int Column(int offset) => ColumnAt(_text, _lineStart, offset);

    /// <summary>1-based column of an offset, counting a surrogate pair as one character.</summary>
    private static int ColumnAt(string text, int lineStart, int offset)
    {
        int column = 1;
        for (int i = lineStart; i < offset; i++)
        {
            if (!char.IsLowSurrogate(text[i])) column++;
        }

        return column;
    }

    private TomlException Error(string reason) => ErrorAt(_pos, reason);

    /// <summary>An error at an offset on the current line (or, rarely, an earlier one: found by counting).</summary>
    private TomlException ErrorAt(int offset, string reason) =>
        offset >= _lineStart ? new TomlException(_line, Column(offset), reason) : ErrorFromStart(_text, offset, reason);

    private static TomlException ErrorFromStart(string text, int offset, string reason)
    {
        int line = 1;
        int lineStart = 0;
        for (int i = 0; i < offset; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                lineStart = i + 1;
            }
        }

        return new TomlException(line, ColumnAt(text, lineStart, offset), reason);
    }

    private static TomlException ErrorAt(KeyPart part, string reason) => new TomlException(part.Line, part.Column, reason);

    /// <summary>What the parser met, for "expected X, found Y" messages.</summary>
    private string Found(int offset)
    {
        if (offset >= _text.Length) return "the end of the file";
        char c = _text[offset];
        if (c == '\n' || (c == '\r' && offset + 1 < _text.Length && _text[offset + 1] == '\n')) return "the end of the line";
        if (IsControl(c)) return "control character U+" + ((int)c).ToString("X4", CultureInfo.InvariantCulture);
        if (c < 0x80) return "'" + c + "'";
        int codePoint = char.IsHighSurrogate(c) && offset + 1 < _text.Length ? char.ConvertToUtf32(c, _text[offset + 1]) : c;
        return "'" + char.ConvertFromUtf32(codePoint) + "' (U+" + codePoint.ToString("X4", CultureInfo.InvariantCulture) + ")";
    }

    private static string Display(List<KeyPart> key, int count)
    {
        var names = new string[count];
        for (int i = 0; i < count; i++) names[i] = key[i].Name;
        return TomlKey.Display(names, count);
    }

    /// <summary>.NET strings can hold halves of surrogate pairs, which are not Unicode text and so not TOML.</summary>
    private void RejectLoneSurrogates()
    {
        for (int i = 0; i < _text.Length; i++)
        {
            char c = _text[i];
            if (char.IsHighSurrogate(c) && i + 1 < _text.Length && char.IsLowSurrogate(_text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                throw ErrorFromStart(_text, i, $"unpaired surrogate U+{(int)c:X4} is not Unicode text");
            }
        }
    }

    private readonly record struct KeyPart(string Name, int Line, int Column);
}
