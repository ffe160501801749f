package dev.anvil.modelkit.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.evaluate.ModelComparator;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Structured pruning ranked by mean |activation| on a dataset instead of by weight norm. */
class ActivationImportanceTest {
    @TempDir
    Path dir;

    private static final StructuredPruner.Options BY_NORM = new StructuredPruner.Options(0.34, Map.of(), Set.of(),
            false);
    private static final StructuredPruner.Options BY_ACTIVATION = new StructuredPruner.Options(0.34, Map.of(),
            Set.of(), false, StructuredPruner.Importance.ACTIVATION);

    /**
     * x[b,4] (always ≥ 0) → Gemm fc1 (4→3) → Relu → Gemm fc2 (3→2). Neuron 0 has the largest weights but a
     * negative pre-activation on every such input, so the Relu always zeroes it; neuron 2 has the smallest weights.
     */
    static OnnxModel deadButHeavy() {
        float[] w1 = {-5, -5, -5, -5, 1, -0.5f, 0.75f, 0.5f, 0.25f, 0.2f, 0.1f, 0.3f}; // [3, 4], transB; L1 20, 2.75, 0.85
        float[] b1 = {-1, 0.1f, 0.05f};
        float[] w2 = {4, -4, 1, 2, 3, -1}; // [3, 2]
        float[] b2 = {0.1f, -0.1f};
        return CompressTestModels.mlp(w1, b1, w2, b2);
    }

