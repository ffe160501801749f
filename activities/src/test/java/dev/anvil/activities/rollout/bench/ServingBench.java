package dev.anvil.activities.rollout.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Load generator for the inference gateway, run as its own process against a running Anvil: the same
 * batch-1 digit request through {@code POST /v2/models/{name}/infer} from N concurrent callers, against
 * ONNX Runtime called in this process on the same model with the same concurrency; then again with a
 * 50/50 canary split. Prints throughput and p50/p99 latency. See bench/README.md.
 *
 * <p>Arguments: base URL, model file. Environment: ANVIL_BENCH_SECONDS (per measurement, default 15),
 * ANVIL_BENCH_CONCURRENCY (comma-separated, default 1,4), ANVIL_TOKEN (sent as a bearer token when set).
 */
public final class ServingBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public static void main(String[] args) throws Exception {
        String base = args[0];
        Path model = Path.of(args[1]);
        int seconds = Integer.parseInt(env("ANVIL_BENCH_SECONDS", "15"));
        int[] concurrency = Arrays.stream(env("ANVIL_BENCH_CONCURRENCY", "1,4").split(",")).mapToInt(Integer::parseInt)
                .toArray();
        String endpoint = "bench-" + Long.toHexString(System.nanoTime());
        byte[] bytes = Files.readAllBytes(model);
        String stable = upload(base, bytes);
        // the candidate: the same weights under another doc string, so a different artifact
        byte[] candidateBytes = withDocString(bytes, endpoint);
        String candidate = upload(base, candidateBytes);
        call(base, "PUT", "/api/endpoints/" + endpoint, Map.of("model", endpoint, "artifact", stable), 201);
        float[] pixels = pixels();
        String body = JSON.writeValueAsString(Map.of("inputs", List.of(Map.of("name", "input_image",
                "shape", List.of(1, 1, 28, 28), "datatype", "FP32", "data", pixels))));
        // a freshly started API runs interpreted at first: warm it (and the model session) before measuring
        int warmup = Integer.parseInt(env("ANVIL_BENCH_WARMUP_SECONDS", "20"));
        run(4, warmup, () -> infer(base, endpoint, body));
        System.out.printf("cnn_mnist, batch 1, %d s per measurement after a %d s warm-up, endpoint %s%n", seconds,
                warmup, endpoint);
        System.out.printf("%-34s %6s %12s %10s %10s%n", "path", "conc.", "req/s", "p50 ms", "p99 ms");
        for (int c : concurrency) {
            measure("gateway (stable only)", c, seconds, () -> infer(base, endpoint, body));
            try (OrtEnvironment env = OrtEnvironment.getEnvironment();
                    OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
                so.setIntraOpNumThreads(1);
                try (OrtSession session = env.createSession(bytes, so)) {
                    measure("ONNX Runtime in-process", c, seconds, () -> {
                        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels), new long[] {1, 1, 28, 28});
                                OrtSession.Result r = session.run(Map.of("input_image", t))) {
                            return r.size();
                        }
                    });
                }
            }
        }
        call(base, "PUT", "/api/endpoints/" + endpoint + "/canary",
                Map.of("model", endpoint, "artifact", candidate, "weight", 50), 200);
        for (int c : concurrency) {
            measure("gateway, 50/50 canary", c, seconds, () -> infer(base, endpoint, body));
        }
        call(base, "DELETE", "/api/endpoints/" + endpoint, null, -1);
    }

    private static Object infer(String base, String endpoint, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(request(base + "/v2/models/" + endpoint + "/infer")
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("infer answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().length();
    }

    private static void measure(String name, int concurrency, int seconds, Callable<Object> call) throws Exception {
        // warm-up (a fifth of the time, at least 3 s; JIT of the API and the client), not counted
        run(concurrency, Math.max(3, seconds / 5), call);
        long started = System.nanoTime();
        List<long[]> perThread = run(concurrency, seconds, call);
        double elapsed = (System.nanoTime() - started) / 1e9;
        int n = perThread.stream().mapToInt(a -> a.length).sum();
        long[] all = new long[n];
        int i = 0;
        for (long[] a : perThread) {
            System.arraycopy(a, 0, all, i, a.length);
            i += a.length;
        }
        Arrays.sort(all);
        System.out.printf("%-34s %6d %12.0f %10.3f %10.3f%n", name, concurrency, n / elapsed,
                all[(int) (0.5 * (n - 1))] / 1e6, all[(int) Math.ceil(0.99 * (n - 1))] / 1e6);
    }

    private static List<long[]> run(int concurrency, int seconds, Callable<Object> call) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency);
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        List<Future<long[]>> futures = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
            futures.add(pool.submit(() -> {
                long[] times = new long[1 << 16];
                int n = 0;
                while (System.nanoTime() < deadline) {
                    long t0 = System.nanoTime();
                    call.call();
                    if (n == times.length) {
                        times = Arrays.copyOf(times, n * 2);
                    }
                    times[n++] = System.nanoTime() - t0;
                }
                return Arrays.copyOf(times, n);
            }));
        }
        List<long[]> out = new ArrayList<>();
        for (Future<long[]> f : futures) {
            out.add(f.get());
        }
        pool.shutdown();
        return out;
    }

    private static String upload(String base, byte[] bytes) throws Exception {
        HttpResponse<String> r = HTTP.send(request(base + "/api/artifacts").POST(HttpRequest.BodyPublishers.ofByteArray(bytes))
                .header("Content-Type", "application/octet-stream").build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() / 100 != 2) {
            throw new IllegalStateException("upload answered " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body()).path("artifact").path("sha256").asText();
    }

    private static void call(String base, String method, String path, Object body, int expected) throws Exception {
        HttpRequest.Builder b = request(base + path).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body)));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (expected > 0 && r.statusCode() != expected && r.statusCode() / 100 != 2) {
            throw new IllegalStateException(method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        }
    }

    private static HttpRequest.Builder request(String url) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        String token = System.getenv("ANVIL_TOKEN");
        if (token != null && !token.isBlank()) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    /** A 28×28 image with a bright vertical stroke, values 0..255 as the model expects. */
    private static float[] pixels() {
        float[] p = new float[28 * 28];
        for (int y = 4; y < 24; y++) {
            p[y * 28 + 13] = 255;
            p[y * 28 + 14] = 200;
        }
        return p;
    }

    /** The model with its doc string set: the same weights under a different sha256. */
    private static byte[] withDocString(byte[] model, String doc) throws Exception {
        return ai.onnx.proto.OnnxMl.ModelProto.parseFrom(model).toBuilder().setDocString(doc).build().toByteArray();
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    private ServingBench() {}
}
