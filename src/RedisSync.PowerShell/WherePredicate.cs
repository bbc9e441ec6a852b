using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using RedisSync.Engine;

namespace RedisSync;

/// <summary>
/// Start-RedisSync -Where: the script block, made again from its text in a runspace of its own, and run
/// there on the sync's threads (one key at a time) with $_ set to the key: the pipeline thread, and
/// the user's runspace, are never used. The runspace closes when the sync ends.
/// </summary>
internal sealed class WherePredicate : IDisposable
{
    private readonly Runspace _runspace;
    private readonly ScriptBlock _script;
    private readonly string _text;
    private readonly object _gate = new object();
    private bool _disposed;

    public WherePredicate(ScriptBlock where)
    {
        _text = where.ToString();
        _runspace = RunspaceFactory.CreateRunspace();
        _runspace.Open();
        Runspace? previous = Runspace.DefaultRunspace;
        try
        {
            Runspace.DefaultRunspace = _runspace;
            _script = ScriptBlock.Create(_text);
        }
        finally
        {
            Runspace.DefaultRunspace = previous;
        }
    }

    /// <summary>True when the script block's output is true (as Where-Object reads it).</summary>
    public bool Keeps(KeyCandidate key)
    {
        lock (_gate)
        {
            if (_disposed) throw new OperationCanceledException("The sync ended.");
            Runspace? previous = Runspace.DefaultRunspace;
            try
            {
                Runspace.DefaultRunspace = _runspace;
                Collection<PSObject> output = _script.InvokeWithContext(null, new List<PSVariable> { new PSVariable("_", key) });
                return output.Count > 0 && LanguagePrimitives.IsTrue(output.Count == 1 ? output[0] : (object)output);
            }
            catch (RuntimeException ex)
            {
                throw new SyncException(SyncErrorIds.WherePredicateFailed, SyncErrorKind.Stop,
                    $"-Where {{ {_text.Trim()} }} failed on key {key}: {ex.Message}", ex);
            }
            finally
            {
                Runspace.DefaultRunspace = previous;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _runspace.Dispose();
        }
    }
}
