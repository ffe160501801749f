package dev.anvil.workflows.pipeline.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The with schemas of prune, cluster and lowrank catch bad values when the spec is submitted. */
class CompressionWithSchemaTest {
    static final String SHA = "a".repeat(64);

    @Test
    void pruneNeedsAReachableSparsity() {
        assertThat(WithValidator.validate(BuiltInOperators.PRUNE, Map.of("model", SHA, "sparsity", 0.5, "scope", "global",
                "layers", Map.of("Conv_1", 0.8), "skip", java.util.List.of("Gemm_1"),
                "evaluation", Map.of("dataset", SHA), "floor", Map.of("accuracy_drop_points", 0.5)), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.PRUNE, Map.of("model", SHA, "sparsity", 1.5), "with"))
                .extracting(SpecError::path).containsExactly("with.sparsity");
        assertThat(WithValidator.validate(BuiltInOperators.PRUNE, Map.of("model", SHA, "sparsity", 0.5,
                "floor", Map.of("accuracy_drop", 1)), "with")).extracting(SpecError::path).containsExactly("with.floor.accuracy_drop");
        assertThat(BuiltInOperators.PRUNE.deterministic()).isTrue();
    }

    @Test
    void clusterBitsAreTwoToEight() {
        assertThat(WithValidator.validate(BuiltInOperators.CLUSTER, Map.of("model", SHA, "bits", 4, "init", "kmeans++",
                "seed", 7, "per_channel", true), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.CLUSTER, Map.of("model", SHA, "bits", 9), "with"))
                .extracting(SpecError::path).containsExactly("with.bits");
    }

    @Test
    void lowrankTakesEnergyABudgetOrRanks() {
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "energy", 0.9), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "ranks", Map.of("Gemm", 16)), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 1.2), "with"))
                .extracting(SpecError::path).containsExactly("with.param_ratio");
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "method", "activation_aware", "allocation", "error", "embeddings", true,
                "calibration", Map.of("dataset", SHA, "samples", 128)), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "method", "whitened"), "with")).extracting(SpecError::path).containsExactly("with.method");
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "method", "activation_aware", "calibration", Map.of("dataset", SHA, "samples", 5000)), "with"))
                .extracting(SpecError::path).containsExactly("with.calibration.samples");
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "method", "activation_aware", "refine", "sequential", "embeddings", true,
                "embedding_weights", "token_frequency", "frequency_floor", 0.1,
                "calibration", Map.of("dataset", SHA, "samples", 64)), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "refine", "backwards"), "with")).extracting(SpecError::path).containsExactly("with.refine");
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "embedding_weights", "idf"), "with")).extracting(SpecError::path).containsExactly("with.embedding_weights");
        assertThat(WithValidator.validate(BuiltInOperators.LOWRANK, Map.of("model", SHA, "param_ratio", 0.8,
                "frequency_floor", 0), "with")).extracting(SpecError::path).containsExactly("with.frequency_floor");
    }

    @Test
    void pruneTakesSparsityOrAMaskAndClusterACodebook() {
        assertThat(WithValidator.validate(BuiltInOperators.PRUNE, Map.of("model", SHA, "mask_from", SHA), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.PRUNE, Map.of("model", SHA), "with")).isNotEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.CLUSTER, Map.of("model", SHA, "codebook_from", SHA,
                "centroids", "refit"), "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.CLUSTER, Map.of("model", SHA, "codebook_from", SHA,
                "centroids", "average"), "with")).extracting(SpecError::path).containsExactly("with.centroids");
    }

    @Test
    void compressNeedsAGridAnEvaluationAndMaxDrop() {
        Map<String, Object> ok = Map.of("model", SHA, "grid", Map.of("sparsity", java.util.List.of(0, 0.5),
                "bits", java.util.List.of(32, 4), "rank", java.util.List.of(1, 0.5)), "evaluation", Map.of("dataset", SHA),
                "max_drop", 1.0, "max_size_ratio", 0.3, "prefer", "accuracy");
        assertThat(WithValidator.validate(BuiltInOperators.COMPRESS, ok, "with")).isEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.COMPRESS, Map.of("model", SHA, "grid", Map.of(),
                "evaluation", Map.of("dataset", SHA)), "with")).isNotEmpty();
        assertThat(WithValidator.validate(BuiltInOperators.COMPRESS, Map.of("model", SHA, "grid",
                Map.of("rank", java.util.List.of(0)), "evaluation", Map.of("dataset", SHA), "max_drop", 1), "with"))
                .extracting(SpecError::path).containsExactly("with.grid.rank[0]");
        assertThat(BuiltInOperators.COMPRESS.deterministic()).isFalse();
    }
}
