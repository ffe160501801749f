package dev.anvil.api.tasks;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A small training service for the tests (JDK HTTP server): it takes jobs at /jobs (checking the configured
 * Authorization header) and hands them to the test, which plays the trainer with the job's URLs: download the
 * dataset, upload a model, heartbeat, complete. Configured into Anvil as service {@code mock} (and a service
 * {@code badscheme} whose URL is not http(s)).
 */
public class TestTrainer implements QuarkusTestResourceLifecycleManager {
    static final String SECRET = "Bearer trainer-secret-for-tests";
    static final BlockingQueue<Job> JOBS = new LinkedBlockingQueue<>();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private HttpServer server;

    /** A job as the service received it, with the Authorization header it came with. */
    record Job(Map<String, Object> body, String authorization) {
        String token() {
            return (String) body.get("token");
        }

        int attempt() {
            return ((Number) body.get("attempt")).intValue();
        }

        @SuppressWarnings("unchecked")
        String url(String... path) {
            Object node = body;
            for (String key : path) {
                node = ((Map<String, Object>) node).get(key);
            }
            return (String) node;
        }
    }

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/jobs", exchange -> {
            @SuppressWarnings("unchecked")
            Map<String, Object> body = JSON.readValue(exchange.getRequestBody().readAllBytes(), Map.class);
            JOBS.add(new Job(body, exchange.getRequestHeaders().getFirst("Authorization")));
            byte[] answer = "{\"accepted\": true}".getBytes();
            exchange.sendResponseHeaders(202, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
        return Map.of(
                "anvil.trainer.mock.url", "http://127.0.0.1:" + server.getAddress().getPort() + "/jobs",
                "anvil.trainer.mock.auth", SECRET,
                "anvil.trainer.badscheme.url", "file:///etc/passwd");
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    static Job nextJob() throws InterruptedException {
        Job job = JOBS.poll(60, TimeUnit.SECONDS);
        if (job == null) {
            throw new AssertionError("no job reached the test trainer within 60 s");
        }
        return job;
    }

    static HttpResponse<byte[]> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    static HttpResponse<String> put(String url, byte[] body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A callback as a training service makes it: no Authorization header, the token in the URL. */
    static HttpResponse<String> post(String url, String json) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
