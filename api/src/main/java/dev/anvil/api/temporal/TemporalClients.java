package dev.anvil.api.temporal;

import dev.anvil.api.config.AnvilConfig;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.concurrent.TimeUnit;

/**
 * The Temporal SDK's client objects as CDI beans. The stubs connect lazily, so the API starts while
 * Temporal is still coming up; readiness reports it until it answers.
 */
@ApplicationScoped
public class TemporalClients {

    @Produces
    @Singleton
    WorkflowServiceStubs stubs(AnvilConfig config) {
        return WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
                .setTarget(config.temporal().target())
                .build());
    }

    @Produces
    @Singleton
    WorkflowClient client(WorkflowServiceStubs stubs, AnvilConfig config) {
        return WorkflowClient.newInstance(stubs, WorkflowClientOptions.newBuilder()
                .setNamespace(config.temporal().namespace())
                .build());
    }

    void close(@Disposes WorkflowServiceStubs stubs) throws InterruptedException {
        stubs.shutdown();
        stubs.awaitTermination(5, TimeUnit.SECONDS);
    }
}
