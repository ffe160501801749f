package dev.anvil.db;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The gateway's counters shared between processes: each serving process publishes its cumulative
 * counters under its own id, and a rollout (on any process) reads them all and sums.
 */
public final class ServingCountsStore {
    private static final String TABLE = "serving_counts";

    private final Jdbc jdbc;

    public ServingCountsStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /** Writes this process's current counters (one transaction; rows of other processes are untouched). */
    public void publish(String processId, List<ServingCount> counts) {
        if (processId == null || processId.isBlank()) {
            throw DataAccessException.badInput(TABLE, "publish", "processId is blank: name the serving process");
        }
        for (ServingCount c : counts) {
            if (!processId.equals(c.processId())) {
                throw DataAccessException.badInput(TABLE, "publish", "a count of process '" + c.processId()
                        + "' was handed to the publisher of process '" + processId + "'");
            }
            if (c.requests() < 0 || c.errors() < 0 || c.errors() > c.requests()) {
                throw DataAccessException.badInput(TABLE, "publish", "counters must satisfy 0 <= errors <= requests;"
                        + " endpoint '" + c.endpoint() + "' version " + c.version() + " has " + c.requests()
                        + " requests and " + c.errors() + " errors");
            }
        }
        if (counts.isEmpty()) {
            return;
        }
        jdbc.inTransaction(TABLE, "publish", c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO serving_counts"
                    + " (endpoint, version, process_id, requests, errors, latency_buckets) VALUES (?, ?, ?, ?, ?, ?)"
                    + " ON CONFLICT (endpoint, version, process_id) DO UPDATE SET requests = EXCLUDED.requests,"
                    + " errors = EXCLUDED.errors, latency_buckets = EXCLUDED.latency_buckets, updated_at = now()")) {
                for (ServingCount count : counts) {
                    ps.setString(1, count.endpoint());
                    ps.setInt(2, count.version());
                    ps.setString(3, processId);
                    ps.setLong(4, count.requests());
                    ps.setLong(5, count.errors());
                    ps.setArray(6, c.createArrayOf("bigint", count.latencyBuckets().toArray()));
                    ps.addBatch();
                }
                ps.executeBatch();
            }
            return null;
        });
    }

    /** Every process's counters for the endpoint, by version then process. */
    public List<ServingCount> list(String endpoint) {
        return jdbc.query(TABLE, "list", "SELECT endpoint, version, process_id, requests, errors, latency_buckets,"
                + " updated_at FROM serving_counts WHERE endpoint = ? ORDER BY version, process_id",
                ServingCountsStore::map, endpoint);
    }

    /**
     * Every process's counters for the endpoint summed per version (process id {@code null}), latency
     * buckets element by element. Rows with another number of buckets than {@code bucketCount} (written by
     * an Anvil version with other bucket bounds) are left out of the sums.
     */
    public List<ServingCount> sum(String endpoint, int bucketCount) {
        return jdbc.query(TABLE, "sum", "SELECT c.endpoint, c.version, NULL AS process_id,"
                + " sum(c.requests)::bigint AS requests, sum(c.errors)::bigint AS errors,"
                + " (SELECT array_agg(b.total ORDER BY b.i) FROM (SELECT u.i, sum(u.n)::bigint AS total"
                + "   FROM serving_counts r, unnest(r.latency_buckets) WITH ORDINALITY AS u(n, i)"
                + "   WHERE r.endpoint = c.endpoint AND r.version = c.version AND cardinality(r.latency_buckets) = ?"
                + "   GROUP BY u.i) b) AS latency_buckets, max(c.updated_at) AS updated_at"
                + " FROM serving_counts c WHERE c.endpoint = ? AND cardinality(c.latency_buckets) = ?"
                + " GROUP BY c.endpoint, c.version ORDER BY c.version",
                ServingCountsStore::map, bucketCount, endpoint, bucketCount);
    }

    private static ServingCount map(ResultSet rs) throws SQLException {
        Array array = rs.getArray("latency_buckets");
        List<Long> buckets = new ArrayList<>();
        try {
            for (Object o : (Object[]) array.getArray()) {
                buckets.add(((Number) o).longValue());
            }
        } finally {
            array.free();
        }
        return new ServingCount(rs.getString("endpoint"), rs.getInt("version"), rs.getString("process_id"),
                rs.getLong("requests"), rs.getLong("errors"), buckets, Jdbc.instant(rs, "updated_at"));
    }
}
