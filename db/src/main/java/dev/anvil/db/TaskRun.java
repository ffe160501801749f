package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/** A row of task_runs: one attempt of one task of a pipeline run. JSON columns are JSON text. */
public record TaskRun(
        long id,
        String runId,
        String taskId,
        int attempt,
        String operator,
        String status,
        String parametersJson,
        String metricsJson,
        String error,
        Instant startedAt,
        Instant finishedAt,
        String cacheKey,
        Long cachedFrom) {

    /** Airflow's task-instance states, kept in step with task_runs_status_check (V2). */
    public static final List<String> STATUSES =
            List.of("queued", "running", "success", "failed", "up_for_retry", "upstream_failed", "skipped");

    /** The states {@link TaskRunStore#finish} accepts: an attempt that finished ends in one of these. */
    public static final List<String> FINISHED_STATUSES =
            List.of("success", "failed", "up_for_retry", "upstream_failed", "skipped");
}
