package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The audit log. It only appends: the database refuses UPDATE, DELETE and TRUNCATE on audit_log
 * (V8), so this class offers nothing else.
 */
public final class AuditLogStore {

    private static final String TABLE = "audit_log";
    private static final String COLUMNS = "id, at, actor, action, subject, details::text AS details, idempotency_key";

    private final Jdbc jdbc;

    public AuditLogStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Appends an entry and returns it. With an idempotency key, appending again under the same key
     * returns the first entry instead of logging the event twice.
     *
     * @param idempotencyKey a key the caller derives deterministically (e.g. from run, task and
     *                       attempt), or null when the caller never retries
     */
    public AuditEntry append(String actor, String action, String subject, String detailsJson, String idempotencyKey) {
        Validate.notNull(TABLE, "append", "actor", actor);
        Validate.notNull(TABLE, "append", "action", action);
        Validate.notNull(TABLE, "append", "subject", subject);
        return jdbc.withConnection(TABLE, "append", c -> {
            Optional<AuditEntry> inserted = Jdbc.queryOne(c, "INSERT INTO audit_log"
                    + " (actor, action, subject, details, idempotency_key) VALUES (?, ?, ?, ?::jsonb, ?)"
                    + " ON CONFLICT (idempotency_key) DO NOTHING RETURNING " + COLUMNS, AuditLogStore::map,
                    actor, action, subject, detailsJson, idempotencyKey);
            if (inserted.isPresent()) {
                return inserted.get();
            }
            return Jdbc.queryOne(c, "SELECT " + COLUMNS + " FROM audit_log WHERE idempotency_key = ?",
                    AuditLogStore::map, idempotencyKey).orElseThrow();
        });
    }

    /** Entries about one subject (a run, a model, an approval), newest first. */
    public List<AuditEntry> listBySubject(String subject, int limit) {
        return jdbc.query(TABLE, "list by subject", "SELECT " + COLUMNS
                + " FROM audit_log WHERE subject = ? ORDER BY at DESC, id DESC LIMIT ?", AuditLogStore::map, subject, limit);
    }

    /** The latest entries across all subjects, newest first. */
    public List<AuditEntry> listRecent(int limit) {
        return jdbc.query(TABLE, "list recent", "SELECT " + COLUMNS
                + " FROM audit_log ORDER BY at DESC, id DESC LIMIT ?", AuditLogStore::map, limit);
    }

    private static AuditEntry map(ResultSet rs) throws SQLException {
        return new AuditEntry(rs.getLong("id"), Jdbc.instant(rs, "at"), rs.getString("actor"), rs.getString("action"),
                rs.getString("subject"), rs.getString("details"), rs.getString("idempotency_key"));
    }
}
