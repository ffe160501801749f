package dev.anvil.api.temporal;

import dev.anvil.api.config.AnvilConfig;
import io.temporal.client.WorkflowClient;
import io.temporal.client.WorkflowClientOptions;
import io.temporal.serviceclient.GrpcCompression;
import io.temporal.serviceclient.WorkflowServiceStubs;
import io.temporal.serviceclient.WorkflowServiceStubsOptions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The Temporal SDK's client objects as CDI beans. The stubs connect lazily, so the API starts while
 * Temporal is still coming up; readiness reports it until it answers. API and worker share them, so
 * ANVIL_TEMPORAL_TLS_* give both the client certificate. With ANVIL_TEMPORAL_TARGET=embedded they reach
 * the dev server this process starts ({@link EmbeddedTemporal}) in-process.
 */
@ApplicationScoped
public class TemporalClients {
    private volatile EmbeddedTemporal embedded;

    @Produces
    @Singleton
    WorkflowServiceStubs stubs(AnvilConfig config) {
        if (EmbeddedTemporal.wanted(config.temporal())) {
            embedded = EmbeddedTemporal.start(config.temporal());
            return WorkflowServiceStubs.newServiceStubs(WorkflowServiceStubsOptions.newBuilder()
                    .setChannel(embedded.channel())
                    // the SDK gzips every message by default; in-process that is CPU for nothing
                    .setGrpcCompression(GrpcCompression.NONE)
                    .build());
        }
        WorkflowServiceStubsOptions.Builder options = WorkflowServiceStubsOptions.newBuilder()
                .setTarget(config.temporal().target());
        // mutual TLS where the cluster asks for it (production); the local dev server speaks plain gRPC
        TemporalTls.context(config.temporal().tls()).ifPresent(options::setSslContext);
        config.temporal().tls().serverName().ifPresent(name ->
                options.setChannelInitializer(channel -> channel.overrideAuthority(name)));
        return WorkflowServiceStubs.newServiceStubs(options.build());
    }

    /** The embedded dev server, once the stubs were made with ANVIL_TEMPORAL_TARGET=embedded. */
    Optional<EmbeddedTemporal> embedded() {
        return Optional.ofNullable(embedded);
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
        if (embedded != null) {
            embedded.close();
        }
    }
}
