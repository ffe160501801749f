package dev.anvil.api.webhooks;

import dev.anvil.activities.webhooks.WebhookDispatcher;
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
 * Drains the webhook outbox every anvil.webhooks.dispatch-interval, in every process (API or worker): the
 * deliveries are claimed row by row, so processes share the work, and a delivery's workflow starts once.
 * Starts after AnvilStartup (which migrates the schema).
 */
@ApplicationScoped
public class WebhookDispatching {
    private static final Logger LOG = Logger.getLogger(WebhookDispatching.class);

    @Inject WebhookConfig config;
    @Inject WebhookDispatcher dispatcher;

    private ScheduledExecutorService timer;
    private volatile String lastFailure;

    void start(@Observes @Priority(jakarta.interceptor.Interceptor.Priority.APPLICATION + 900) StartupEvent event) {
        long every = config.dispatchInterval().toMillis();
        if (every <= 0) {
            LOG.info("webhook dispatch is off in this process (anvil.webhooks.dispatch-interval is not positive)");
            return;
        }
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "anvil-webhook-dispatch");
            t.setDaemon(true);
            return t;
        });
        timer.scheduleWithFixedDelay(this::dispatch, every, every, TimeUnit.MILLISECONDS);
    }

    private void dispatch() {
        try {
            dispatcher.dispatch();
            if (lastFailure != null) {
                LOG.info("webhook dispatch works again");
                lastFailure = null;
            }
        } catch (RuntimeException e) {
            // Temporal or PostgreSQL away: the deliveries stay pending and the next tick tries again; say so once
            String message = String.valueOf(e.getMessage());
            if (!message.equals(lastFailure)) {
                LOG.warnf("webhook deliveries wait: could not start them (%s); retrying every %s", message,
                        config.dispatchInterval());
                lastFailure = message;
            }
        }
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer != null) {
            timer.shutdownNow();
        }
    }
}
