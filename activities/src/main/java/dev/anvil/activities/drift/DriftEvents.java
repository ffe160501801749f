package dev.anvil.activities.drift;

import dev.anvil.activities.pipeline.EventTriggers;
import dev.anvil.db.DriftReport;
import dev.anvil.db.DriftReportStore;
import dev.anvil.workflows.pipeline.spec.EventTrigger;
import java.util.List;
import java.util.function.Consumer;

/**
 * The one place a drift check's outcome is recorded: the report row and its audit entry
 * ({@code drift.detected} / {@code drift.checked}), then, for a new detection, the pipelines listening for
 * {@code {drift: <endpoint>}} and any other listener (registry webhooks hook in with {@link #onDetected}).
 * Idempotent per run and task: a retried check records and fires nothing new.
 */
public class DriftEvents {
    private final DriftReportStore reports;
    private final EventTriggers triggers;
    private final List<Consumer<DriftReport>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** @param triggers the pipelines to start on a detection, or null where none may be started */
    public DriftEvents(DriftReportStore reports, EventTriggers triggers) {
        this.reports = reports;
        this.triggers = triggers;
    }

    /** Adds a listener told of every new detection (drifted = true), after it is stored. */
    public DriftEvents onDetected(Consumer<DriftReport> listener) {
        listeners.add(listener);
        return this;
    }

    /** Records one check; returns the stored report (the first one, for a retried task). */
    public DriftReport record(String endpoint, int version, String referenceDataset, int referenceVersion,
                              boolean drifted, List<String> movedFeatures, String reportJson, String runId,
                              String taskId, String actor) {
        DriftReportStore.Recorded recorded = reports.record(endpoint, version, referenceDataset, referenceVersion,
                drifted, movedFeatures, reportJson, runId, taskId, actor);
        DriftReport report = recorded.report();
        if (report.drifted()) {
            // fired again on a retry too: a claim is idempotent, and the retry may be the first to get this far
            if (triggers != null) {
                triggers.fire(EventTrigger.DRIFT, endpoint, "drift:" + endpoint + ":" + report.id(),
                        "{\"report\": " + report.id() + ", \"version\": " + version + "}", actor);
            }
            if (recorded.isNew()) {
                listeners.forEach(l -> l.accept(report));
            }
        }
        return report;
    }
}
