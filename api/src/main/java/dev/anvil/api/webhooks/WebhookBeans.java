package dev.anvil.api.webhooks;

import dev.anvil.activities.webhooks.WebhookActivitiesImpl;
import dev.anvil.activities.webhooks.WebhookDispatcher;
import dev.anvil.db.RegistryEvents;
import dev.anvil.db.WebhookStore;
import io.agroal.api.AgroalDataSource;
import io.temporal.client.WorkflowClient;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.http.HttpClient;
import java.time.Clock;

/**
 * The webhook store, the registry events publisher (what a drift detector injects to call
 * {@link RegistryEvents#driftDetected}), the dispatcher and the delivery activities.
 */
@ApplicationScoped
public class WebhookBeans {

    @Produces
    @Singleton
    WebhookStore webhooks(AgroalDataSource ds) {
        return new WebhookStore(ds);
    }

    @Produces
    @Singleton
    RegistryEvents registryEvents(AgroalDataSource ds) {
        return new RegistryEvents(ds);
    }

    @Produces
    @Singleton
    WebhookDispatcher dispatcher(WebhookStore webhooks, WorkflowClient client, WebhookConfig config) {
        return new WebhookDispatcher(webhooks, client, config.firstRetry(), config.maxRetryInterval(),
                config.maxAttempts());
    }

    @Produces
    @Singleton
    WebhookActivitiesImpl activities(WebhookStore webhooks, WebhookConfig config,
                                     com.fasterxml.jackson.databind.ObjectMapper json) {
        // redirects are not followed (the default): a delivery goes to the URL an admin registered, nowhere else
        HttpClient http = HttpClient.newBuilder().connectTimeout(config.requestTimeout()).build();
        return new WebhookActivitiesImpl(webhooks, http, json, config.requestTimeout(), Clock.systemUTC());
    }
}
