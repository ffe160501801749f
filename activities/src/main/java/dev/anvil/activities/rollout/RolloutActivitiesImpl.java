package dev.anvil.activities.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.Endpoint;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.LineageStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.Relation;
import dev.anvil.db.Rollout;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.RolloutWindow;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.db.ServingSession;
import dev.anvil.db.ServingSessionsStore;
import dev.anvil.db.TrafficChange;
import dev.anvil.workflows.rollout.Analysis;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.LatencyBuckets;
import dev.anvil.workflows.rollout.RolloutActivities;
import dev.anvil.workflows.rollout.RolloutStart;
import dev.anvil.workflows.rollout.VersionCounts;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The rollout's side effects over the endpoints, the registry, the rollouts table and the audit log, all in
 * PostgreSQL. The serving processes apply endpoint changes (they are notified of each) and report what
 * they loaded and served; this process loads no model and serves no traffic, so it may run on a worker
 * pod. Each step is idempotent (keyed by the rollout id), so a retried activity changes nothing twice.
 */
public final class RolloutActivitiesImpl implements RolloutActivities {
    /** Who the audit log names for the steps a rollout takes on its own. */
    private static final String SYSTEM = "anvil";
    /** The newest audit records of an endpoint searched for a rollout's break-glass record. */
    private static final int BREAK_GLASS_LOOKBACK = 1000;

    private final EndpointStore endpoints;
    private final ServingSessionsStore sessions;
    private final ServingCountsStore counts;
    private final ModelRegistryStore registry;
    private final RolloutStore rollouts;
    private final AuditLogStore audit;
    private final LineageStore lineage;
    private final ObjectMapper json;
    private final Duration loadWait;
    private final Duration reportsFresh;
    private final RolloutAdmission admission;

    /**
     * @param loadWait     how long {@link #begin} waits for a serving process to report the candidate loaded
     * @param reportsFresh how recent a serving process's report must be to count (a few of its refresh intervals)
     * @param admission    what every rollout passes before {@link #begin} touches the endpoint
     */
    public RolloutActivitiesImpl(EndpointStore endpoints, ServingSessionsStore sessions, ServingCountsStore counts,
                                 ModelRegistryStore registry, RolloutStore rollouts, AuditLogStore audit,
                                 LineageStore lineage, ObjectMapper json, Duration loadWait, Duration reportsFresh,
                                 RolloutAdmission admission) {
        this.endpoints = endpoints;
        this.sessions = sessions;
        this.counts = counts;
        this.registry = registry;
        this.rollouts = rollouts;
        this.audit = audit;
        this.lineage = lineage;
        this.json = json;
        this.loadWait = loadWait;
        this.reportsFresh = reportsFresh;
        this.admission = admission;
    }

    @Override
    public RolloutStart begin(CanaryRequest r) {
        return badInputIsFinal(() -> {
            admit(r);
            Endpoint endpoint = find(r.endpoint());
            int candidate = registry.registerVersion(endpoint.model(), r.candidateArtifact(), r.taskRunId(), null).version();
            int stable = endpoint.stableVersion();
            if (candidate == stable && !endpoint.hasCanary()) {
                throw new BadRollout("the candidate is version " + candidate + " of '" + endpoint.model()
                        + "', which endpoint '" + r.endpoint() + "' already serves as stable");
            }
            Rollout row = rollouts.create(r.rolloutId(), r.endpoint(), endpoint.model(), stable, candidate);
            if (Rollout.TERMINAL.contains(row.state())) {
                // a finished rollout is never resumed: its candidate would return at its old weight
                throw new BadRollout("rollout '" + r.rolloutId() + "' already ended " + row.state()
                        + (row.reason() == null ? "" : " (" + row.reason() + ")") + "; it is not started again."
                        + " Start a new rollout (a retried run does) to roll the candidate out from its first step");
            }
            // the canary becomes this rollout's at weight 0, also when a restarted rollout set it before:
            // it starts again from its first step; a canary another rollout manages is refused, naming it
            endpoints.setCanary(r.endpoint(), candidate, 0, TrafficChange.forRollout(r.rolloutId(),
                    r.actor() == null ? SYSTEM : r.actor(), "rollout started"));
            awaitServed(endpoint.model(), candidate, r.candidateArtifact());
            audit.append(r.actor() == null ? "anvil" : r.actor(), "rollout.started", "endpoint:" + r.endpoint(),
                    json(Map.of("rollout", r.rolloutId(), "model", endpoint.model(), "stable", stable,
                            "candidate", candidate, "steps", r.steps())), r.rolloutId() + ":started");
            return new RolloutStart(endpoint.model(), stable, candidate);
        });
    }

