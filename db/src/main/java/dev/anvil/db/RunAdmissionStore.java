package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * {@code max_active_runs} (Airflow's DAG parameter): how many runs of a pipeline may be active at once. A run is
 * active while it is queued or running and not waiting for a slot; one created at the limit waits
 * ({@code pipeline_run_waits}) and is admitted, oldest first, when an active run ends. Every decision counts and
 * writes under one transaction-scoped advisory lock per pipeline, so two starts at once cannot both take the last
 * slot, in this process or another.
 */
public final class RunAdmissionStore {

    private static final String TABLE = "pipeline_run_waits";
    private static final String WAIT_COLUMNS = "w.run_id, w.pipeline, w.max_active_runs, w.logical_date, w.use_cache,"
            + " w.queued_at, w.admitted_at, w.retry, w.retry_from";
    /** Runs of a pipeline that hold a slot: queued (workflow starting) or running, and not waiting. */
    private static final String COUNT_ACTIVE = "SELECT count(*) AS n FROM pipeline_runs r"
            + " WHERE r.pipeline = ? AND r.status IN ('queued', 'running') AND NOT EXISTS"
            + " (SELECT 1 FROM pipeline_run_waits w WHERE w.run_id = r.id AND w.admitted_at IS NULL)";

    /**
     * A run waiting for a slot, or admitted and not started yet ({@code admittedAt} set). {@code retry}: the run is
     * a retry of a failed or cancelled run, from {@code retryFrom} (null: the tasks that did not succeed).
     */
    public record Waiting(String runId, String pipeline, int maxActiveRuns, String logicalDate, boolean cache,
                          Instant queuedAt, Instant admittedAt, boolean retry, String retryFrom) {}

    /**
     * What {@link #create} decided: {@code waiting} null means the run may start now; otherwise it waits, and
     * {@code active} is how many runs held the slots when it was queued.
     */
    public record Admission(PipelineRun run, Waiting waiting, long active) {
        public boolean admitted() {
            return waiting == null || waiting.admittedAt() != null;
        }
    }

    private final Jdbc jdbc;

    public RunAdmissionStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Records a queued run of a pipeline bounded to {@code maxActiveRuns} active runs. It is admitted when fewer
     * are active and none waits before it (first come, first started); otherwise it waits. Idempotent: a run id
     * already recorded keeps its row and its admission.
     */
    public Admission create(String id, String pipeline, Integer pipelineVersion, String paramsJson, String submittedBy,
                            int maxActiveRuns, String logicalDate, boolean cache) {
        Validate.notNull(TABLE, "create", "id", id);
        Validate.notNull(TABLE, "create", "pipeline", pipeline);
        checkLimit("create", maxActiveRuns);
        return jdbc.inTransaction(TABLE, "create", c -> {
            lock(c, pipeline);
            int inserted = Jdbc.update(c, "INSERT INTO pipeline_runs (id, pipeline, pipeline_version, params,"
                    + " submitted_by) VALUES (?, ?, ?, COALESCE(?::jsonb, '{}'::jsonb), ?) ON CONFLICT (id) DO NOTHING",
                    id, pipeline, pipelineVersion, paramsJson, submittedBy);
            long active = countActive(c, pipeline, id);
            if (inserted == 0) {
                return new Admission(run(c, id), findWait(c, id).orElse(null), active);
            }
            if (mayStart(c, pipeline, active, maxActiveRuns)) {
                return new Admission(run(c, id), null, active);
            }
            Jdbc.update(c, "INSERT INTO pipeline_run_waits (run_id, pipeline, max_active_runs, logical_date, use_cache)"
                    + " VALUES (?, ?, ?, ?, ?)", id, pipeline, maxActiveRuns, logicalDate, cache);
            return new Admission(run(c, id), findWait(c, id).orElseThrow(), active);
        });
    }

    /**
     * Reopens a failed or cancelled run for a retry (Airflow's clear) under its pipeline's {@code maxActiveRuns}:
     * the run goes back to queued, and is admitted when fewer other runs are active and none waits before it;
     * otherwise it waits, remembering that it is a retry from {@code fromTask} (null: the tasks that did not
     * succeed). A run in any other status is refused.
     */
    public Admission reopenForRetry(String id, String pipeline, int maxActiveRuns, String fromTask) {
        Validate.notNull(TABLE, "reopen for retry", "id", id);
        Validate.notNull(TABLE, "reopen for retry", "pipeline", pipeline);
        checkLimit("reopen for retry", maxActiveRuns);
        return jdbc.inTransaction(TABLE, "reopen for retry", c -> {
            lock(c, pipeline);
            PipelineRunStore.reopen(c, id);
            long active = countActive(c, pipeline, id);
            if (mayStart(c, pipeline, active, maxActiveRuns)) {
                return new Admission(run(c, id), null, active);
            }
            Jdbc.update(c, "INSERT INTO pipeline_run_waits (run_id, pipeline, max_active_runs, retry, retry_from)"
                    + " VALUES (?, ?, ?, true, ?) ON CONFLICT (run_id) DO UPDATE SET max_active_runs = EXCLUDED.max_active_runs,"
                    + " retry = true, retry_from = EXCLUDED.retry_from, queued_at = now(), admitted_at = NULL",
                    id, pipeline, maxActiveRuns, fromTask);
            return new Admission(run(c, id), findWait(c, id).orElseThrow(), active);
        });
    }

    /**
     * Admits the oldest waiting runs of a pipeline into the slots free under {@code maxActiveRuns} (null: no
     * bound, every waiting run), stamping them admitted; start their workflows, then call {@link #started}.
     */
    public List<Waiting> admit(String pipeline, Integer maxActiveRuns) {
        if (maxActiveRuns != null) {
            checkLimit("admit", maxActiveRuns);
        }
        return jdbc.inTransaction(TABLE, "admit", c -> {
            lock(c, pipeline);
            long free = maxActiveRuns == null ? Integer.MAX_VALUE : maxActiveRuns - countActive(c, pipeline, null);
            if (free <= 0) {
                return List.of();
            }
            List<Waiting> next = Jdbc.query(c, "SELECT " + WAIT_COLUMNS + " FROM pipeline_run_waits w"
                    + " WHERE w.pipeline = ? AND w.admitted_at IS NULL ORDER BY w.queued_at, w.run_id LIMIT ?",
                    RunAdmissionStore::map, pipeline, free);
            List<Waiting> admitted = new java.util.ArrayList<>();
            for (Waiting w : next) {
                Jdbc.update(c, "UPDATE pipeline_run_waits SET admitted_at = now() WHERE run_id = ?", w.runId());
                admitted.add(findWait(c, w.runId()).orElseThrow());
            }
            return admitted;
        });
    }

    /** Admitted runs whose start has not been confirmed (a process died in between): start them again. */
    public List<Waiting> admittedNotStarted() {
        return jdbc.query(TABLE, "list admitted", "SELECT " + WAIT_COLUMNS + " FROM pipeline_run_waits w"
                + " WHERE w.admitted_at IS NOT NULL ORDER BY w.admitted_at, w.run_id", RunAdmissionStore::map);
    }

    /** The pipelines with runs waiting for a slot, by name. */
    public List<String> pipelinesWithWaiting() {
        return jdbc.query(TABLE, "list pipelines", "SELECT DISTINCT pipeline FROM pipeline_run_waits"
                + " WHERE admitted_at IS NULL ORDER BY pipeline", rs -> rs.getString("pipeline"));
    }

    /** The bound the pipeline's newest waiting run was queued under. */
    public Optional<Integer> queuedLimit(String pipeline) {
        return jdbc.queryOne(TABLE, "find limit", "SELECT max_active_runs FROM pipeline_run_waits WHERE pipeline = ?"
                + " ORDER BY queued_at DESC, run_id DESC LIMIT 1", rs -> rs.getInt("max_active_runs"), pipeline);
    }

    /** The runs that wait for a slot (not those admitted), by run id: one query for a whole list of runs. */
    public java.util.Map<String, Waiting> waiting() {
        java.util.Map<String, Waiting> waiting = new java.util.HashMap<>();
        for (Waiting w : jdbc.query(TABLE, "list waiting", "SELECT " + WAIT_COLUMNS + " FROM pipeline_run_waits w"
                + " WHERE w.admitted_at IS NULL", RunAdmissionStore::map)) {
            waiting.put(w.runId(), w);
        }
        return waiting;
    }

    /** The run's workflow started (or the run ended): it no longer waits. */
    public void started(String runId) {
        jdbc.withConnection(TABLE, "mark started", c -> Jdbc.update(c,
                "DELETE FROM pipeline_run_waits WHERE run_id = ? AND admitted_at IS NOT NULL", runId));
    }

    /** The run's wait, if it waits for a slot or was admitted and is not started yet. */
    public Optional<Waiting> find(String runId) {
        return jdbc.withConnection(TABLE, "find", c -> findWait(c, runId));
    }

    /** How many runs of the pipeline hold a slot now. */
    public long active(String pipeline) {
        return jdbc.withConnection(TABLE, "count active", c -> countActive(c, pipeline, null));
    }

    /**
     * Cancels a run that waits for a slot: it never started, so there is no workflow to cancel. False when the run
     * does not wait (it was admitted meanwhile, or never waited): cancel its workflow instead.
     */
    public boolean cancelWaiting(String runId) {
        Optional<Waiting> wait = find(runId);
        if (wait.isEmpty() || wait.get().admittedAt() != null) {
            return false;
        }
        return jdbc.inTransaction(TABLE, "cancel waiting", c -> {
            lock(c, wait.get().pipeline());
            if (Jdbc.update(c, "DELETE FROM pipeline_run_waits WHERE run_id = ? AND admitted_at IS NULL", runId) == 0) {
                return false; // admitted between the read and the lock
            }
            Jdbc.update(c, "UPDATE pipeline_runs SET status = 'cancelled', finished_at = now(),"
                    + " error = 'cancelled while waiting for a slot (max_active_runs)' WHERE id = ?", runId);
            return true;
        });
    }

    private static void checkLimit(String operation, int maxActiveRuns) {
        if (maxActiveRuns < 1) {
            throw DataAccessException.badInput(TABLE, operation, "max_active_runs " + maxActiveRuns
                    + " must be at least 1");
        }
    }

    /** One lock per pipeline for the transaction: counting and deciding happen as one step. */
    private static void lock(Connection c, String pipeline) throws SQLException {
        Jdbc.query(c, "SELECT pg_advisory_xact_lock(hashtext('pipeline_run_waits'), hashtext(?)) IS NULL AS locked",
                rs -> rs.getBoolean("locked"), pipeline);
    }

    /** First come, first started: a slot is free and no run of the pipeline waits before this one. */
    private static boolean mayStart(Connection c, String pipeline, long active, int maxActiveRuns) throws SQLException {
        return active < maxActiveRuns && Jdbc.queryOne(c, "SELECT 1 AS one FROM pipeline_run_waits"
                + " WHERE pipeline = ? AND admitted_at IS NULL LIMIT 1", rs -> 1, pipeline).isEmpty();
    }

    private static long countActive(Connection c, String pipeline, String except) throws SQLException {
        return Jdbc.queryOne(c, COUNT_ACTIVE + " AND (?::text IS NULL OR r.id <> ?)", rs -> rs.getLong("n"),
                pipeline, except, except).orElse(0L);
    }

    private static PipelineRun run(Connection c, String id) throws SQLException {
        return PipelineRunStore.find(c, id).orElseThrow();
    }

    private static Optional<Waiting> findWait(Connection c, String runId) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + WAIT_COLUMNS + " FROM pipeline_run_waits w WHERE w.run_id = ?",
                RunAdmissionStore::map, runId);
    }

    private static Waiting map(ResultSet rs) throws SQLException {
        return new Waiting(rs.getString("run_id"), rs.getString("pipeline"), rs.getInt("max_active_runs"),
                rs.getString("logical_date"), rs.getBoolean("use_cache"), Jdbc.instant(rs, "queued_at"),
                Jdbc.instant(rs, "admitted_at"), rs.getBoolean("retry"), rs.getString("retry_from"));
    }
}
