package dev.anvil.activities.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.db.Relation;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** prune, cluster and lowrank against the local stack's S3 and PostgreSQL: outputs, reports, floors, bad input. */
class CompressionOperatorsTest {
    static CompressFixture fixture;
    static ArtifactIO io;
    static String model;
    static String evaluation;

    @BeforeAll
    static void start() throws Exception {
        fixture = CompressFixture.get();
        io = fixture.io;
        model = fixture.model;
        evaluation = fixture.evaluation;
    }

    static CompressFixture.Attempt attempt(String task) {
        return fixture.attempt(task);
    }

    static Operator prune() {
        return new PruneOperator(io, OrtEnvironment.getEnvironment());
    }

    @Test
    @SuppressWarnings("unchecked")
    void pruneAboveItsFloorPublishesTheModelAndAPerLayerReport() throws Exception {
        CompressFixture.Attempt attempt = attempt("prune");
        Map<String, Object> out = prune().run(attempt, Map.of("model", model, "sparsity", 0.5,
                "evaluation", Map.of("dataset", evaluation), "floor", Map.of("accuracy_drop_points", 1.0)));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        assertThat((double) report.get("sparsity")).isBetween(0.499, 0.501);
        assertThat((List<Map<String, Object>>) report.get("layers")).extracting(l -> l.get("name"))
                .containsExactly("Conv", "Conv_1", "Gemm", "Gemm_1");
        Map<String, Object> evaluated = (Map<String, Object>) report.get("evaluation");
        assertThat(evaluated.get("samples")).isEqualTo(2000L);
        assertThat((double) evaluated.get("accuracy_drop_points")).isLessThanOrEqualTo(1.0);
        String published = (String) ((Map<String, Object>) out.get("model")).get("sha256");
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role() + "/" + e.artifactSha256())
                .contains("GENERATED/model/" + published, "USED/model/" + model, "USED/evaluation_dataset/" + evaluation);
    }

    @Test
    void belowTheFloorTheTaskFailsAndPublishesNothing() {
        CompressFixture.Attempt attempt = attempt("prune");
        assertThatThrownBy(() -> prune().run(attempt, Map.of("model", model, "sparsity", 0.97,
                "evaluation", Map.of("dataset", evaluation), "floor", Map.of("accuracy_drop_points", 0.5))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("below the floor").hasMessageContaining("accuracy_drop_points");
        assertThat(attempt.edges()).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterAndLowrankPublishSmallerModels() throws Exception {
        Map<String, Object> clustered = new ClusterOperator(io, OrtEnvironment.getEnvironment()).run(attempt("cluster"),
                Map.of("model", model, "bits", 4, "evaluation", Map.of("dataset", evaluation),
                        "floor", Map.of("top1_agreement", 0.99)));
        Map<String, Object> report = (Map<String, Object>) clustered.get("report");
        assertThat((double) report.get("size_ratio")).isLessThan(0.3);
        Map<String, Object> lowrank = new LowRankOperator(io, OrtEnvironment.getEnvironment()).run(attempt("lowrank"),
                Map.of("model", model, "energy", 0.95));
        Map<String, Object> lr = (Map<String, Object>) lowrank.get("report");
        assertThat((long) lr.get("params_after")).isLessThan((long) lr.get("params_before"));
        assertThat((List<Map<String, Object>>) lr.get("layers")).extracting(l -> l.get("name"))
                .contains("Gemm", "Gemm_1");
    }

    @Test
    @SuppressWarnings("unchecked")
    void activationAwareLowRankIsMeasuredOnItsCalibrationDataset() throws Exception {
        Map<String, Double> accuracy = new LinkedHashMap<>();
        for (String method : List.of("svd", "activation_aware")) {
            Map<String, Object> with = new LinkedHashMap<>(Map.of("model", model, "param_ratio", 0.3, "method", method,
                    "evaluation", Map.of("dataset", evaluation)));
            if (method.equals("activation_aware")) {
                with.put("calibration", Map.of("dataset", fixture.calibration, "samples", 256));
            }
            CompressFixture.Attempt attempt = attempt("lowrank");
            Map<String, Object> out = new LowRankOperator(io, OrtEnvironment.getEnvironment()).run(attempt, with);
            Map<String, Object> report = (Map<String, Object>) out.get("report");
            assertThat(report.get("method")).isEqualTo(method);
            assertThat((double) report.get("param_ratio")).isLessThanOrEqualTo(0.3);
            assertThat((long) report.get("model_params_after")).isLessThan((long) report.get("model_params_before"));
            assertThat((List<Map<String, Object>>) report.get("layers")).filteredOn(l -> l.get("method") != null)
                    .extracting(l -> l.get("name") + " " + l.get("method"))
                    .containsExactly("Gemm " + method, "Gemm_1 " + method);
            accuracy.put(method, (Double) ((Map<String, Object>) report.get("evaluation")).get("accuracy"));
            if (method.equals("activation_aware")) {
                assertThat(report.get("calibration_rows")).isEqualTo(256L);
                assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role() + "/" + e.artifactSha256())
                        .contains("USED/calibration_dataset/" + fixture.calibration);
            }
        }
        System.out.printf("cnn_mnist lowrank param_ratio 0.3, 2,000 images: accuracy svd %.4f, activation_aware %.4f%n",
                accuracy.get("svd"), accuracy.get("activation_aware"));
        assertThat(accuracy.get("activation_aware")).isGreaterThan(accuracy.get("svd"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void sequentialRefinementRefitsEachGemmOnTheFactorisedModel() throws Exception {
        Map<String, Object> with = new LinkedHashMap<>(Map.of("model", model, "param_ratio", 0.3,
                "method", "activation_aware", "refine", "sequential",
                "calibration", Map.of("dataset", fixture.calibration, "samples", 256),
                "evaluation", Map.of("dataset", evaluation)));
        CompressFixture.Attempt attempt = attempt("lowrank");
        Map<String, Object> out = new LowRankOperator(io, OrtEnvironment.getEnvironment()).run(attempt, with);
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        assertThat(report.get("refine")).isEqualTo("sequential");
        assertThat((double) report.get("param_ratio")).isLessThanOrEqualTo(0.3);
        assertThat((List<Map<String, Object>>) report.get("layers")).filteredOn(l -> l.get("method") != null)
                .extracting(l -> l.get("name") + " " + l.get("method"))
                .containsExactly("Gemm activation_aware, sequential", "Gemm_1 activation_aware, sequential");
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role() + "/" + e.artifactSha256())
                .contains("USED/calibration_dataset/" + fixture.calibration);
        System.out.printf("cnn_mnist lowrank param_ratio 0.3 activation_aware, refine sequential, 2,000 images:"
                + " accuracy %.4f%n", (Double) ((Map<String, Object>) report.get("evaluation")).get("accuracy"));
    }

    @Test
    void activationAwareLowRankNeedsACalibrationDataset() {
        LowRankOperator lowrank = new LowRankOperator(io, OrtEnvironment.getEnvironment());
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "method", "activation_aware"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("method: activation_aware").hasMessageContaining("with.calibration.dataset");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "calibration", Map.of("dataset", fixture.calibration)))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("read only by method: activation_aware");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "method", "activation_aware", "calibration", Map.of("dataset", fixture.calibration, "samples", 5000))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("calibration.samples must be a whole number from 1 to 1024");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "method", "whitened"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("method must be svd or activation_aware");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "energy", 0.9,
                "allocation", "error"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("allocation: error").hasMessageContaining("param_ratio");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "refine", "sequential"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("refine: sequential").hasMessageContaining("method: activation_aware");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "refine", "backwards"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("refine must be none or sequential");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "embedding_weights", "idf"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("embedding_weights must be uniform or token_frequency");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "embedding_weights", "token_frequency"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("embeddings: true");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "embeddings", true, "embedding_weights", "token_frequency"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("token_frequency counts the ids").hasMessageContaining("with.calibration.dataset");
        assertThatThrownBy(() -> lowrank.run(attempt("lowrank"), Map.of("model", model, "param_ratio", 0.5,
                "embeddings", true, "embedding_weights", "token_frequency", "frequency_floor", 0,
                "calibration", Map.of("dataset", fixture.calibration)))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("frequency_floor must be a finite number above 0");
    }

    @Test
    @SuppressWarnings("unchecked")
    void structuredPruningRemovesChannelsAndShrinksTheFile() throws Exception {
        Map<String, Object> out = prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.25,
                "structured", true));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        assertThat((double) report.get("size_ratio")).isLessThan(0.7);
        assertThat((List<Map<String, Object>>) report.get("layers")).filteredOn(l -> l.get("left_alone") == null)
                .extracting(l -> l.get("name") + " " + l.get("channels_before") + "->" + l.get("channels_after"))
                .containsExactly("Conv 10->7", "Conv_1 20->15", "Gemm 50->37");
    }

    @Test
    @SuppressWarnings("unchecked")
    void activationAwareStructuredPruningKeepsAccuracyComparableAndSaysSo() throws Exception {
        Map<String, Double> accuracy = new java.util.LinkedHashMap<>();
        for (String importance : List.of("norm", "activation")) {
            CompressFixture.Attempt attempt = attempt("prune");
            Map<String, Object> with = new java.util.LinkedHashMap<>(Map.of("model", model, "sparsity", 0.25,
                    "structured", true, "importance", importance, "evaluation", Map.of("dataset", evaluation)));
            if (importance.equals("activation")) {
                with.put("calibration", Map.of("dataset", fixture.calibration, "samples", 128));
            }
            Map<String, Object> report = (Map<String, Object>) prune().run(attempt, with).get("report");
            assertThat(report.get("importance")).isEqualTo(importance);
            assertThat((List<Map<String, Object>>) report.get("layers")).filteredOn(l -> l.get("left_alone") == null)
                    .hasSize(3).allSatisfy(l -> assertThat(l.get("importance")).isEqualTo(importance))
                    // under activation importance the removed channels' mean goes into each consumer's bias
                    .allSatisfy(l -> assertThat(l.get("mean_folded")).isEqualTo(importance.equals("activation")
                            ? Boolean.TRUE : null));
            accuracy.put(importance, (Double) ((Map<String, Object>) report.get("evaluation")).get("accuracy"));
            if (importance.equals("activation")) {
                assertThat(report.get("activation_samples")).isEqualTo(128L);
                assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role() + "/" + e.artifactSha256())
                        .contains("USED/calibration_dataset/" + fixture.calibration);
            }
        }
        System.out.printf("cnn_mnist structured 25%%, 2,000 images: accuracy by norm %.4f, by activation %.4f%n",
                accuracy.get("norm"), accuracy.get("activation"));
        assertThat(accuracy.get("activation")).isGreaterThan(accuracy.get("norm") - 0.01);
    }

    @Test
    void activationImportanceNeedsACalibrationDataset() {
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.25,
                "structured", true, "importance", "activation"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("importance: activation").hasMessageContaining("with.calibration.dataset");
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.25,
                "structured", true, "importance", "activation", "calibration", Map.of("dataset", fixture.calibration,
                        "samples", 5000)))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("calibration.samples must be a whole number from 1 to 256");
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.25,
                "structured", true, "importance", "loudest"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("importance must be norm or activation");
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.25,
                "importance", "activation", "calibration", Map.of("dataset", fixture.calibration))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("needs structured: true");
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.25,
                "structured", true, "calibration", Map.of("dataset", fixture.calibration))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("read only by importance: activation");
    }

    @Test
    void badInputFailsBeforeAnyWorkNamingTheProblem() {
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 1.5)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("prune: sparsity must be");
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.5,
                "skip", List.of("nope")))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("[nope]").hasMessageContaining("[Conv, Conv_1, Gemm, Gemm_1]");
        assertThatThrownBy(() -> new ClusterOperator(io, OrtEnvironment.getEnvironment()).run(attempt("cluster"),
                Map.of("model", model, "bits", 9))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("bits must be 2 to 8");
        assertThatThrownBy(() -> prune().run(attempt("prune"), Map.of("model", model, "sparsity", 0.5,
                "floor", Map.of("top1_agreement", 0.99)))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("floor needs with.evaluation.dataset");
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterReportsUniformStorageAndPackedIndices() throws Exception {
        Map<String, Object> out = new ClusterOperator(io, OrtEnvironment.getEnvironment()).run(attempt("cluster"),
                Map.of("model", model, "bits", 4, "uniform", true, "pack_indices", true));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        assertThat(report.get("uniform")).isEqualTo(true);
        assertThat((double) report.get("size_ratio")).isLessThan(0.25);
        assertThat((List<Map<String, Object>>) report.get("layers")).filteredOn(l -> l.get("left_alone") == null)
                .isNotEmpty().allSatisfy(l -> {
                    assertThat(l.get("storage")).isEqualTo("scale_zero_point");
                    assertThat(l.get("packed_indices")).isEqualTo(true);
                });
        assertThatThrownBy(() -> new ClusterOperator(io, OrtEnvironment.getEnvironment()).run(attempt("cluster"),
                Map.of("model", model, "uniform", "yes"))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("uniform must be true or false");
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterTakesBitsPerLayer() throws Exception {
        Map<String, Object> out = new ClusterOperator(io, OrtEnvironment.getEnvironment()).run(attempt("cluster"),
                Map.of("model", model, "bits", 4, "layers", Map.of("Gemm", 2), "pack_indices", true));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        assertThat(report.get("layer_bits")).isEqualTo(Map.of("Gemm", 2));
        assertThat((List<Map<String, Object>>) report.get("layers")).filteredOn(l -> l.get("left_alone") == null)
                .extracting(l -> l.get("name") + " " + l.get("bits"))
                .containsExactly("Conv 4", "Conv_1 4", "Gemm 2", "Gemm_1 4");
        assertThat((double) report.get("size_ratio")).isLessThan(0.13);
        for (Object bad : List.of(1, 9)) {
            assertThatThrownBy(() -> new ClusterOperator(io, OrtEnvironment.getEnvironment()).run(attempt("cluster"),
                    Map.of("model", model, "layers", Map.of("Gemm", bad)))).isInstanceOf(InvalidTaskInputException.class)
                    .hasMessageContaining("bits of layer 'Gemm' must be 2 to 8");
        }
        assertThatThrownBy(() -> new ClusterOperator(io, OrtEnvironment.getEnvironment()).run(attempt("cluster"),
                Map.of("model", model, "layers", Map.of("Gemm", 2.5)))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("layers.Gemm must be a whole number of bits");
    }
}
