package dev.anvil.activities.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.Relation;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.compile.tensorrt.GpuDevice;
import dev.anvil.modelkit.compile.tensorrt.ShapeProfile;
import dev.anvil.modelkit.compile.tensorrt.TensorRtBackend;
import dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime;
import dev.anvil.modelkit.compile.tensorrt.TensorSpec;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * compile with target tensorrt against the local stack's S3 and PostgreSQL, everything but the GPU real: the
 * TensorRT backend is a stand-in that "builds" by keeping the ONNX bytes it was given and "runs" them in ONNX
 * Runtime, so what is tested is the operator around TensorRT (options, profiles, the model handed to TensorRT per
 * precision, the calibration table check, the manifest and its hardware check, the agreement floor, publishing only
 * after verification). A real engine is TensorRtGpuTest's (modelkit), which needs a GPU.
 */
class TensorRtCompileOperatorTest {
    static final GpuDevice A100 = new GpuDevice("NVIDIA A100-SXM4-80GB", "8.0", "13.3", "13.3", "11.2.0");
    static final GpuDevice H100 = new GpuDevice("NVIDIA H100 80GB HBM3", "9.0", "13.3", "13.3", "11.2.0");
    static final Map<String, Object> SHAPES = Map.of("input_image", Map.of("min", List.of(1, 1, 28, 28),
            "opt", List.of(1, 1, 28, 28), "max", List.of(16, 1, 28, 28)));

    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static String model;
    static String model13;
    static String evaluation;
    static Map<String, Object> table;
    static Map<String, Object> otherTable;

    @BeforeAll
    static void start() throws Exception {
        CnnMnistCompileFixture fixture = CnnMnistCompileFixture.open("compile_trt", "compile-trt-test", dir, 300);
        stores = fixture.stores;
        io = fixture.io;
        model = fixture.model;
        model13 = fixture.model13;
        evaluation = fixture.evaluation;
        table = fixture.table;
        otherTable = fixture.otherTable;
    }

    static final class Attempt implements TaskContext {
        final long taskRunId;

        Attempt() {
            String runId = "run-" + UUID.randomUUID();
            stores.runs().create(runId, "test", "{}", "tester");
            taskRunId = stores.taskRuns().start(runId, "compile", 1, "compile", "{}");
        }

        public String runId() { return "r"; }
        public String taskId() { return "compile"; }
        public long taskRunId() { return taskRunId; }
        public void heartbeat(Object progress) {}

        List<String> edges() {
            return stores.lineage().edgesOf(taskRunId).stream().map(e -> e.relation() + "/" + e.role()).toList();
        }

        boolean publishedNothing() {
            return stores.lineage().edgesOf(taskRunId).stream().map(LineageEdge::relation)
                    .noneMatch(r -> r == Relation.GENERATED);
        }
    }

    /** The GPU's stand-in: the "plan" is the ONNX model TensorRT would have parsed, run in ONNX Runtime. */
    static final class StandIn implements TensorRtBackend {
        static final byte[] MARKER = "stand-in plan\n".getBytes(StandardCharsets.UTF_8);
        final GpuDevice device;
        final boolean scrambled;
        byte[] parsed;
        List<ShapeProfile> profiles;
        byte[] timingCacheGiven;

        StandIn(GpuDevice device, boolean scrambled) {
            this.device = device;
            this.scrambled = scrambled;
        }

        @Override
        public GpuDevice device() {
            return device;
        }

        @Override
        public Built build(byte[] onnx, List<ShapeProfile> profiles, byte[] timingCache, long workspaceBytes) {
            this.parsed = onnx;
            this.profiles = profiles;
            this.timingCacheGiven = timingCache;
            byte[] cache = ("timing cache of " + device.name()).getBytes(StandardCharsets.UTF_8);
            // a plan of its own bytes (the store is content-addressed): a marker, then the ONNX model
            byte[] plan = new byte[MARKER.length + onnx.length];
            System.arraycopy(MARKER, 0, plan, 0, MARKER.length);
            System.arraycopy(onnx, 0, plan, MARKER.length, onnx.length);
            return new Built(plan, cache, List.of(new TensorSpec("input_image", "kFLOAT", List.of(-1L, 1L, 28L, 28L))),
                    List.of(new TensorSpec("out", "kFLOAT", List.of(-1L, 10L))), timingCache != null);
        }

