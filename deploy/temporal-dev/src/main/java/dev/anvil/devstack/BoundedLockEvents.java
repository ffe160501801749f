package dev.anvil.devstack;

import java.lang.reflect.Field;
import java.util.LinkedList;
import java.util.concurrent.locks.Lock;

/**
 * Stops the Java dev server from getting slower with every task it ever ran.
 *
 * <p>Its clock (temporal-testing's {@code SelfAdvancingTimerImpl}) appends an event to a linked list on every
 * lock and unlock of time skipping, and removes one only when a lock is released through its handle; locks
 * taken and released per request (every workflow and activity task takes some) stay in the list for ever.
 * Every request also takes and releases a handle, and the release looks for its event with
 * {@code LinkedList.remove(Object)}, from the oldest end: each request scans everything the server did
 * before it. The list only feeds a diagnostics dump.
 *
 * <p>This list looks for a released event from the newest end (a handle's event is among the last few) and
 * keeps at most {@value #LIMIT} events, dropping the oldest. A released event that was dropped counts as
 * released, as the clock's own lock count (kept apart from the list) already says.
 */
final class BoundedLockEvents extends LinkedList<Object> {
    static final int LIMIT = 10_000;

    @Override
    public boolean add(Object event) {
        super.add(event);
        if (size() > LIMIT) {
            removeFirst();
        }
        return true;
    }

    @Override
    public boolean remove(Object event) {
        removeLastOccurrence(event);
        return true;
    }

    /**
     * Puts this list in place of the clock's own in {@code services} (a TestServicesStarter). Returns false, and
     * changes nothing, where this temporal-testing version is built otherwise.
     */
    static boolean install(Object services) {
        try {
            Object timer = field(services.getClass(), "selfAdvancingTimer").get(services);
            Field events = field(timer.getClass(), "lockEvents");
            Lock lock = (Lock) field(timer.getClass(), "lock").get(timer);
            if (!LinkedList.class.equals(events.getType())) {
                return false;
            }
            lock.lock();
            try {
                BoundedLockEvents bounded = new BoundedLockEvents();
                bounded.addAll((LinkedList<?>) events.get(timer));
                events.set(timer, bounded);
            } finally {
                lock.unlock();
            }
            return true;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return false;
        }
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        Field field = type.getDeclaredField(name);
        field.setAccessible(true);
        return field;
    }
}
