package dev.anvil.activities.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.activities.convert.ConvertOperator;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.Operator;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.activities.quantize.QuantizeOperator;
import dev.anvil.activities.validate.ValidateOperator;
import dev.anvil.db.Relation;
import dev.anvil.modelkit.compress.SharedWeights;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.workflows.ArtifactRef;
import dev.anvil.workflows.pipeline.spec.BuiltInOperators;
import dev.anvil.workflows.pipeline.spec.Dag;
import dev.anvil.workflows.pipeline.spec.OperatorDescriptor;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.References;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The recipes of examples/ run through the operators, task by task in DAG order with references resolved as the
 * workflow resolves them: prune → quantize, cluster → quantize, the compress grid, and the fine-tuning loop
 * (prune → fine-tune → prune mask_from → quantize → validate) with an in-process stand-in for the trainer.
 */
class CompressionRecipesTest {
    static final Path EXAMPLES = Path.of("..", "examples");
    static final OrtEnvironment ENV = OrtEnvironment.getEnvironment();
    static CompressFixture fixture;
    static ArtifactIO io;
    static Map<String, Operator> operators;

    @BeforeAll
    static void start() throws Exception {
        fixture = CompressFixture.get();
        io = fixture.io;
        operators = new LinkedHashMap<>();
        for (Operator op : List.of(new PruneOperator(io, ENV), new ClusterOperator(io, ENV), new CompressOperator(io, ENV),
                new QuantizeOperator(io, ENV, Duration.ofSeconds(10)), new ValidateOperator(io, fixture.stores.registry(), ENV),
                new ConvertOperator(io, new ModelConverter(ENV)), new FineTuneStandIn())) {
            operators.put(op.name(), op);
        }
    }

    /** The outputs of every task of an examples/ pipeline, run with these params (the rest as the file gives them). */
    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> run(String file, Map<String, Object> params, Map<String, CompressFixture.Attempt> attempts)
            throws Exception {
        PipelineSpec spec = SpecLoader.load(Files.readString(EXAMPLES.resolve(file)),
                OperatorRegistry.of(BuiltInOperators.all()), Set.of());
        Map<String, Object> p = new LinkedHashMap<>(spec.params());
        p.putAll(params);
        Map<String, Map<String, Object>> outputs = new LinkedHashMap<>();
        for (String task : Dag.of(spec).topologicalOrder()) {
            TaskSpec t = spec.task(task);
            Map<String, Object> with = (Map<String, Object>) References.render(t.with(), ref -> switch (ref.kind()) {
                case PARAM -> p.get(ref.name());
                case TASK_OUTPUT -> outputs.get(ref.task()).get(ref.name());
                case RUN -> "run";
            });
            CompressFixture.Attempt attempt = fixture.attempt(task);
            attempts.put(task, attempt);
            outputs.put(task, operators.get(t.operator()).run(attempt, with));
        }
        return outputs;
    }

