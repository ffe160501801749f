package dev.anvil.activities.command;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A started command and every process it starts. Descendants are remembered as they are seen, because a
 * child whose parent has exited is re-parented and no longer shows as a descendant; {@link #kill} ends them
 * all: SIGTERM first, then SIGKILL for those still alive after a grace period.
 */
final class ProcessTree {
    static final long GRACE_MILLIS = 2000;
    private final Process process;
    private final Set<ProcessHandle> seen = new LinkedHashSet<>();

    ProcessTree(Process process) {
        this.process = process;
    }

    Process process() {
        return process;
    }

    /** Notes the descendants alive now; call it while the command runs. */
    void look() {
        process.descendants().forEach(seen::add);
    }

    /** Ends the command and all its descendants, seen now or earlier; returns once they are gone (or after 2 more s). */
    void kill() {
        look();
        List<ProcessHandle> all = new ArrayList<>();
        all.add(process.toHandle());
        all.addAll(seen);
        all.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS);
        while (all.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
            // descendants started while we waited are ended too
            process.descendants().filter(h -> !all.contains(h)).forEach(h -> {
                all.add(h);
                h.destroy();
            });
            if (!pause(50)) {
                break;
            }
        }
        all.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        long hard = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(GRACE_MILLIS);
        while (all.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < hard) {
            if (!pause(20)) {
                break;
            }
        }
    }

    /** After the command exited: ends what it left running (those would hold its output open). */
    void killLeftovers() {
        if (seen.stream().anyMatch(ProcessHandle::isAlive)) {
            kill();
        }
    }

    /** Sleeps; an interrupt cuts the grace short (the kill goes on, forcibly) and is kept for the caller. */
    private static boolean pause(long millis) {
        try {
            Thread.sleep(millis);
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
