package dev.anvil.db;

import java.time.Instant;

/**
 * A row of pipeline_trigger_events: an event (a drift detection, a dataset version) that starts a pipeline's
 * run. runId is derived from the pipeline and the event key; startedAt is null until the run was started.
 */
public record TriggerEvent(String pipeline, String eventKey, String kind, String subject, String detailsJson,
                           String runId, Instant createdAt, Instant startedAt, String error) {
}
