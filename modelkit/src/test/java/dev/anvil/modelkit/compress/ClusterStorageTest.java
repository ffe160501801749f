package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How clustered weights are stored: uniform codebooks as scale and zero point, packed 4-bit indices. */
class ClusterStorageTest {
    @TempDir
    Path dir;

    private static float[] input(int rows, int cols) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i % 11) - 5;
        }
        return x;
    }

    private static long nodes(OnnxModel model, String opType) {
        return model.graph().nodes().stream().filter(n -> n.getOpType().equals(opType)).count();
    }

    @Test
    void weightsOnAnEvenGridKeepAScaleAndZeroPointAndAreRebuiltExactly() throws Exception {
        // 4 values, evenly spaced with 0 on the grid: k-means returns them and nothing moves
        float[] grid = {-0.5f, -0.25f, 0f, 0.25f};
        int k = 7;
        int n = 9; // 63 weights: not a multiple of 8, so the unpacking cuts the padding
        float[] w = new float[k * n];
        for (int i = 0; i < w.length; i++) {
            w[i] = grid[(i / n + i % n) % 4]; // every column (channel) holds all four
        }
        float[] x = input(3, k);
        float[] expected = CompressTestModels.run(CompressTestModels.matmul(w, k, n), x, 3, k);
        for (boolean perChannel : new boolean[] {false, true}) {
            for (boolean pack : new boolean[] {false, true}) {
                OnnxModel model = CompressTestModels.matmul(w, k, n);
                ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(2, ClusterOptions.Init.LINEAR,
                        0, perChannel, 50, Set.of(), false, pack));
                ClusterReport.Layer l = report.layers().get(0);
                assertThat(l.leftAlone()).isNull();
                assertThat(l.storage()).isEqualTo(ClusterReport.SCALE_ZERO_POINT);
                assertThat(l.packedIndices()).isEqualTo(pack);
                assertThat(l.meanSquaredError()).isZero();
                assertThat(nodes(model, "Gather")).isZero();
                assertThat(model.graph().initializers().keySet()).noneMatch(name -> name.contains("codebook"));
                assertThat(CompressTestModels.run(model, x, 3, k)).containsExactly(expected);
                long indexBytes = model.graph().initializers().values().stream()
                        .filter(t -> t.getName().contains("_cluster_idx") || t.getName().equals("q2"))
                        .mapToLong(Tensors::storedBytes).sum();
                assertThat(indexBytes).isEqualTo(pack ? 16 : 63); // 63 2-bit indices: 8 groups of 8 in 2 bytes each
            }
        }
    }

    @Test
    void unevenCodebooksStayGatherAndPackedIndicesRebuildThemExactly() throws Exception {
        float[] values = {-1.5f, 0.25f, 2f, 7f};
        float[] w = new float[7 * 9];
        for (int i = 0; i < w.length; i++) {
            w[i] = values[(i + i / 9) % 4];
        }
        float[] x = input(2, 7);
        float[] expected = CompressTestModels.run(CompressTestModels.matmul(w, 7, 9), x, 2, 7);
        for (boolean perChannel : new boolean[] {false, true}) {
            OnnxModel model = CompressTestModels.matmul(w, 7, 9);
            ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(2, ClusterOptions.Init.KMEANS_PP, 3,
                    perChannel, 50, Set.of(), false, true));
            assertThat(report.layers().get(0).storage()).isEqualTo(ClusterReport.GATHER);
            assertThat(report.layers().get(0).packedIndices()).isTrue();
            assertThat(nodes(model, "Gather")).isOne();
            assertThat(CompressTestModels.run(model, x, 2, 7)).containsExactly(expected);
        }
    }

    @Test
    void uniformOptionSpansMinToMaxWithAnExactZero() throws Exception {
        float[] w = new float[64 * 8];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) Math.sin(i * 0.37) * (1 + i % 3);
        }
        float[] x = input(4, 64);
        float[] expected = CompressTestModels.run(CompressTestModels.gemm(w, 64, 8, false, new float[8]), x, 4, 64);
        for (boolean perChannel : new boolean[] {false, true}) {
            OnnxModel model = CompressTestModels.gemm(w, 64, 8, false, new float[8]);
            ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0,
                    perChannel, 50, Set.of(), true, true));
            ClusterReport.Layer l = report.layers().get(0);
            assertThat(l.storage()).isEqualTo(ClusterReport.SCALE_ZERO_POINT);
            // 4 bits per index plus scale and zero point (per channel: 8 of each), the shape, and the unpacking's
            // constants (about 140 bytes per stream, counted with its first layer: here 2.2 bits over 512 weights)
            assertThat(l.storedBitsPerWeight()).isLessThan(perChannel ? 7.5 : 6.5);
            // a 16-level grid over [-3, 3], step 0.4: rounding alone would give step²/12
            assertThat(l.meanSquaredError()).isLessThan(0.4 * 0.4 / 6);
            // the graph rebuilds (q - zero point) × scale from the packed indices: x · that, computed here
            Map<String, TensorProto> init = model.graph().initializers();
            byte[] packed = init.get("q4").getRawData().toByteArray();
            float[] scale = Tensors.toFloats(init.values().stream().filter(t -> t.getName().endsWith("_scale"))
                    .findFirst().orElseThrow());
            float[] zero = Tensors.toFloats(init.values().stream()
                    .filter(t -> t.getName().endsWith("_zp")).findFirst().orElseThrow());
            assertThat(packed).hasSize(w.length / 2);
            float[] rebuilt = new float[w.length];
            for (int i = 0; i < w.length; i++) {
                int q = WeightClusterer.unpack(packed, 4, w.length)[i];
                int c = perChannel ? i % 8 : 0;
                rebuilt[i] = (q - zero[c]) * scale[c];
                assertThat(Math.abs(rebuilt[i] - w[i])).isLessThanOrEqualTo(scale[c] * 1.01f);
            }
            float[] actual = CompressTestModels.run(model, x, 4, 64);
            float[] direct = CompressTestModels.run(CompressTestModels.gemm(rebuilt, 64, 8, false, new float[8]), x, 4, 64);
            assertThat(actual).containsExactly(direct);
            assertThat(actual).isNotEqualTo(expected);
            assertThat(model.proto().getMetadataPropsList()).anySatisfy(p -> assertThat(p.getValue()).startsWith("uniform 16"));
        }
    }

    @Test
    void packingPutsTheEvenIndexInTheLowNibble() {
        assertThat(WeightClusterer.pack(new byte[] {1, 2, 15, 0, 7}, 4)).containsExactly(0x21, 0x0f, 0x07, 0);
    }

    @Test
    void belowOpset7TheCodebookStaysGatherAndIndicesUnpacked() {
        float[] grid = {-0.5f, -0.25f, 0f, 0.25f};
        float[] w = new float[16 * 8];
        for (int i = 0; i < w.length; i++) {
            w[i] = grid[(i + i / 8) % 4];
        }
        OnnxModel model = CompressTestModels.gemm(w, 16, 8, false, new float[8]);
        model.setOpset("", 6);
        ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(2, ClusterOptions.Init.LINEAR, 0, false,
                50, Set.of()));
        assertThat(report.layers().get(0).storage()).isEqualTo(ClusterReport.GATHER);
        assertThat(report.layers().get(0).packedIndices()).isFalse();
        OnnxModel packed = CompressTestModels.gemm(w, 16, 8, false, new float[8]);
        packed.setOpset("", 6);
        assertThat(WeightClusterer.cluster(packed, new ClusterOptions(2, ClusterOptions.Init.LINEAR, 0, false, 50,
                Set.of(), false, true)).layers().get(0).packedIndices()).isFalse();
        // (ONNX Runtime has no kernels for opset 6 Gemm, so the graph is checked, not run)
        assertThat(nodes(model, "Gather")).isOne();
        assertThat(nodes(model, "Div")).isZero();
    }

    /**
     * Why a uniform codebook is rebuilt by Cast, Sub and Mul rather than DequantizeLinear: at the extended
     * optimisation level (the default is all) the pinned ONNX Runtime takes DequantizeLinear → MatMul/Gemm for a
     * quantised model and requantises, so the result is no longer the clustered weight. If this starts to fail,
     * DequantizeLinear has become safe to emit.
     */
    @Test
    void onnxRuntimeRequantisesADequantizeLinearWeight() throws Exception {
        // W = (q - 2) × 0.25 for q in 0..3, exactly representable; x · W computed exactly in float
        byte[] q = new byte[8 * 4];
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) ((i + i / 4) % 4);
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("dq")
                .addInput(CompressTestModels.value("x", -1, 8)).addOutput(CompressTestModels.value("y", -1, 4))
                .addInitializer(Tensors.bytes("q", TensorProto.DataType.UINT8, new long[] {8, 4}, q))
                .addInitializer(Tensors.floats("s", new long[0], new float[] {0.25f}))
                .addInitializer(Tensors.bytes("z", TensorProto.DataType.UINT8, new long[0], new byte[] {2}))
                .addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName("dq").addInput("q").addInput("s")
                        .addInput("z").addOutput("w"))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("mm").addInput("x").addInput("w").addOutput("y"));
        OnnxModel model = CompressTestModels.model(g, 13);
        float[] x = {-3, -2, -1, 0, 1, 2, 3, 4};
        float[] exact = new float[4];
        for (int j = 0; j < 4; j++) {
            for (int i = 0; i < 8; i++) {
                exact[j] += x[i] * ((q[i * 4 + j] - 2) * 0.25f);
            }
        }
        float[] unoptimised = run(model, x, OrtSession.SessionOptions.OptLevel.BASIC_OPT);
        float[] optimised = run(model, x, OrtSession.SessionOptions.OptLevel.ALL_OPT);
        System.out.println("DequantizeLinear -> MatMul: exact " + java.util.Arrays.toString(exact) + ", basic "
                + java.util.Arrays.toString(unoptimised) + ", all " + java.util.Arrays.toString(optimised));
        assertThat(unoptimised).containsExactly(exact);
        assertThat(optimised).isNotEqualTo(exact);
    }

    private static float[] run(OnnxModel model, float[] x, OrtSession.SessionOptions.OptLevel level) throws OrtException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(level);
            try (OrtSession s = CompressTestModels.ENV.createSession(model.toBytes(), so);
                    OnnxTensor in = OnnxTensor.createTensor(CompressTestModels.ENV, java.nio.FloatBuffer.wrap(x),
                            new long[] {1, x.length});
                    OrtSession.Result r = s.run(Map.of("x", in))) {
                java.nio.FloatBuffer out = ((OnnxTensor) r.get(0)).getFloatBuffer();
                float[] y = new float[out.remaining()];
                out.get(y);
                return y;
            }
        }
    }

    /**
     * Why indices are packed into uint8 and unpacked by Div/Mul/Sub rather than stored as UINT4: UINT4 needs
     * opset 21 for the whole model (cnn_mnist is opset 9); the pinned ONNX Runtime does run a UINT4 initializer.
     */
    @Test
    void onnxRuntimeRunsAUint4Initializer() throws Exception {
        int uint4 = 21; // TensorProto.DataType.UINT4, newer than the vendored onnx-ml.proto
        TensorProto q4 = TensorProto.newBuilder().setName("q").setDataType(uint4).addDims(4)
                .setRawData(ByteString.copyFrom(new byte[] {0x21, (byte) 0xf3})).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("uint4").addInitializer(q4)
                .addInitializer(Tensors.floats("s", new long[0], new float[] {0.5f}))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                                .setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder()
                                        .setDimValue(4))))))
                .addNode(NodeProto.newBuilder().setOpType("DequantizeLinear").setName("dq").addInput("q").addInput("s")
                        .addOutput("y"));
        OnnxModel model = CompressTestModels.model(g, 21);
        model.proto().setIrVersion(10);
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions();
                OrtSession s = CompressTestModels.ENV.createSession(model.toBytes(), so);
                OrtSession.Result r = s.run(Map.of())) {
            float[] y = new float[4];
            ((OnnxTensor) r.get(0)).getFloatBuffer().get(y);
            assertThat(y).containsExactly(0.5f, 1f, 1.5f, 7.5f);
        }
    }

    @Test
    void cnnMnistPackedIndicesAndUniformCodebooks() throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        long original = Files.size(mnist.model());
        for (boolean uniform : new boolean[] {false, true}) {
            for (boolean pack : new boolean[] {false, true}) {
                OnnxModel model = OnnxModel.read(mnist.model());
                ClusterReport report = WeightClusterer.cluster(model, new ClusterOptions(4, ClusterOptions.Init.LINEAR,
                        0, false, 50, Set.of(), uniform, pack));
                Path out = dir.resolve("clustered-" + uniform + "-" + pack + ".onnx");
                model.write(out);
                ModelComparator.Comparison c = new ModelComparator(CompressTestModels.ENV).compare(out, mnist.model(),
                        mnist.evaluation(), ModelComparator.Pooling.NONE, 64, 0, (done, total) -> {});
                long params = report.layers().stream().filter(l -> l.leftAlone() == null)
                        .mapToLong(ClusterReport.Layer::params).sum();
                long bytes = report.layers().stream().filter(l -> l.leftAlone() == null)
                        .mapToLong(ClusterReport.Layer::bytesAfter).sum();
                System.out.printf("cnn_mnist 4 bits %s, %s: storage %s, %.3f stored bits/weight over clustered layers,"
                        + " file %d -> %d bytes (%.1f%%), float %.2f%%, clustered %.2f%%, agreement %.4f%n",
                        uniform ? "uniform" : "k-means linear", pack ? "packed" : "one index per byte",
                        report.layers().stream().map(ClusterReport.Layer::storage).toList(), 8.0 * bytes / params,
                        original, Files.size(out), 100.0 * Files.size(out) / original, 100 * c.referenceAccuracy(),
                        100 * c.candidateAccuracy(), c.top1Agreement());
                assertThat(c.samples()).isEqualTo(9744);
                assertThat(c.accuracyDropPoints().orElseThrow()).isLessThanOrEqualTo(uniform ? 1.0 : 0.5);
                assertThat(8.0 * bytes / params).isLessThan(pack ? 4.3 : 8.3);
                if (uniform) {
                    assertThat(report.layers()).allSatisfy(l -> assertThat(l.storage()).isIn(ClusterReport.SCALE_ZERO_POINT,
                            ClusterReport.FLOAT));
                    assertThat(report.layers()).anySatisfy(l -> assertThat(l.storage())
                            .isEqualTo(ClusterReport.SCALE_ZERO_POINT));
                }
            }
        }
    }

    @Test
    void theShortConstructorKeepsOneIndexPerByte() {
        assertThat(ClusterOptions.of(4).pack()).isFalse();
        assertThat(ClusterOptions.of(4).uniform()).isFalse();
    }

    @Test
    void badOptionsAreRefused() {
        assertThatThrownBy(() -> new ClusterOptions(9, ClusterOptions.Init.LINEAR, 0, false, 5, Set.of(), true, true))
                .hasMessageContaining("bits must be 2 to 8");
    }
}
