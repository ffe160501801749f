package dev.anvil.serving.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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
 * Load generator for the inference gateway, run as its own process against a running Anvil: for each
 * batch size, ONNX Runtime called in this process on the model, then the same images through
 * {@code POST /v2/models/{name}/infer} as KServe v2 JSON and (where the gateway has it) with the binary
 * tensor data extension, from N concurrent callers; then JSON batch 1 again with a 50/50 canary split.
 * Prints throughput, p50/p99 latency and the gateway's share of in-process throughput. See bench/README.md.
 *
 * <p>Arguments: base URL, model file. Environment: ANVIL_BENCH_SECONDS (per measurement, default 15),
 * ANVIL_BENCH_CONCURRENCY (comma-separated, default 1,4), ANVIL_BENCH_BATCHES (images per request,
 * comma-separated, default 1,32), ANVIL_TOKEN (sent as a bearer token when set), ANVIL_BENCH_SERVER_PID
 * (the gateway's process: its CPU time per request is printed; Linux only).
 */
public final class ServingBench {
    private static final ObjectMapper JSON = new ObjectMapper();
    // the bench serves uploaded models, which have no gate or approval on record: an admin breaks glass
    private static final Map<String, String> BENCH_GLASS = Map.of("reason", "serving benchmark of uploaded models");
    // CPU time of the load generator (this JVM), and of the gateway's process when its pid is known (Linux /proc)
    private static final com.sun.management.OperatingSystemMXBean CLIENT =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    private static final Path SERVER = serverStat();
    private static final String BINARY_HEADER = "Inference-Header-Content-Length";
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    public static void main(String[] args) throws Exception {
        String base = args[0];
        Path model = Path.of(args[1]);
        int seconds = Integer.parseInt(env("ANVIL_BENCH_SECONDS", "15"));
        int[] concurrency = Arrays.stream(env("ANVIL_BENCH_CONCURRENCY", "1,4").split(",")).mapToInt(Integer::parseInt)
                .toArray();
        int[] batches = Arrays.stream(env("ANVIL_BENCH_BATCHES", "1,32").split(",")).mapToInt(Integer::parseInt)
                .toArray();
        String endpoint = "bench-" + Long.toHexString(System.nanoTime());
        byte[] bytes = Files.readAllBytes(model);
        String stable = upload(base, bytes);
        // the candidate: the same weights under another doc string, so a different artifact
        byte[] candidateBytes = withDocString(bytes, endpoint);
        String candidate = upload(base, candidateBytes);
        call(base, "PUT", "/api/endpoints/" + endpoint, Map.of("model", endpoint, "artifact", stable, "break_glass", BENCH_GLASS), 201);
        String url = base + "/v2/models/" + endpoint + "/infer";
        String jsonOne = jsonRequest(pixels(1), 1);
        // a freshly started API runs interpreted at first: warm it (and the model session) before measuring
        int warmup = Integer.parseInt(env("ANVIL_BENCH_WARMUP_SECONDS", "20"));
        run(4, warmup, () -> infer(url, jsonOne));
        boolean binary = binarySupported(url);
        System.out.printf("cnn_mnist, %d s per measurement after a %d s warm-up, endpoint %s%s%n", seconds, warmup,
                endpoint, binary ? "" : "; this gateway lacks the binary tensor extension, so no binary rows");
        System.out.printf("%-40s %6s %12s %10s %10s %12s %12s %12s%n", "path", "conc.", "req/s", "p50 ms", "p99 ms",
                "of in-proc.", "server µs/r", "client µs/r");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(bytes, so)) {
                for (int batch : batches) {
                    float[] pixels = pixels(batch);
                    String json = jsonRequest(pixels, batch);
                    byte[] bin = binaryRequest(pixels, batch);
                    int headerLength = binaryHeaderLength(batch);
                    for (int c : concurrency) {
                        double inProcess = measure("ONNX Runtime in-process, batch " + batch, c, seconds, Double.NaN,
                                () -> {
                                    try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(pixels),
                                            new long[] {batch, 1, 28, 28});
                                            OrtSession.Result r = session.run(Map.of("input_image", t))) {
                                        return r.size();
                                    }
                                });
                        measure("gateway JSON, batch " + batch, c, seconds, inProcess, () -> infer(url, json));
                        if (binary) {
                            measure("gateway binary, batch " + batch, c, seconds, inProcess,
                                    () -> inferBinary(url, bin, headerLength));
                        }
                    }
                }
            }
        }
        call(base, "PUT", "/api/endpoints/" + endpoint + "/canary",
                Map.of("model", endpoint, "artifact", candidate, "weight", 50, "break_glass", BENCH_GLASS), 200);
        for (int c : concurrency) {
            measure("gateway JSON, batch 1, 50/50 canary", c, seconds, Double.NaN, () -> infer(url, jsonOne));
        }
        call(base, "DELETE", "/api/endpoints/" + endpoint, null, -1);
        if (!"0".equals(env("ANVIL_BENCH_MINILM", "1"))) {
            miniLm(base, seconds, concurrency, binary);
        }
    }

    /**
     * A model whose inference dwarfs a request's fixed cost: all-MiniLM-L6-v2 (from the langchain4j test
     * dependency), one 128-token text per request, three INT64 inputs, a [1, 128, 384] FP32 output.
     */
    private static void miniLm(String base, int seconds, int[] concurrency, boolean binary) throws Exception {
        byte[] bytes;
        try (var in = ServingBench.class.getResourceAsStream("/all-minilm-l6-v2.onnx")) {
            if (in == null) {
                System.out.println("all-MiniLM-L6-v2 is not on the classpath: no transformer rows");
                return;
            }
            bytes = in.readAllBytes();
        }
        String endpoint = "bench-minilm-" + Long.toHexString(System.nanoTime());
        call(base, "PUT", "/api/endpoints/" + endpoint, Map.of("model", endpoint, "artifact", upload(base, bytes),
                "break_glass", BENCH_GLASS), 201);
        String url = base + "/v2/models/" + endpoint + "/infer";
        long[][] inputs = tokens();
        String[] names = {"input_ids", "attention_mask", "token_type_ids"};
        List<Object> jsonInputs = new ArrayList<>();
        StringBuilder header = new StringBuilder("{\"inputs\":[");
        for (int i = 0; i < names.length; i++) {
            Map<String, Object> input = new java.util.LinkedHashMap<>();
            input.put("name", names[i]);
            input.put("datatype", "INT64");
            input.put("shape", List.of(1, 128));
            input.put("data", inputs[i]);
            jsonInputs.add(input);
            header.append(i == 0 ? "" : ",").append("{\"name\":\"").append(names[i])
                    .append("\",\"shape\":[1,128],\"datatype\":\"INT64\",\"parameters\":{\"binary_data_size\":1024}}");
        }
        header.append("],\"parameters\":{\"binary_data_output\":true}}");
        String json = JSON.writeValueAsString(Map.of("inputs", jsonInputs));
        byte[] head = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer bin = ByteBuffer.allocate(head.length + 3 * 1024).order(ByteOrder.LITTLE_ENDIAN);
        bin.put(head);
        for (long[] input : inputs) {
            for (long v : input) {
                bin.putLong(v);
            }
        }
        byte[] binBody = bin.array();
        run(2, 10, () -> infer(url, json));
        System.out.printf("%nall-MiniLM-L6-v2, one 128-token text per request (inference dominates), endpoint %s%n",
                endpoint);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setIntraOpNumThreads(1);
            try (OrtSession session = env.createSession(bytes, so)) {
                for (int c : concurrency) {
                    double inProcess = measure("ONNX Runtime in-process, MiniLM", c, seconds, Double.NaN, () -> {
                        Map<String, OnnxTensor> feed = new java.util.HashMap<>();
                        try {
                            for (int i = 0; i < names.length; i++) {
                                feed.put(names[i], OnnxTensor.createTensor(env, java.nio.LongBuffer.wrap(inputs[i]),
                                        new long[] {1, 128}));
                            }
                            try (OrtSession.Result r = session.run(feed)) {
                                return r.size();
                            }
                        } finally {
                            feed.values().forEach(OnnxTensor::close);
                        }
                    });
                    measure("gateway JSON, MiniLM", c, seconds, inProcess, () -> infer(url, json));
                    if (binary) {
                        measure("gateway binary, MiniLM", c, seconds, inProcess,
                                () -> inferBinary(url, binBody, head.length));
                    }
                }
            }
        }
        call(base, "DELETE", "/api/endpoints/" + endpoint, null, -1);
    }

    /** input_ids of a 32-token text padded to 128, its attention mask, and token type ids. */
    private static long[][] tokens() {
        long[] ids = new long[128];
        long[] mask = new long[128];
        ids[0] = 101;
        for (int i = 1; i < 31; i++) {
            ids[i] = 1000 + (i * 7919L) % 28000;
        }
        ids[31] = 102;
        for (int i = 0; i < 32; i++) {
            mask[i] = 1;
        }
        return new long[][] {ids, mask, new long[128]};
    }

    private static String jsonRequest(float[] pixels, int batch) throws Exception {
        // fields in the order clients write them (name, datatype, shape, then data); Map.of's order varies by run
        Map<String, Object> input = new java.util.LinkedHashMap<>();
        input.put("name", "input_image");
        input.put("datatype", "FP32");
        input.put("shape", List.of(batch, 1, 28, 28));
        input.put("data", pixels);
        return JSON.writeValueAsString(Map.of("inputs", List.of(input)));
    }

    /** The binary tensor data extension: a JSON header, then the pixels as little-endian FP32; binary output. */
    private static byte[] binaryRequest(float[] pixels, int batch) {
        byte[] header = binaryHeader(pixels.length * 4, batch);
        ByteBuffer body = ByteBuffer.allocate(header.length + pixels.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        body.put(header);
        for (float p : pixels) {
            body.putFloat(p);
        }
        return body.array();
    }

    private static int binaryHeaderLength(int batch) {
        return binaryHeader(batch * 784 * 4, batch).length;
    }

    private static byte[] binaryHeader(int size, int batch) {
        return ("{\"inputs\":[{\"name\":\"input_image\",\"shape\":[" + batch + ",1,28,28],\"datatype\":\"FP32\","
                + "\"parameters\":{\"binary_data_size\":" + size + "}}],\"parameters\":{\"binary_data_output\":true}}")
                .getBytes(StandardCharsets.UTF_8);
    }

    private static boolean binarySupported(String url) throws Exception {
        HttpResponse<byte[]> r = HTTP.send(binaryPost(url, binaryRequest(pixels(1), 1), binaryHeaderLength(1)),
                HttpResponse.BodyHandlers.ofByteArray());
        return r.statusCode() == 200 && r.headers().firstValue(BINARY_HEADER).isPresent();
    }

    private static HttpRequest binaryPost(String url, byte[] body, int headerLength) {
        return request(url).POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .header("Content-Type", "application/octet-stream")
                .header(BINARY_HEADER, Integer.toString(headerLength)).build();
    }

    private static Object inferBinary(String url, byte[] body, int headerLength) throws Exception {
        HttpResponse<byte[]> r = HTTP.send(binaryPost(url, body, headerLength), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("infer answered " + r.statusCode() + ": "
                    + new String(r.body(), StandardCharsets.UTF_8));
        }
        return r.body().length;
    }

    private static Object infer(String url, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(request(url)
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException("infer answered " + r.statusCode() + ": " + r.body());
        }
        return r.body().length();
    }

    /** Prints and returns req/s; with a reference (in-process req/s) also the share of it. */
    private static double measure(String name, int concurrency, int seconds, double reference, Callable<Object> call)
            throws Exception {
        // warm-up (a fifth of the time, at least 3 s; JIT of the API and the client), not counted
        run(concurrency, Math.max(3, seconds / 5), call);
        long serverCpu = SERVER == null ? 0 : cpuNanos(SERVER);
        long clientCpu = CLIENT.getProcessCpuTime();
        long started = System.nanoTime();
        List<long[]> perThread = run(concurrency, seconds, call);
        double elapsed = (System.nanoTime() - started) / 1e9;
        clientCpu = CLIENT.getProcessCpuTime() - clientCpu;
        serverCpu = SERVER == null ? -1 : cpuNanos(SERVER) - serverCpu;
        int n = perThread.stream().mapToInt(a -> a.length).sum();
        long[] all = new long[n];
        int i = 0;
        for (long[] a : perThread) {
            System.arraycopy(a, 0, all, i, a.length);
            i += a.length;
        }
        Arrays.sort(all);
        double rate = n / elapsed;
        boolean gateway = !Double.isNaN(reference) || name.startsWith("gateway");
        System.out.printf("%-40s %6d %12.0f %10.3f %10.3f %12s %12s %12.0f%n", name, concurrency, rate,
                all[(int) (0.5 * (n - 1))] / 1e6, all[(int) Math.ceil(0.99 * (n - 1))] / 1e6,
                Double.isNaN(reference) ? "" : String.format("%.1f %%", 100 * rate / reference),
                serverCpu < 0 || !gateway ? "" : String.format("%.0f", serverCpu / 1e3 / n), clientCpu / 1e3 / n);
        return rate;
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

    /** batch 28×28 images with a bright vertical stroke, values 0..255 as the model expects. */
    private static float[] pixels(int batch) {
        float[] p = new float[batch * 28 * 28];
        for (int b = 0; b < batch; b++) {
            for (int y = 4; y < 24; y++) {
                p[b * 784 + y * 28 + 13] = 255;
                p[b * 784 + y * 28 + 14] = 200;
            }
        }
        return p;
    }

    /** The model with its doc string set: the same weights under a different sha256. */
    private static byte[] withDocString(byte[] model, String doc) throws Exception {
        return dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto.parseFrom(model).toBuilder().setDocString(doc).build().toByteArray();
    }

    private static Path serverStat() {
        String pid = System.getenv("ANVIL_BENCH_SERVER_PID");
        Path stat = pid == null || pid.isBlank() ? null : Path.of("/proc", pid.trim(), "stat");
        return stat != null && Files.isReadable(stat) ? stat : null;
    }

    /** utime + stime of a process from /proc/<pid>/stat, in nanoseconds (clock ticks of 10 ms). */
    private static long cpuNanos(Path stat) throws Exception {
        String line = Files.readString(stat);
        String[] fields = line.substring(line.lastIndexOf(')') + 2).split(" ");
        // after "pid (comm) ", field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000_000L;
    }

    private static String env(String name, String fallback) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? fallback : v;
    }

    private ServingBench() {}
}
