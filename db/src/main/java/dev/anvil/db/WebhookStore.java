package dev.anvil.db;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.LongConsumer;
import javax.sql.DataSource;

/**
 * Webhook subscriptions, their deliveries and every attempt at one (webhooks, webhook_deliveries,
 * webhook_attempts, V29). Deliveries are made by {@link RegistryEvents#record}; this store hands them to the
 * dispatcher, and records what each HTTP attempt answered.
 */
public final class WebhookStore {
    private static final String TABLE = "webhooks";
    private static final String COLUMNS = "id, url, events, secret, description, created_by, created_at";
    private static final String DELIVERY_COLUMNS = "d.id, d.webhook_id, d.event_id, e.type, e.subject,"
            + " e.payload::text AS payload, e.created_at AS event_at, d.state, d.error, d.created_at, d.finished_at";

    /** A subscription; {@code secret} is the HMAC key, never shown after creation. */
    public record Webhook(String id, String url, List<String> events, String secret, String description,
                          String createdBy, Instant createdAt) {
    }

    /** One event on its way to one webhook. */
    public record Delivery(long id, String webhookId, long eventId, String eventType, String subject,
                           String payloadJson, Instant eventAt, String state, String error, Instant createdAt,
                           Instant finishedAt) {
    }

    /** One HTTP attempt: the status code answered (null when none came: refused, timed out) or the error. */
    public record Attempt(long deliveryId, int attempt, Integer statusCode, String error, Instant startedAt,
                          Instant finishedAt) {
    }

    private final Jdbc jdbc;

    public WebhookStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    public Webhook create(String id, String url, List<String> events, String secret, String description,
                          String createdBy) {
        Validate.notNull(TABLE, "create", "url", url);
        Validate.notNull(TABLE, "create", "secret", secret);
        for (String type : Validate.notNull(TABLE, "create", "events", events)) {
            Validate.oneOf(TABLE, "create", "event", type, RegistryEvents.TYPES);
        }
        return jdbc.withConnection(TABLE, "create", c -> {
            Array types = c.createArrayOf("text", events.toArray(new String[0]));
            return Jdbc.queryOne(c, "INSERT INTO webhooks (id, url, events, secret, description, created_by)"
                    + " VALUES (?, ?, ?, ?, ?, ?) RETURNING " + COLUMNS, WebhookStore::map,
                    id, url, types, secret, description, createdBy).orElseThrow();
        });
    }

    public Optional<Webhook> find(String id) {
        return jdbc.queryOne(TABLE, "find", "SELECT " + COLUMNS + " FROM webhooks WHERE id = ?", WebhookStore::map, id);
    }

    /** Every webhook, newest first. */
    public List<Webhook> list() {
        return jdbc.query(TABLE, "list", "SELECT " + COLUMNS + " FROM webhooks ORDER BY created_at DESC, id",
                WebhookStore::map);
    }

    /** Deletes a webhook with its deliveries and their log; false when there was none. */
    public boolean delete(String id) {
        return jdbc.withConnection(TABLE, "delete", c -> Jdbc.update(c, "DELETE FROM webhooks WHERE id = ?", id)) == 1;
    }

    public Optional<Delivery> findDelivery(long id) {
        return jdbc.queryOne("webhook_deliveries", "find", "SELECT " + DELIVERY_COLUMNS
                + " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.id = ?",
                WebhookStore::mapDelivery, id);
    }

    /** A webhook's deliveries, newest first. */
    public List<Delivery> deliveries(String webhookId, int limit) {
        return jdbc.query("webhook_deliveries", "list", "SELECT " + DELIVERY_COLUMNS
                + " FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id WHERE d.webhook_id = ?"
                + " ORDER BY d.id DESC LIMIT ?", WebhookStore::mapDelivery, webhookId, limit);
    }

    /** The attempts at a delivery, first first. */
    public List<Attempt> attempts(long deliveryId) {
        return jdbc.query("webhook_attempts", "list", "SELECT delivery_id, attempt, status_code, error, started_at,"
                + " finished_at FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt",
                WebhookStore::mapAttempt, deliveryId);
    }

    /**
     * Hands up to {@code limit} pending deliveries, oldest first, to {@code start} and marks each dispatched,
     * all in one transaction: a delivery {@code start} throws on stays pending (this and later ones are tried
     * again on the next call), and one claimed by another process at the same time is skipped. Returns how many
     * were dispatched. {@code start} must be idempotent per delivery id (a crash before the commit repeats it).
     */
    public int dispatchPending(int limit, LongConsumer start) {
        String table = "webhook_deliveries";
        return jdbc.inTransaction(table, "dispatch", c -> {
            List<Long> pending = Jdbc.query(c, "SELECT id FROM webhook_deliveries WHERE state = 'pending'"
                    + " ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED", rs -> rs.getLong(1), limit);
            int dispatched = 0;
            for (long id : pending) {
                try {
                    start.accept(id);
                } catch (RuntimeException e) {
                    break;
                }
                Jdbc.update(c, "UPDATE webhook_deliveries SET state = 'dispatched' WHERE id = ?", id);
                dispatched++;
            }
            return dispatched;
        });
    }

    /** Records one attempt (again, when a retried recording repeats it). */
    public void recordAttempt(long deliveryId, int attempt, Integer statusCode, String error, Instant startedAt,
                              Instant finishedAt) {
        jdbc.withConnection("webhook_attempts", "record", c -> Jdbc.update(c, "INSERT INTO webhook_attempts"
                + " (delivery_id, attempt, status_code, error, started_at, finished_at) VALUES (?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (delivery_id, attempt) DO UPDATE SET status_code = EXCLUDED.status_code,"
                + " error = EXCLUDED.error, started_at = EXCLUDED.started_at, finished_at = EXCLUDED.finished_at",
                deliveryId, attempt, statusCode, error, startedAt, finishedAt));
    }

    /** Ends a delivery: {@code delivered}, or {@code failed} with why (the last attempt's error). */
    public void finish(long deliveryId, String state, String error) {
        Validate.oneOf("webhook_deliveries", "finish", "state", state, List.of("delivered", "failed"));
        jdbc.withConnection("webhook_deliveries", "finish", c -> Jdbc.update(c, "UPDATE webhook_deliveries"
                + " SET state = ?, error = ?, finished_at = COALESCE(finished_at, now()) WHERE id = ?",
                state, error, deliveryId));
    }

    private static Webhook map(ResultSet rs) throws SQLException {
        String[] events = (String[]) rs.getArray("events").getArray();
        return new Webhook(rs.getString("id"), rs.getString("url"), Arrays.asList(events), rs.getString("secret"),
                rs.getString("description"), rs.getString("created_by"), Jdbc.instant(rs, "created_at"));
    }

    private static Delivery mapDelivery(ResultSet rs) throws SQLException {
        return new Delivery(rs.getLong("id"), rs.getString("webhook_id"), rs.getLong("event_id"), rs.getString("type"),
                rs.getString("subject"), rs.getString("payload"), Jdbc.instant(rs, "event_at"), rs.getString("state"),
                rs.getString("error"), Jdbc.instant(rs, "created_at"), Jdbc.instant(rs, "finished_at"));
    }

    private static Attempt mapAttempt(ResultSet rs) throws SQLException {
        return new Attempt(rs.getLong("delivery_id"), rs.getInt("attempt"), Jdbc.nullableInt(rs, "status_code"),
                rs.getString("error"), Jdbc.instant(rs, "started_at"), Jdbc.instant(rs, "finished_at"));
    }
}
