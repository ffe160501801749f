package dev.anvil.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Anvil's REST API over {@link HttpClient}: bearer auth, JSON in and out, and one place that turns failures into
 * exit codes (problem documents → 1 with their {@code detail}, connection failures → 3 naming the URL).
 */
public class ApiClient {
    static final ObjectMapper JSON = new ObjectMapper();

    private final String server;
    private final String token;
    private final HttpClient http;

    public ApiClient(String server, String token) {
        this.server = server;
        this.token = token;
        // HTTP/1.1: over plain http HTTP/2 would start with an h2c upgrade, and a server may buffer the whole
        // body of an upgraded request, which defeats streaming a large artifact
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER).build();
    }

    public String server() {
        return server;
    }

    public JsonNode get(String path) {
        return json(send(request(path).GET(), path));
    }

    public JsonNode post(String path, Object body) {
        return json(send(withJson(request(path), "POST", body), path));
    }

    public JsonNode put(String path, Object body) {
        return json(send(withJson(request(path), "PUT", body), path));
    }

    public JsonNode delete(String path) {
        return json(send(request(path).DELETE(), path));
    }

    /** Sends a body as it is (a spec, a file stream) with its content type. */
    public JsonNode send(String method, String path, String contentType, HttpRequest.BodyPublisher body) {
        return json(send(request(path).header("Content-Type", contentType).method(method, body), path));
    }

    /** A response body as a stream (downloads); the caller closes it. */
    public InputStream download(String path) {
        HttpRequest req = request(path).GET().build();
        HttpResponse<InputStream> res = exchange(req, HttpResponse.BodyHandlers.ofInputStream());
        if (res.statusCode() >= 400) {
            String text;
            try (InputStream in = res.body()) {
                text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                text = "";
            }
            throw refused(res.statusCode(), text, path);
        }
        return res.body();
    }

    /** {@code name=value&...} with each value URL-encoded; null values are left out. */
    public static String query(Map<String, ?> params) {
        StringJoiner q = new StringJoiner("&");
        params.forEach((k, v) -> {
            if (v != null) {
                q.add(k + "=" + URLEncoder.encode(String.valueOf(v), StandardCharsets.UTF_8));
            }
        });
        return q.length() == 0 ? "" : "?" + q;
    }

    public static String segment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private HttpRequest.Builder request(String path) {
        if (token == null) {
            throw CliException.usage("no API token: run anvil login --server URL --token TOKEN, or set ANVIL_TOKEN");
        }
        URI uri;
        try {
            uri = URI.create(server + path);
        } catch (IllegalArgumentException e) {
            throw CliException.usage("'" + server + "' is not a server URL (" + e.getMessage()
                    + "); expected e.g. http://localhost:8080");
        }
        return HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token)
                .header("Accept", "application/json").header("User-Agent", "anvil-cli");
    }

    private static HttpRequest.Builder withJson(HttpRequest.Builder b, String method, Object body) {
        String text;
        try {
            text = body == null ? "{}" : JSON.writeValueAsString(body);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(text));
    }

    private HttpResponse<String> send(HttpRequest.Builder builder, String path) {
        HttpResponse<String> res = exchange(builder.build(), HttpResponse.BodyHandlers.ofString());
        if (res.statusCode() >= 400) {
            throw refused(res.statusCode(), res.body(), path);
        }
        return res;
    }

    private <T> HttpResponse<T> exchange(HttpRequest req, HttpResponse.BodyHandler<T> handler) {
        try {
            return http.send(req, handler);
        } catch (ConnectException | HttpConnectTimeoutException | UnresolvedAddressException e) {
            throw unreachable(e);
        } catch (IOException e) {
            if (e.getCause() instanceof ConnectException || e.getCause() instanceof UnresolvedAddressException) {
                throw unreachable(e);
            }
            throw new CliException(ExitCodes.UNREACHABLE, "lost the connection to Anvil at " + server + ": " + describe(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException(ExitCodes.UNREACHABLE, "interrupted while talking to " + server);
        }
    }

    private CliException unreachable(Exception e) {
        return new CliException(ExitCodes.UNREACHABLE, "cannot reach Anvil at " + server + " (" + describe(e)
                + "); start it with ./anvil up, or point the CLI elsewhere with anvil login --server URL or ANVIL_SERVER");
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        if (m == null && e.getCause() != null) {
            m = e.getCause().getMessage();
        }
        if (m == null && (e instanceof ConnectException || e.getCause() instanceof ConnectException)) {
            return "connection refused";
        }
        return m == null ? e.getClass().getSimpleName() : m;
    }

    /** A problem document's title and detail (and field errors), or the body's first line when it is not one. */
    static CliException refused(int status, String body, String path) {
        StringBuilder msg = new StringBuilder().append(status);
        try {
            JsonNode problem = JSON.readTree(body == null || body.isBlank() ? "{}" : body);
            String title = problem.path("title").asText("");
            JsonNode detail = problem.path("detail");
            if (!title.isEmpty()) msg.append(' ').append(title);
            if (detail.isTextual()) {
                msg.append(": ").append(detail.asText());
            } else if (!detail.isMissingNode() && !detail.isNull()) {
                msg.append(": ").append(detail); // Airflow-style validation lists
            } else if (title.isEmpty()) {
                msg.append(" from ").append(path);
            }
            for (JsonNode err : problem.path("errors")) {
                msg.append("\n  ").append(err.path("field").asText("")).append(": ").append(err.path("message").asText(""));
            }
        } catch (IOException notJson) {
            String first = body.strip().lines().findFirst().orElse("");
            msg.append(" from ").append(path).append(first.isEmpty() ? "" : ": " + first);
        }
        if (status == 401) {
            msg.append("\n  (the token was not accepted: run anvil login --server URL --token TOKEN with a valid one)");
        }
        return new CliException(ExitCodes.REFUSED, msg.toString());
    }

    private static JsonNode json(HttpResponse<String> res) {
        String body = res.body();
        if (body == null || body.isBlank()) {
            return JSON.createObjectNode();
        }
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return JSON.getNodeFactory().textNode(body);
        }
    }
}
