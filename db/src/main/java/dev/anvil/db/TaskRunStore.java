package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Task attempts, written by activities as they start and finish. */
public final class TaskRunStore {

    private static final String TABLE = "task_runs";
    private static final String COLUMNS = "id, run_id, task_id, attempt, operator, status,"
            + " parameters::text AS parameters, metrics::text AS metrics, error, started_at, finished_at, cache_key,"
            + " cached_from";

    /** The attempt {@code t} has not ended and no later attempt of its task has started. */
    private static final String STILL_OPEN = "t.finished_at IS NULL AND NOT EXISTS (SELECT 1 FROM task_runs later"
            + " WHERE later.run_id = t.run_id AND later.task_id = t.task_id AND later.attempt > t.attempt)";

    private final Jdbc jdbc;

    public TaskRunStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Records that an attempt started and returns its task-run id. Keyed by (runId, taskId,
     * attempt): an activity retrying this call after a lost reply gets the same id back and the
     * row keeps what the first call wrote.
     */
    public long start(String runId, String taskId, int attempt, String operator, String parametersJson) {
        Validate.notNull(TABLE, "start", "runId", runId);
        Validate.notNull(TABLE, "start", "taskId", taskId);
        Validate.notNull(TABLE, "start", "operator", operator);
        if (attempt < 1) {
            throw DataAccessException.badInput(TABLE, "start", "attempt " + attempt + " must be at least 1");
        }
        if (attempt == 1) {
            // no earlier attempt to close: one statement, no transaction (most attempts; one round trip)
            return jdbc.withConnection(TABLE, "start", c -> insertAttempt(c, runId, taskId, attempt, operator,
                    parametersJson));
        }
        return jdbc.inTransaction(TABLE, "start", c -> {
            long id = insertAttempt(c, runId, taskId, attempt, operator, parametersJson);
            // Temporal starts a later attempt only once it gave the earlier one up (its worker stopped
            // heartbeating, or it timed out), so an earlier attempt still open never records its end.
            Jdbc.update(c, "UPDATE task_runs SET status = 'up_for_retry', finished_at = now(), error = 'attempt '"
                    + " || ? || ' took over: this attempt''s worker stopped (heartbeat or start-to-close timeout)"
                    + " before recording how it ended' WHERE run_id = ? AND task_id = ? AND attempt < ?"
                    + " AND finished_at IS NULL", attempt, runId, taskId, attempt);
            return id;
        });
    }

    private static long insertAttempt(java.sql.Connection c, String runId, String taskId, int attempt, String operator,
                                      String parametersJson) throws SQLException {
        try {
            // The no-op DO UPDATE makes RETURNING yield the existing row's id in the same
            // statement, where DO NOTHING would return no row on a conflict.
            return Jdbc.queryOne(c, "INSERT INTO task_runs (run_id, task_id, attempt, operator, parameters)"
                    + " VALUES (?, ?, ?, ?, COALESCE(?::jsonb, '{}'::jsonb))"
                    + " ON CONFLICT (run_id, task_id, attempt) DO UPDATE SET run_id = EXCLUDED.run_id"
                    + " RETURNING id", rs -> rs.getLong(1),
                    runId, taskId, attempt, operator, parametersJson).orElseThrow();
        } catch (SQLException e) {
            if (Jdbc.violates(e, "task_runs_run_id_fkey")) {
                throw DataAccessException.badInput(TABLE, "start", "no pipeline run with id '" + runId
                        + "'; create the run in pipeline_runs before its tasks", e);
            }
            throw e;
        }
    }

    /**
     * Records how an attempt ended, once. The write is conditional: an attempt already ended (by
     * itself, by a cancelled run's record, or by the reconciler) or superseded by a later attempt of
     * the same task is left as it is, so a stale attempt that carried on after it was cancelled or
     * given up never writes over the record. Returns the row as stored.
     */
    public TaskRun finish(long taskRunId, String status, String metricsJson, String error) {
        Validate.oneOf(TABLE, "finish", "status", status, TaskRun.FINISHED_STATUSES);
        return jdbc.withConnection(TABLE, "finish", c -> {
            // the row as written comes back with the write (one round trip); one left as it was is read after
            Optional<TaskRun> written = Jdbc.queryOne(c, "UPDATE task_runs t SET status = ?, metrics = ?::jsonb,"
                    + " error = ?, finished_at = now() WHERE id = ? AND " + STILL_OPEN + " RETURNING " + COLUMNS,
                    TaskRunStore::map, status, metricsJson, error, taskRunId);
            if (written.isPresent()) {
                return written.get();
            }
            return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM task_runs WHERE id = ?", TaskRunStore::map, taskRunId)
                    .orElseThrow(() -> DataAccessException.badInput(TABLE, "finish", "no task run with id " + taskRunId));
        });
    }

