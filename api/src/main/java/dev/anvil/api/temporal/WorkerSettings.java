package dev.anvil.api.temporal;

import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;

/**
 * Worker settings, kept in one place because they decide what survives a process restart.
 *
 * <p>Every worker polls a sticky queue of its own, and after each workflow task it asks Temporal to
 * send that execution's next task there. On the Java dev server a sticky queue whose worker has
 * exited is never given back to the shared queue, so the run stays stuck, whatever the cache size:
 * a cache of 0 alone does not stop the SDK from asking. What does is a sticky schedule-to-start
 * timeout of zero: the SDK then sends no sticky attributes, every workflow task goes to the shared
 * queue, and a restarted process (or any other worker) picks it up and replays history. Local mode
 * uses both (no cache to keep warm when nothing is sticky). {@code WorkerRestartTest} proves it.
 */
public final class WorkerSettings {
    private WorkerSettings() {}

    public static WorkerFactoryOptions factoryOptions(int workflowCacheSize) {
        WorkerFactoryOptions.Builder builder = WorkerFactoryOptions.newBuilder()
                .setWorkflowCacheSize(workflowCacheSize);
        if (workflowCacheSize == 0) {
            builder.setMaxWorkflowThreadCount(600);
        }
        return builder.build();
    }

    public static WorkerOptions workerOptions(int workflowCacheSize) {
        WorkerOptions.Builder builder = WorkerOptions.newBuilder()
                // two cores on the smallest machines: bound parallel activities so a big model load
                // cannot starve the workflow task pollers
                .setMaxConcurrentActivityExecutionSize(8);
        if (workflowCacheSize == 0) {
            builder.setStickyQueueScheduleToStartTimeout(Duration.ZERO);
        }
        return builder.build();
    }
}
