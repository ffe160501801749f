package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Attempts handed to an external training service (external_tasks, V27), keyed by the sha256 of the opaque token
 * the service calls back with. A row leaves {@code waiting} once: {@link #finish} is conditional, so a token
 * completes or fails its task at most once.
 */
public final class ExternalTaskStore {
    private static final String TABLE = "external_tasks";
    public static final String WAITING = "waiting";
    public static final List<String> END_STATES = List.of("completed", "failed", "superseded", "expired");
    private static final String COLUMNS = "id, run_id, task_id, attempt, task_run_id, service, temporal_task_token,"
            + " state, created_at, finished_at";

    /** One handed-out attempt; {@code temporalTaskToken} never leaves the server. */
    public record ExternalTask(String id, String runId, String taskId, int attempt, long taskRunId, String service,
                               byte[] temporalTaskToken, String state, Instant createdAt, Instant finishedAt) {
        public boolean waiting() {
            return WAITING.equals(state);
        }
    }

    private final Jdbc jdbc;

    public ExternalTaskStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Records a new waiting attempt and supersedes the waiting ones of earlier attempts of the same task (their
     * Temporal activity timed out or failed, so their tokens must stop working).
     */
    public void create(String id, String runId, String taskId, int attempt, long taskRunId, String service,
                       byte[] temporalTaskToken) {
        Validate.sha256(TABLE, "create", id);
        Validate.notNull(TABLE, "create", "temporalTaskToken", temporalTaskToken);
        jdbc.withConnection(TABLE, "create", c -> {
            Jdbc.update(c, "UPDATE external_tasks SET state = 'superseded', finished_at = now()"
                    + " WHERE run_id = ? AND task_id = ? AND state = 'waiting'", runId, taskId);
            return Jdbc.update(c, "INSERT INTO external_tasks (id, run_id, task_id, attempt, task_run_id, service,"
                    + " temporal_task_token) VALUES (?, ?, ?, ?, ?, ?, ?)", id, runId, taskId, attempt, taskRunId,
                    service, temporalTaskToken);
        });
    }

    public Optional<ExternalTask> find(String id) {
        return jdbc.queryOne(TABLE, "find", "SELECT " + COLUMNS + " FROM external_tasks WHERE id = ?",
                ExternalTaskStore::map, id);
    }

    /** Ends a waiting row in {@code state}; false when it was not waiting any more (someone else ended it). */
    public boolean finish(String id, String state) {
        Validate.oneOf(TABLE, "finish", "state", state, END_STATES);
        return jdbc.withConnection(TABLE, "finish", c -> Jdbc.update(c, "UPDATE external_tasks SET state = ?,"
                + " finished_at = now() WHERE id = ? AND state = 'waiting'", state, id)) == 1;
    }

    /** Puts a row claimed by {@link #finish} back to waiting, when what followed the claim failed. */
    public void reopen(String id, String claimedState) {
        jdbc.withConnection(TABLE, "reopen", c -> Jdbc.update(c, "UPDATE external_tasks SET state = 'waiting',"
                + " finished_at = NULL WHERE id = ? AND state = ?", id, claimedState));
    }

    private static ExternalTask map(ResultSet rs) throws SQLException {
        return new ExternalTask(rs.getString("id"), rs.getString("run_id"), rs.getString("task_id"), rs.getInt("attempt"),
                rs.getLong("task_run_id"), rs.getString("service"), rs.getBytes("temporal_task_token"),
                rs.getString("state"), Jdbc.instant(rs, "created_at"), Jdbc.instant(rs, "finished_at"));
    }
}
