package dev.anvil.activities.operators;

/** What an operator knows of the attempt it runs in, and how it reports progress. */
public interface TaskContext {
    String runId();

    String taskId();

    long taskRunId();

    /** Reports progress (and lets Temporal notice a cancel); call it at least every few seconds on long work. */
    void heartbeat(Object progress);
}
