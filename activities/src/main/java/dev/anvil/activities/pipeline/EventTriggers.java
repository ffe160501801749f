package dev.anvil.activities.pipeline;

import dev.anvil.db.PipelineStore;
import dev.anvil.db.PipelineVersion;
import dev.anvil.db.TriggerEvent;
import dev.anvil.db.TriggerEventStore;
import dev.anvil.workflows.pipeline.spec.EventTrigger;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecException;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the pipelines an event names in their {@code schedule.on} (Airflow's asset-aware scheduling): a drift
 * check that found drift on an endpoint, a new version of a dataset. Each (pipeline, event) is claimed once in
 * PostgreSQL ({@link TriggerEventStore}, audited) before its run starts, and the run id is derived from the
 * event key, so an event seen twice, or a start retried, makes one run. A claim whose start failed for a
 * passing reason (Temporal unreachable) stays pending and {@link #startPending} starts it later; the run's
 * trigger is read back with {@link TriggerEventStore#findByRun}.
 */
public class EventTriggers {
    private static final Logger LOG = LoggerFactory.getLogger(EventTriggers.class);

    private final PipelineStore pipelines;
    private final OperatorRegistry operators;
    private final TriggerEventStore events;
    private final RunLauncher launcher;

    public EventTriggers(PipelineStore pipelines, OperatorRegistry operators, TriggerEventStore events,
                         RunLauncher launcher) {
        this.pipelines = pipelines;
        this.operators = operators;
        this.events = events;
        this.launcher = launcher;
    }

    /**
     * Starts a run of every registered, unpaused pipeline whose newest spec lists the event.
     *
     * @param kind     {@link EventTrigger#DRIFT} or {@link EventTrigger#DATASET}
     * @param subject  the endpoint or dataset name
     * @param eventKey unique per event, e.g. {@code drift:fraud:report-17} or {@code dataset:digits@4}
     * @param actor    who caused the event, for the audit log
     * @return the ids of the runs this event started now (not those started by an earlier call)
     */
    public List<String> fire(String kind, String subject, String eventKey, String detailsJson, String actor) {
        List<String> started = new ArrayList<>();
        for (PipelineVersion v : pipelines.listLatest()) {
            if (v.paused() || !listens(v, kind, subject)) {
                continue;
            }
            String runId = runId(v.pipeline(), kind, eventKey);
            TriggerEventStore.Claimed claimed = events.claim(v.pipeline(), eventKey, kind, subject, detailsJson, runId,
                    actor);
            if (claimed.isNew() && start(claimed.event())) {
                started.add(runId);
            }
        }
        return started;
    }

    /** Starts the runs of events claimed before whose start did not happen (a crash, Temporal away). */
    public int startPending() {
        int started = 0;
        for (TriggerEvent e : events.pending(100)) {
            if (start(e)) {
                started++;
            }
        }
        return started;
    }

    /** {@code <pipeline>-on-<kind>-<16 hex of sha256(event key)>}: the same event always names the same run. */
    public static String runId(String pipeline, String kind, String eventKey) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(eventKey.getBytes(StandardCharsets.UTF_8));
            return pipeline + "-on-" + kind + "-" + HexFormat.of().formatHex(hash, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private boolean start(TriggerEvent e) {
        try {
            launcher.startScheduled(e.pipeline(), e.runId(), Instant.now().toString(), null);
            events.markStarted(e.runId());
            return true;
        } catch (NoSuchElementException | IllegalStateException | SpecException bad) {
            // the pipeline went, or cannot run unattended: retrying will not help, say why on the event
            events.markFailed(e.runId(), bad.getMessage(), false);
            LOG.warn("event {} cannot start pipeline '{}': {}", e.eventKey(), e.pipeline(), bad.getMessage());
        } catch (RuntimeException transientFault) {
            events.markFailed(e.runId(), transientFault.getMessage(), true);
            LOG.warn("event {} could not start pipeline '{}' yet (retried by the next sweep): {}", e.eventKey(),
                    e.pipeline(), transientFault.getMessage());
        }
        return false;
    }

    private boolean listens(PipelineVersion v, String kind, String subject) {
        try {
            PipelineSpec spec = SpecLoader.load(v.spec(), operators, Set.of());
            return spec.triggers().stream().anyMatch(t -> t.matches(kind, subject));
        } catch (SpecException | RuntimeException e) {
            return false; // a spec this version cannot read (registered under other operators) listens to nothing
        }
    }
}
