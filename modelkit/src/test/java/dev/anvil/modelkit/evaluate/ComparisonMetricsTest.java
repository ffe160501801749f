package dev.anvil.modelkit.evaluate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.modelkit.gate.GatePolicy;
import dev.anvil.modelkit.validate.FiniteFigures;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Per-output comparison metrics on the outputs per-sample cosine got wrong: all-zero maps and sparse probability maps. */
class ComparisonMetricsTest {
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    @TempDir
    static Path dir;
    static Path zero;
    static Path exact;
    static Path fp16Like;
    static Path images;

    @BeforeAll
    static void models() throws Exception {
        zero = ComparisonModels.allZeroDetector(dir.resolve("zero.onnx"));
        exact = ComparisonModels.sparseMap(dir.resolve("sparse.onnx"), 0);
        fp16Like = ComparisonModels.sparseMap(dir.resolve("sparse_fp16.onnx"), 1e-3f);
        images = ComparisonModels.sparseMapDataset(dir.resolve("images.zip"), 8);
    }

    static ModelComparator.Comparison compare(Path candidate, Path reference, MetricOverrides metrics) throws Exception {
        return new ModelComparator(ENV).compare(candidate, reference, images, ModelComparator.Pooling.NONE, metrics, 3, 0,
                (done, total) -> { });
    }

    @Test
    void allZeroOutputsHaveNoCosineButARelativeErrorOfZeroAndTheGatePassesOnIt() throws Exception {
        ModelComparator.Comparison c = compare(zero, zero, MetricOverrides.NONE);

        OutputComparison map = c.outputs().get("map");
        assertThat(map.kind()).isEqualTo(OutputKind.MAP);
        assertThat(map.metrics()).containsExactly(ComparisonMetric.IOU, ComparisonMetric.DICE, ComparisonMetric.REL_L2,
                ComparisonMetric.MAX_ABS);
        assertThat(map.value(ComparisonMetric.REL_L2)).isZero();
        assertThat(map.value(ComparisonMetric.MAX_ABS)).isZero();
        assertThat(map.value(ComparisonMetric.IOU)).isNull();
        assertThat(map.absentReasons().get(ComparisonMetric.IOU)).isEqualTo("neither output has a value above the threshold "
                + "0.5 in 8 samples: IoU is undefined (nothing to overlap); relative L2 error is 0");
        assertThat(c.meanCosine()).isNull();
        assertThat(c.minCosine()).isNull();
        assertThat(c.cosineNote()).isEqualTo(
                "both outputs are all zero for 8 samples: cosine is undefined; relative L2 error of 'map' is 0");

        Map<String, Object> json = c.toJson();
        assertThat(json).containsEntry("mean_cosine", null).containsEntry("mean_cosine_absent_reason", c.cosineNote());
        assertThat(FiniteFigures.of(json)).as("nothing non-finite to guard").isEqualTo(json);
        Map<String, Object> report = Map.of("references", Map.of("input", json));
        assertThat(GatePolicy.check(Map.of("references.input.outputs.map.rel_l2", "<= 0.01"), report).passed()).isTrue();
        GatePolicy.Outcome cosine = GatePolicy.check(Map.of("cosine_vs", Map.of("model", "input", "min", 0.99)), report);
        assertThat(cosine.passed()).isFalse();
        assertThat(cosine.rules().get(0).note()).isEqualTo("mean_cosine is absent: " + c.cosineNote());
        GatePolicy.Outcome iou = GatePolicy.check(Map.of("references.input.outputs.map.iou", ">= 0.9"), report);
        assertThat(iou.passed()).isFalse();
        assertThat(iou.rules().get(0).note()).startsWith("iou is absent: neither output has a value above the threshold");
    }

    @Test
    void anFp16LikePerturbationOfASparseMapKeepsItsIouWhilePerSampleCosineIsNoise() throws Exception {
        ModelComparator.Comparison c = compare(fp16Like, exact, MetricOverrides.NONE);

        OutputComparison probs = c.outputs().get("output_probs");
        assertThat(probs.value(ComparisonMetric.IOU)).isEqualTo(1.0);
        assertThat(probs.value(ComparisonMetric.DICE)).isEqualTo(1.0);
        assertThat(probs.value(ComparisonMetric.REL_L2)).isLessThan(0.01);
        assertThat(probs.value(ComparisonMetric.MAX_ABS)).isLessThanOrEqualTo(1e-3);
        assertThat(probs.threshold()).isEqualTo(0.5);
        assertThat(c.meanCosine()).as("background samples: the noise is all there is").isLessThan(0.9);
        assertThat(c.minCosine()).isLessThan(0.5);
        assertThat(c.top1Agreement()).isNull();
        assertThat(c.agreementNote()).contains("no output holds class scores");
    }

