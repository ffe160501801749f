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
    /** At most this long between a heartbeating activity's calls to Temporal, so a cancel reaches it soon. */
    static final Duration HEARTBEAT_THROTTLE = Duration.ofSeconds(3);

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
        return workerOptions(workflowCacheSize, 8);
    }

    /**
     * @param maxActivities activities run at once (ANVIL_WORKER_MAX_ACTIVITIES; 8 by default): two cores on the
     *                      smallest machines, so a big model load cannot starve the workflow task pollers; a
     *                      worker-only process on a bigger machine raises it
     */
    public static WorkerOptions workerOptions(int workflowCacheSize, int maxActivities) {
        WorkerOptions.Builder builder = WorkerOptions.newBuilder()
                .setMaxConcurrentActivityExecutionSize(WorkerQueues.checkMaxActivities(maxActivities))
                // a cancel reaches an activity only in the reply to a heartbeat it sent; the SDK holds
                // heartbeats back for up to 30-60 s by default, so a cancelled task would work on (and
                // take a slot) that long. Every few seconds costs one small call per running activity.
                .setDefaultHeartbeatThrottleInterval(HEARTBEAT_THROTTLE)
                .setMaxHeartbeatThrottleInterval(HEARTBEAT_THROTTLE);
        if (workflowCacheSize == 0) {
            builder.setStickyQueueScheduleToStartTimeout(Duration.ZERO);
        }
        return builder.build();
    }
}
