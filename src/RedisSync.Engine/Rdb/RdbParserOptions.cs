namespace RedisSync.Engine.Rdb;

/// <summary>How <c>RdbParser</c> reads.</summary>
internal sealed class RdbParserOptions
{
    /// <summary>
    /// Values up to this many serialized bytes are captured whole and offered as
    /// <see cref="RdbKey.RawValue"/>; larger ones are streamed element by element.
    /// </summary>
    public int RawCaptureLimit { get; set; } = 512 * 1024;

    /// <summary>Capture small values at all (off when the target cannot RESTORE this RDB version).</summary>
    public bool CaptureRawValues { get; set; } = true;

    /// <summary>The largest piece of a string handed to the visitor at once.</summary>
    public int ChunkSize { get; set; } = 64 * 1024;

    /// <summary>Check the CRC64 at EOF.</summary>
    public bool VerifyChecksum { get; set; } = true;

    /// <summary>The largest module value captured for RESTORE (module values cannot be streamed).</summary>
    public long MaxModuleValueLength { get; set; } = 512L * 1024 * 1024;
}
