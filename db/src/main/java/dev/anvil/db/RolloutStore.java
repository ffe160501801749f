package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/** Canary rollouts, written by the rollout workflow and read by the gateway's router. */
public final class RolloutStore {

    private static final String TABLE = "rollouts";
    private static final String WINDOWS = "rollout_windows";
    private static final String COLUMNS = "id, endpoint, model, stable_version, candidate_version, state, weight,"
            + " analysis::text AS analysis, started_at, finished_at, reason";

    private final Jdbc jdbc;

    public RolloutStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Starts a rollout at weight 0, or returns the one already stored under id (a retried start).
     * An endpoint has at most one running or paused rollout; a second is refused.
     */
    public Rollout create(String id, String endpoint, String model, Integer stableVersion, int candidateVersion) {
        Validate.notNull(TABLE, "create", "id", id);
        Validate.notNull(TABLE, "create", "endpoint", endpoint);
        return jdbc.withConnection(TABLE, "create", c -> {
            try {
                Jdbc.update(c, "INSERT INTO rollouts (id, endpoint, model, stable_version, candidate_version)"
                        + " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                        id, endpoint, model, stableVersion, candidateVersion);
            } catch (SQLException e) {
                if (Jdbc.violates(e, "rollouts_one_active_per_endpoint_idx")) {
                    String other = Jdbc.queryOne(c, "SELECT id FROM rollouts WHERE endpoint = ? AND state IN"
                            + " ('running', 'paused')", rs -> rs.getString(1), endpoint).orElse("another rollout");
                    throw DataAccessException.badInput(TABLE, "create", "endpoint '" + endpoint
                            + "' already has a running or paused rollout, '" + other + "'; finish or abort it before"
                            + " starting '" + id + "'", e);
                }
                if (Jdbc.violates(e, "rollouts_candidate_version_fkey")) {
                    throw DataAccessException.badInput(TABLE, "create", "model '" + model + "' has no version "
                            + candidateVersion + " to roll out", e);
                }
                if (Jdbc.violates(e, "rollouts_stable_version_fkey")) {
                    throw DataAccessException.badInput(TABLE, "create", "model '" + model + "' has no version "
                            + stableVersion + " to keep as stable", e);
                }
                throw e;
            }
            return find(c, id).orElseThrow();
        });
    }

    /**
     * Records a step of the rollout: its state, traffic weight and latest analysis (JSON, or null
     * to keep the last). finished_at is stamped on the first terminal state; leaving a terminal
     * state is refused.
     */
    public Rollout update(String id, String state, int weight, String analysisJson) {
        return update(id, state, weight, analysisJson, null);
    }

    /** As {@link #update(String, String, int, String)}, recording why the rollout ended (null keeps the last). */
    public Rollout update(String id, String state, int weight, String analysisJson, String reason) {
        Validate.oneOf(TABLE, "update", "state", state, Rollout.STATES);
        if (weight < 0 || weight > 100) {
            throw DataAccessException.badInput(TABLE, "update", "weight " + weight + " is outside 0..100");
        }
        return jdbc.inTransaction(TABLE, "update", c -> {
            Rollout current = Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM rollouts WHERE id = ? FOR UPDATE",
                    RolloutStore::map, id)
                    .orElseThrow(() -> DataAccessException.badInput(TABLE, "update", "no rollout with id '" + id + "'"));
            if (Rollout.TERMINAL.contains(current.state()) && !current.state().equals(state)) {
                throw DataAccessException.badInput(TABLE, "update", "rollout '" + id + "' is already "
                        + current.state() + " and cannot become " + state + "; finished rollouts are final");
            }
            Jdbc.update(c, "UPDATE rollouts SET state = ?, weight = ?, analysis = COALESCE(?::jsonb, analysis),"
                    + " reason = COALESCE(?, reason),"
                    + " finished_at = CASE WHEN ? IN ('promoted', 'rolled_back', 'aborted', 'failed')"
                    + " THEN COALESCE(finished_at, now()) END WHERE id = ?", state, weight, analysisJson, reason, state, id);
            Rollout after = find(c, id).orElseThrow();
            if (!current.state().equals(state) && (state.equals("promoted") || state.equals("rolled_back"))) {
                RegistryEvents.record(c, state.equals("promoted") ? RegistryEvents.ROLLOUT_PROMOTED
                        : RegistryEvents.ROLLOUT_ROLLED_BACK, "endpoint:" + after.endpoint(), RegistryEvents.data(
                        "rollout", id, "endpoint", after.endpoint(), "model", after.model(),
                        "stableVersion", after.stableVersion(), "candidateVersion", after.candidateVersion(),
                        "reason", after.reason()));
            }
            return after;
        });
    }

    public Optional<Rollout> find(String id) {
        return jdbc.withConnection(TABLE, "find", c -> find(c, id));
    }

    /** The endpoint's running or paused rollout, the one the gateway splits traffic for. */
    public Optional<Rollout> findActive(String endpoint) {
        return jdbc.queryOne(TABLE, "find active", "SELECT " + COLUMNS
                + " FROM rollouts WHERE endpoint = ? AND state IN ('running', 'paused')", RolloutStore::map, endpoint);
    }

    /** Every running or paused rollout, oldest first: what the reconciler checks against Temporal. */
    public List<Rollout> listActive() {
        return jdbc.query(TABLE, "list active", "SELECT " + COLUMNS
                + " FROM rollouts WHERE state IN ('running', 'paused') ORDER BY started_at, id", RolloutStore::map);
    }

    /** The latest rollouts, newest first, at most limit (1..1000): what the UI's rollouts list shows. */
    public List<Rollout> list(int limit) {
        return list(null, null, limit, 0);
    }

