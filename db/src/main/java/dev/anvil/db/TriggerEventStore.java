package dev.anvil.db;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The durable, deduplicated record of events that start pipeline runs. {@link #claim} inserts the event once
 * per pipeline (and audits it as {@value #ACTION} in the same transaction); the run is started afterwards and
 * marked with {@link #markStarted}; {@link #pending} lists events whose run was never started.
 */
public final class TriggerEventStore {
    private static final String TABLE = "pipeline_trigger_events";
    private static final String SELECT = "SELECT pipeline, event_key, kind, subject, details::text AS details, run_id,"
            + " created_at, started_at, error FROM pipeline_trigger_events";
    public static final String ACTION = "pipeline.triggered";

    private final Jdbc jdbc;

    public TriggerEventStore(DataSource dataSource) {
        this.jdbc = new Jdbc(dataSource);
    }

    /**
     * Records that the event starts a run of the pipeline.
     *
     * @return the stored event and whether this call stored it (false: the event was seen before, start nothing new)
     */
    public Claimed claim(String pipeline, String eventKey, String kind, String subject, String detailsJson,
                         String runId, String actor) {
        Validate.notNull(TABLE, "claim", "pipeline", pipeline);
        Validate.notNull(TABLE, "claim", "eventKey", eventKey);
        Validate.notNull(TABLE, "claim", "runId", runId);
        Validate.notNull(TABLE, "claim", "actor", actor);
        return jdbc.inTransaction(TABLE, "claim", c -> {
            int inserted = Jdbc.update(c, "INSERT INTO pipeline_trigger_events (pipeline, event_key, kind, subject,"
                    + " details, run_id) VALUES (?, ?, ?, ?, COALESCE(?::jsonb, '{}'::jsonb), ?)"
                    + " ON CONFLICT (pipeline, event_key) DO NOTHING", pipeline, eventKey, kind, subject, detailsJson,
                    runId);
            TriggerEvent row = Jdbc.queryOne(c, SELECT + " WHERE pipeline = ? AND event_key = ?",
                    TriggerEventStore::map, pipeline, eventKey).orElseThrow();
            if (inserted == 1) {
                AuditLogStore.append(c, actor, ACTION, "pipeline:" + pipeline, "{\"run\": \"" + runId.replace("\"", "")
                        + "\", \"kind\": \"" + kind + "\", \"event\": \"" + eventKey.replace("\"", "") + "\"}",
                        "trigger:" + pipeline + ":" + eventKey);
            }
            return new Claimed(row, inserted == 1);
        });
    }

    public record Claimed(TriggerEvent event, boolean isNew) {
    }

    public void markStarted(String runId) {
        jdbc.withConnection(TABLE, "markStarted", c -> Jdbc.update(c, "UPDATE pipeline_trigger_events"
                + " SET started_at = COALESCE(started_at, now()), error = NULL WHERE run_id = ?", runId));
    }

    /** Records why the run could not start (it stays pending only if the failure may pass). */
    public void markFailed(String runId, String error, boolean retry) {
        jdbc.withConnection(TABLE, "markFailed", c -> Jdbc.update(c, "UPDATE pipeline_trigger_events"
                + " SET error = ?, started_at = CASE WHEN ? THEN started_at ELSE COALESCE(started_at, now()) END"
                + " WHERE run_id = ?", error, retry, runId));
    }

    /** Events whose run has not started yet, oldest first. */
    public List<TriggerEvent> pending(int limit) {
        return jdbc.query(TABLE, "pending", SELECT + " WHERE started_at IS NULL ORDER BY created_at LIMIT ?",
                TriggerEventStore::map, limit);
    }

    /** The event that started the run, if an event did. */
    public Optional<TriggerEvent> findByRun(String runId) {
        return jdbc.queryOne(TABLE, "findByRun", SELECT + " WHERE run_id = ?", TriggerEventStore::map, runId);
    }

    private static TriggerEvent map(ResultSet rs) throws SQLException {
        return new TriggerEvent(rs.getString("pipeline"), rs.getString("event_key"), rs.getString("kind"),
                rs.getString("subject"), rs.getString("details"), rs.getString("run_id"),
                Jdbc.instant(rs, "created_at"), Jdbc.instant(rs, "started_at"), rs.getString("error"));
    }
}
