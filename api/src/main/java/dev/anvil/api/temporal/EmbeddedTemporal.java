package dev.anvil.api.temporal;

import dev.anvil.api.config.AnvilConfig;
import dev.anvil.devstack.TemporalDevServer;
import io.grpc.ManagedChannel;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * {@code ANVIL_TEMPORAL_TARGET=embedded}: the Temporal Java dev server inside Anvil's own process, which
 * Anvil's client and worker reach in-process instead of over gRPC on a socket. That halves the CPU a
 * pipeline task costs on a small machine (bench/README.md), at a price the local stack does not pay:
 * the workflows live in this process's memory, so restarting Anvil loses the runs in flight (the
 * reconciler marks them failed at the next start). Optionally it also listens on a loopback address
 * ({@code ANVIL_TEMPORAL_EMBEDDED_LISTEN}) for worker-only processes on the same machine.
 */
final class EmbeddedTemporal implements AutoCloseable {
    static final String TARGET = "embedded";
    private static final Logger LOG = Logger.getLogger(EmbeddedTemporal.class);

    private final TemporalDevServer server;
    private final ManagedChannel channel;

    private EmbeddedTemporal(TemporalDevServer server) {
        this.server = server;
        this.channel = server.inProcessChannel();
    }

    static boolean wanted(AnvilConfig.Temporal temporal) {
        return TARGET.equals(temporal.target().trim().toLowerCase(Locale.ROOT));
    }

    /** Starts the server; refuses settings that mean nothing in-process (TLS) with the variable to unset. */
    static EmbeddedTemporal start(AnvilConfig.Temporal temporal) {
        AnvilConfig.Temporal.Tls tls = temporal.tls();
        if (tls.cert().isPresent() || tls.key().isPresent() || tls.ca().isPresent() || tls.serverName().isPresent()) {
            throw new IllegalArgumentException("ANVIL_TEMPORAL_TARGET=embedded runs Temporal inside this process, "
                    + "where TLS means nothing: unset ANVIL_TEMPORAL_TLS_CERT, _KEY, _CA and _SERVER_NAME, or point "
                    + "ANVIL_TEMPORAL_TARGET at a cluster's host:port");
        }
        TemporalDevServer server = TemporalDevServer.startInProcess(temporal.embeddedListen(),
                "ANVIL_TEMPORAL_EMBEDDED_LISTEN");
        LOG.infof("Temporal: the embedded dev server (in memory: runs in flight end with this process)%s; eager "
                        + "activity dispatch %s", server.address().map(a -> ", also on " + a).orElse(""),
                server.eagerActivityDispatch() ? "on" : "off (this temporal-test-server version is built otherwise)");
        return new EmbeddedTemporal(server);
    }

    /** Whether the server dispatches activities eagerly (TemporalDevServer#eagerActivityDispatch). */
    boolean eagerActivityDispatch() {
        return server.eagerActivityDispatch();
    }

    ManagedChannel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            channel.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.close();
    }
}
