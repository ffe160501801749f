package dev.anvil.db;

import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The gateway's traffic samples shared between processes, as {@link ServingCountsStore} shares its counters:
 * each serving process replaces its own rows; a drift check reads every process's rows of an endpoint.
 */
public final class DriftWindowStore {
    private static final String TABLE = "serving_drift_windows";

    private final Jdbc jdbc;

    public DriftWindowStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /** Writes this process's windows (one transaction; other processes' rows are untouched). */
    public void publish(String processId, List<DriftWindow> windows) {
        if (processId == null || processId.isBlank()) {
            throw DataAccessException.badInput(TABLE, "publish", "processId is blank: name the serving process");
        }
        for (DriftWindow w : windows) {
            if (!processId.equals(w.processId())) {
                throw DataAccessException.badInput(TABLE, "publish", "a window of process '" + w.processId()
                        + "' was handed to the publisher of process '" + processId + "'");
            }
        }
        if (windows.isEmpty()) {
            return;
        }
        jdbc.inTransaction(TABLE, "publish", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO serving_drift_windows (endpoint, version,"
                    + " process_id, seen, input_name, features, sample, histograms, class_counts)"
                    + " VALUES (?, ?, ?, ?, ?, ?::json, ?::json, ?::json, ?)"
                    + " ON CONFLICT (endpoint, version, process_id) DO UPDATE SET seen = EXCLUDED.seen,"
                    + " input_name = EXCLUDED.input_name, features = EXCLUDED.features, sample = EXCLUDED.sample,"
                    + " histograms = EXCLUDED.histograms, class_counts = EXCLUDED.class_counts, updated_at = now()")) {
                for (DriftWindow w : windows) {
                    ps.setString(1, w.endpoint());
                    ps.setInt(2, w.version());
                    ps.setString(3, processId);
                    ps.setLong(4, w.seen());
                    ps.setString(5, w.inputName());
                    ps.setString(6, w.featuresJson());
                    ps.setString(7, w.sampleJson());
                    ps.setString(8, w.histogramsJson());
                    ps.setArray(9, c.createArrayOf("bigint", w.classCounts().toArray()));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** Every process's window of the endpoint's version, by process. */
    public List<DriftWindow> list(String endpoint, int version) {
        return jdbc.query(TABLE, "list", "SELECT endpoint, version, process_id, seen, input_name, features::text AS"
                + " features, sample::text AS sample, histograms::text AS histograms, class_counts, updated_at"
                + " FROM serving_drift_windows WHERE endpoint = ? AND version = ? ORDER BY process_id",
                DriftWindowStore::map, endpoint, version);
    }

    private static DriftWindow map(ResultSet rs) throws SQLException {
        Array array = rs.getArray("class_counts");
        List<Long> counts = new ArrayList<>();
        try {
            for (Object o : (Object[]) array.getArray()) {
                counts.add(((Number) o).longValue());
            }
        } finally {
            array.free();
        }
        return new DriftWindow(rs.getString("endpoint"), rs.getInt("version"), rs.getString("process_id"),
                rs.getLong("seen"), rs.getString("input_name"), rs.getString("features"), rs.getString("sample"),
                rs.getString("histograms"), counts, Jdbc.instant(rs, "updated_at"));
    }
}