    /**
     * Whoever started this workflow, the candidate is admitted here from Anvil's own records. A refusal that
     * break-glass waives (no evidence) is waived only when an admin broke glass for this very rollout: the audit
     * log, written by the API before it started the rollout, holds the record, so nothing in the request can
     * claim it.
     */
    private void admit(CanaryRequest r) {
        try {
            admission.admit(r, false);
        } catch (RolloutRefused refused) {
            if (refused.status() == 409 || !brokeGlass(r)) {
                throw refused;
            }
            admission.admit(r, true);
        }
    }

    private boolean brokeGlass(CanaryRequest r) {
        return audit.listBySubject("endpoint:" + r.endpoint(), BREAK_GLASS_LOOKBACK).stream()
                .filter(e -> "rollout.break_glass".equals(e.action()))
                .anyMatch(e -> r.rolloutId().equals(detail(e.detailsJson(), "rollout")));
    }

    private String detail(String detailsJson, String key) {
        try {
            return detailsJson == null ? null : json.readTree(detailsJson).path(key).asText(null);
        } catch (JsonProcessingException e) {
            return null;
        }
    }

    /**
     * Waits until a serving process reports the candidate's session loaded. A version that failed to load
     * everywhere, or no report within {@code loadWait}, fails this attempt (Temporal retries it: the cause
     * may be passing, such as the artifact store being down or no serving process running yet).
     */
    private void awaitServed(String model, int version, String sha256) {
        long deadline = System.nanoTime() + loadWait.toNanos();
        List<ServingSession> reports = List.of();
        while (System.nanoTime() < deadline) {
            reports = sessions.reports(sha256, reportsFresh);
            if (reports.stream().anyMatch(ServingSession::loaded)) {
                return;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for version " + version + " to load", e);
            }
        }
        if (reports.isEmpty()) {
            throw new IllegalStateException("no serving process reported version " + version + " of model '" + model
                    + "' (artifact " + sha256 + ") loaded within " + loadWait.toSeconds() + " s: is an Anvil API"
                    + " process (it hosts the gateway) running against this database?");
        }
        ServingSession failed = reports.get(0);
        throw new IllegalStateException("version " + version + " of model '" + model + "' could not be loaded for"
                + " serving (process " + failed.processId() + "): " + failed.error());
    }

    @Override
    public void setWeight(String rolloutId, String endpoint, int weight, String state, Analysis analysis) {
        badInputIsFinal(() -> {
            find(endpoint);
            // the row first: a finished rollout refuses the step before any traffic moves
            recordWindow(rollouts.update(rolloutId, state, weight, analysis == null ? null : json(analysis)), analysis);
            endpoints.setWeight(endpoint, weight, TrafficChange.forRollout(rolloutId, SYSTEM,
                    state + " at step weight " + weight));
            return null;
        });
    }

    @Override
    public EndpointCounts readCounts(String endpoint) {
        return new EndpointCounts(endpoint, counts.sum(endpoint, LatencyBuckets.count()).stream()
                .map(c -> new VersionCounts(c.version(), c.requests(), c.errors(), c.latencyBuckets())).toList());
    }