        @Override
        public Engine load(byte[] plan) {
            try {
                OrtEnvironment env = OrtEnvironment.getEnvironment();
                OrtSession session = dev.anvil.modelkit.onnx.OrtSessions.open(env, OnnxModel.parse(
                        java.util.Arrays.copyOfRange(plan, MARKER.length, plan.length)).build(),
                        new OrtSession.SessionOptions());
                String input = session.getInputNames().iterator().next();
                return new Engine() {
                    @Override
                    public float[] run(float[] x, long[] shape) {
                        try (OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                                OrtSession.Result r = session.run(Map.of(input, t))) {
                            float[] out = ((float[][]) r.get(0).getValue())[0];
                            if (scrambled) {
                                float[] rolled = new float[out.length];
                                for (int i = 0; i < out.length; i++) {
                                    rolled[(i + 1) % out.length] = out[i];
                                }
                                return rolled;
                            }
                            return out;
                        } catch (OrtException e) {
                            throw new IllegalStateException(e);
                        }
                    }

                    @Override
                    public void close() {
                        try {
                            session.close();
                        } catch (OrtException e) {
                            throw new IllegalStateException(e);
                        }
                    }
                };
            } catch (OrtException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    static CompileOperator on(StandIn gpu) {
        return new CompileOperator(io, () -> TensorRtRuntime.Availability.of(gpu.device), d -> gpu);
    }

    static Map<String, Object> with(Object... kv) {
        Map<String, Object> w = new LinkedHashMap<>();
        w.put("target", "tensorrt");
        w.put("dataset", evaluation);
        for (int i = 0; i < kv.length; i += 2) {
            w.put((String) kv[i], kv[i + 1]);
        }
        return w;
    }

    @SuppressWarnings("unchecked")
    static String sha(Map<String, Object> outputs, String key) {
        return (String) ((Map<String, Object>) outputs.get(key)).get("sha256");
    }

    JsonNode manifestOf(Map<String, Object> outputs) throws Exception {
        return new ObjectMapper().readTree(Files.readAllBytes(io.fetch(io.resolve("compile", outputs,
                "engine_manifest"), ".json")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void float32IsBuiltVerifiedAndPublishedWithItsManifestAndTimingCache() throws Exception {
        StandIn gpu = new StandIn(A100, false);
        Attempt attempt = new Attempt();
        Map<String, Object> out = on(gpu).run(attempt, with("model", model, "shapes", SHAPES));

        Map<String, Object> report = (Map<String, Object>) out.get("report");
        Map<String, Object> v = (Map<String, Object>) report.get("verification");
        assertThat(((Number) v.get("samples")).intValue()).isEqualTo(300);
        assertThat((double) v.get("top1_agreement")).isEqualTo(1.0);
        assertThat(v).containsKeys("latency_p50_us", "latency_p95_us", "onnxruntime_latency_p50_us", "accuracy");
        assertThat(report.get("precision")).isEqualTo("float32");
        assertThat((Map<String, Object>) report.get("device")).containsEntry("gpu_name", A100.name())
                .containsEntry("compute_capability", "8.0");
        // TensorRT got the model as given and the declared profile
        assertThat(gpu.parsed).isEqualTo(Files.readAllBytes(SharedData.cnnMnist()));
        assertThat(gpu.profiles.get(0).max()).containsExactly(16L, 1L, 28L, 28L);

        JsonNode manifest = manifestOf(out);
        assertThat(manifest.get("gpu_name").asText()).isEqualTo(A100.name());
        assertThat(manifest.get("compute_capability").asText()).isEqualTo("8.0");
        assertThat(manifest.get("tensorrt_version").asText()).isEqualTo("11.2.0");
        assertThat(manifest.get("cuda_version").asText()).isEqualTo("13.3");
        assertThat(manifest.get("plan_sha256").asText()).isEqualTo(sha(out, "engine"));
        assertThat(manifest.get("profiles").get(0).get("max").toString()).isEqualTo("[16,1,28,28]");
        assertThat(((Map<String, Object>) out.get("engine")).get("media_type") != null
                ? ((Map<String, Object>) out.get("engine")).get("media_type")
                : ((Map<String, Object>) out.get("engine")).get("mediaType")).isEqualTo(TensorRtCompile.PLAN_MEDIA_TYPE);
        assertThat(attempt.edges()).contains("USED/model", "USED/evaluation_dataset", "GENERATED/engine",
                "GENERATED/engine_manifest", "GENERATED/timing_cache");

        // the timing cache goes back in on the next build
        StandIn again = new StandIn(A100, false);
        Map<String, Object> second = on(again).run(new Attempt(), with("model", model, "shapes", SHAPES,
                "timing_cache", out.get("timing_cache")));
        assertThat((Map<String, Object>) ((Map<String, Object>) second.get("report")).get("timing_cache"))
                .containsEntry("given", true).containsEntry("used", true);
        assertThat(new String(again.timingCacheGiven, StandardCharsets.UTF_8)).isEqualTo("timing cache of "
                + A100.name());
    }

    @Test
    void aDynamicInputWithoutAProfileIsRefusedBeforeAnythingElse() {
        Attempt attempt = new Attempt();
        StandIn gpu = new StandIn(A100, false);
        assertThatThrownBy(() -> on(gpu).run(attempt, with("model", model)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("compile: input 'input_image' has dynamic dimensions [?, 1, 28, 28]")
                .hasMessageContaining("with.shapes.input_image");
        assertThat(gpu.parsed).isNull();
        assertThat(attempt.edges()).containsExactly("USED/model");
    }

    @Test
    void aProfileThatDoesNotAdmitTheSamplesIsRefusedBeforeTheBuild() {
        Attempt attempt = new Attempt();
        StandIn gpu = new StandIn(A100, false);
        assertThatThrownBy(() -> on(gpu).run(attempt, with("model", model, "shapes",
                Map.of("input_image", List.of(8, 1, 28, 28)))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("batch-1 samples of shape [1, 1, 28, 28]");
        assertThat(gpu.parsed).isNull();
        assertThat(attempt.publishedNothing()).isTrue();
    }

    @Test
    @SuppressWarnings("unchecked")
    void int8FromTheCalibrationTableHandsTensorRtASymmetricQdqModel() throws Exception {
        StandIn gpu = new StandIn(A100, false);
        Attempt attempt = new Attempt();
        Map<String, Object> out = on(gpu).run(attempt, with("model", model13, "precision", "int8",
                "calibration_table", table, "shapes", SHAPES));
        OnnxModel parsed = OnnxModel.parse(gpu.parsed);
        assertThat(parsed.graph().proto().getNodeList()).anyMatch(n -> n.getOpType().equals("QuantizeLinear"));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        assertThat((Map<String, Object>) report.get("calibration")).containsEntry("same_model_file", true);
        Map<String, Object> v = (Map<String, Object>) report.get("verification");
        System.out.println("tensorrt int8 (stand-in: the QDQ model in ONNX Runtime) verification: " + v);
        assertThat((double) v.get("top1_agreement")).isGreaterThanOrEqualTo(0.98);
        assertThat(manifestOf(out).get("precision").asText()).isEqualTo("int8");
        assertThat(attempt.edges()).contains("USED/calibration_table", "GENERATED/engine");
    }

    @Test
    void aCalibrationTableOfAnotherModelIsRefusedAndNothingIsBuiltOrPublished() {
        StandIn gpu = new StandIn(A100, false);
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> on(gpu).run(attempt, with("model", model13, "precision", "int8",
                "calibration_table", otherTable, "shapes", SHAPES)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("the calibration table has no range for")
                .hasMessageContaining("input_image")
                .hasMessageContaining("measured on model " + "f".repeat(64));
        assertThat(gpu.parsed).isNull();
        assertThat(attempt.publishedNothing()).isTrue();
    }

    @Test
    void anEngineMovedToOtherHardwareIsRefusedWithTheReasonAndNothingIsPublished() throws Exception {
        Map<String, Object> built = on(new StandIn(A100, false)).run(new Attempt(), with("model", model, "shapes",
                SHAPES));
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> on(new StandIn(H100, false)).run(attempt, with("model", model, "engine",
                built.get("engine_manifest"))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("was built for another GPU or TensorRT")
                .hasMessageContaining("GPU model NVIDIA A100-SXM4-80GB (this worker: NVIDIA H100 80GB HBM3)")
                .hasMessageContaining("compute capability 8.0 (this worker: 9.0)");
        // refused from the manifest: the plan was not even fetched
        assertThat(attempt.edges()).containsExactlyInAnyOrder("USED/model", "USED/engine_manifest");

        // where it was built, the same engine is verified and nothing new is published
        Attempt same = new Attempt();
        Map<String, Object> verified = on(new StandIn(A100, false)).run(same, with("model", model, "engine",
                built.get("engine_manifest")));
        assertThat(sha(verified, "engine")).isEqualTo(sha(built, "engine"));
        assertThat(same.publishedNothing()).isTrue();
        assertThat(same.edges()).contains("USED/engine", "USED/engine_manifest");
    }

    @Test
    void anEngineThatDisagreesWithOnnxRuntimeIsNotPublished() {
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> on(new StandIn(A100, true)).run(attempt, with("model", model, "shapes", SHAPES)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("under min_agreement 0.98")
                .hasMessageContaining("nothing was published");
        assertThat(attempt.publishedNothing()).isTrue();
    }

    @Test
    void badOptionsAreRefusedBeforeAnyDownload() {
        StandIn gpu = new StandIn(A100, false);
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> on(gpu).run(attempt, Map.of("model", model, "target", "tensorrt")))
                .hasMessageContaining("target tensorrt needs with.dataset");
        assertThatThrownBy(() -> on(gpu).run(attempt, with("model", model, "precision", "float32",
                "calibration_table", table)))
                .hasMessageContaining("with.calibration_table applies to precision int8 only");
        assertThatThrownBy(() -> on(gpu).run(attempt, with("model", model, "engine", "ab".repeat(32), "shapes",
                SHAPES)))
                .hasMessageContaining("with.engine verifies an engine already built; with.shapes only applies to a"
                        + " build");
        assertThatThrownBy(() -> on(gpu).run(attempt, with("model", model, "io", "int8")))
                .hasMessageContaining("with.io applies to target tflite only");
        assertThatThrownBy(() -> on(gpu).run(attempt, with("model", model, "precision", "int4")))
                .hasMessageContaining("precision must be float32, float16 or int8, got int4");
        assertThat(attempt.edges()).isEmpty();
    }
}
