package dev.anvil.api.serving;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.rollout.EvidenceAdmission;
import dev.anvil.activities.rollout.RolloutRefused;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.DriftWindowStore;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.ServingCountsStore;
import dev.anvil.db.ServingSessionsStore;
import dev.anvil.serving.DriftSampler;
import dev.anvil.serving.DriftWindowPublisher;
import dev.anvil.serving.EndpointManager;
import dev.anvil.serving.Gateway;
import dev.anvil.serving.GatewayException;
import dev.anvil.serving.InflightBytes;
import dev.anvil.serving.ModelSessions;
import dev.anvil.serving.ServingCountsPublisher;
import dev.anvil.serving.ServingMetrics;
import dev.anvil.serving.SessionReports;
import dev.anvil.storage.ObjectStore;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.UUID;

/** The inference gateway's parts as CDI beans: stores, sessions, metrics, the gateway itself. */
@ApplicationScoped
public class ServingBeans {

    private static final long DRIFT_SEED = 0x5eed_d21f7L;

    /** This process's name in the serving tables: host name and a random suffix, new on every start. */
    private final String processId = System.getenv().getOrDefault("HOSTNAME", "anvil") + "-"
            + UUID.randomUUID().toString().substring(0, 8);

    @Produces
    @Singleton
    SessionReports sessionReports(ServingSessionsStore store) {
        return new SessionReports(store, processId);
    }

    @Produces
    @Singleton
    ModelSessions sessions(ObjectStore objects, AnvilConfig config, SessionReports reports) {
        return new ModelSessions(objects, OrtEnvironment.getEnvironment(), config.gateway().intraOpThreads(),
                config.gateway().maxConcurrentPerModel(), reports);
    }

    void close(@Disposes ModelSessions sessions) {
        sessions.close();
    }

    /** Publishes to Quarkus's registry, which Prometheus scrapes at /q/metrics. */
    @Produces
    @Singleton
    ServingMetrics metrics(MeterRegistry meters) {
        return new ServingMetrics(meters);
    }

    @Produces
    @Singleton
    Gateway gateway(EndpointStore endpoints, ModelRegistryStore registry, ModelSessions sessions, ServingMetrics metrics,
                    DriftSampler drift, AnvilConfig config) {
        return new Gateway(endpoints, registry, sessions, metrics, drift, OrtEnvironment.getEnvironment(),
                config.gateway().loadWait(), config.gateway().queueWait());
    }

    /** What the gateway samples for drift checks; the seed is fixed so a replayed stream samples alike. */
    @Produces
    @Singleton
    DriftSampler driftSampler(AnvilConfig config) {
        return new DriftSampler(config.gateway().driftSampleSize(), DRIFT_SEED);
    }

    /** This process's drift windows, published with the counters' interval for drift checks on any process. */
    @Produces
    @Singleton
    DriftWindowPublisher driftWindows(DriftSampler sampler, DriftWindowStore store, AnvilConfig config) {
        return new DriftWindowPublisher(sampler, store, processId, config.gateway().countsPublishInterval());
    }

    void close(@Disposes DriftWindowPublisher windows) {
        windows.close();
    }

    /** The process's budget for inference bodies in memory; a budget smaller than one request would refuse it forever. */
    @Produces
    @Singleton
    InflightBytes inflightBytes(AnvilConfig config) {
        long budget = config.gateway().maxInflightBytes();
        long request = config.gateway().maxRequestBytes();
        if (budget < request) {
            throw new IllegalStateException("anvil.gateway.max-inflight-bytes (" + budget + ") is smaller than"
                    + " anvil.gateway.max-request-bytes (" + request + "), so the largest request could never be"
                    + " served; raise ANVIL_GATEWAY_MAX_INFLIGHT_BYTES or lower ANVIL_GATEWAY_MAX_REQUEST_BYTES");
        }
        return new InflightBytes(budget, java.time.Duration.ofSeconds(1));
    }

    /** This process's counters, published for rollouts on any process. */
    @Produces
    @Singleton
    ServingCountsPublisher servingCounts(ServingMetrics metrics, ServingCountsStore store, AnvilConfig config) {
        return new ServingCountsPublisher(metrics, store, processId, config.gateway().countsPublishInterval());
    }

    void close(@Disposes ServingCountsPublisher counts) {
        counts.close();
    }

    @Produces
    @Singleton
    EndpointManager endpointManager(EndpointStore endpoints, ModelRegistryStore registry, Gateway gateway,
                                    EvidenceAdmission evidence) {
        // a hand change is judged as a rollout is: the same chain walk and signature check
        return new EndpointManager(endpoints, registry, gateway, (endpoint, candidate, serving, breakGlass) -> {
            try {
                return !evidence.admitArtifact(endpoint, candidate, serving, breakGlass != null).holds();
            } catch (RolloutRefused e) {
                throw new GatewayException(e.status(), e.field(), e.getMessage());
            }
        });
    }
}
