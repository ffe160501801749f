package dev.anvil.activities.operators;

/** What an operator knows of the attempt it runs in, and how it reports progress. */
public interface TaskContext {
    String runId();

    String taskId();

    long taskRunId();

    /** Attempts this task had in earlier tries of the run (0 unless the run was retried). */
    default int previousAttempts() {
        return 0;
    }

    /**
     * Reports progress (and lets Temporal notice a cancel); call it at least every few seconds on long
     * work. Once the task is cancelled it throws {@code ActivityCompletionException}: let it propagate
     * (after undoing what must not outlive the task), and the attempt ends without recording anything.
     */
    void heartbeat(Object progress);

    /**
     * The details of the last heartbeat a previous attempt of this task sent, if any: long work saves
     * its progress there so a retry resumes instead of starting over.
     */
    default <T> java.util.Optional<T> lastHeartbeat(Class<T> type) {
        return java.util.Optional.empty();
    }

    /** The attempt's log; lines written here are stored and served while the task runs. */
    default TaskLog log() {
        return TaskLog.DISCARD;
    }
}
