package dev.anvil.devstack;

import io.temporal.testserver.TestServer;
import java.io.Closeable;

/**
 * The Java in-memory Temporal service from temporal-testing, bound to a TCP port so that Anvil talks
 * gRPC to it exactly as it would to a real cluster. It has no Schedules and no visibility queries,
 * and forgets everything when this process stops.
 */
public final class TemporalDevServer implements Closeable {
    private final TestServer.PortBoundTestServer server;
    private final String target;

    private TemporalDevServer(TestServer.PortBoundTestServer server, String target) {
        this.server = server;
        this.target = target;
    }

    public static TemporalDevServer start(String host, int port) {
        Ports.requireFree(host, port, "Temporal dev server", "ANVIL_DEVSTACK_TEMPORAL_PORT");
        // lockTimeSkipping=true: workflows see real time; time skipping is for unit tests only.
        TestServer.PortBoundTestServer server = TestServer.createPortBoundServer(port, true);
        return new TemporalDevServer(server, host + ":" + port);
    }

    /** host:port for WorkflowServiceStubsOptions.setTarget. */
    public String target() {
        return target;
    }

    @Override
    public void close() {
        server.close();
    }
}
