using System;
using System.Buffers.Binary;

namespace RedisSync.Engine.Rdb;

/// <summary>
/// A set of 64-bit key hashes in one array (open addressing, linear probing, 8 bytes a slot, at most
/// 70% full): what the whole-file check remembers of each key to find a duplicated one, in memory
/// that never grows past a fixed budget.
/// </summary>
internal sealed class KeyHashSet
{
    private const double MaxLoad = 0.7;

    private readonly int _maxSlots;
    private ulong[] _slots;
    private int _count;

    /// <param name="maxBytes">The most memory the set may take; <see cref="Add"/> reports <see cref="AddResult.Full"/> beyond it.</param>
    public KeyHashSet(long maxBytes)
    {
        long slots = 1024;
        while (slots * 2 * sizeof(ulong) <= maxBytes && slots < 1 << 30) slots *= 2;
        _maxSlots = (int)slots;
        _slots = new ulong[Math.Min(_maxSlots, 1 << 16)];
    }

    public int Count => _count;

    public enum AddResult
    {
        Added,
        Present,
        Full,
    }

    public AddResult Add(ulong hash)
    {
        if (hash == 0) hash = 1; // 0 marks an empty slot
        if (_count + 1 > _slots.Length * MaxLoad)
        {
            if (_slots.Length == _maxSlots) return Contains(hash) ? AddResult.Present : AddResult.Full;
            Rehash(new ulong[_slots.Length * 2]);
        }
        ulong[] slots = _slots;
        int mask = slots.Length - 1;
        for (int i = (int)hash & mask; ; i = (i + 1) & mask)
        {
            ulong here = slots[i];
            if (here == hash) return AddResult.Present;
            if (here == 0)
            {
                slots[i] = hash;
                _count++;
                return AddResult.Added;
            }
        }
    }

    private bool Contains(ulong hash)
    {
        ulong[] slots = _slots;
        int mask = slots.Length - 1;
        for (int i = (int)hash & mask; ; i = (i + 1) & mask)
        {
            if (slots[i] == hash) return true;
            if (slots[i] == 0) return false;
        }
    }

    /// <summary>Drops every hash that <paramref name="keep"/> refuses, in place (no second array).</summary>
    public void RemoveWhere(Func<ulong, bool> keep)
    {
        ulong[] slots = _slots;
        int mask = slots.Length - 1;
        for (int i = 0; i < slots.Length; i++)
        {
            if (slots[i] != 0 && !keep(slots[i]))
            {
                slots[i] = 0;
                _count--;
            }
        }
        // Re-place what is left, scanning from an empty slot so that no run of full slots wraps past
        // the scan's start: each hash then lands at or before its old slot, never behind an unplaced one.
        int start = Array.IndexOf(slots, 0UL);
        for (int n = 0; n < slots.Length; n++)
        {
            int i = (start + n) & mask;
            ulong hash = slots[i];
            if (hash == 0) continue;
            slots[i] = 0;
            int j = (int)hash & mask;
            while (slots[j] != 0) j = (j + 1) & mask;
            slots[j] = hash;
        }
    }

    private void Rehash(ulong[] bigger)
    {
        int mask = bigger.Length - 1;
        foreach (ulong hash in _slots)
        {
            if (hash == 0) continue;
            int j = (int)hash & mask;
            while (bigger[j] != 0) j = (j + 1) & mask;
            bigger[j] = hash;
        }
        _slots = bigger;
    }

    /// <summary>A 64-bit hash of a key in its database (xxHash64-style rounds and finalizer); collisions are confirmed by comparing names.</summary>
    public static ulong Hash(int db, ReadOnlySpan<byte> key)
    {
        const ulong P1 = 0x9E3779B185EBCA87UL, P2 = 0xC2B2AE3D27D4EB4FUL, P3 = 0x165667B19E3779F9UL;
        ulong h = P3 ^ ((ulong)(uint)db * P1) ^ ((ulong)key.Length * P2);
        int i = 0;
        for (; i + 8 <= key.Length; i += 8) h = Round(h, BinaryPrimitives.ReadUInt64LittleEndian(key.Slice(i)));
        ulong tail = 0;
        for (int shift = 0; i < key.Length; i++, shift += 8) tail |= (ulong)key[i] << shift;
        h = Round(h, tail);
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;

        static ulong Round(ulong acc, ulong lane)
        {
            acc ^= RotateLeft(lane * P2, 31) * P1;
            return RotateLeft(acc, 27) * P1 + 0x85EBCA77C2B2AE63UL;
        }

        static ulong RotateLeft(ulong v, int n) => (v << n) | (v >> (64 - n));
    }
}
