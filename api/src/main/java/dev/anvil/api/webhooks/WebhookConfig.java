package dev.anvil.api.webhooks;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** How webhook deliveries are dispatched and retried (anvil.webhooks.*). */
@ConfigMapping(prefix = "anvil.webhooks")
public interface WebhookConfig {
    /** How often this process looks for new deliveries to start (every API and worker process does). */
    @WithDefault("1s")
    Duration dispatchInterval();

    /** The wait before the first retry; each further wait doubles, up to {@link #maxRetryInterval()}. */
    @WithDefault("10s")
    Duration firstRetry();

    @WithDefault("1h")
    Duration maxRetryInterval();

    /** Attempts in all (the first included) before a delivery is marked failed: 10 spans about 2.5 hours. */
    @WithDefault("10")
    int maxAttempts();

    /** How long one POST may take, connecting included. */
    @WithDefault("10s")
    Duration requestTimeout();
}
