package dev.anvil.cli;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A scripted Anvil for the CLI's unit tests: answers "METHOD /path" with queued responses (the last one repeats)
 * and records every request (method, path with query, headers, body) for the test to assert.
 */
final class StubServer implements AutoCloseable {
    record Request(String method, String uri, Map<String, String> headers, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        String header(String name) {
            return headers.get(name.toLowerCase());
        }
    }

    record Reply(int status, String contentType, byte[] body) {}

    private final HttpServer server;
    private final Map<String, Deque<Reply>> replies = new HashMap<>();
    final List<Request> requests = new ArrayList<>();

    StubServer() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Map<String, String> headers = new HashMap<>();
            exchange.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(), String.join(",", v)));
            String path = exchange.getRequestURI().getRawPath();
            String uri = exchange.getRequestURI().getRawQuery() == null ? path : path + "?" + exchange.getRequestURI().getRawQuery();
            Reply reply;
            synchronized (this) {
                requests.add(new Request(exchange.getRequestMethod(), uri, headers, body));
                Deque<Reply> queue = replies.get(exchange.getRequestMethod() + " " + path);
                reply = queue == null ? new Reply(404, "application/problem+json",
                        ("{\"title\":\"Not Found\",\"status\":404,\"detail\":\"stub has no " + path + "\"}")
                                .getBytes(StandardCharsets.UTF_8))
                        : queue.size() > 1 ? queue.poll() : queue.peek();
            }
            exchange.getResponseHeaders().set("Content-Type", reply.contentType());
            exchange.sendResponseHeaders(reply.status(), reply.body().length == 0 ? -1 : reply.body().length);
            if (reply.body().length > 0) {
                exchange.getResponseBody().write(reply.body());
            }
            exchange.close();
        });
        server.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    StubServer on(String methodAndPath, int status, String json) {
        return on(methodAndPath, new Reply(status, status >= 400 ? "application/problem+json" : "application/json",
                json.getBytes(StandardCharsets.UTF_8)));
    }

    synchronized StubServer on(String methodAndPath, Reply reply) {
        replies.computeIfAbsent(methodAndPath, k -> new ArrayDeque<>()).add(reply);
        return this;
    }

    synchronized Request last() {
        return requests.get(requests.size() - 1);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
