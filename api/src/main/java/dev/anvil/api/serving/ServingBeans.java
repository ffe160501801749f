package dev.anvil.api.serving;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.rollout.EndpointManager;
import dev.anvil.activities.rollout.Gateway;
import dev.anvil.activities.rollout.ModelSessions;
import dev.anvil.activities.rollout.ServingMetrics;
import dev.anvil.activities.rollout.SharedServingCounts;
import dev.anvil.activities.storage.ObjectStore;
import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.EndpointStore;
import dev.anvil.db.ModelRegistryStore;
import dev.anvil.db.RolloutStore;
import dev.anvil.db.ServingCountsStore;
import io.agroal.api.AgroalDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.UUID;

/** The inference gateway's parts as CDI beans: stores, sessions, metrics, the gateway itself. */
@ApplicationScoped
public class ServingBeans {

    @Produces
    @Singleton
    EndpointStore endpoints(AgroalDataSource ds) {
        return new EndpointStore(ds);
    }

    @Produces
    @Singleton
    RolloutStore rollouts(AgroalDataSource ds) {
        return new RolloutStore(ds);
    }

    @Produces
    @Singleton
    ModelSessions sessions(ObjectStore objects, AnvilConfig config) {
        return new ModelSessions(objects, OrtEnvironment.getEnvironment(), config.gateway().intraOpThreads());
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
                    AnvilConfig config) {
        return new Gateway(endpoints, registry, sessions, metrics, OrtEnvironment.getEnvironment(),
                config.gateway().loadWait());
    }

    /** This process's counters published for rollouts on other processes, and everyone's summed for its own. */
    @Produces
    @Singleton
    SharedServingCounts servingCounts(ServingMetrics metrics, AgroalDataSource ds, AnvilConfig config) {
        String host = System.getenv().getOrDefault("HOSTNAME", "anvil");
        return new SharedServingCounts(metrics, new ServingCountsStore(ds),
                host + "-" + UUID.randomUUID().toString().substring(0, 8), config.gateway().countsPublishInterval());
    }

    void close(@Disposes SharedServingCounts counts) {
        counts.close();
    }

    @Produces
    @Singleton
    EndpointManager endpointManager(EndpointStore endpoints, ModelRegistryStore registry, Gateway gateway) {
        return new EndpointManager(endpoints, registry, gateway);
    }
}