    /**
     * Newest first, a page at a time; a null endpoint or state matches every one.
     *
     * @param limit  rollouts per page, 1..1000
     * @param offset rollouts to skip (page * limit)
     */
    public List<Rollout> list(String endpoint, String state, int limit, int offset) {
        if (limit < 1 || limit > 1000) {
            throw DataAccessException.badInput(TABLE, "list", "limit " + limit + " is outside 1..1000");
        }
        if (offset < 0) {
            throw DataAccessException.badInput(TABLE, "list", "offset " + offset + " must not be negative");
        }
        if (state != null) {
            Validate.oneOf(TABLE, "list", "state", state, Rollout.STATES);
        }
        return jdbc.query(TABLE, "list", "SELECT " + COLUMNS + " FROM rollouts"
                        + " WHERE (?::text IS NULL OR endpoint = ?) AND (?::text IS NULL OR state = ?)"
                        + " ORDER BY started_at DESC, id LIMIT ? OFFSET ?",
                RolloutStore::map, endpoint, endpoint, state, state, limit, offset);
    }

    /**
     * Ends a running or paused rollout as failed with the reason (its workflow failed or was lost).
     * Empty when the rollout had already finished: whatever finished it is left as it was.
     */
    public Optional<Rollout> fail(String id, String reason) {
        Validate.notNull(TABLE, "fail", "reason", reason);
        return jdbc.queryOne(TABLE, "fail", "UPDATE rollouts SET state = 'failed', weight = 0, reason = ?,"
                + " finished_at = COALESCE(finished_at, now()) WHERE id = ? AND state IN ('running', 'paused')"
                + " RETURNING " + COLUMNS, RolloutStore::map, reason, id);
    }

    /**
     * Records an analysed window (its canary and stable rows). A window already recorded is left as it was, so a
     * retried activity, or one that hands the same window on again, writes it once.
     */
    public void recordWindow(List<RolloutWindow> rows) {
        for (RolloutWindow w : rows) {
            Validate.notNull(WINDOWS, "record", "rolloutId", w.rolloutId());
            Validate.oneOf(WINDOWS, "record", "role", w.role(), List.of(RolloutWindow.CANARY, RolloutWindow.STABLE));
            Validate.oneOf(WINDOWS, "record", "verdict", w.verdict(), RolloutWindow.VERDICTS);
            Validate.notNull(WINDOWS, "record", "analysedAt", w.analysedAt());
            if (w.window() < 1) {
                throw DataAccessException.badInput(WINDOWS, "record", "window " + w.window() + " must be at least 1");
            }
            if (w.requests() < 0 || w.errors() < 0 || w.errors() > w.requests()) {
                throw DataAccessException.badInput(WINDOWS, "record", "window " + w.window() + " of rollout '"
                        + w.rolloutId() + "' counts " + w.errors() + " errors in " + w.requests() + " requests");
            }
        }
        jdbc.inTransaction(WINDOWS, "record", c -> {
            for (RolloutWindow w : rows) {
                try {
                    Jdbc.update(c, "INSERT INTO rollout_windows (rollout_id, window_no, role, version, weight, requests,"
                                    + " errors, error_rate, p95_ms, verdict, reason, analysed_at)"
                                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            w.rolloutId(), w.window(), w.role(), w.version(), w.weight(), w.requests(), w.errors(),
                            w.errorRate(), w.p95Ms(), w.verdict(), w.reason(),
                            w.analysedAt());
                } catch (SQLException e) {
                    if (Jdbc.violates(e, "rollout_windows_rollout_id_fkey")) {
                        throw DataAccessException.badInput(WINDOWS, "record", "no rollout with id '" + w.rolloutId()
                                + "' to record window " + w.window() + " of", e);
                    }
                    throw e;
                }
            }
            return null;
        });
    }

    /** The rollout's analysed windows in order, canary before stable within a window; empty for none or no rollout. */
    public List<RolloutWindow> windows(String rolloutId) {
        return jdbc.query(WINDOWS, "list", "SELECT rollout_id, window_no, role, version, weight, requests, errors,"
                + " error_rate, p95_ms, verdict, reason, analysed_at FROM rollout_windows WHERE rollout_id = ?"
                + " ORDER BY window_no, role", RolloutStore::mapWindow, rolloutId);
    }

    private static RolloutWindow mapWindow(ResultSet rs) throws SQLException {
        double errorRate = rs.getDouble("error_rate");
        Double rate = rs.wasNull() ? null : errorRate;
        double p95 = rs.getDouble("p95_ms");
        Double p95Ms = rs.wasNull() ? null : p95;
        return new RolloutWindow(rs.getString("rollout_id"), rs.getInt("window_no"), rs.getString("role"),
                Jdbc.nullableInt(rs, "version"), rs.getInt("weight"), rs.getLong("requests"), rs.getLong("errors"),
                rate, p95Ms, rs.getString("verdict"), rs.getString("reason"), Jdbc.instant(rs, "analysed_at"));
    }

    private static Optional<Rollout> find(Connection c, String id) throws SQLException {
        return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM rollouts WHERE id = ?", RolloutStore::map, id);
    }

    private static Rollout map(ResultSet rs) throws SQLException {
        return new Rollout(rs.getString("id"), rs.getString("endpoint"), rs.getString("model"),
                Jdbc.nullableInt(rs, "stable_version"), rs.getInt("candidate_version"), rs.getString("state"),
                rs.getInt("weight"), rs.getString("analysis"), Jdbc.instant(rs, "started_at"),
                Jdbc.instant(rs, "finished_at"), rs.getString("reason"));
    }
}
