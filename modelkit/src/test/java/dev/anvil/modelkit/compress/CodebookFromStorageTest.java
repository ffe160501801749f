package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.StringStringEntryProto;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@code codebook_from} keeps the reference's index storage: a layer the reference packed at b bits is packed at b
 * bits again (one stream per width, in the reference's layer order), one kept one index per byte stays so, and the
 * re-imposed file is as large as the reference's, byte for byte apart from the clustering note in its metadata.
 */
class CodebookFromStorageTest {
    private static final float[] X = input(5, 16);

    private static float[] input(int rows, int cols) {
        float[] x = new float[rows * cols];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i * 0.37) * 1.5f;
        }
        return x;
    }

    private static float[] weights(int n, long seed) {
        return CompressTestModels.gaussian(n, seed);
    }

    /** x[b,16] → MatMul a [16,24] → Relu → MatMul b [24,21] → Gemm c [21,6]: 3 layers, counts not multiples of 8. */
    private static OnnxModel chain(int opset) {
        return CompressTestModels.threeLayerChain(opset, 10);
    }

    /** The reference's float weights, moved as a trainer would (every weight, by a different amount), as read from its file. */
    private static OnnxModel fineTuned(OnnxModel reference) {
        OnnxModel tuned = FineTuneHooksTest.copy(reference);
        SharedWeights.unfold(tuned);
        FineTuneHooksTest.fineTune(tuned);
        return FineTuneHooksTest.copy(tuned);
    }

    /** The serialized size without the {@code anvil.clustering} note, the one thing that names what was done. */
    private static long sizeWithoutNote(OnnxModel model) {
        ModelProto.Builder b = model.proto().build().toBuilder();
        List<StringStringEntryProto> kept = b.getMetadataPropsList().stream()
                .filter(p -> !p.getKey().equals("anvil.clustering")).toList();
        return b.clearMetadataProps().addAllMetadataProps(kept).build().getSerializedSize();
    }

    private static String note(OnnxModel model) {
        return model.proto().getMetadataPropsList().stream().filter(p -> p.getKey().equals("anvil.clustering"))
                .map(StringStringEntryProto::getValue).findFirst().orElseThrow();
    }

    /** Stream initializers ({@code q<b>}) by name, with their shapes. */
    private static Map<String, List<Long>> streams(OnnxModel model) {
        Map<String, List<Long>> out = new TreeMap<>();
        model.graph().initializers().forEach((name, t) -> {
            if (name.matches("q\\d")) {
                out.put(name, java.util.Arrays.stream(Tensors.dims(t)).boxed().toList());
            }
        });
        return out;
    }

    /** The output keeps the reference's storage per layer, its indices, and its size; returns the output. */
    private static OnnxModel imposeAndCheck(OnnxModel reference, OnnxModel tuned, boolean refit, String what)
            throws Exception {
        Map<String, SharedWeights.Shared> ref = SharedWeights.of(reference);
        ClusterReport report = WeightClusterer.applyCodebook(tuned, reference, refit);
        Map<String, SharedWeights.Shared> out = SharedWeights.of(tuned);
        assertThat(out.keySet()).as(what).containsExactlyElementsOf(ref.keySet());
        for (ClusterReport.Layer row : report.layers()) {
            SharedWeights.Shared r = ref.get(row.name());
            SharedWeights.Shared o = out.get(row.name());
            assertThat(o.packedBits()).as(what + ": " + row.name() + " stored as in the reference")
                    .isEqualTo(r.packedBits());
            assertThat(row.packedIndices()).as(what + ": " + row.name()).isEqualTo(r.packed());
            if (r.packed()) {
                assertThat(row.bits()).as(what + ": " + row.name()).isEqualTo(r.packedBits());
            }
            // a scale and zero point stay so while the codebook is kept; refitted values are a float codebook
            boolean grid = r.scales() != null && !refit;
            assertThat(row.storage()).as(what + ": " + row.name())
                    .isEqualTo(grid ? ClusterReport.SCALE_ZERO_POINT : ClusterReport.GATHER);
            assertThat(o.scales() != null).as(what + ": " + row.name()).isEqualTo(grid);
            assertThat(o.indices()).as(what + ": " + row.name()).isEqualTo(r.indices());
            assertThat(o.channels()).as(what + ": " + row.name()).isEqualTo(r.channels());
        }
        assertThat(streams(tuned)).as(what).isEqualTo(streams(reference));
        assertThat(report.layers().stream().mapToLong(ClusterReport.Layer::bytesAfter).sum()).as(what)
                .isEqualTo(report.weightBytesAfter());
        if (refit && ref.values().stream().anyMatch(r -> r.scales() != null)) {
            return tuned; // a float codebook in place of a scale and zero point: another size
        }
        // the same initializers, nodes and names: only the clustering note in the metadata differs
        assertThat(sizeWithoutNote(tuned)).as(what + ": file size apart from the note").isEqualTo(sizeWithoutNote(reference));
        long noteDifference = note(tuned).getBytes(java.nio.charset.StandardCharsets.UTF_8).length
                - note(reference).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        assertThat((long) tuned.toBytes().length - reference.toBytes().length).as(what + ": whole file")
                .isBetween(noteDifference - 2, noteDifference + 2); // and the note's length prefix (a varint)
        System.out.printf("%s: reference %d B, re-imposed %d B (notes \"%s\" / \"%s\")%n", what,
                reference.toBytes().length, tuned.toBytes().length, note(reference), note(tuned));
        return tuned;
    }

    @Test
    void aPackedReferenceWithBitsPerLayerIsPackedAgainPerLayer() throws Exception {
        for (boolean perChannel : new boolean[] {false, true}) {
            for (int opset : new int[] {9, 13}) {
                String what = "opset " + opset + (perChannel ? ", per channel" : ", per tensor");
                OnnxModel reference = chain(opset);
                ClusterReport clustered = WeightClusterer.cluster(reference, new ClusterOptions(perChannel ? 2 : 4,
                        ClusterOptions.Init.LINEAR, 0, perChannel, 30, Set.of(), false, true,
                        perChannel ? Map.of("b", 3) : Map.of("a", 2, "c", 5), false));
                assertThat(clustered.layers()).as(what).allSatisfy(l -> assertThat(l.packedIndices()).isTrue());
                assertThat(SharedWeights.of(reference).values()).as(what)
                        .allSatisfy(s -> assertThat(s.packed()).isTrue());
                float[] expected = CompressTestModels.run(reference, X, 5, 16);

                OnnxModel kept = imposeAndCheck(reference, fineTuned(reference), false, what + ", keep");
                assertThat(kept.graph().initializers().keySet()).as(what)
                        .containsAll(perChannel ? List.of("q2", "q3") : List.of("q2", "q4", "q5"));
                // centroids kept: the fine-tuned weights go, the reference's come back, so do its outputs, bit for bit
                assertThat(CompressTestModels.run(kept, X, 5, 16)).as(what).containsExactly(expected);

                OnnxModel unchanged = FineTuneHooksTest.copy(reference);
                SharedWeights.unfold(unchanged);
                unchanged = FineTuneHooksTest.copy(unchanged);
                OnnxModel refitUnchanged = imposeAndCheck(reference, unchanged, true, what + ", refit, weights unchanged");
                // each shared value is the mean of its cluster's weights, which all equal it
                assertThat(CompressTestModels.run(refitUnchanged, X, 5, 16)).as(what).containsExactly(expected);

                OnnxModel refit = imposeAndCheck(reference, fineTuned(reference), true, what + ", refit");
                OnnxModel refitFloats = FineTuneHooksTest.copy(refit);
                SharedWeights.unfold(refitFloats);
                assertThat(CompressTestModels.run(refitFloats, X, 5, 16)).as(what + ": packed = its float weights")
                        .containsExactly(CompressTestModels.run(refit, X, 5, 16));
            }
        }
    }

    @Test
    void aModelThatArrivesStillSharedIsUnfoldedAndPackedUnderTheSameNames() throws Exception {
        OnnxModel reference = chain(13);
        WeightClusterer.cluster(reference, new ClusterOptions(3, ClusterOptions.Init.LINEAR, 0, false, 30, Set.of(),
                false, true, Map.of("c", 6), false));
        OnnxModel again = imposeAndCheck(reference, FineTuneHooksTest.copy(reference), false, "still shared");
        assertThat(streams(again)).containsOnlyKeys("q3", "q6");
        assertThat(CompressTestModels.run(again, X, 5, 16)).containsExactly(CompressTestModels.run(reference, X, 5, 16));
    }

    @Test
    void anUnpackedReferenceStillGivesOneIndexPerByte() throws Exception {
        for (boolean perChannel : new boolean[] {false, true}) {
            String what = perChannel ? "unpacked, per channel" : "unpacked, per tensor";
            OnnxModel reference = chain(13);
            WeightClusterer.cluster(reference, new ClusterOptions(perChannel ? 2 : 4, ClusterOptions.Init.LINEAR, 0,
                    perChannel, 30, Set.of(), false, false, Map.of(), false));
            assertThat(SharedWeights.of(reference).values()).allSatisfy(s -> assertThat(s.packedBits()).isZero());
            OnnxModel kept = imposeAndCheck(reference, fineTuned(reference), false, what);
            assertThat(streams(kept)).as(what).isEmpty();
            assertThat(kept.graph().initializers().values()).as(what).filteredOn(
                    t -> t.getDataType() == dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType.UINT8_VALUE)
                    .hasSize(3);
            assertThat(CompressTestModels.run(kept, X, 5, 16)).as(what)
                    .containsExactly(CompressTestModels.run(reference, X, 5, 16));
        }
    }

    @Test
    void uniformCodebooksKeepTheirScaleAndZeroPointPackedOrNot() throws Exception {
        for (boolean pack : new boolean[] {true, false}) {
            for (boolean perChannel : new boolean[] {false, true}) {
                String what = "uniform" + (pack ? ", packed" : ", unpacked") + (perChannel ? ", per channel" : ", per tensor");
                OnnxModel reference = chain(13);
                ClusterReport clustered = WeightClusterer.cluster(reference, new ClusterOptions(perChannel ? 2 : 3,
                        ClusterOptions.Init.LINEAR, 0, perChannel, 30, Set.of(), true, pack, Map.of(), false));
                assertThat(clustered.layers()).as(what).allSatisfy(l -> {
                    assertThat(l.storage()).isEqualTo(ClusterReport.SCALE_ZERO_POINT);
                    assertThat(l.packedIndices()).isEqualTo(pack);
                });
                OnnxModel kept = imposeAndCheck(reference, fineTuned(reference), false, what + ", keep");
                assertThat(CompressTestModels.run(kept, X, 5, 16)).as(what)
                        .containsExactly(CompressTestModels.run(reference, X, 5, 16));
                OnnxModel refit = imposeAndCheck(reference, fineTuned(reference), true, what + ", refit");
                assertThat(SharedWeights.of(refit).values()).as(what).allSatisfy(s -> assertThat(s.packed()).isEqualTo(pack));
            }
        }
    }

    @Test
    void cnnMnistPackedWithTwoBitGemmKeepsItsSize() throws Exception {
        OnnxModel reference = FineTuneHooksTest.cnnMnist(); // opset 9: the unpacking without Mod
        WeightClusterer.cluster(reference, new ClusterOptions(4, ClusterOptions.Init.LINEAR, 0, false, 50, Set.of(),
                false, true, Map.of("Gemm", 2), false));
        OnnxModel tuned = fineTuned(reference);
        int tunedFloat = tuned.toBytes().length;
        OnnxModel kept = imposeAndCheck(reference, tuned, false, "cnn_mnist 4 bits, Gemm 2, packed");
        assertThat(kept.toBytes().length).isLessThan(tunedFloat / 5);
        float[] x = new float[2 * 28 * 28];
        for (int i = 0; i < x.length; i++) {
            x[i] = (i * 31 % 97) / 97f;
        }
        assertThat(CompressTestModels.run(kept, x, 2, 1, 28, 28))
                .containsExactly(CompressTestModels.run(reference, x, 2, 1, 28, 28));
    }

    @Test
    void badReferencesAreStillRefused() throws Exception {
        OnnxModel packed = chain(13);
        WeightClusterer.cluster(packed, new ClusterOptions(3, ClusterOptions.Init.LINEAR, 0, false, 30, Set.of(), false,
                true));
        assertThatThrownBy(() -> WeightClusterer.applyCodebook(chain(13), chain(13), false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no clustered weights");
        OnnxModel other = CompressTestModels.matmul(weights(16 * 24, 5), 16, 24);
        assertThatThrownBy(() -> WeightClusterer.applyCodebook(other, packed, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("of the codebook_from model is not a layer");
        GraphProto.Builder wide = chain(13).proto().getGraphBuilder();
        wide.setInitializer(0, Tensors.floats("A", new long[] {16, 25}, weights(16 * 25, 1)));
        OnnxModel reshaped = CompressTestModels.model(wide, 13);
        assertThatThrownBy(() -> WeightClusterer.applyCodebook(reshaped, packed, false))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layer 'a' has shape [16, 25]")
                .hasMessageContaining("[16, 24] in the codebook_from model");
    }
}