    /**
     * Closes the attempts still open (queued or running, no end) of runs that have ended: their
     * workers stopped before recording the end (a crash), and no one else will. Each gets status
     * failed and an error naming the run's end. Returns the rows closed.
     */
    public List<TaskRun> closeOrphans() {
        return jdbc.query(TABLE, "close orphans", "UPDATE task_runs t SET status = 'failed', finished_at = now(),"
                + " error = 'run ' || r.id || ' ended ' || r.status || ' while this attempt was still recorded as '"
                + " || t.status || ': its worker stopped before recording how it ended'"
                + " FROM pipeline_runs r WHERE r.id = t.run_id AND t.finished_at IS NULL"
                + " AND t.status IN ('queued', 'running') AND r.status IN ('success', 'failed', 'cancelled')"
                + " RETURNING t.id, t.run_id, t.task_id, t.attempt, t.operator, t.status, t.parameters::text AS parameters,"
                + " t.metrics::text AS metrics, t.error, t.started_at, t.finished_at, t.cache_key, t.cached_from",
                TaskRunStore::map);
    }

    public Optional<TaskRun> find(long taskRunId) {
        return jdbc.queryOne(TABLE, "find", "SELECT " + COLUMNS + " FROM task_runs WHERE id = ?",
                TaskRunStore::map, taskRunId);
    }

    /** Stores the cache key of an attempt's inputs, so later tasks with the same inputs can reuse its outputs. */
    public void setCacheKey(long taskRunId, String cacheKey) {
        jdbc.withConnection(TABLE, "set cache key", c ->
                Jdbc.update(c, "UPDATE task_runs SET cache_key = ? WHERE id = ?", cacheKey, taskRunId));
    }

    /** The newest successful attempt that ran (not itself a cache hit) with this cache key. */
    public Optional<TaskRun> findCached(String cacheKey) {
        return jdbc.queryOne(TABLE, "find cached", "SELECT " + COLUMNS + " FROM task_runs"
                        + " WHERE cache_key = ? AND status = 'success' AND cached_from IS NULL ORDER BY id DESC LIMIT 1",
                TaskRunStore::map, cacheKey);
    }

    /** Records that an attempt reused the outputs of {@code originalId} instead of running. */
    public TaskRun finishCached(long taskRunId, long originalId, String metricsJson) {
        return jdbc.withConnection(TABLE, "finish cached", c -> {
            Jdbc.update(c, "UPDATE task_runs t SET status = 'success', metrics = ?::jsonb, cached_from = ?,"
                    + " finished_at = now() WHERE id = ? AND " + STILL_OPEN, metricsJson, originalId, taskRunId);
            return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM task_runs WHERE id = ?", TaskRunStore::map, taskRunId)
                    .orElseThrow();
        });
    }

    /** A run's task attempts in the order they started. */
    public List<TaskRun> listByRun(String runId) {
        return jdbc.query(TABLE, "list by run",
                "SELECT " + COLUMNS + " FROM task_runs WHERE run_id = ? ORDER BY started_at, id",
                TaskRunStore::map, runId);
    }

    private static TaskRun map(ResultSet rs) throws SQLException {
        return new TaskRun(rs.getLong("id"), rs.getString("run_id"), rs.getString("task_id"), rs.getInt("attempt"),
                rs.getString("operator"), rs.getString("status"), rs.getString("parameters"),
                rs.getString("metrics"), rs.getString("error"), Jdbc.instant(rs, "started_at"),
                Jdbc.instant(rs, "finished_at"), rs.getString("cache_key"), Jdbc.nullableLong(rs, "cached_from"));
    }
}
