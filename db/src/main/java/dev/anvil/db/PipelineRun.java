package dev.anvil.db;

import java.time.Instant;
import java.util.List;

/**
 * A row of pipeline_runs. The id is the Temporal workflow id; params is JSON text; reopenedAt is when the run was
 * last reopened for a retry (null if never).
 */
public record PipelineRun(
        String id,
        String pipeline,
        Integer pipelineVersion,
        String status,
        String paramsJson,
        String submittedBy,
        Instant createdAt,
        Instant startedAt,
        Instant finishedAt,
        String error,
        Instant reopenedAt) {

    /** Kept in step with pipeline_runs_status_check (V1). */
    public static final List<String> STATUSES = List.of("queued", "running", "success", "failed", "cancelled");

    /** Statuses a run never leaves. */
    public static final List<String> TERMINAL = List.of("success", "failed", "cancelled");

    public boolean isTerminal() {
        return TERMINAL.contains(status);
    }
}
