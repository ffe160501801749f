package dev.anvil.workflows.pipeline;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.Map;

/**
 * A task's state in a run, as the workflow's query reports it. {@code status} is an Airflow task
 * state: queued, running, success, failed, upstream_failed, skipped. Attempts, and up_for_retry
 * between them, are recorded per attempt as task runs in PostgreSQL.
 */
public record TaskState(String taskId, String status, Map<String, Object> outputs, String error,
                        Long startedAtMillis, Long finishedAtMillis) {

    public static final String QUEUED = "queued";
    public static final String RUNNING = "running";
    public static final String SUCCESS = "success";
    public static final String FAILED = "failed";
    public static final String UPSTREAM_FAILED = "upstream_failed";
    public static final String SKIPPED = "skipped";

    @JsonIgnore
    public boolean isDone() {
        return status.equals(SUCCESS) || status.equals(FAILED) || status.equals(UPSTREAM_FAILED) || status.equals(SKIPPED);
    }
}
