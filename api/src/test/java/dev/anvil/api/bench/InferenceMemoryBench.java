package dev.anvil.api.bench;

import static io.restassured.RestAssured.given;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.oneOf;

import dev.anvil.api.BreakGlass;
import dev.anvil.api.InspectModelResourceTest;
import dev.anvil.api.LocalStackResource;
import dev.anvil.api.TestTokens;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.RestAssured;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The gateway's memory under a burst of large requests, measured in the process that serves them (a
 * test's process hosts the API): 64 requests of 16 MiB (binary tensor data, just under
 * anvil.gateway.max-request-bytes) from 16 concurrent callers to a ReduceSum model, which answers with
 * one number so the memory is the requests'. Prints VmRSS at baseline, its peak during the burst, and
 * 10 s and 30 s after it. Callers refused with 429/503 wait Retry-After and send again, so every request is
 * served once. Run by bench/inference-memory.sh (not part of the test suite: its name is no *Test).
 */
@QuarkusTest
@TestProfile(InferenceMemoryBench.ProductionBodyLimit.class)
@QuarkusTestResource(value = LocalStackResource.class, restrictToAnnotatedClass = false)
class InferenceMemoryBench {
    /** The production body limit (the test stack's is 1 MiB); every other setting stays at its default. */
    public static class ProductionBodyLimit implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("anvil.gateway.max-request-bytes", "16777216");
        }
    }

    private static final int REQUESTS = Integer.parseInt(System.getenv().getOrDefault("ANVIL_BENCH_REQUESTS", "64"));
    private static final int CONCURRENCY = Integer.parseInt(System.getenv().getOrDefault("ANVIL_BENCH_CONCURRENCY", "16"));
    private static final int BODY_BYTES = 16 * 1024 * 1024;

    @Test
    void burstOfLargeRequests() throws Exception {
        TestTokens.signInAs(TestTokens.ADMIN);
        String sha = InspectModelResourceTest.upload(reduceSum().toByteArray());
        given().contentType("application/json").body(BreakGlass.with(Map.of("artifact", sha)))
                .when().put("/api/endpoints/summed").then().statusCode(oneOf(200, 201));
        await().atMost(Duration.ofMinutes(1)).until(() -> given().get("/v2/models/summed/ready").statusCode() == 200);

        // the largest tensor whose request fits the body limit with its JSON header
        int elements = (BODY_BYTES - 256) / Float.BYTES;
        String header = "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [1, " + elements
                + "], \"parameters\": {\"binary_data_size\": " + (elements * Float.BYTES) + "}}],"
                + " \"outputs\": [{\"name\": \"sum\"}]}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(json.length + elements * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        body.put(json);
        while (body.hasRemaining()) {
            body.putFloat(0.5f);
        }
        byte[] bytes = body.array();
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://localhost:" + RestAssured.port
                        + "/v2/models/summed/infer"))
                .header("Content-Type", "application/octet-stream")
                .header("Authorization", "Bearer " + TestTokens.INVOKER)
                .header("Inference-Header-Content-Length", Integer.toString(json.length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(bytes)).timeout(Duration.ofMinutes(5)).build();
        // one request first: the session and the code paths warm, so the baseline is the served state
        HttpResponse<String> first = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (first.statusCode() != 200) {
            throw new IllegalStateException("the warm-up request got " + first.statusCode() + ": " + first.body());
        }
        Thread.sleep(2000);

        long baseline = rssKb();
        long heapBefore = heapCommittedMb();
        long directBefore = directMb();
        AtomicLong peak = new AtomicLong(baseline);
        Thread sampler = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                peak.accumulateAndGet(rssKb(), Math::max);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        sampler.setDaemon(true);
        sampler.start();
        Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
        Map<Integer, String> refusals = new ConcurrentHashMap<>();
        AtomicInteger next = new AtomicInteger();
        long start = System.nanoTime();
        ExecutorService callers = Executors.newFixedThreadPool(CONCURRENCY);
        List<Future<?>> done = new ArrayList<>();
        for (int c = 0; c < CONCURRENCY; c++) {
            done.add(callers.submit(() -> {
                while (next.getAndIncrement() < REQUESTS) {
                    for (int attempt = 0; ; attempt++) {
                        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
                        statuses.computeIfAbsent(r.statusCode(), k -> new AtomicInteger()).incrementAndGet();
                        if (r.statusCode() != 200) {
                            refusals.putIfAbsent(r.statusCode(), r.body());
                        }
                        if ((r.statusCode() != 429 && r.statusCode() != 503) || attempt == 20) {
                            break;
                        }
                        long wait = r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L);
                        Thread.sleep(wait * 1000);
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get();
        }
        callers.shutdown();
        double took = (System.nanoTime() - start) / 1e9;
        long afterBurst = rssKb();
        Thread.sleep(10_000);
        sampler.interrupt();
        long after10 = rssKb();
        long heapAfter10 = heapCommittedMb();
        // deploy/jvm-memory.options has G1 return the heap after 15 s without a collection
        Thread.sleep(20_000);
        long after30 = rssKb();
        String line = String.format("inference memory: %d requests of %d bytes at %d concurrent in %.1f s; "
                        + "answers %s; VmRSS baseline %d MB, peak %d MB, at the end of the burst %d MB, 10 s after %d MB,"
                        + " 30 s after %d MB (heap committed: baseline %d MB, 10 s after %d MB, 30 s after %d MB;"
                        + " direct buffers: baseline %d MB, 30 s after %d MB)",
                REQUESTS, bytes.length, CONCURRENCY, took, new TreeMap<>(statuses), baseline / 1024, peak.get() / 1024,
                afterBurst / 1024, after10 / 1024, after30 / 1024, heapBefore, heapAfter10, heapCommittedMb(),
                directBefore, directMb());
        refusals.forEach((status, answer) -> System.out.println("first " + status + ": " + answer));
        System.out.println(line);
        String out = System.getenv("INFERENCE_BENCH_OUT");
        if (out != null) {
            Files.writeString(Path.of(out), line + "\n");
        }
    }

    private static long heapCommittedMb() {
        return java.lang.management.ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getCommitted() >> 20;
    }

    /** Native memory held by direct buffers (freed or not yet collected). */
    private static long directMb() {
        return java.lang.management.ManagementFactory.getPlatformMXBeans(java.lang.management.BufferPoolMXBean.class)
                .stream().filter(b -> b.getName().equals("direct")).mapToLong(b -> b.getMemoryUsed()).sum() >> 20;
    }

    private static long rssKb() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (java.io.IOException e) {
            // not Linux: no figure
        }
        return -1;
    }

    /** sum = ReduceSum(x) over x of FP32 [1, n]: a model that takes any size of tensor and answers one number. */
    private static ModelProto reduceSum() {
        TypeProto in = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("n")))).build();
        TypeProto out = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1))
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(1)))).build();
        GraphProto graph = GraphProto.newBuilder().setName("summed")
                .addInput(ValueInfoProto.newBuilder().setName("x").setType(in))
                .addOutput(ValueInfoProto.newBuilder().setName("sum").setType(out))
                .addNode(NodeProto.newBuilder().setOpType("ReduceSum").setName("sum").addInput("x").addOutput("sum"))
                .build();
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("anvil-bench").setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).build();
    }
}