    @Test
    void metricsAndTheThresholdCanBeChosenPerOutput() throws Exception {
        MetricOverrides metrics = MetricOverrides.parse(Map.of("output_probs",
                Map.of("metrics", List.of("iou", "snr_db", "cosine"), "threshold", 0.9999)));
        OutputComparison probs = compare(fp16Like, exact, metrics).outputs().get("output_probs");

        assertThat(probs.metrics()).containsExactly(ComparisonMetric.IOU, ComparisonMetric.SNR_DB, ComparisonMetric.COSINE);
        assertThat(probs.toJson()).containsOnlyKeys("kind", "samples", "iou", "snr_db", "cosine", "threshold")
                .containsEntry("threshold", 0.9999);
        assertThat(probs.value(ComparisonMetric.SNR_DB)).isBetween(20.0, ComparisonMetric.SNR_CAP_DB);
        assertThat(probs.value(ComparisonMetric.COSINE)).as("global cosine: the text dominates").isGreaterThan(0.9999);

        OutputComparison same = compare(exact, exact, MetricOverrides.parse(Map.of("output_probs", List.of("snr_db", "rel_l2"))))
                .outputs().get("output_probs");
        assertThat(same.value(ComparisonMetric.SNR_DB)).as("identical: capped, never infinite").isEqualTo(ComparisonMetric.SNR_CAP_DB);
        assertThat(same.value(ComparisonMetric.REL_L2)).isZero();
    }

    @Test
    void aBadOverrideNamesTheMetricOrOutputAndWhatIsAllowed() {
        assertThatThrownBy(() -> MetricOverrides.parse(Map.of("output_probs", List.of("rel_l2", "psnr"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("with.metrics.output_probs names an unknown metric 'psnr'; allowed metrics are "
                        + "[rel_l2, cosine, max_abs, snr_db, top1_agreement, iou, dice, exact_agreement]");
        assertThatThrownBy(() -> MetricOverrides.parse(Map.of("output_probs", Map.of("threshhold", 0.3))))
                .hasMessageContaining("unknown field 'threshhold'; allowed fields are [metrics, threshold]");
        assertThatThrownBy(() -> compare(exact, exact, MetricOverrides.parse(Map.of("probs", List.of("rel_l2")))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("with.metrics names output 'probs' but the models' outputs are [output_probs]; use one of those names");
    }

    @Test
    void modelsWithOtherOutputNamesAreRefusedNamingTheDifference() {
        assertThatThrownBy(() -> compare(zero, exact, MetricOverrides.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("only the candidate has [map], only the reference has [output_probs]");
    }

    @Test
    void aGateRuleAddressesAnOutputWhoseNameHoldsDotsAndFailsOnAnUnknownPath() {
        Map<String, Object> report = Map.of("references", Map.of("input", Map.of("outputs",
                Map.of("logits.1", Map.of("rel_l2", 0.002)))));
        assertThat(GatePolicy.check(Map.of("references.input.outputs.logits.1.rel_l2", "<= 0.01"), report).passed()).isTrue();
        GatePolicy.Outcome typo = GatePolicy.check(Map.of("references.input.outputs.logits.1.rel_l3", "<= 0.01"), report);
        assertThat(typo.passed()).isFalse();
        assertThat(typo.rules().get(0).note()).contains("the report has no references.input.outputs.logits.1.rel_l3");
        assertThatThrownBy(() -> GatePolicy.check(Map.of("references.prod.outputs.x.rel_l2", "<= 0.01"), report))
                .hasMessageContaining("names a reference the validation report does not have (it has [input])");
        Map<String, Object> missing = Map.of("references", Map.of("production", Map.of("missing", true, "note", "first deployment")));
        GatePolicy.Outcome first = GatePolicy.check(Map.of("references.production.outputs.x.rel_l2", "<= 0.01"), missing);
        assertThat(first.passed()).isTrue();
        assertThat(first.rules().get(0).note()).isEqualTo("passed: first deployment");
    }

    @Test
    void relativeErrorUsesAnEpsilonSoAnAllZeroReferenceStaysFinite() throws Exception {
        OutputComparison m = compare(exact, exact, MetricOverrides.NONE).outputs().get("output_probs");
        assertThat(m.value(ComparisonMetric.REL_L2)).isCloseTo(0, within(1e-12));
    }

    @Test
    void aTokenModelsHiddenStatesAndEmbeddingsGetCosineAndItsLogitsStayClassScores() throws Exception {
        Path model = ComparisonModels.tokenModel(dir.resolve("tokens.onnx"));
        Path tokens = ComparisonModels.tokenDataset(dir.resolve("tokens.zip"), 6);
        ModelComparator.Comparison c = new ModelComparator(ENV).compare(model, model, tokens, ModelComparator.Pooling.MEAN,
                MetricOverrides.NONE, 4, 0, (done, total) -> { });

        assertThat(c.outputs().get("last_hidden_state").kind()).isEqualTo(OutputKind.EMBEDDING);
        assertThat(c.outputs().get("sentence_embedding").kind()).isEqualTo(OutputKind.EMBEDDING);
        assertThat(c.outputs().get("sentence_embedding").metrics()).containsExactly(ComparisonMetric.COSINE, ComparisonMetric.REL_L2);
        assertThat(c.outputs().get("last_hidden_state").value(ComparisonMetric.COSINE)).isCloseTo(1.0, within(1e-9));
        assertThat(c.outputs().get("logits").kind()).isEqualTo(OutputKind.CLASS_SCORES);
        assertThat(c.outputs().get("logits").value(ComparisonMetric.TOP1_AGREEMENT)).isEqualTo(1.0);
        assertThat(c.top1Agreement()).isEqualTo(1.0);
        assertThat(c.meanCosine()).as("mean-pooled hidden states").isCloseTo(1.0, within(1e-9));
    }
}
