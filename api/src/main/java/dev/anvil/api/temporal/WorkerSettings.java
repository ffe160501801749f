package dev.anvil.api.temporal;

import io.temporal.worker.WorkerFactoryOptions;
import io.temporal.worker.WorkerOptions;
import java.time.Duration;

/**
 * Worker settings, kept in one place because they decide what survives a process restart.
 *
 * <p>With a workflow cache (600 by default, local mode included) every worker polls a sticky queue of its own,
 * and after each workflow task asks Temporal to send that execution's next task there with only the new
 * events, so the cached workflow resumes instead of replaying its whole history (which grows with the run).
 * When the worker dies, a Temporal server gives the task back to the shared queue once nobody polled the
 * sticky queue within the sticky schedule-to-start timeout (the SDK's 5 s). The Java dev server of the local
 * stack ignores that timeout; {@code TemporalDevServer} makes up for it by naming every sticky queue after its
 * shared queue, so the restarted process polls its predecessor's sticky queue, misses its cache and replays
 * those runs from full history. {@code WorkerRestartTest} proves that a run survives its worker dying with
 * the cache on.
 *
 * <p>A cache of 0 turns sticky execution off altogether (sticky schedule-to-start timeout zero: the SDK sends
 * no sticky attributes, and a cache of 0 alone would not stop it asking): every workflow task goes to the
 * shared queue and replays the whole history. That works on any Temporal server, at a CPU cost per task
 * that grows with the run ({@code bench/pipeline-overhead.sh} measures both).
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
