package dev.anvil.devstack;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/** Port checks that turn "address already in use" deep inside a server into a message a person can act on. */
public final class Ports {
    private Ports() {}

    /**
     * Fails when {@code port} is taken on {@code host}, naming the component and the variable that moves it.
     */
    public static void requireFree(String host, int port, String component, String portVariable) {
        try (ServerSocket socket = new ServerSocket()) {
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(host), port));
        } catch (IOException e) {
            throw new DevStackException(String.format(
                    "port %d on %s is already in use, so the %s cannot start. Stop whatever holds it "
                            + "(`ss -ltnp | grep :%d` shows it; `./anvil down` stops an earlier local stack) "
                            + "or choose another port with %s=<port>.",
                    port, host, component, port, portVariable));
        }
    }

    /** A port that was free a moment ago; for tests, which start many stacks on one machine. */
    public static int ephemeral() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new DevStackException("no free local port could be found: " + e.getMessage());
        }
    }
}
