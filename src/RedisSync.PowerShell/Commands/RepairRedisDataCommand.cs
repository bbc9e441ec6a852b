using System;
using System.Management.Automation;
using System.Threading;
using RedisSync.Engine;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Hosting;

namespace RedisSync.Commands;

/// <summary>
/// Repair-RedisData: makes each key that Compare-RedisData found different equal to the source's
/// (asking per key with -Confirm, listing with -WhatIf); removes extra keys only with -RemoveExtra.
/// </summary>
[Cmdlet(VerbsDiagnostic.Repair, "RedisData", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(RepairResult))]
public sealed class RepairRedisDataCommand : ServerPairCommand, IDisposable
{
    private readonly CancellationTokenSource _stopping = new CancellationTokenSource();
    private DataRepairer? _repairer;
    private WherePredicate? _where;
    private string? _connectedSource;
    private string? _connectedTarget;

    /// <summary>A key from Compare-RedisData.</summary>
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ValidateNotNull]
    public KeyDifference InputObject { get; set; } = null!;

    /// <summary>Deletes keys that are only on the target (Status Extra); they are left alone otherwise.</summary>
    [Parameter]
    public SwitchParameter RemoveExtra { get; set; }

    /// <summary>
    /// Connects to both servers when the first key arrives (its Source and Target may come with it
    /// from Compare-RedisData), and again only when a key names other servers.
    /// </summary>
    private DataRepairer Connect()
    {
        if (_repairer != null && _connectedSource == Source && _connectedTarget == Target) return _repairer;
        _repairer?.Dispose();
        _repairer = null;
        _where ??= NewWhere();
        CompareRequest request = NewRequest(_where);
        try
        {
            (var source, var target) = request.ResolveServers();
            _repairer = TlsParameters.WithWarnings(this, () => DataRepairer.ConnectAsync(source, target,
                new RepairOptions { RemoveExtra = RemoveExtra.IsPresent, Where = request.Where, Filter = request.ResolveFilter(target), RenameKey = request.ResolveRenameKey(target) }, _stopping.Token).GetAwaiter().GetResult(), source, target);
        }
        catch (SyncException ex)
        {
            ThrowTerminatingError(ErrorRecords.From(ex, ErrorRecords.Address(Target)));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
        _connectedSource = Source;
        _connectedTarget = Target;
        return _repairer!;
    }

    /// <summary>Repairs one key (after ShouldProcess) and writes what was done.</summary>
    protected override void ProcessRecord()
    {
        DataRepairer repairer = Connect();
        string? action = repairer.PlannedAction(InputObject);
        if (action != null && !ShouldProcess($"db{InputObject.Database} {InputObject.Key} ({InputObject.Status})", action)) return;
        try
        {
            WriteObject(repairer.RepairAsync(InputObject, _stopping.Token).GetAwaiter().GetResult());
        }
        catch (SyncException ex)
        {
            WriteError(ErrorRecords.From(ex, InputObject));
        }
        catch (OperationCanceledException)
        {
            throw new PipelineStoppedException();
        }
    }

    /// <summary>Closes the connections.</summary>
    protected override void EndProcessing() => Dispose();

    /// <summary>Closes the connections and -Where's runspace, also when the pipeline ends by an error (PowerShell disposes the cmdlet).</summary>
    public void Dispose()
    {
        _repairer?.Dispose();
        _repairer = null;
        _where?.Dispose();
        _where = null;
    }

    /// <summary>Ctrl+C: the key being written is abandoned.</summary>
    protected override void StopProcessing() => _stopping.Cancel();
}
