package dev.anvil.devstack;

import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.temporal.internal.testservice.GRPCServerHelper;
import io.temporal.internal.testservice.TestServicesStarter;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The Java in-memory Temporal service from temporal-testing, bound to a TCP port so that Anvil talks
 * gRPC to it exactly as it would to a real cluster (the local stack), or inside Anvil's own process
 * ({@code ANVIL_TEMPORAL_TARGET=embedded}). It has no Schedules and no visibility queries,
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
 * ({@link BoundedLockEvents}). It also dispatches activities eagerly, as a real Temporal server does
 * ({@link EagerActivityDispatch}): an activity a worker schedules on its own queue comes in the reply to its
 * workflow task completion instead of through a poll.
 *
 * <p>Every server also answers in-process ({@link #inProcessChannel()}): a client in the same JVM skips
 * HTTP/2 framing, the socket and protobuf encoding, which is most of what a task costs on a small machine
 * (bench/README.md). {@link #startInProcess} starts one with no TCP address at all.
 */
public final class TemporalDevServer implements Closeable {
    private final TestServicesStarter services;
    private final List<Server> servers;
    private final Optional<String> target;
    private final String inProcessName;
    private final boolean eagerActivities;

    private TemporalDevServer(TestServicesStarter services, List<Server> servers, Optional<String> target,
                              String inProcessName, boolean eagerActivities) {
        this.services = services;
        this.servers = servers;
        this.target = target;
        this.inProcessName = inProcessName;
        this.eagerActivities = eagerActivities;
    }

    /** A server on host:port (checked free first), also reachable in-process. */
    public static TemporalDevServer start(String host, int port) {
        Ports.requireFree(host, port, "Temporal dev server", "ANVIL_DEVSTACK_TEMPORAL_PORT");
        return start(Optional.of(new InetSocketAddress(host, port)), host + ":" + port);
    }

    /**
     * A server for this JVM only ({@link #inProcessChannel()}), or also on {@code listen} (host:port) for
     * other processes; {@code portVariable} names the setting that moves it, for the message when it is taken.
     */
    public static TemporalDevServer startInProcess(Optional<String> listen, String portVariable) {
        if (listen.isEmpty()) {
            return start(Optional.empty(), null);
        }
        String hostPort = listen.get().trim();
        int colon = hostPort.lastIndexOf(':');
        int port;
        try {
            port = colon <= 0 ? -1 : Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (port < 1 || port > 65535) {
            throw new DevStackException(portVariable + " must be host:port (e.g. 127.0.0.1:7233), got '" + hostPort + "'");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        boolean loopback;
        try {
            loopback = InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            throw new DevStackException(portVariable + " names a host that does not resolve: '" + host + "'", e);
        }
        if (!loopback) {
            throw new DevStackException(portVariable + " must be a loopback address (127.0.0.1:<port>), got '"
                    + hostPort + "': the dev server has no authentication, so whoever reaches it could start, signal "
                    + "or update any workflow (an approval included). Workers on other machines need a Temporal cluster.");
        }
        Ports.requireFree(host, port, "Temporal dev server", portVariable);
        return start(Optional.of(new InetSocketAddress(host, port)), hostPort);
    }

    private static TemporalDevServer start(Optional<InetSocketAddress> address, String target) {
        // lockTimeSkipping=true: workflows see real time; time skipping is for unit tests only.
        TestServicesStarter services = new TestServicesStarter(true, 0);
        BoundedLockEvents.install(services);
        String inProcessName = "anvil-temporal-" + UUID.randomUUID();
        List<Server> servers = new ArrayList<>();
        try {
            List<ServerInterceptor> fixes = new ArrayList<>(List.of(new StableStickyQueues()));
            Optional<EagerActivityQueues> eager = EagerActivityQueues.install(services);
            eager.ifPresent(queues -> fixes.add(new EagerActivityDispatch(services.getWorkflowService(), queues)));
            InProcessServerBuilder inProcess = InProcessServerBuilder.forName(inProcessName);
            GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), inProcess, fixes);
            servers.add(inProcess.build().start());
            if (address.isPresent()) {
                NettyServerBuilder tcp = NettyServerBuilder.forAddress(address.get(), InsecureServerCredentials.create());
                GRPCServerHelper.registerServicesAndHealthChecks(services.getServices(), tcp, fixes);
                servers.add(tcp.build().start());
            }
            return new TemporalDevServer(services, servers, Optional.ofNullable(target), inProcessName,
                    eager.isPresent());
        } catch (IOException e) {
            servers.forEach(Server::shutdownNow);
            services.close();
            throw new DevStackException("cannot start the Temporal dev server"
                    + (target == null ? "" : " on " + target) + ": " + e.getMessage(), e);
        }
    }

    /** host:port for WorkflowServiceStubsOptions.setTarget; fails for a server started in-process only. */
    public String target() {
        return target.orElseThrow(() -> new IllegalStateException("this Temporal dev server has no TCP address"));
    }

    /**
     * Whether activity tasks a worker asks for come in its workflow task completion's reply
     * ({@link EagerActivityDispatch}); false where this temporal-test-server version is built otherwise.
     */
    public boolean eagerActivityDispatch() {
        return eagerActivities;
    }

    /** host:port where other processes reach it, if it listens on one. */
    public Optional<String> address() {
        return target;
    }

    /**
     * A new channel to this server inside this JVM, for WorkflowServiceStubsOptions.setChannel; the caller
     * shuts it down.
     */
    public ManagedChannel inProcessChannel() {
        return InProcessChannelBuilder.forName(inProcessName).build();
    }

    @Override
    public void close() {
        servers.forEach(Server::shutdown);
        try {
            for (Server server : servers) {
                if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                    server.shutdownNow();
                }
            }
        } catch (InterruptedException e) {
            servers.forEach(Server::shutdownNow);
            Thread.currentThread().interrupt();
        }
        services.close();
    }
}
