package dev.anvil.db;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The audit log. It only appends: the database refuses UPDATE, DELETE and TRUNCATE on audit_log
 * (V8), so this class offers nothing else. Rows are hash-chained (V15, {@link AuditChain}) so that
 * a change made past those triggers, by whoever can switch them off, still shows in {@link #verify()}.
 */
public final class AuditLogStore {

    private static final String TABLE = "audit_log";
    private static final String COLUMNS = "id, at, actor, action, subject, details::text AS details, idempotency_key";
    /** The advisory lock key that serialises appends (any fixed number; this spells "audit"). */
    private static final long APPEND_LOCK = 0x6175646974L;
    private static final int VERIFY_PAGE = 1000;

    private record ChainedRow(AuditEntry entry, String prevHash, String hash) {}

    private final Jdbc jdbc;

    public AuditLogStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Appends an entry and returns it. With an idempotency key, appending again under the same key
     * returns the first entry instead of logging the event twice.
     *
     * <p>Each row is chained to the one before it (see {@link AuditChain}). The chain needs one
     * order that every writer agrees on, so appends take a transaction-scoped advisory lock, then
     * read the last row's hash and draw the new id under it: ids and links follow the same order
     * even when several writers (API, workers) append at once.
     *
     * @param idempotencyKey a key the caller derives deterministically (e.g. from run, task and
     *                       attempt), or null when the caller never retries
     */
    public AuditEntry append(String actor, String action, String subject, String detailsJson, String idempotencyKey) {
        return jdbc.inTransaction(TABLE, "append", c -> append(c, actor, action, subject, detailsJson, idempotencyKey));
    }

    /**
     * Appends inside the caller's transaction, so a change and its audit row commit together or not
     * at all (the endpoint traffic path, {@link EndpointStore}). {@code c} must not be auto-commit:
     * the advisory lock that orders the chain is held until that transaction ends.
     */
    static AuditEntry append(Connection c, String actor, String action, String subject, String detailsJson,
                             String idempotencyKey) throws SQLException {
        Validate.notNull(TABLE, "append", "actor", actor);
        Validate.notNull(TABLE, "append", "action", action);
        Validate.notNull(TABLE, "append", "subject", subject);
        Jdbc.queryOne(c, "SELECT pg_advisory_xact_lock(?)", rs -> true, APPEND_LOCK);
        if (idempotencyKey != null) {
            Optional<AuditEntry> earlier = Jdbc.queryOne(c, "SELECT " + COLUMNS
                    + " FROM audit_log WHERE idempotency_key = ?", AuditLogStore::map, idempotencyKey);
            if (earlier.isPresent()) {
                return earlier.get();
            }
        }
        // Rows from before V15 carry no hash; the first chained row links to the genesis value.
        String prevHash = Jdbc.queryOne(c, "SELECT hash FROM audit_log WHERE hash IS NOT NULL"
                + " ORDER BY id DESC LIMIT 1", rs -> rs.getString("hash")).orElse(null);
        // The row is hashed as it will read back: the id and time the database assigns, and
        // the details in jsonb's own text form (which orders keys and spacing its way).
        AuditEntry row = Jdbc.queryOne(c, "SELECT nextval('audit_log_id_seq') AS id, now() AS at,"
                + " ?::text AS actor, ?::text AS action, ?::text AS subject, ?::jsonb::text AS details,"
                + " ?::text AS idempotency_key", AuditLogStore::map,
                actor, action, subject, detailsJson, idempotencyKey).orElseThrow();
        String prev = prevHash == null ? AuditChain.GENESIS : prevHash;
        Jdbc.update(c, "INSERT INTO audit_log (id, at, actor, action, subject, details, idempotency_key,"
                + " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?)",
                row.id(), row.at(), actor, action, subject, row.detailsJson(), idempotencyKey,
                prev, AuditChain.hash(prev, row));
        return row;
    }

    /**
     * Walks the whole chain in id order and reports the first row whose hash does not match its
     * content, or whose prev_hash does not match the row before it (a row edited, inserted or
     * deleted behind the store's back).
     */
    public AuditVerification verify() {
        return verify(null);
    }

    /**
     * As {@link #verify()}, and also requires the chain to still hold the row whose hash is
     * {@code recordedHead}: a head an earlier check returned and a monitor kept elsewhere. Rows cut
     * off the end, or a log rewritten whole with fresh hashes, leave a valid chain behind; only a
     * head kept outside the database shows that it is not the chain it was.
     *
     * @param recordedHead a {@link AuditVerification#lastHash()} from an earlier check, or null
     */
    public AuditVerification verify(String recordedHead) {
        if (recordedHead != null && !recordedHead.matches("[0-9a-f]{64}")) {
            throw DataAccessException.badInput(TABLE, "verify", "the recorded head '" + recordedHead
                    + "' is not a sha256 in lowercase hex (64 characters 0-9a-f), as lastHash is");
        }
        return jdbc.inTransaction(TABLE, "verify", c -> {
            // One snapshot for the whole walk, so appends made meanwhile cannot look like gaps.
            Jdbc.update(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            long rows = 0;
            long unchained = 0;
            String prevHash = null;
            boolean headFound = recordedHead == null;
            long afterId = Long.MIN_VALUE;
            while (true) {
                List<ChainedRow> page = Jdbc.query(c, "SELECT " + COLUMNS + ", prev_hash, hash FROM audit_log"
                        + " WHERE id > ? ORDER BY id LIMIT ?", AuditLogStore::mapChained, afterId, VERIFY_PAGE);
                for (ChainedRow r : page) {
                    rows++;
                    long id = r.entry().id();
                    if (r.hash() == null) {
                        if (prevHash != null) {
                            return bad(rows, unchained, id, "row " + id + " has no hash but follows chained rows:"
                                    + " it was inserted behind the audit log's back", prevHash);
                        }
                        unchained++;
                        continue;
                    }
                    String expectedPrev = prevHash == null ? AuditChain.GENESIS : prevHash;
                    if (!expectedPrev.equals(r.prevHash())) {
                        return bad(rows, unchained, id, prevHash == null
                                ? "row " + id + " is the first chained row but its prev_hash is not the genesis value:"
                                        + " rows before it were deleted"
                                : "row " + id + "'s prev_hash does not match the hash of the row before it:"
                                        + " a row between them was deleted or inserted, or the one before was rewritten",
                                prevHash);
                    }
                    if (!AuditChain.hash(r.prevHash(), r.entry()).equals(r.hash())) {
                        return bad(rows, unchained, id, "row " + id + "'s content does not match its hash:"
                                + " the row was changed after it was written", prevHash);
                    }
                    prevHash = r.hash();
                    headFound |= prevHash.equals(recordedHead);
                }
                if (page.size() < VERIFY_PAGE) {
                    if (!headFound) {
                        return new AuditVerification(false, rows, unchained, null, "no row has the recorded head hash "
                                + recordedHead + ": rows were cut off the end of the log, or the log was rewritten"
                                + " whole", prevHash);
                    }
                    return new AuditVerification(true, rows, unchained, null, null, prevHash);
                }
                afterId = page.get(page.size() - 1).entry().id();
            }
        });
    }

    private static AuditVerification bad(long rows, long unchained, long id, String reason, String lastGoodHash) {
        return new AuditVerification(false, rows, unchained, id, reason, lastGoodHash);
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

    private static ChainedRow mapChained(ResultSet rs) throws SQLException {
        return new ChainedRow(map(rs), rs.getString("prev_hash"), rs.getString("hash"));
    }

    private static AuditEntry map(ResultSet rs) throws SQLException {
        return new AuditEntry(rs.getLong("id"), Jdbc.instant(rs, "at"), rs.getString("actor"), rs.getString("action"),
                rs.getString("subject"), rs.getString("details"), rs.getString("idempotency_key"));
    }
}
