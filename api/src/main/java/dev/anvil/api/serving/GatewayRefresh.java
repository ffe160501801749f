package dev.anvil.api.serving;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.serving.Gateway;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Loads the endpoints once the schema is migrated (after AnvilStartup), then re-reads them
 * periodically so changes made by another process (a rollout on a worker pod) reach this gateway.
 */
@ApplicationScoped
public class GatewayRefresh {
    private static final Logger LOG = Logger.getLogger(GatewayRefresh.class);

    @Inject Gateway gateway;
    @Inject AnvilConfig config;

    private ScheduledExecutorService timer;

    void start(@Observes @Priority(5000) StartupEvent event) {
        refresh();
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
            gateway.refresh();
        } catch (RuntimeException e) {
            LOG.warnf("could not refresh the gateway's endpoints: %s", e.getMessage());
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
