package dev.anvil.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;

/**
 * The registry's events, which webhooks subscribe to. The stores record each one inside the transaction of the
 * change it reports ({@link #record}), so an event exists exactly when its change committed; with it go one
 * pending delivery per subscribed webhook (the outbox a dispatcher drains into Temporal).
 * {@link #driftDetected} is the one event no store makes: whoever detects drift calls it.
 */
public final class RegistryEvents {
    public static final String MODEL_VERSION_CREATED = "model.version.created";
    public static final String MODEL_ALIAS_MOVED = "model.alias.moved";
    public static final String APPROVAL_REQUESTED = "approval.requested";
    public static final String APPROVAL_DECIDED = "approval.decided";
    public static final String ROLLOUT_PROMOTED = "rollout.promoted";
    public static final String ROLLOUT_ROLLED_BACK = "rollout.rolled_back";
    public static final String DRIFT_DETECTED = "drift.detected";

    /** Every event type a webhook may subscribe to. */
    public static final List<String> TYPES = List.of(MODEL_VERSION_CREATED, MODEL_ALIAS_MOVED, APPROVAL_REQUESTED,
            APPROVAL_DECIDED, ROLLOUT_PROMOTED, ROLLOUT_ROLLED_BACK, DRIFT_DETECTED);

    private final Jdbc jdbc;

    public RegistryEvents(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Publishes "drift detected" for what an endpoint serves. {@code detailsJson} is the detector's own evidence
     * (a JSON object, e.g. the feature, statistic and threshold), delivered as {@code data.details}; null for none.
     * Returns the event's id.
     */
    public long driftDetected(String endpoint, String model, Integer version, String detailsJson) {
        Validate.notNull("webhook_events", "publish", "endpoint", endpoint);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("endpoint", endpoint);
        data.put("model", model);
        data.put("version", version);
        data.put("details", detailsJson == null ? null : new EventJson.Raw(detailsJson));
        return jdbc.inTransaction("webhook_events", "publish",
                c -> record(c, DRIFT_DETECTED, "endpoint:" + endpoint, data));
    }

    /**
     * Records an event and a pending delivery for each webhook subscribed to its type, in the caller's
     * transaction. {@code data} values are strings, numbers, booleans, null or {@link EventJson.Raw} JSON.
     */
    static long record(Connection c, String type, String subject, Map<String, Object> data) throws SQLException {
        long id;
        try {
            id = Jdbc.queryOne(c, "INSERT INTO webhook_events (type, subject, payload) VALUES (?, ?, ?::jsonb)"
                    + " RETURNING id", rs -> rs.getLong(1), type, subject, EventJson.object(data)).orElseThrow();
        } catch (SQLException e) {
            if ("22P02".equals(e.getSQLState())) {
                throw DataAccessException.badInput("webhook_events", "publish", "the details of event " + type
                        + " are not valid JSON: " + e.getMessage(), e);
            }
            throw e;
        }
        Jdbc.update(c, "INSERT INTO webhook_deliveries (webhook_id, event_id)"
                + " SELECT id, ? FROM webhooks WHERE ? = ANY (events)", id, type);
        return id;
    }

    /** A map of the pairs given (key, value, key, value, ...), in order. */
    static Map<String, Object> data(Object... pairs) {
        Map<String, Object> data = new LinkedHashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            data.put((String) pairs[i], pairs[i + 1]);
        }
        return data;
    }
}
