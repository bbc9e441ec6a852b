using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;

namespace RedisSync.Engine.Compare;

/// <summary>A FIFO that workers wait on; once completed and empty, takers get null.</summary>
internal sealed class WorkQueue<T>
    where T : class
{
    private readonly Queue<T> _items = new Queue<T>();
    private readonly SemaphoreSlim _signal = new SemaphoreSlim(0);
    private bool _completed;

    public void Add(T item)
    {
        lock (_items) _items.Enqueue(item);
        _signal.Release();
    }

    /// <summary>No more items will come: waiting takers wake up with null.</summary>
    public void Complete()
    {
        lock (_items) _completed = true;
        _signal.Release();
    }

    /// <summary>Takes the head if there is one and it satisfies <paramref name="ready"/>.</summary>
    public bool TryTake(System.Func<T, bool>? ready, out T? item)
    {
        lock (_items)
        {
            if (_items.Count > 0 && (ready == null || ready(_items.Peek())))
            {
                item = _items.Dequeue();
                return true;
            }
        }
        item = null;
        return false;
    }

    /// <summary>Waits for an item; null once the queue is completed and empty.</summary>
    public async Task<T?> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            await _signal.WaitAsync(cancellationToken).ConfigureAwait(false);
            lock (_items)
            {
                if (_items.Count > 0) return _items.Dequeue();
                if (_completed)
                {
                    _signal.Release();
                    return null;
                }
            }
        }
    }
}
