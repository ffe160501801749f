package dev.anvil.db;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Drift checks' reports. {@link #record} writes the report and its audit row in one transaction,
 * idempotently per run and task, so a retried check never records a detection twice.
 */
public final class DriftReportStore {
    private static final String TABLE = "drift_reports";
    private static final String SELECT = "SELECT id, endpoint, version, reference_dataset, reference_version, drifted,"
            + " moved_features, report::text AS report, run_id, task_id, created_at FROM drift_reports";
    /** Audit actions: a check that found drift, and one that did not. */
    public static final String DETECTED = "drift.detected";
    public static final String CHECKED = "drift.checked";

    private final Jdbc jdbc;

    public DriftReportStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Records a check and audits it ({@value #DETECTED} or {@value #CHECKED}, subject {@code endpoint:<name>}).
     * The same run and task recorded again returns the first row unchanged.
     *
     * @return the report and whether this call wrote it (false: it was recorded before)
     */
    public Recorded record(String endpoint, int version, String referenceDataset, int referenceVersion,
                           boolean drifted, List<String> movedFeatures, String reportJson, String runId,
                           String taskId, String actor) {
        Validate.notNull(TABLE, "record", "endpoint", endpoint);
        Validate.notNull(TABLE, "record", "referenceDataset", referenceDataset);
        Validate.notNull(TABLE, "record", "reportJson", reportJson);
        Validate.notNull(TABLE, "record", "runId", runId);
        Validate.notNull(TABLE, "record", "taskId", taskId);
        Validate.notNull(TABLE, "record", "actor", actor);
        return jdbc.inTransaction(TABLE, "record", c -> {
            Array moved = c.createArrayOf("text", movedFeatures.toArray());
            int inserted = Jdbc.update(c, "INSERT INTO drift_reports (endpoint, version, reference_dataset,"
                    + " reference_version, drifted, moved_features, report, run_id, task_id)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?) ON CONFLICT ON CONSTRAINT drift_reports_task_key"
                    + " DO NOTHING", endpoint, version, referenceDataset, referenceVersion, drifted, moved,
                    reportJson, runId, taskId);
            DriftReport row = Jdbc.queryOne(c, SELECT + " WHERE run_id = ? AND task_id = ?", DriftReportStore::map,
                    runId, taskId).orElseThrow();
            if (inserted == 1) {
                AuditLogStore.append(c, actor, drifted ? DETECTED : CHECKED, "endpoint:" + endpoint,
                        "{\"report\": " + row.id() + ", \"version\": " + version + ", \"reference\": \""
                                + referenceDataset.replace("\"", "") + "@" + referenceVersion + "\", \"moved\": "
                                + movedFeatures.size() + ", \"run\": \"" + runId.replace("\"", "") + "\"}",
                        "drift:" + runId + ":" + taskId);
            }
            return new Recorded(row, inserted == 1);
        });
    }

    public record Recorded(DriftReport report, boolean isNew) {
    }

    public Optional<DriftReport> find(long id) {
        return jdbc.queryOne(TABLE, "find", SELECT + " WHERE id = ?", DriftReportStore::map, id);
    }

    /** The endpoint's newest reports first. */
    public List<DriftReport> list(String endpoint, int limit) {
        return list(endpoint, limit, 0);
    }

    /**
     * The endpoint's reports, newest first, a page at a time.
     *
     * @param offset reports to skip (page * limit)
     */
    public List<DriftReport> list(String endpoint, int limit, int offset) {
        if (limit < 1) {
            throw DataAccessException.badInput(TABLE, "list", "limit " + limit + " must be at least 1");
        }
        if (offset < 0) {
            throw DataAccessException.badInput(TABLE, "list", "offset " + offset + " must not be negative");
        }
        return jdbc.query(TABLE, "list", SELECT + " WHERE endpoint = ? ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
                DriftReportStore::map, endpoint, limit, offset);
    }

    private static DriftReport map(ResultSet rs) throws SQLException {
        Array array = rs.getArray("moved_features");
        List<String> moved;
        try {
            moved = Arrays.stream((Object[]) array.getArray()).map(String::valueOf).toList();
        } finally {
            array.free();
        }
        return new DriftReport(rs.getLong("id"), rs.getString("endpoint"), rs.getInt("version"),
                rs.getString("reference_dataset"), rs.getInt("reference_version"), rs.getBoolean("drifted"), moved,
                rs.getString("report"), rs.getString("run_id"), rs.getString("task_id"),
                Jdbc.instant(rs, "created_at"));
    }

}
