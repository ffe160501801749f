package dev.anvil.modelkit.drift;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

/**
 * A uniform sample of fixed size over an unbounded stream (Vitter's Algorithm R) that many threads offer to
 * without a lock. The i-th item offered (counting from 0) fills slot i while there is room, and afterwards
 * replaces slot j = h(seed, i) mod (i + 1) when j is below the capacity, with h a SplitMix64 mix of the seed and
 * the item's index: the same seed and the same stream in one thread give the same sample, and each item is kept
 * with probability capacity / seen as the algorithm requires. Memory: capacity references, whatever the traffic.
 */
public final class ReservoirSample<T> {
    private final int capacity;
    private final long seed;
    private final AtomicLong seen = new AtomicLong();
    private final AtomicReferenceArray<T> slots;

    public ReservoirSample(int capacity, long seed) {
        if (capacity < 1) {
            throw new IllegalArgumentException("reservoir capacity is " + capacity + "; at least 1");
        }
        this.capacity = capacity;
        this.seed = seed;
        this.slots = new AtomicReferenceArray<>(capacity);
    }

    /** Offers one item; returns true when it was kept. */
    public boolean offer(T item) {
        return offer(() -> item);
    }

    /** Offers one item made only if it is kept (most are not, once the reservoir is full); true when kept. */
    public boolean offer(Supplier<? extends T> item) {
        long i = seen.getAndIncrement();
        if (i < capacity) {
            slots.set((int) i, item.get());
            return true;
        }
        long j = Long.remainderUnsigned(mix(seed + i * 0x9E3779B97F4A7C15L), i + 1);
        if (j < capacity) {
            slots.set((int) j, item.get());
            return true;
        }
        return false;
    }

    /** How many items were offered so far. */
    public long seen() {
        return seen.get();
    }

    public int capacity() {
        return capacity;
    }

    /** The items kept now, in slot order (at most capacity). */
    public List<T> snapshot() {
        List<T> items = new ArrayList<>(capacity);
        for (int i = 0; i < capacity; i++) {
            T t = slots.get(i);
            if (t != null) {
                items.add(t);
            }
        }
        return items;
    }

    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
