package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;

/**
 * What each serving process has loaded: serving processes report here, and a rollout on any process reads
 * whether its candidate version is ready to take traffic.
 */
public final class ServingSessionsStore {
    private static final String TABLE = "serving_sessions";

    private final Jdbc jdbc;

    public ServingSessionsStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    public void loaded(String processId, String sha256) {
        report(processId, sha256, ServingSession.LOADED, null);
    }

    public void failed(String processId, String sha256, String error) {
        report(processId, sha256, ServingSession.FAILED, error == null ? "unknown error" : error);
    }

    private void report(String processId, String sha256, String state, String error) {
        requireProcess(processId, "report");
        jdbc.withConnection(TABLE, "report", c -> Jdbc.update(c, "INSERT INTO serving_sessions"
                + " (process_id, sha256, state, error) VALUES (?, ?, ?, ?) ON CONFLICT (process_id, sha256)"
                + " DO UPDATE SET state = EXCLUDED.state, error = EXCLUDED.error, updated_at = now()",
                processId, Validate.sha256(TABLE, "report", sha256), state, error));
    }

    /**
     * Confirms this process's reports (it is alive) and forgets those of artifacts it no longer holds.
     * @param holding the artifacts with a session loaded or loading in this process
     */
    public void retain(String processId, Set<String> holding) {
        requireProcess(processId, "retain");
        jdbc.inTransaction(TABLE, "retain", c -> {
            Jdbc.update(c, "DELETE FROM serving_sessions WHERE process_id = ? AND NOT (sha256 = ANY (?))", processId,
                    c.createArrayOf("text", holding.toArray()));
            Jdbc.update(c, "UPDATE serving_sessions SET updated_at = now() WHERE process_id = ?", processId);
            return null;
        });
    }

    /** The reports on this artifact confirmed within {@code fresh}, newest first. */
    public List<ServingSession> reports(String sha256, Duration fresh) {
        return jdbc.query(TABLE, "reports", "SELECT process_id, sha256, state, error, updated_at FROM serving_sessions"
                + " WHERE sha256 = ? AND updated_at > now() - make_interval(secs => ?) ORDER BY updated_at DESC",
                ServingSessionsStore::map, Validate.sha256(TABLE, "reports", sha256), fresh.toMillis() / 1000.0);
    }

    private static void requireProcess(String processId, String operation) {
        if (processId == null || processId.isBlank()) {
            throw DataAccessException.badInput(TABLE, operation, "processId is blank: name the serving process");
        }
    }

    private static ServingSession map(ResultSet rs) throws SQLException {
        return new ServingSession(rs.getString("process_id"), rs.getString("sha256"), rs.getString("state"),
                rs.getString("error"), Jdbc.instant(rs, "updated_at"));
    }
}
