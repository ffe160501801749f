package dev.anvil.serving;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.onnx.NonTensorModels;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * What drift sampling costs the gateway: the engine under POST /v2/models/{name}/infer (decode the v2 JSON body,
 * run ONNX Runtime, write the answer) for 10,000 requests, with sampling off and on (reservoir, per-feature
 * histograms, predicted classes), one thread, in rounds that alternate the two; prints the median per 10,000
 * requests of each side by side. Run by bench/drift.sh; in the serving package for the gateway's engine methods.
 */
public final class DriftBench {
    private static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();

    public static void main(String[] args) throws Exception {
        int requests = Integer.parseInt(System.getProperty("anvil.bench.requests", "10000"));
        int rounds = Integer.parseInt(System.getProperty("anvil.bench.rounds", "5"));
        int sampleSize = Integer.parseInt(System.getProperty("anvil.bench.sampleSize",
                Integer.toString(DriftSampler.DEFAULT_CAPACITY)));
        System.out.printf(Locale.ROOT, "drift sampling cost: %d requests per measurement, median of %d rounds,"
                + " reservoir %d rows, one thread, %s%n", requests, rounds, sampleSize, System.getProperty("os.arch"));
        System.out.printf(Locale.ROOT, "%-28s %8s %14s %14s %12s %12s %18s%n", "model", "features", "off ms/10k",
                "on ms/10k", "overhead", "on req/s", "sampling ms/10k");
        bench("iris classifier [1, 4]", NonTensorModels.classifier(false), "features", 4, 1, requests, rounds,
                sampleSize);
        bench("iris classifier [32, 4]", NonTensorModels.classifier(false), "features", 4, 32, requests, rounds,
                sampleSize);
        if (args.length > 0 && Files.isRegularFile(Path.of(args[0]))) {
            byte[] mnist = Files.readAllBytes(Path.of(args[0]));
            bench("cnn_mnist [1, 1, 28, 28]", mnist, "input_image", 784, 1, requests, rounds, sampleSize);
        } else {
            System.out.println("cnn_mnist: no model at " + (args.length > 0 ? args[0] : "(none given)")
                    + ", row not measured");
        }
    }

    private static void bench(String label, byte[] onnx, String input, int features, int batch, int requests,
                              int rounds, int sampleSize) throws Exception {
        LoadedModel model = new LoadedModel("bench", ENV.createSession(onnx, new OrtSession.SessionOptions()), 1);
        try {
            List<byte[]> bodies = bodies(input, features, batch, 64);
            DriftSampler off = DriftSampler.off();
            DriftSampler on = new DriftSampler(sampleSize, 1);
            run(model, off, bodies, 2_000); // warm-up: JIT and ONNX Runtime
            run(model, on, bodies, 2_000);
            List<Long> offNanos = new ArrayList<>();
            List<Long> onNanos = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                offNanos.add(run(model, off, bodies, requests));
                onNanos.add(run(model, on, bodies, requests));
            }
            double offMs = median(offNanos) / 1e6 * 10_000 / requests;
            double onMs = median(onNanos) / 1e6 * 10_000 / requests;
            List<Long> aloneNanos = new ArrayList<>();
            for (int r = 0; r < rounds; r++) {
                aloneNanos.add(samplingAlone(model, new DriftSampler(sampleSize, 1), bodies, requests));
            }
            double aloneMs = median(aloneNanos) / 1e6 * 10_000 / requests;
            System.out.printf(Locale.ROOT, "%-28s %8d %14.1f %14.1f %11.1f%% %12.0f %18.1f%n", label, features, offMs,
                    onMs, (onMs / offMs - 1) * 100, 10_000 / (onMs / 1000), aloneMs);
            if (on.windows().isEmpty() || on.windows().get(0).sample().isEmpty()) {
                System.out.println("  (sampling kept nothing for this model: the 'on' figure is not a sampling cost)");
            }
        } finally {
            model.retire();
        }
    }

    private static long run(LoadedModel model, DriftSampler sampler, List<byte[]> bodies, int requests) {
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
            byte[] body = bodies.get(i % bodies.size());
            ByteBuffer buffer = ByteBuffer.allocateDirect(body.length).put(body).flip();
            try (V2Request request = V2RequestReader.read(ENV, model, buffer, -1)) {
                sampler.offerInputs("bench", 1, request.inputs());
                Gateway.run("bench", 1, false, model, request, sampler);
            }
        }
        return System.nanoTime() - start;
    }

    /**
     * The sampler's own work for {@code requests} requests (inputs and outputs offered), on requests decoded and
     * answered once beforehand: the cost sampling adds, without inference's noise around it.
     */
    private static long samplingAlone(LoadedModel model, DriftSampler sampler, List<byte[]> bodies, int requests)
            throws Exception {
        List<V2Request> decoded = new ArrayList<>();
        List<OrtSession.Result> results = new ArrayList<>();
        try {
            for (byte[] body : bodies) {
                V2Request request = V2RequestReader.read(ENV, model, ByteBuffer.allocateDirect(body.length).put(body)
                        .flip(), -1);
                decoded.add(request);
                results.add(model.session().run(request.inputs(), request.outputs()));
            }
            long start = System.nanoTime();
            for (int i = 0; i < requests; i++) {
                int k = i % decoded.size();
                sampler.offerInputs("bench", 1, decoded.get(k).inputs());
                sampler.offerOutputs("bench", 1, results.get(k));
            }
            return System.nanoTime() - start;
        } finally {
            results.forEach(OrtSession.Result::close);
            decoded.forEach(V2Request::close);
        }
    }

    private static List<byte[]> bodies(String input, int features, int batch, int count) {
        Random random = new Random(3);
        List<byte[]> bodies = new ArrayList<>();
        String shape = features == 784 ? "[" + batch + ", 1, 28, 28]" : "[" + batch + ", " + features + "]";
        for (int b = 0; b < count; b++) {
            StringBuilder data = new StringBuilder();
            for (int i = 0; i < batch * features; i++) {
                data.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", random.nextFloat()));
            }
            bodies.add(("{\"inputs\": [{\"name\": \"" + input + "\", \"datatype\": \"FP32\", \"shape\": " + shape
                    + ", \"data\": [" + data + "]}]}").getBytes(StandardCharsets.UTF_8));
        }
        return bodies;
    }

    private static double median(List<Long> values) {
        long[] sorted = values.stream().mapToLong(Long::longValue).toArray();
        Arrays.sort(sorted);
        return sorted.length % 2 == 1 ? sorted[sorted.length / 2]
                : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2.0;
    }
}
