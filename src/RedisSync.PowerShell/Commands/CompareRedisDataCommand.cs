using System;
using System.Management.Automation;
using RedisSync.Engine;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Hosting;

namespace RedisSync.Commands;

/// <summary>
/// Compare-RedisData: streams each differing key as it is found, then one summary, with a progress
/// bar of keys scanned against DBSIZE; everything is written from the pipeline thread.
/// </summary>
[Cmdlet(VerbsData.Compare, "RedisData")]
[OutputType(typeof(KeyDifference))]
[OutputType(typeof(CompareSummary))]
public sealed class CompareRedisDataCommand : ServerPairCommand
{
    private CompareMode? _mode;
    private CompareRunner? _runner;

    /// <summary>Only keys that match this pattern (SCAN MATCH), such as 'user:*'.</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? KeyPattern { get; set; }

    /// <summary>Quick (type, TTL, length) or Full (every value too).</summary>
    [Parameter]
    public CompareMode Mode
    {
        get => _mode ?? CompareMode.Quick;
        set => _mode = value;
    }

    /// <summary>How far two TTLs may be apart and still count as equal.</summary>
    [Parameter]
    public TimeSpan? TtlTolerance { get; set; }

    /// <summary>Also writes the keys that are equal (Status Ok).</summary>
    [Parameter]
    public SwitchParameter IncludeEqual { get; set; }

    /// <summary>Writes only the summary.</summary>
    [Parameter]
    public SwitchParameter Summary { get; set; }

    /// <summary>Runs the compare and drains its keys on the pipeline thread.</summary>
    protected override void ProcessRecord()
    {
        using WherePredicate? where = NewWhere();
        CompareRequest request = NewRequest(where);
        request.KeyPattern = KeyPattern;
        request.Mode = _mode;
        request.TtlTolerance = TtlTolerance;
        request.IncludeEqual = IncludeEqual.IsPresent && !Summary.IsPresent;
        try
        {
            (var source, var target) = request.ResolveServers();
            CompareOptions options = request.ResolveOptions();
            options.Filter = request.ResolveFilter(target);
            options.RenameKey = request.ResolveRenameKey(target);
            using var runner = new CompareRunner(source, target, options);
            _runner = runner;
            runner.Start();
            CompareSummary summary = runner.RunToEnd(new Output(this));
            WriteObject(summary);
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ErrorRecords.Address(Target)));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        finally
        {
            _runner = null;
        }
    }

    /// <summary>Ctrl+C cancels the compare.</summary>
    protected override void StopProcessing() => _runner?.Cancel();

    private sealed class Output : ICompareOutput
    {
        private readonly CompareRedisDataCommand _cmdlet;

        public Output(CompareRedisDataCommand cmdlet) => _cmdlet = cmdlet;

        public void WriteDifference(KeyDifference difference)
        {
            if (!_cmdlet.Summary) _cmdlet.WriteObject(difference);
        }

        public void WriteProgress(SyncProgress progress) => _cmdlet.WriteProgress(ProgressRecords.From(progress));

        public void WriteWarning(SyncWarning warning) => _cmdlet.WriteWarning(warning.Message);
    }
}
