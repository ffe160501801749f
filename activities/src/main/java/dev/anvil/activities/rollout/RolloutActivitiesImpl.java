package dev.anvil.activities.rollout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.AuditLogStore;
import dev.anvil.db.DataAccessException;
import dev.anvil.db.Endpoint;
import dev.anvil.db.LineageStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.Relation;
import dev.anvil.db.RolloutStore;
import dev.anvil.serving.EndpointManager;
import dev.anvil.serving.Gateway;
import dev.anvil.serving.GatewayException;
import dev.anvil.serving.SharedServingCounts;
import dev.anvil.workflows.rollout.Analysis;
import dev.anvil.workflows.rollout.CanaryRequest;
import dev.anvil.workflows.rollout.EndpointCounts;
import dev.anvil.workflows.rollout.RolloutActivities;
import dev.anvil.workflows.rollout.RolloutStart;
import io.temporal.failure.ApplicationFailure;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The rollout's side effects over the gateway's endpoints, the registry, the rollouts table and the
 * audit log. Each is idempotent (keyed by the rollout id), so a retried activity changes nothing twice.
 */
public final class RolloutActivitiesImpl implements RolloutActivities {
    private final EndpointManager endpoints;
    private final Gateway gateway;
    private final SharedServingCounts counts;
    private final ModelRegistryStore registry;
    private final RolloutStore rollouts;
    private final AuditLogStore audit;
    private final LineageStore lineage;
    private final ObjectMapper json;
    private final Duration loadWait;

    /** @param counts the gateway's counters of every serving process (the traffic may be served elsewhere) */
    public RolloutActivitiesImpl(EndpointManager endpoints, Gateway gateway, SharedServingCounts counts,
                                 ModelRegistryStore registry, RolloutStore rollouts, AuditLogStore audit,
                                 LineageStore lineage, ObjectMapper json, Duration loadWait) {
        this.endpoints = endpoints;
        this.gateway = gateway;
        this.counts = counts;
        this.registry = registry;
        this.rollouts = rollouts;
        this.audit = audit;
        this.lineage = lineage;
        this.json = json;
        this.loadWait = loadWait;
    }

    @Override
    public RolloutStart begin(CanaryRequest r) {
        return badInputIsFinal(() -> {
            Endpoint endpoint = endpoints.find(r.endpoint());
            int candidate = registry.registerVersion(endpoint.model(), r.candidateArtifact(), r.taskRunId(), null).version();
            int stable = endpoint.stableVersion();
            if (candidate == stable && !endpoint.hasCanary()) {
                throw new GatewayException(422, "model", "the candidate is version " + candidate + " of '"
                        + endpoint.model() + "', which endpoint '" + r.endpoint() + "' already serves as stable");
            }
            if (endpoint.hasCanary() && endpoint.canaryVersion() == candidate) {
                stable = endpoint.stableVersion(); // a retried begin: the canary is already in place
            }
            rollouts.create(r.rolloutId(), r.endpoint(), endpoint.model(), stable, candidate);
            if (!Integer.valueOf(candidate).equals(endpoint.canaryVersion())) {
                endpoints.setCanary(r.endpoint(), new EndpointManager.VersionChoice(null, candidate, null, null), 0);
            }
            gateway.awaitLoaded(r.endpoint(), loadWait);
            audit.append(r.actor() == null ? "anvil" : r.actor(), "rollout.started", "endpoint:" + r.endpoint(),
                    json(Map.of("rollout", r.rolloutId(), "model", endpoint.model(), "stable", stable,
                            "candidate", candidate, "steps", r.steps())), r.rolloutId() + ":started");
            return new RolloutStart(endpoint.model(), stable, candidate);
        });
    }

    @Override
    public void setWeight(String rolloutId, String endpoint, int weight, String state, Analysis analysis) {
        badInputIsFinal(() -> {
            endpoints.setWeight(endpoint, weight);
            rollouts.update(rolloutId, state, weight, analysis == null ? null : json(analysis));
            return null;
        });
    }

    @Override
    public EndpointCounts readCounts(String endpoint) {
        return counts.counts(endpoint);
    }

    @Override
    public void rollBack(String rolloutId, String endpoint, String state, Analysis analysis, String actor, String reason) {
        badInputIsFinal(() -> {
            endpoints.removeCanary(endpoint);
            rollouts.update(rolloutId, state, 0, analysis == null ? null : json(analysis));
            audit.append(actor, "rollout." + state, "endpoint:" + endpoint, json(details(rolloutId, reason, analysis)),
                    rolloutId + ":" + state);
            return null;
        });
    }

    @Override
    public void promote(CanaryRequest r, RolloutStart start, Analysis analysis, String actor, String reason) {
        badInputIsFinal(() -> {
            endpoints.promote(r.endpoint(), start.candidateVersion());
            registry.setAlias(start.model(), "production", start.candidateVersion());
            rollouts.update(r.rolloutId(), "promoted", 100, analysis == null ? null : json(analysis));
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
        } catch (GatewayException e) {
            if (e.status() < 500) {
                throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), BAD_ROLLOUT);
            }
            throw e;
        } catch (DataAccessException e) {
            if (e.isBadInput()) {
                throw ApplicationFailure.newNonRetryableFailure(e.getMessage(), BAD_ROLLOUT);
            }
            throw e;
        }
    }
}
