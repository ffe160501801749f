package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Pipeline runs: the run list the API serves and the start-up reconciliation reads. */
public final class PipelineRunStore {

    private static final String TABLE = "pipeline_runs";
    private static final String COLUMNS =
            "id, pipeline, pipeline_version, status, params::text AS params, submitted_by, created_at, started_at,"
                    + " finished_at, error, reopened_at";

    private final Jdbc jdbc;

    public PipelineRunStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Records a queued run. Idempotent: the workflow may be started again with the same id (a
     * retried submit), and then the row already stored is returned unchanged.
     */
    public PipelineRun create(String id, String pipeline, String paramsJson, String submittedBy) {
        return create(id, pipeline, null, paramsJson, submittedBy);
    }

    /** As {@link #create(String, String, String, String)}, for a run of a registered pipeline version. */
    public PipelineRun create(String id, String pipeline, Integer pipelineVersion, String paramsJson, String submittedBy) {
        Validate.notNull(TABLE, "create", "id", id);
        Validate.notNull(TABLE, "create", "pipeline", pipeline);
        return jdbc.withConnection(TABLE, "create", c -> {
            Jdbc.update(c, "INSERT INTO pipeline_runs (id, pipeline, pipeline_version, params, submitted_by) "
                    + "VALUES (?, ?, ?, COALESCE(?::jsonb, '{}'::jsonb), ?) ON CONFLICT (id) DO NOTHING",
                    id, pipeline, pipelineVersion, paramsJson, submittedBy);
            return find(c, id).orElseThrow();
        });
    }

    public Optional<PipelineRun> find(String id) {
        return jdbc.withConnection(TABLE, "find", c -> find(c, id));
    }

    /** Newest first; status null means every status. */
    public List<PipelineRun> list(String status, int limit) {
        return list(null, status, limit, 0);
    }

    /**
     * Newest first, a page at a time; a null pipeline or status matches every one.
     *
     * @param offset runs to skip (page * limit)
     */
    public List<PipelineRun> list(String pipeline, String status, int limit, int offset) {
        if (limit < 1) {
            throw DataAccessException.badInput(TABLE, "list", "limit " + limit + " must be at least 1");
        }
        if (offset < 0) {
            throw DataAccessException.badInput(TABLE, "list", "offset " + offset + " must not be negative");
        }
        if (status != null) {
            Validate.oneOf(TABLE, "list", "status", status, PipelineRun.STATUSES);
        }
        return jdbc.query(TABLE, "list", "SELECT " + COLUMNS + " FROM pipeline_runs"
                        + " WHERE (?::text IS NULL OR pipeline = ?) AND (?::text IS NULL OR status = ?)"
                        + " ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                PipelineRunStore::map, pipeline, pipeline, status, status, limit, offset);
    }

    /**
     * Opens a failed or cancelled run again for a retry: queued, with no end and no error. The one
     * way out of a terminal state, so that a retry stays the same run with its history.
     */
    public PipelineRun reopen(String id) {
        return jdbc.inTransaction(TABLE, "reopen", c -> reopen(c, id));
    }

    /** As {@link #reopen(String)}, inside the caller's transaction. */
    static PipelineRun reopen(Connection c, String id) throws SQLException {
        PipelineRun current = Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM pipeline_runs WHERE id = ? FOR UPDATE",
                PipelineRunStore::map, id)
                .orElseThrow(() -> DataAccessException.badInput(TABLE, "reopen", "no pipeline run with id '" + id + "'"));
        if (!current.status().equals("failed") && !current.status().equals("cancelled")) {
            throw DataAccessException.badInput(TABLE, "reopen", "run '" + id + "' is " + current.status()
                    + "; only failed or cancelled runs can be retried");
        }
        Jdbc.update(c, "UPDATE pipeline_runs SET status = 'queued', finished_at = NULL, error = NULL,"
                + " reopened_at = clock_timestamp() WHERE id = ?", id);
        return find(c, id).orElseThrow();
    }

    /**
     * Every run in a status that has (or is about to have) a workflow, oldest first; reconciliation squares them
     * with Temporal. Runs with a row in {@link RunAdmissionStore} (waiting for a slot of their pipeline's
     * max_active_runs, or admitted and not started yet) are left out: they have no workflow of their own yet, and
     * the admission sweep starts them.
     */
    public List<PipelineRun> listByStatus(String status) {
        Validate.oneOf(TABLE, "list by status", "status", status, PipelineRun.STATUSES);
        return jdbc.query(TABLE, "list by status",
                "SELECT " + COLUMNS + " FROM pipeline_runs r WHERE status = ? AND NOT EXISTS (SELECT 1 FROM"
                        + " pipeline_run_waits w WHERE w.run_id = r.id) ORDER BY created_at, id",
                PipelineRunStore::map, status);
    }

    /**
     * Moves a run to status, stamping started_at on the first "running" and finished_at on the
     * first terminal status. Setting the status it already has is a no-op (retries); leaving a
     * terminal status is refused, so a late retry cannot revive a finished run.
     */
    public PipelineRun updateStatus(String id, String status) {
        Validate.oneOf(TABLE, "update status", "status", status, PipelineRun.STATUSES);
        return transition(id, status, null, "update status");
    }

    /** Fails a run that is not finished yet, keeping the reason; a finished run is refused. */
    public PipelineRun markFailed(String id, String reason) {
        return transition(id, "failed", reason, "mark failed");
    }

    private PipelineRun transition(String id, String status, String error, String operation) {
        return jdbc.inTransaction(TABLE, operation, c -> {
            PipelineRun current = Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM pipeline_runs WHERE id = ? FOR UPDATE",
                    PipelineRunStore::map, id)
                    .orElseThrow(() -> DataAccessException.badInput(TABLE, operation, "no pipeline run with id '" + id + "'"));
            if (current.status().equals(status)) {
                return current; // a retried call: the first one already did the work
            }
            if (current.isTerminal()) {
                throw DataAccessException.badInput(TABLE, operation, "run '" + id + "' is already "
                        + current.status() + " and cannot become " + status + "; finished runs are final");
            }
            Jdbc.update(c, "UPDATE pipeline_runs SET status = ?, error = COALESCE(?, error),"
                    + " started_at = CASE WHEN ? = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,"
                    + " finished_at = CASE WHEN ? IN ('success', 'failed', 'cancelled') THEN now() ELSE NULL END"
                    + " WHERE id = ?", status, error, status, status, id);
            return find(c, id).orElseThrow();
        });
    }

    static Optional<PipelineRun> find(Connection c, String id) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM pipeline_runs WHERE id = ?", PipelineRunStore::map, id);
    }

    private static PipelineRun map(ResultSet rs) throws SQLException {
        return new PipelineRun(rs.getString("id"), rs.getString("pipeline"), Jdbc.nullableInt(rs, "pipeline_version"),
                rs.getString("status"),
                rs.getString("params"), rs.getString("submitted_by"), Jdbc.instant(rs, "created_at"),
                Jdbc.instant(rs, "started_at"), Jdbc.instant(rs, "finished_at"), rs.getString("error"),
                Jdbc.instant(rs, "reopened_at"));
    }
}