    static Map<String, Object> params() {
        return Map.of("model", fixture.model, "calibration", fixture.calibration, "evaluation", fixture.evaluation);
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> report(Map<String, Object> outputs) {
        return (Map<String, Object>) outputs.get("report");
    }

    @SuppressWarnings("unchecked")
    static OnnxModel model(Map<String, Object> outputs) throws Exception {
        ArtifactRef ref = io.resolve("test", outputs, "model");
        Path file = io.fetch(ref, ".onnx");
        try {
            return OnnxModel.read(file);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** The INT8 weights (2-D and up) of a quantised model, by initializer name. */
    static Map<String, float[]> int8Weights(OnnxModel model) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (TensorProto t : model.graph().proto().getInitializerList()) {
            if (t.getDataType() == TensorProto.DataType.INT8_VALUE && Tensors.dims(t).length >= 2) {
                out.put(t.getName(), Tensors.toFloats(t));
            }
        }
        return out;
    }

    @Test
    void pruneThenQuantizeKeepsTheZerosInTheInt8Weights() throws Exception {
        Map<String, Map<String, Object>> out = run("prune-quantize.yaml", params(), new LinkedHashMap<>());

        Map<String, Object> quantized = report(out.get("quantize"));
        assertThat((int) quantized.get("nodes_quantized")).isEqualTo(4);
        assertThat((double) quantized.get("size_ratio")).isLessThan(0.35);
        Map<String, float[]> int8 = int8Weights(model(out.get("quantize")));
        assertThat(int8).hasSize(4);
        long zeros = 0;
        long all = 0;
        for (float[] w : int8.values()) {
            for (float v : w) {
                zeros += v == 0 ? 1 : 0;
            }
            all += w.length;
        }
        assertThat((double) zeros / all).as("INT8 weights that are zero").isGreaterThanOrEqualTo(0.49);
        System.out.printf("prune 50 %% -> INT8: %d B, INT8 weight zeros %.4f, evaluation %s%n",
                quantized.get("size_after"), (double) zeros / all, quantized.get("evaluation"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterThenQuantizeQuantisesTheSharedWeights() throws Exception {
        Map<String, Map<String, Object>> out = run("cluster-quantize.yaml", params(), new LinkedHashMap<>());

        Map<String, Object> quantized = report(out.get("quantize"));
        assertThat((List<String>) quantized.get("shared_weights_unfolded")).containsExactly("Conv", "Conv_1", "Gemm", "Gemm_1");
        assertThat((int) quantized.get("nodes_quantized")).isEqualTo(4);
        OnnxModel int8 = model(out.get("quantize"));
        assertThat(int8.graph().nodes()).noneMatch(n -> n.getOpType().equals("Gather"));
        for (TensorProto t : int8.graph().proto().getInitializerList()) {
            if (t.getDataType() == TensorProto.DataType.INT8_VALUE && Tensors.dims(t).length >= 2) {
                // per-channel scales: each output channel (axis 0 of a Conv, either end of a Gemm weight) maps the
                // tensor's 16 shared values to at most 16 INT8 values
                assertThat(Math.min(mostDistinctPerSlice(t, 0), mostDistinctPerSlice(t, Tensors.dims(t).length - 1)))
                        .as(t.getName()).isLessThanOrEqualTo(16);
            }
        }
        Map<String, Object> evaluated = (Map<String, Object>) quantized.get("evaluation");
        System.out.printf("cluster 4 bit -> INT8: %d B, evaluation %s%n", quantized.get("size_after"), evaluated);
    }

    @Test
    @SuppressWarnings("unchecked")
    void theFineTuningLoopRestoresThePrunedZerosExactly() throws Exception {
        Map<String, CompressFixture.Attempt> attempts = new LinkedHashMap<>();
        Map<String, Object> params = new LinkedHashMap<>(params());
        params.put("script", fixture.calibration); // the stand-in trainer reads no script
        params.put("train", fixture.calibration);
        Map<String, Map<String, Object>> out = run("prune-finetune.yaml", params, attempts);

        float[][] pruned = layerWeights(model(out.get("prune")));
        float[][] tuned = layerWeights(model(out.get("finetune")));
        float[][] remasked = layerWeights(model(out.get("remask")));
        long zeros = 0;
        long all = 0;
        for (int l = 0; l < pruned.length; l++) {
            for (int i = 0; i < pruned[l].length; i++) {
                assertThat(remasked[l][i]).isEqualTo(pruned[l][i] == 0f ? 0f : tuned[l][i]);
                assertThat(tuned[l][i]).isNotZero(); // the stand-in moved every weight
                zeros += remasked[l][i] == 0f ? 1 : 0;
            }
            all += pruned[l].length;
        }
        assertThat((double) zeros / all).isBetween(0.799, 0.801);
        assertThat((boolean) report(out.get("remask")).get("mask_from")).isTrue();
        String maskSha = (String) ((Map<String, Object>) out.get("prune").get("model")).get("sha256");
        assertThat(attempts.get("remask").edges()).extracting(e -> e.relation() + "/" + e.role() + "/" + e.artifactSha256())
                .contains("USED/mask_from/" + maskSha);
        assertThat(out.get("validate")).containsKey("report");
        assertThat(int8Weights(model(out.get("quantize")))).isNotEmpty();
    }

    /** The three results of cluster (with {@code clusterWith}), the stand-in trainer, and cluster with codebook_from. */
    private record Reclustered(Map<String, Object> first, Map<String, Object> tuned, Map<String, Object> again) {}

    private Reclustered clusterFineTuneRecluster(Map<String, Object> clusterWith) throws Exception {
        Operator cluster = operators.get("cluster");
        Map<String, Object> with = new java.util.HashMap<>(clusterWith);
        with.put("model", fixture.model);
        Map<String, Object> first = cluster.run(fixture.attempt("cluster"), with);
        Map<String, Object> tuned = operators.get("command").run(fixture.attempt("finetune"),
                Map.of("inputs", Map.of("model", first.get("model"))));
        Map<String, Object> again = cluster.run(fixture.attempt("recluster"), Map.of("model", tuned.get("model"),
                "codebook_from", first.get("model")));
        return new Reclustered(first, tuned, again);
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterCodebookFromRestoresIndicesAndCodebookAfterFineTuning() throws Exception {
        Reclustered run = clusterFineTuneRecluster(Map.of("bits", 4, "per_channel", true));
        Map<String, Object> first = run.first();
        Map<String, Object> tuned = run.tuned();
        Map<String, Object> again = run.again();

        Map<String, SharedWeights.Shared> before = SharedWeights.of(model(first));
        Map<String, SharedWeights.Shared> after = SharedWeights.of(model(again));
        assertThat(after.keySet()).containsExactlyElementsOf(before.keySet()).hasSize(4);
        for (String layer : before.keySet()) {
            assertThat(after.get(layer).indices()).isEqualTo(before.get(layer).indices());
            assertThat(after.get(layer).codebook()).isEqualTo(before.get(layer).codebook());
        }
        assertThat(report(again)).containsEntry("codebook_from", true).containsEntry("centroids", "keep")
                .containsEntry("pack_indices", false);
        assertThat(after.values()).allSatisfy(s -> assertThat(s.packed()).isFalse());
        assertThat(SharedWeights.of(model(tuned))).as("the stand-in trainer exported float weights").isEmpty();
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterCodebookFromKeepsAPackedReferencePackedPerLayer() throws Exception {
        Reclustered run = clusterFineTuneRecluster(Map.of("bits", 4, "pack_indices", true, "layers", Map.of("Gemm", 2)));
        Map<String, Object> first = run.first();
        Map<String, Object> tuned = run.tuned();
        Map<String, Object> again = run.again();

        Map<String, SharedWeights.Shared> before = SharedWeights.of(model(first));
        Map<String, SharedWeights.Shared> after = SharedWeights.of(model(again));
        assertThat(after.keySet()).containsExactlyElementsOf(before.keySet()).hasSize(4);
        for (String layer : before.keySet()) {
            assertThat(before.get(layer).packed()).as(layer).isTrue();
            assertThat(after.get(layer).packedBits()).as(layer).isEqualTo(before.get(layer).packedBits());
            assertThat(after.get(layer).indices()).as(layer).isEqualTo(before.get(layer).indices());
        }
        assertThat(before.get("Gemm").packedBits()).isEqualTo(2);
        Map<String, Object> report = report(again);
        assertThat(report).containsEntry("codebook_from", true).containsEntry("pack_indices", true);
        List<Map<String, Object>> rows = (List<Map<String, Object>>) report.get("layers");
        assertThat(rows).allSatisfy(r -> assertThat(r).containsEntry("packed_indices", true));
        assertThat(rows).filteredOn(r -> r.get("name").equals("Gemm")).singleElement()
                .satisfies(r -> assertThat(r).containsEntry("bits", 2));
        long referenceSize = model(first).toBytes().length;
        long size = model(again).toBytes().length;
        // the same initializers and nodes; only the clustering note in the metadata differs in length
        assertThat(size).isBetween(referenceSize, referenceSize + 64);
        assertThat(size).isLessThan(model(tuned).toBytes().length / 5);
        assertThatThrownBy(() -> operators.get("cluster").run(fixture.attempt("k"), Map.of("model", tuned.get("model"),
                "codebook_from", first.get("model"), "pack_indices", true)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("leave pack_indices out");
    }

    @Test
    @SuppressWarnings("unchecked")
    void theCompressGridReportsEveryPointItsFrontAndPublishesOnlyTheChoice() throws Exception {
        Map<String, CompressFixture.Attempt> attempts = new LinkedHashMap<>();
        Map<String, Object> params = Map.of("model", fixture.model, "evaluation", fixture.evaluation);
        Map<String, Map<String, Object>> out = run("compress-grid.yaml", params, attempts);

        Map<String, Object> report = report(out.get("compress"));
        List<Map<String, Object>> points = (List<Map<String, Object>>) report.get("points");
        assertThat(points).hasSize(18);
        assertThat(report.get("quality_metric")).isEqualTo("accuracy");
        assertThat(points).filteredOn(p -> (boolean) p.get("chosen")).singleElement().satisfies(p -> {
            assertThat((boolean) p.get("on_front")).isTrue();
            assertThat((boolean) p.get("within_constraints")).isTrue();
            assertThat((double) p.get("size_ratio")).isLessThanOrEqualTo(0.34);
            assertThat((double) p.get("drop_points")).isLessThanOrEqualTo(1.0);
        });
        assertThat(points).allSatisfy(p -> assertThat(p.get("latency_p50_ms")).isNotNull());
        assertThat(points).filteredOn(p -> (boolean) p.get("on_front")).isNotEmpty();
        // what the front means: no point on it is beaten on size, drop and latency by another
        for (Map<String, Object> a : points) {
            for (Map<String, Object> b : points) {
                if ((boolean) b.get("on_front")) {
                    assertThat(beats(a, b)).as(a + " beats " + b).isFalse();
                }
            }
        }
        String published = (String) ((Map<String, Object>) out.get("compress").get("model")).get("sha256");
        assertThat(attempts.get("compress").edges()).filteredOn(e -> e.relation() == Relation.GENERATED)
                .extracting(e -> e.role() + "/" + e.artifactSha256()).containsExactly("model/" + published);
        System.out.println("compress grid on cnn_mnist (" + report.get("samples") + " images), input " + report.get("input"));
        System.out.println("| sparsity | bits | rank | size B | size ratio | top-1 | drop pt | p50 ms | front | chosen |");
        for (Map<String, Object> p : points) {
            System.out.printf("| %s | %s | %s | %s | %.4f | %.4f | %.2f | %.4f | %s | %s |%n", p.get("sparsity"),
                    p.get("bits"), p.get("rank"), p.get("size"), p.get("size_ratio"), p.get("accuracy"),
                    p.get("drop_points"), p.get("latency_p50_ms"), p.get("on_front"), p.get("chosen"));
        }
    }

    /** The most distinct values in one slice of the tensor along {@code axis}. */
    static int mostDistinctPerSlice(TensorProto t, int axis) {
        long[] dims = Tensors.dims(t);
        float[] v = Tensors.toFloats(t);
        long stride = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            stride *= dims[d];
        }
        List<Set<Float>> slices = new ArrayList<>();
        for (int c = 0; c < dims[axis]; c++) {
            slices.add(new HashSet<>());
        }
        for (int i = 0; i < v.length; i++) {
            slices.get((int) ((i / stride) % dims[axis])).add(v[i]);
        }
        return slices.stream().mapToInt(Set::size).max().orElse(0);
    }

    private static boolean beats(Map<String, Object> a, Map<String, Object> b) {
        long sa = ((Number) a.get("size")).longValue();
        long sb = ((Number) b.get("size")).longValue();
        double da = (double) a.get("drop_points");
        double db = (double) b.get("drop_points");
        double la = (double) a.get("latency_p50_ms");
        double lb = (double) b.get("latency_p50_ms");
        return sa <= sb && da <= db && la <= lb && (sa < sb || da < db || la < lb);
    }

    @Test
    @SuppressWarnings("unchecked")
    void packedIndicesMakeTheGridsClusterPointsSmallerWithTheSameAccuracy() throws Exception {
        Map<String, Object> with = Map.of("model", fixture.model, "grid", Map.of("bits", List.of(3, 4)),
                "evaluation", Map.of("dataset", fixture.evaluation), "max_drop", 5);
        Map<String, Object> plain = report(operators.get("compress").run(fixture.attempt("compress-plain"), with));
        Map<String, Object> packedWith = new LinkedHashMap<>(with);
        packedWith.put("pack_indices", true);
        Map<String, Object> packed = report(operators.get("compress").run(fixture.attempt("compress-packed"), packedWith));

        assertThat(plain.get("pack_indices")).isEqualTo(false);
        assertThat(packed.get("pack_indices")).isEqualTo(true);
        List<Map<String, Object>> before = (List<Map<String, Object>>) plain.get("points");
        List<Map<String, Object>> after = (List<Map<String, Object>>) packed.get("points");
        assertThat(after).hasSameSizeAs(before);
        for (int i = 0; i < before.size(); i++) {
            Map<String, Object> b = before.get(i);
            Map<String, Object> a = after.get(i);
            System.out.printf("compress bits %s: %s B unpacked, %s B packed, top-1 %s / %s%n", b.get("bits"),
                    b.get("size"), a.get("size"), b.get("accuracy"), a.get("accuracy"));
            assertThat(((Number) a.get("size")).longValue()).as("bits " + b.get("bits"))
                    .isLessThan(((Number) b.get("size")).longValue());
            // the same indices and codebooks, stored differently: the model computes the same
            assertThat(a.get("accuracy")).isEqualTo(b.get("accuracy"));
        }
    }

    @Test
    void noPointWithinTheConstraintsFailsNamingTheBestAndPublishesNothing() throws Exception {
        CompressFixture.Attempt attempt = fixture.attempt("compress");
        assertThatThrownBy(() -> operators.get("compress").run(attempt, Map.of("model", fixture.model,
                "grid", Map.of("bits", List.of(2, 32)),
                "evaluation", Map.of("dataset", fixture.evaluation), "max_drop", 0.1, "max_size_ratio", 0.25)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("no point of the grid").hasMessageContaining("nothing was published")
                .hasMessageContaining("the smallest within max_drop is sparsity 0.0, float, rank full (size ratio 1.0000")
                .hasMessageNotContaining("the best within max_size_ratio");
        assertThat(attempt.edges()).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    @Test
    void badCompressAndFineTuningInputIsRefusedBeforeAnyWork() {
        Operator compress = operators.get("compress");
        Map<String, Object> evaluation = Map.of("dataset", fixture.evaluation);
        assertThatThrownBy(() -> compress.run(fixture.attempt("c"), Map.of("model", fixture.model, "evaluation", evaluation,
                "max_drop", 1, "grid", Map.of("sparsity", List.of(0, 0.2, 0.4, 0.6), "bits", List.of(2, 3, 4, 32),
                        "rank", List.of(1, 0.5)))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("4 × 4 × 2 = 32 points; at most 27");
        assertThatThrownBy(() -> compress.run(fixture.attempt("c"), Map.of("model", fixture.model, "evaluation", evaluation,
                "max_drop", 1, "grid", Map.of("bits", List.of(9)))))
                .hasMessageContaining("grid.bits values must be 2 to 8").hasMessageContaining("or 32");
        assertThatThrownBy(() -> compress.run(fixture.attempt("c"), Map.of("model", fixture.model, "evaluation", evaluation,
                "grid", Map.of("bits", List.of(4)))))
                .hasMessageContaining("needs with.max_drop");
        assertThatThrownBy(() -> compress.run(fixture.attempt("c"), Map.of("model", fixture.model, "max_drop", 1,
                "grid", Map.of("bits", List.of(4)))))
                .hasMessageContaining("needs with.evaluation");
        assertThatThrownBy(() -> compress.run(fixture.attempt("c"), Map.of("model", fixture.model, "evaluation", evaluation,
                "max_drop", 1, "grid", Map.of("depth", List.of(4)))))
                .hasMessageContaining("grid.depth is not a grid axis");
        assertThatThrownBy(() -> compress.run(fixture.attempt("c"), Map.of("model", fixture.model, "evaluation", evaluation,
                "max_drop", 1, "grid", Map.of("sparsity", List.of(0.5, 0.5)))))
                .hasMessageContaining("lists 0.5 twice");
        assertThatThrownBy(() -> operators.get("prune").run(fixture.attempt("p"), Map.of("model", fixture.model,
                "mask_from", fixture.model, "sparsity", 0.5)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("leave sparsity out");
        assertThatThrownBy(() -> operators.get("cluster").run(fixture.attempt("k"), Map.of("model", fixture.model,
                "codebook_from", fixture.model, "bits", 4)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("leave bits out");
        assertThatThrownBy(() -> operators.get("cluster").run(fixture.attempt("k"), Map.of("model", fixture.model,
                "codebook_from", fixture.model)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("no clustered weights");
    }

    /** Each Conv/Gemm weight of the model (2-D and up float initializers), in file order. */
    static float[][] layerWeights(OnnxModel model) {
        List<float[]> out = new ArrayList<>();
        for (TensorProto t : model.graph().proto().getInitializerList()) {
            if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE && Tensors.dims(t).length >= 2) {
                out.add(Tensors.toFloats(t));
            }
        }
        return out.toArray(new float[0][]);
    }

    /**
     * Stands in for a trainer's {@code command} task: reads {@code with.inputs.model}, unfolds shared weights (a
     * trainer trains float weights) and moves every weight a little, zeros included, then publishes the result.
     */
    static final class FineTuneStandIn implements Operator {
        @Override
        public OperatorDescriptor descriptor() {
            return BuiltInOperators.COMMAND;
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map<String, Object> run(TaskContext context, Map<String, Object> with) throws Exception {
            Map<String, Object> inputs = (Map<String, Object>) with.get("inputs");
            ArtifactRef ref = io.resolve(name(), inputs, "model");
            Path file = io.fetch(ref, ".onnx");
            OnnxModel model = OnnxModel.read(file);
            SharedWeights.unfold(model);
            var list = model.graph().proto().getInitializerList();
            for (int i = 0; i < list.size(); i++) {
                TensorProto t = list.get(i);
                if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE && Tensors.dims(t).length >= 2) {
                    float[] w = Tensors.toFloats(t);
                    for (int j = 0; j < w.length; j++) {
                        w[j] += 0.002f * ((j * 7919) % 11 - 5) + 0.0001f;
                    }
                    model.graph().proto().setInitializer(i, Tensors.floats(t.getName(), Tensors.dims(t), w));
                }
            }
            model.write(file);
            ArtifactRef out = io.publish(context, file, ArtifactIO.ONNX_MEDIA_TYPE, "model");
            Files.deleteIfExists(file);
            return Map.of("model", io.asOutput(out));
        }
    }
}