    private float[] positiveInputs(int rows) {
        Random random = new Random(5);
        float[] x = new float[rows * 4];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat();
        }
        return x;
    }

    private Path dataset(float[] x, int rows) throws Exception {
        Path file = dir.resolve("data-" + rows + ".zip");
        DatasetWriter.write(file, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {rows, 4}, x)),
                Optional.empty()));
        return file;
    }

    @Test
    void aHeavyButDeadNeuronGoesFirstByActivationAndStaysByNorm() throws Exception {
        float[] x = positiveInputs(40);
        float[] expected = CompressTestModels.run(deadButHeavy(), x, 40, 4);

        OnnxModel byNorm = deadButHeavy();
        StructuredPruner.prune(byNorm, BY_NORM);
        // norm keeps the heavy neuron 0 and drops the light neuron 2
        assertThat(Tensors.toFloats(byNorm.graph().initializer("B1").orElseThrow())).containsExactly(-1f, 0.1f);

        OnnxModel byActivation = deadButHeavy();
        StructuredPruner.Report report;
        try (DatasetReader reader = DatasetReader.open(dataset(x, 40))) {
            report = StructuredPruner.prune(byActivation, BY_ACTIVATION,
                    new ChannelActivations(CompressTestModels.ENV, reader, 32));
        }
        assertThat(Tensors.toFloats(byActivation.graph().initializer("B1").orElseThrow()))
                .containsExactly(0.1f, 0.05f);
        assertThat(Tensors.dims(byActivation.graph().initializer("W2").orElseThrow())).containsExactly(2, 2);
        assertThat(report.layers().get(0)).satisfies(l -> {
            assertThat(l.importance()).isEqualTo("activation");
            assertThat(l.channelsAfter()).isEqualTo(2);
        });
        assertThat(report.activationSamples()).isEqualTo(32);
        assertThat(byActivation.proto().getMetadataPropsList()).anySatisfy(e -> assertThat(e.getValue())
                .isEqualTo("mean |activation| on 32 samples, removed channels' mean folded into the consumer's bias,"
                        + " fraction 0.34"));
        // the neuron removed was always zero after the Relu, so nothing changes
        assertThat(CompressTestModels.run(byActivation, x, 40, 4)).containsExactly(expected, offset(1e-6f));
        assertThat(CompressTestModels.run(byNorm, x, 40, 4)).isNotEqualTo(expected);
    }

    /**
     * Neuron 2 of fc1 has no weights and bias 3: after the Relu it is always 3, and fc2 reads it lightly, so it
     * ranks last by activation. Removing it without more would shift fc2's outputs by 3 · W2[2, ·]; folding its
     * mean into fc2's bias leaves the model's outputs as they were.
     */
    @Test
    void aConstantChannelsMeanIsFoldedIntoTheConsumersBias() throws Exception {
        float[] w1 = {1, 1, 1, 1, 0.5f, -0.5f, 0.5f, -0.5f, 0, 0, 0, 0}; // [3, 4], transB
        float[] b1 = {0, 0, 3};
        float[] w2 = {1, -1, 1, 1, 0.01f, -0.02f}; // [3, 2]
        float[] b2 = {0.1f, -0.1f};
        float[] x = positiveInputs(40);
        float[] expected = CompressTestModels.run(CompressTestModels.mlp(w1, b1, w2, b2), x, 40, 4);
        OnnxModel model = CompressTestModels.mlp(w1, b1, w2, b2);
        StructuredPruner.Report report;
        try (DatasetReader reader = DatasetReader.open(dataset(x, 40))) {
            report = StructuredPruner.prune(model, BY_ACTIVATION, new ChannelActivations(CompressTestModels.ENV, reader,
                    32));
        }
        assertThat(Tensors.toFloats(model.graph().initializer("B1").orElseThrow())).containsExactly(0f, 0f);
        assertThat(Tensors.toFloats(model.graph().initializer("B2").orElseThrow()))
                .containsExactly(new float[] {0.1f + 0.03f, -0.1f - 0.06f}, offset(1e-6f));
        assertThat(report.layers().get(0).meanFolded()).isTrue();
        assertThat(report.layers().get(0).notFolded()).isNull();
        assertThat(CompressTestModels.run(model, x, 40, 4)).containsExactly(expected, offset(1e-5f));
        // by norm nothing is measured, so nothing is folded: the same neuron's removal shifts the outputs
        OnnxModel byNorm = CompressTestModels.mlp(w1, b1, w2, b2);
        StructuredPruner.Report normReport = StructuredPruner.prune(byNorm, BY_NORM);
        assertThat(normReport.layers().get(0).meanFolded()).isNull();
        assertThat(Tensors.toFloats(byNorm.graph().initializer("B2").orElseThrow())).containsExactly(0.1f, -0.1f);
    }

    @Test
    void theSameDataGivesTheSameFigures() throws Exception {
        float[] x = positiveInputs(70);
        Path data = dataset(x, 70);
        double[][] runs = new double[2][];
        double[][] means = new double[2][];
        for (int i = 0; i < 2; i++) {
            try (DatasetReader reader = DatasetReader.open(data)) {
                ChannelActivations.Measured measured = new ChannelActivations(CompressTestModels.ENV, reader, 256)
                        .measure(deadButHeavy(), Set.of("a"));
                runs[i] = measured.meanAbs().get("a");
                means[i] = measured.mean().get("a");
            }
        }
        assertThat(runs[0]).containsExactly(runs[1]);
        assertThat(means[0]).containsExactly(means[1]);
        assertThat(runs[0][0]).isZero();
        assertThat(runs[0][1]).isPositive();
        // after the Relu every value is ≥ 0, so the signed mean of a [batch, 3] tensor's elements is the mean |a|
        assertThat(means[0]).containsExactly(runs[0], offset(1e-12));
    }

    @Test
    void activationImportanceWithoutADatasetOrWithBadSettingsIsRefused() throws Exception {
        assertThatThrownBy(() -> StructuredPruner.prune(deadButHeavy(), BY_ACTIVATION))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("importance activation")
                .hasMessageContaining("dataset");
        try (DatasetReader reader = DatasetReader.open(dataset(positiveInputs(4), 4))) {
            assertThatThrownBy(() -> new ChannelActivations(CompressTestModels.ENV, reader, 0))
                    .hasMessageContaining("1 to 256");
            assertThatThrownBy(() -> new ChannelActivations(CompressTestModels.ENV, reader, 1000))
                    .hasMessageContaining("1 to 256");
        }
        // a dataset whose input does not fit the model is named before any pruning
        Path wrong = dir.resolve("wrong.zip");
        DatasetWriter.write(wrong, new Dataset(Map.of("z", NpyArray.ofFloat32(new long[] {2, 4}, new float[8])),
                Optional.empty()));
        OnnxModel model = deadButHeavy();
        try (DatasetReader reader = DatasetReader.open(wrong)) {
            assertThatThrownBy(() -> StructuredPruner.prune(model, BY_ACTIVATION,
                    new ChannelActivations(CompressTestModels.ENV, reader, 8))).hasMessageContaining("x");
        }
        assertThat(Tensors.dims(model.graph().initializer("W1").orElseThrow())).containsExactly(3, 4);
    }

    @Test
    void cnnMnistByActivationAgainstByNorm() throws Exception {
        CompressTestModels.Mnist mnist = CompressTestModels.Mnist.in(dir);
        for (double fraction : new double[] {0.25, 0.5}) {
            double[] accuracy = new double[2];
            for (StructuredPruner.Importance importance : StructuredPruner.Importance.values()) {
                OnnxModel model = OnnxModel.read(mnist.model());
                StructuredPruner.Report report;
                try (DatasetReader reader = DatasetReader.open(mnist.calibration())) {
                    report = StructuredPruner.prune(model, new StructuredPruner.Options(fraction, Map.of(), Set.of(),
                            false, importance), new ChannelActivations(CompressTestModels.ENV, reader, 256));
                }
                Path pruned = dir.resolve("pruned-" + importance + "-" + fraction + ".onnx");
                model.write(pruned);
                ModelComparator.Comparison c = new ModelComparator(CompressTestModels.ENV).compare(pruned,
                        mnist.model(), mnist.evaluation(), ModelComparator.Pooling.NONE, 64, 0, (done, total) -> {});
                accuracy[importance.ordinal()] = c.candidateAccuracy();
                System.out.printf("cnn_mnist structured %.0f%% by %s: float %.2f%%, pruned %.2f%%, params %d -> %d,"
                        + " samples %d%n", 100 * fraction, importance.wireName(), 100 * c.referenceAccuracy(),
                        100 * c.candidateAccuracy(), report.paramsBefore(), report.paramsAfter(), c.samples());
                assertThat(report.layers()).filteredOn(l -> l.leftAlone() == null)
                        .allSatisfy(l -> assertThat(l.importance()).isEqualTo(importance.wireName()))
                        .allSatisfy(l -> assertThat(l.meanFolded()).isEqualTo(
                                importance == StructuredPruner.Importance.ACTIVATION ? Boolean.TRUE : null))
                        .extracting(StructuredPruner.Layer::name).containsExactly("Conv", "Conv_1", "Gemm");
            }
            // with the removed channels' mean folded into the consumers' biases, activation importance is at least
            // as good as the weight norm at both fractions (figures printed, docs/compression.md)
            assertThat(accuracy[1]).isGreaterThanOrEqualTo(accuracy[0]);
        }
    }
}