    @Override
    public void rollBack(String rolloutId, String endpoint, String state, Analysis analysis, String actor, String reason) {
        badInputIsFinal(() -> {
            find(endpoint);
            endpoints.removeCanary(endpoint, TrafficChange.forRollout(rolloutId, actor, reason));
            recordWindow(rollouts.update(rolloutId, state, 0, analysis == null ? null : json(analysis), reason), analysis);
            audit.append(actor, "rollout." + state, "endpoint:" + endpoint, json(details(rolloutId, reason, analysis)),
                    rolloutId + ":" + state);
            return null;
        });
    }

    @Override
    public void promote(CanaryRequest r, RolloutStart start, Analysis analysis, String actor, String reason) {
        badInputIsFinal(() -> {
            find(r.endpoint());
            endpoints.promoteCanary(r.endpoint(), start.candidateVersion(),
                    TrafficChange.forRollout(r.rolloutId(), actor, reason));
            registry.setAlias(start.model(), "production", start.candidateVersion());
            recordWindow(rollouts.update(r.rolloutId(), "promoted", 100, analysis == null ? null : json(analysis), reason),
                    analysis);
            if (r.taskRunId() != null) {
                lineage.addEdge(r.taskRunId(), r.candidateArtifact(), Relation.USED, "promoted");
            }
            Map<String, Object> details = details(r.rolloutId(), reason, analysis);
            details.put("model", start.model());
            details.put("version", start.candidateVersion());
            details.put("previous", start.stableVersion());
            audit.append(actor, "rollout.promoted", "endpoint:" + r.endpoint(), json(details), r.rolloutId() + ":promoted");
            audit.append(actor, "model.alias.moved", "model:" + start.model(), json(Map.of("alias", "production",
                    "version", start.candidateVersion(), "rollout", r.rolloutId())), r.rolloutId() + ":alias");
            return null;
        });
    }

    /**
     * Keeps the analysed window, the canary's and the stable version's side, beside the rollout's latest analysis.
     * A window already kept is left as it was (the workflow hands the latest window on with every step it records).
     * An analysis without a number was made before windows were numbered: it stays the rollout's latest only.
     */
    private void recordWindow(Rollout row, Analysis a) {
        if (a == null || a.window() < 1) {
            return;
        }
        Instant at = Instant.ofEpochMilli(a.analysedAtMillis());
        rollouts.recordWindow(List.of(
                RolloutWindow.measured(row.id(), a.window(), RolloutWindow.CANARY, row.candidateVersion(), a.weight(),
                        a.canaryRequests(), a.canaryErrors(), a.canaryP95Ms(), a.verdict(), a.reason(), at),
                RolloutWindow.measured(row.id(), a.window(), RolloutWindow.STABLE, row.stableVersion(), a.weight(),
                        a.stableRequests(), a.stableErrors(), a.stableP95Ms(), a.verdict(), a.reason(), at)));
    }

    private Endpoint find(String name) {
        return endpoints.find(name).orElseThrow(() -> new BadRollout("no endpoint named '" + name
                + "'; create it with PUT /api/endpoints/" + name));
    }

    /** A rollout that cannot go on whatever is retried: no endpoint, the candidate already stable, it ended. */
    private static final class BadRollout extends RuntimeException {
        BadRollout(String message) {
            super(message);
        }
    }

    private static Map<String, Object> details(String rolloutId, String reason, Analysis analysis) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("rollout", rolloutId);
        details.put("reason", reason);
        if (analysis != null) {
            details.put("analysis", analysis);
        }
        return details;
    }

    private String json(Object value) {
        try {
            return json.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value + " as JSON", e);
        }
    }

    /** Bad input (no endpoint, a rollout already running) ends the rollout; anything else retries. */
    private static <T> T badInputIsFinal(java.util.function.Supplier<T> work) {
        try {
            return work.get();
        } catch (BadRollout | RolloutRefused e) {
            throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), BAD_ROLLOUT);
        } catch (DataAccessException e) {
            if (e.isBadInput()) {
                throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), BAD_ROLLOUT);
            }
            throw e;
        }
    }
}
