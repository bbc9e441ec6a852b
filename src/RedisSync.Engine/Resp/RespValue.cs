using System;
using System.Globalization;
using System.Text;

namespace RedisSync.Engine.Resp;

/// <summary>
/// A reply as an object tree, for the control path (handshakes, INFO, checkpoints). The hot paths
/// (writer replies, the replication stream) never build these.
/// </summary>
internal sealed class RespValue
{
    private static readonly RespValue[] NoItems = Array.Empty<RespValue>();

    public RespValue(RespKind kind, byte[]? bytes = null, long integer = 0, RespValue[]? items = null, bool isNull = false)
    {
        Kind = kind;
        Bytes = bytes;
        Integer = integer;
        Items = items ?? NoItems;
        IsNull = isNull;
    }

    public RespKind Kind { get; }

    /// <summary>The payload of a string, error, double, big number or verbatim frame.</summary>
    public byte[]? Bytes { get; }

    /// <summary>The value of an integer or boolean (1/0) frame.</summary>
    public long Integer { get; }

    /// <summary>Elements of an array, set, push, or map (keys and values alternating).</summary>
    public RespValue[] Items { get; }

    /// <summary>A RESP3 null, or a RESP2 null bulk or null array.</summary>
    public bool IsNull { get; }

    public bool IsError => Kind == RespKind.Error || Kind == RespKind.BulkError;

    /// <summary>The payload as text (UTF-8), the integer as decimal, or null.</summary>
    public string? AsString()
    {
        if (IsNull) return null;
        if (Bytes != null) return Encoding.UTF8.GetString(Bytes);
        if (Kind == RespKind.Integer || Kind == RespKind.Boolean) return Integer.ToString(CultureInfo.InvariantCulture);
        return null;
    }

    /// <summary>The value as an integer (an integer frame, or a string that holds one).</summary>
    public long AsInt64()
    {
        if (Kind == RespKind.Integer || Kind == RespKind.Boolean) return Integer;
        string? s = AsString();
        if (s != null && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)) return v;
        throw new SyncException(SyncErrorIds.ProtocolError, SyncErrorKind.Stop, $"Expected an integer reply, got {this}.");
    }

    /// <summary>The first word of an error (for example BUSYKEY, OOM, NOAUTH).</summary>
    public string ErrorCode
    {
        get
        {
            string text = AsString() ?? string.Empty;
            int space = text.IndexOf(' ');
            return space < 0 ? text : text.Substring(0, space);
        }
    }

    public override string ToString()
    {
        if (IsNull) return "(nil)";
        switch (Kind)
        {
            case RespKind.Array:
            case RespKind.Set:
            case RespKind.Push:
            case RespKind.Map:
                return "[" + string.Join(", ", Array.ConvertAll(Items, i => i.ToString())) + "]";
            case RespKind.Error:
            case RespKind.BulkError:
                return "(error) " + AsString();
            case RespKind.Integer:
            case RespKind.Boolean:
                return Integer.ToString(CultureInfo.InvariantCulture);
            default:
                return KeyText.Format(Bytes ?? Array.Empty<byte>());
        }
    }
}
