package dev.anvil.modelkit.compile.tensorrt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.anvil.modelkit.compile.CnnMnistInt8Fixture;
import dev.anvil.modelkit.onnx.ModelSignature;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real engine on a real GPU: cnn_mnist built at float32, float16 and int8 (from the calibration table), each run
 * on the held-out MNIST images against ONNX Runtime FP32. Skipped, with the detection's reason, where TensorRT
 * cannot load (no GPU, or a build without -Pgpu).
 */
class TensorRtGpuTest {
    @TempDir
    static Path dir;
    static TensorRtBackend backend;
    static CnnMnistInt8Fixture fx;

    static final TensorRtRuntime.Availability AVAILABILITY = TensorRtRuntime.detect();

    @BeforeAll
    static void prepare() throws Exception {
        if (AVAILABILITY.available()) {
            backend = new JavaCppTensorRt();
            fx = CnnMnistInt8Fixture.prepare(dir);
        }
    }

    @BeforeEach
    void needsTensorRt() {
        // each test reports the skip and its reason (an assumption in @BeforeAll would hide both)
        assumeTrue(AVAILABILITY.available(), "TensorRT unavailable: " + AVAILABILITY.reason());
    }

    @Test
    void float32EngineAgreesWithOnnxRuntime() throws Exception {
        TensorRtVerifier.Report r = buildAndVerify(TensorRtPrecision.FP32);
        assertThat(r.comparison().top1Agreement()).isGreaterThanOrEqualTo(0.999);
        assertThat(r.comparison().maxAbsErrorProbabilities()).isLessThan(1e-3);
    }

    @Test
    void float16EngineKeepsTheTopOne() throws Exception {
        TensorRtVerifier.Report r = buildAndVerify(TensorRtPrecision.FP16);
        assertThat(r.comparison().top1Agreement()).isGreaterThanOrEqualTo(0.99);
    }

    @Test
    void int8EngineFromTheTableKeepsAccuracy() throws Exception {
        TensorRtVerifier.Report r = buildAndVerify(TensorRtPrecision.INT8);
        assertThat(r.comparison().accuracyDropPoints()).isLessThanOrEqualTo(1.0);
    }

    private TensorRtVerifier.Report buildAndVerify(TensorRtPrecision precision) throws Exception {
        OnnxModel model = OnnxModel.read(fx.float13);
        TensorRtModels.Prepared p = TensorRtModels.prepare(model, precision,
                precision == TensorRtPrecision.INT8 ? fx.table : null);
        List<ShapeProfile> profiles = ShapeProfiles.derive(ModelSignature.of(p.model().build()),
                Map.of("input_image", Map.of("min", List.of(1, 1, 28, 28), "opt", List.of(1, 1, 28, 28),
                        "max", List.of(32, 1, 28, 28))));
        long t0 = System.nanoTime();
        TensorRtBackend.Built built = backend.build(p.model().toBytes(), profiles, null, 1L << 30);
        double buildSeconds = (System.nanoTime() - t0) / 1e9;
        EngineManifest manifest = EngineManifest.of(built.plan(), "-", backend.device(), precision, profiles,
                built.inputs(), built.outputs());
        manifest.refuseUnlessRunsOn(backend.device());
        try (TensorRtBackend.Engine engine = backend.load(built.plan())) {
            TensorRtVerifier.Report r = TensorRtVerifier.compare(fx.float13, engine, fx.images.subList(0, 2000),
                    new int[] {1, 1, 28, 28}, fx.labels);
            System.out.printf("cnn_mnist tensorrt %s on %s: build %.1f s, plan %d B, timing cache %d B, agreement %.4f,"
                    + " accuracy %.4f -> %.4f, max abs prob %.3g, p50 %.1f us (onnxruntime cpu %.1f us)%n",
                    precision.specName(), backend.device(), buildSeconds, built.plan().length,
                    built.timingCache().length, r.comparison().top1Agreement(), r.comparison().referenceAccuracy(),
                    r.comparison().candidateAccuracy(), r.comparison().maxAbsErrorProbabilities(), r.engineP50Us(),
                    r.onnxRuntimeP50Us());
            return r;
        }
    }
}
