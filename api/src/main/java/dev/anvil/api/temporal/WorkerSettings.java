package dev.anvil.api.temporal;

import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;

/**
 * Worker settings, kept in one place because they decide what survives a process restart.
 *
 * <p>With a workflow cache, a worker keeps executions in memory and Temporal sends their next
 * workflow task to that worker's sticky queue. On the Java dev server a sticky queue whose worker
 * has exited is never released, so the run stays stuck. A cache size of 0 disables sticky
 * execution: every workflow task goes to the shared queue, and a restarted process (or any other
 * worker) picks it up at once, replaying history. {@code WorkerRestartTest} proves it.
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

    public static WorkerOptions workerOptions() {
        return WorkerOptions.newBuilder()
                // two cores on the smallest machines: bound parallel activities so a big model load
                // cannot starve the workflow task pollers
                .setMaxConcurrentActivityExecutionSize(8)
                .build();
    }
}
