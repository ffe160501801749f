package dev.anvil.api.serving;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.db.EndpointChangeListener;
import dev.anvil.serving.Gateway;
import dev.anvil.serving.ServingCountsPublisher;
import io.agroal.api.AgroalDataSource;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import jakarta.inject.Provider;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Hosts the gateway in processes that serve the API: loads the endpoints once the schema is migrated
 * (after AnvilStartup), re-reads them whenever any process changes one (a PostgreSQL notification, see
 * {@link EndpointChangeListener}) and periodically in case a notification was missed, and publishes the
 * gateway's counters. Worker-only processes ({@code anvil.api.enabled=false}) serve nothing and load no
 * model: a rollout they run waits for the serving processes' reports.
 */
@ApplicationScoped
public class GatewayRefresh {
    private static final Logger LOG = Logger.getLogger(GatewayRefresh.class);

    @Inject Provider<Gateway> gateway;
    @Inject Provider<ServingCountsPublisher> counts;
    @Inject Provider<dev.anvil.serving.DriftWindowPublisher> driftWindows;
    @Inject AgroalDataSource dataSource;
    @Inject AnvilConfig config;

    private ScheduledExecutorService timer;
    private EndpointChangeListener listener;

    void start(@Observes @Priority(5000) StartupEvent event) {
        if (!config.api().enabled()) {
            LOG.info("worker-only process: no inference gateway here (API processes serve and load models)");
            return;
        }
        counts.get(); // starts publishing this process's counters
        driftWindows.get(); // and its drift windows
        refresh();
        listener = new EndpointChangeListener(dataSource, this::refresh, Duration.ofSeconds(2)).start();
        long every = Math.max(100, config.gateway().refreshInterval().toMillis());
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "anvil-gateway-refresh");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::refresh, every, every, TimeUnit.MILLISECONDS);
    }

    private void refresh() {
        try {
            gateway.get().refresh();
        } catch (RuntimeException e) {
            LOG.warnf("could not refresh the gateway's endpoints: %s", e.getMessage());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (listener != null) {
            listener.close();
        }
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
