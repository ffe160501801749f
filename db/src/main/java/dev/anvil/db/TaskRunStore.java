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
        return jdbc.withConnection(TABLE, "start", c -> {
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
        });
    }

    /**
     * Records how an attempt ended. Calling it again overwrites status, metrics and error but
     * keeps the first finished_at, so a retried call does not move the end time.
     */
    public TaskRun finish(long taskRunId, String status, String metricsJson, String error) {
        Validate.oneOf(TABLE, "finish", "status", status, TaskRun.FINISHED_STATUSES);
        return jdbc.withConnection(TABLE, "finish", c -> Jdbc.queryOne(c,
                "UPDATE task_runs SET status = ?, metrics = ?::jsonb, error = ?,"
                        + " finished_at = COALESCE(finished_at, now()) WHERE id = ? RETURNING " + COLUMNS,
                TaskRunStore::map, status, metricsJson, error, taskRunId)
                .orElseThrow(() -> DataAccessException.badInput(TABLE, "finish", "no task run with id " + taskRunId)));
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
            Jdbc.update(c, "UPDATE task_runs SET status = 'success', metrics = ?::jsonb, cached_from = ?,"
                    + " finished_at = COALESCE(finished_at, now()) WHERE id = ?", metricsJson, originalId, taskRunId);
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
