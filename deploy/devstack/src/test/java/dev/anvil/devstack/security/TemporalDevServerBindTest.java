package dev.anvil.devstack.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.anvil.devstack.Ports;
import dev.anvil.devstack.TemporalDevServer;
import io.grpc.ManagedChannel;
import io.temporal.api.workflowservice.v1.GetSystemInfoRequest;
import io.temporal.api.workflowservice.v1.WorkflowServiceGrpc;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.util.Collections;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The dev server has no authentication: anyone who reaches it could send a workflow any update, an
 * approval included. It must listen on the stack's host (127.0.0.1) only, not on every interface.
 */
class TemporalDevServerBindTest {

    @Test
    void listensOnLoopbackOnlyNotOnTheMachinesOtherAddresses() throws Exception {
        Optional<InetAddress> external = externalAddress();
        assumeTrue(external.isPresent(), "this machine has no non-loopback IPv4 address to try");
        int port = Ports.ephemeral();
        try (TemporalDevServer server = TemporalDevServer.start("127.0.0.1", port)) {
            assertThat(server.target()).isEqualTo("127.0.0.1:" + port);
            try (Socket local = new Socket()) {
                local.connect(new InetSocketAddress("127.0.0.1", port), 2000);
                assertThat(local.isConnected()).isTrue();
            }
            assertThatThrownBy(() -> {
                try (Socket remote = new Socket()) {
                    remote.connect(new InetSocketAddress(external.get(), port), 2000);
                }
            }).as("the port on " + external.get().getHostAddress()).isInstanceOf(IOException.class);
        }
    }

    @Test
    void anInProcessServerListensOnlyWhereToldAndOnlyOnLoopback() throws Exception {
        try (TemporalDevServer server = TemporalDevServer.startInProcess(Optional.empty(), "ANVIL_X_LISTEN")) {
            assertThat(server.address()).isEmpty();
            assertThatThrownBy(server::target).hasMessageContaining("no TCP address");
            ManagedChannel channel = server.inProcessChannel();
            try {
                assertThat(WorkflowServiceGrpc.newBlockingStub(channel)
                        .getSystemInfo(GetSystemInfoRequest.getDefaultInstance()).hasCapabilities()).isTrue();
            } finally {
                channel.shutdownNow();
            }
        }
        assertThatThrownBy(() -> TemporalDevServer.startInProcess(Optional.of("0.0.0.0:7233"), "ANVIL_X_LISTEN"))
                .hasMessageContaining("ANVIL_X_LISTEN must be a loopback address")
                .hasMessageContaining("no authentication");
        for (String bad : new String[] {"127.0.0.1", "127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", ":7233"}) {
            assertThatThrownBy(() -> TemporalDevServer.startInProcess(Optional.of(bad), "ANVIL_X_LISTEN"))
                    .as(bad).hasMessageContaining("ANVIL_X_LISTEN must be host:port");
        }
        int port = Ports.ephemeral();
        try (TemporalDevServer first = TemporalDevServer.startInProcess(Optional.of("127.0.0.1:" + port), "ANVIL_X_LISTEN")) {
            assertThat(first.address()).contains("127.0.0.1:" + port);
            assertThatThrownBy(() -> TemporalDevServer.startInProcess(Optional.of("127.0.0.1:" + port), "ANVIL_X_LISTEN"))
                    .hasMessageContaining("already in use").hasMessageContaining("ANVIL_X_LISTEN=");
        }
    }

    private static Optional<InetAddress> externalAddress() throws SocketException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
                    return Optional.of(address);
                }
            }
        }
        return Optional.empty();
    }
}
