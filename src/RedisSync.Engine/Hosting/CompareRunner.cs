using System;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;
using RedisSync.Engine.Compare;
using RedisSync.Engine.Net;

namespace RedisSync.Engine.Hosting;

/// <summary>Where a host shows a running compare; called only on the thread that drains it.</summary>
public interface ICompareOutput
{
    /// <summary>One compared key (a difference, or an equal key when asked for).</summary>
    void WriteDifference(KeyDifference difference);

    /// <summary>The progress bar's new content (keys scanned against DBSIZE).</summary>
    void WriteProgress(SyncProgress progress);

    /// <summary>Something to tell the user that does not stop the compare (a server reached without checking its certificate).</summary>
    void WriteWarning(SyncWarning warning);
}

/// <summary>
/// Compare-RedisData's engine side: the compare runs on the engine's threads and hands each key to a
/// bounded queue (a slow pipeline slows the compare down instead of piling keys up); the host drains
/// it on its own thread with <see cref="RunToEnd"/>, with a progress update every half second.
/// </summary>
public sealed class CompareRunner : IDisposable
{
    private const int QueueCapacity = 1024;
    private static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(500);
    private static int s_activities;

    private readonly DataComparer _comparer;
    private readonly BlockingCollection<KeyDifference> _queue = new BlockingCollection<KeyDifference>(QueueCapacity);
    private readonly ConcurrentQueue<SyncWarning> _warnings = new ConcurrentQueue<SyncWarning>();
    private readonly IDisposable _tlsWarnings;
    private readonly CancellationTokenSource _cancel = new CancellationTokenSource();
    private readonly string _activity;
    private readonly string _source;
    private readonly string _target;
    private readonly int _activityId = Interlocked.Increment(ref s_activities);
    private Task<CompareSummary>? _task;

    /// <summary>Checks the options; nothing connects before <see cref="Start"/>.</summary>
    public CompareRunner(RedisEndpoint source, RedisEndpoint target, CompareOptions options)
    {
        _comparer = new DataComparer(source, target, options);
        _activity = $"Compare {source} with {target}";
        _source = Address(source);
        _target = Address(target);
        _tlsWarnings = TlsOptions.ForwardSkipped(_warnings.Enqueue, source, target);
    }

    /// <summary>An address that connects to the same server again (TLS and user kept), without the password.</summary>
    public static string Address(RedisEndpoint endpoint)
    {
        if (endpoint == null) throw new ArgumentNullException(nameof(endpoint));
        if (!endpoint.UseTls && endpoint.User == null) return endpoint.ToString();
        return (endpoint.UseTls ? "rediss://" : "redis://") + endpoint;
    }

    /// <summary>Starts the compare in the background.</summary>
    public void Start()
    {
        if (_task != null) throw new InvalidOperationException("The compare was already started.");
        _task = Task.Run(async () =>
        {
            try
            {
                return await _comparer.RunAsync(key => _queue.Add(key, _cancel.Token), _cancel.Token).ConfigureAwait(false);
            }
            finally
            {
                _queue.CompleteAdding();
            }
        });
    }

    /// <summary>Stops the compare (Ctrl+C); <see cref="RunToEnd"/> then throws OperationCanceledException. Any thread.</summary>
    public void Cancel() => _cancel.Cancel();

    /// <summary>Writes every key as it comes, on the calling thread, until the compare ends; returns its summary or throws its error.</summary>
    public CompareSummary RunToEnd(ICompareOutput output)
    {
        if (_task == null) throw new InvalidOperationException("Start the compare first.");
        var clock = Stopwatch.StartNew();
        TimeSpan nextProgress = TimeSpan.Zero;
        while (!_queue.IsCompleted)
        {
            while (_warnings.TryDequeue(out SyncWarning? warning)) output.WriteWarning(warning);
            if (_queue.TryTake(out KeyDifference? key, 100))
            {
                key.Source = _source;
                key.Target = _target;
                output.WriteDifference(key);
            }
            if (clock.Elapsed >= nextProgress)
            {
                output.WriteProgress(SyncProgress.FromCompare(_comparer.Progress, _activityId, _activity, completed: false));
                nextProgress = clock.Elapsed + ProgressInterval;
            }
        }
        while (_warnings.TryDequeue(out SyncWarning? warning)) output.WriteWarning(warning);
        output.WriteProgress(SyncProgress.FromCompare(_comparer.Progress, _activityId, _activity, completed: true));
        try
        {
            return _task.GetAwaiter().GetResult();
        }
        catch (Exception ex) when (!(ex is SyncException) && !(ex is OperationCanceledException))
        {
            ExceptionDispatchInfo.Capture(HostErrors.Wrap(ex)).Throw();
            throw;
        }
    }

    /// <summary>Cancels a compare that still runs and waits for it.</summary>
    public void Dispose()
    {
        _cancel.Cancel();
        try
        {
            _task?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
        }
        _tlsWarnings.Dispose();
        _cancel.Dispose();
    }
}
