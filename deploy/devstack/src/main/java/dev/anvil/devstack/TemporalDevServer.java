package dev.anvil.devstack;

import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Java in-memory Temporal service from temporal-testing, bound to a TCP port so that Anvil talks
 * gRPC to it exactly as it would to a real cluster. It has no Schedules and no visibility queries,
 * and forgets everything when this process stops.
 *
 * <p>It has no authentication either, so it listens on the stack's host only (127.0.0.1 unless
 * {@code ANVIL_DEVSTACK_HOST} says otherwise), never on every interface: whoever reaches it could start,
 * signal or update any workflow. temporal-testing's own {@code TestServer.createPortBoundServer} binds
 * every interface, so the server is put together here from the same services on an address.
 *
 * <p>Two of its defects are worked around here: a dead worker's sticky queue is never given back
 * ({@link StableStickyQueues} names sticky queues after their shared queue, so the restarted worker polls
 * it), and its clock keeps a record of every lock it ever took, which each request scans
 * ({@link BoundedLockEvents}).
 */
public final class TemporalDevServer implements Closeable {
    private final TestServicesStarter services;
    private final Server server;
    private final String target;

    private TemporalDevServer(TestServicesStarter services, Server server, String target) {
        this.services = services;
        this.server = server;
        this.target = target;
    }

    public static TemporalDevServer start(String host, int port) {
        Ports.requireFree(host, port, "Temporal dev server", "ANVIL_DEVSTACK_TEMPORAL_PORT");
        // lockTimeSkipping=true: workflows see real time; time skipping is for unit tests only.
        TestServicesStarter services = new TestServicesStarter(true, 0);
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(host, port),
                InsecureServerCredentials.create());
        BoundedLockEvents.install(services);
        GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), builder,
                List.of(new StableStickyQueues()));
        try {
            return new TemporalDevServer(services, builder.build().start(), host + ":" + port);
        } catch (IOException e) {
            services.close();
            throw new DevStackException("cannot start the Temporal dev server on " + host + ":" + port + ": "
                    + e.getMessage(), e);
        }
    }

    /** host:port for WorkflowServiceStubsOptions.setTarget. */
    public String target() {
        return target;
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
            }
        } catch (InterruptedException e) {
            server.shutdownNow();
            Thread.currentThread().interrupt();
        }
        services.close();
    }
}
