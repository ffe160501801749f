package dev.anvil.activities.convert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.ArtifactStore;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.LineageStore;
import dev.anvil.db.PipelineRunStore;
import dev.anvil.db.Relation;
import dev.anvil.db.TaskRunStore;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.storage.ObjectStore;
import dev.anvil.workflows.ArtifactRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The convert operator against the real stores of the shared local stack (no Temporal needed). */
class ConvertOperatorTest {
    private static LocalStackStores stores;
    private static ObjectStore objects;
    private static ArtifactStore artifacts;
    private static LineageStore lineage;
    private static TaskRunStore taskRuns;
    private static PipelineRunStore runs;
    private static ArtifactRef model;
    private static ConvertOperator operator;

    @TempDir
    Path dir;

    @BeforeAll
    static void stores() throws Exception {
        stores = LocalStackStores.open("convert_op", "convert-test");
        objects = stores.objects();
        artifacts = stores.artifacts();
        lineage = stores.lineage();
        taskRuns = stores.taskRuns();
        runs = stores.runs();
        model = stores.upload(SharedData.cnnMnist(), ArtifactIO.ONNX_MEDIA_TYPE);
        operator = new ConvertOperator(stores.artifactIO(new ObjectMapper()),
                new ModelConverter(OrtEnvironment.getEnvironment()));
    }

    @Test
    void convertsAStoredModelPublishesItAndRecordsLineage() throws Exception {
        Context context = context();

        Map<String, Object> outputs = operator.run(context, Map.of("model", model.sha256(), "opset", 13, "fp16", true));

        @SuppressWarnings("unchecked")
        Map<String, Object> ref = (Map<String, Object>) outputs.get("model");
        String sha = (String) ref.get("sha256");
        assertThat(sha).isNotEqualTo(model.sha256());
        assertThat(artifacts.find(sha)).get().satisfies(a -> {
            assertThat(a.mediaType()).isEqualTo(ArtifactIO.ONNX_MEDIA_TYPE);
            assertThat(a.createdByTaskRun()).isEqualTo(context.taskRunId);
        });
        assertThat(lineage.edgesOf(context.taskRunId)).extracting(LineageEdge::artifactSha256, LineageEdge::relation,
                LineageEdge::role).containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple(model.sha256(), Relation.USED, "model"),
                        org.assertj.core.groups.Tuple.tuple(sha, Relation.GENERATED, "model"));
        @SuppressWarnings("unchecked")
        Map<String, Object> report = (Map<String, Object>) outputs.get("report");
        assertThat(report).containsEntry("opsetBefore", 9L).containsEntry("opsetAfter", 13L).containsEntry("fp16", true)
                .containsEntry("optimization", "basic");
        assertThat(new ObjectMapper().writeValueAsString(outputs)).as("outputs are plain JSON").contains("\"nodesAfter\"");
        assertThat(context.stages).containsExactly("validate", "opset", "optimize", "fp16", "verify");

        Path published = dir.resolve("published.onnx");
        objects.copyTo(ArtifactIO.stored(new ObjectMapper().convertValue(ref, ArtifactRef.class)), published);
        assertThat(OnnxModel.read(published).opset("")).contains(13L);
    }

    @Test
    void settingsAndModelsItCannotUseAreBadInput() throws Exception {
        assertThatThrownBy(() -> operator.run(context(), Map.of("model", model.sha256(), "opset", 8)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("lowering it to 8 is not supported");
        assertThatThrownBy(() -> operator.run(context(), Map.of("model", model.sha256(), "opset", 30)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("with.opset must be a whole number from 7 to 24");
        assertThatThrownBy(() -> operator.run(context(), Map.of("model", model.sha256(), "optimization", "max")))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("none, basic, extended, all");
        assertThatThrownBy(() -> operator.run(context(), Map.of("model", model.sha256(), "fp16", "yes")))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("with.fp16 must be true or false");
        assertThatThrownBy(() -> operator.run(context(), Map.of("model", model.sha256(), "quantize", true)))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("does not take with.quantize");

        ArtifactRef notAModel = stores.upload(Files.writeString(dir.resolve("not-a-model.onnx"), "not a model"),
                ArtifactIO.ONNX_MEDIA_TYPE);
        assertThatThrownBy(() -> operator.run(context(), Map.of("model", notAModel.sha256())))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("convert: not an ONNX model");
    }

    @Test
    @SuppressWarnings("unchecked")
    void checksOnTheDatasetItIsGivenAndSaysSoInItsOutputs() throws Exception {
        float[] pixels = new float[16 * 28 * 28];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (i * 37 % 256);
        }
        Path data = dir.resolve("digits.zip");
        DatasetWriter.write(data, new Dataset(Map.of("input_image", NpyArray.ofFloat32(new long[] {16, 1, 28, 28}, pixels)),
                Optional.empty()));
        ArtifactRef dataset = stores.upload(data, ArtifactIO.DATASET_MEDIA_TYPE);
        Context context = context();

        Map<String, Object> outputs = operator.run(context, Map.of("model", model.sha256(), "dataset", dataset.sha256()));

        assertThat(outputs).containsEntry("verified", true).doesNotContainKey("verified_reason");
        Map<String, Object> verification = (Map<String, Object>) ((Map<String, Object>) outputs.get("report")).get("verification");
        assertThat(verification).containsEntry("samples", 16L).containsEntry("verified", true);
        assertThat((String) verification.get("inputs")).contains("the dataset's first 16 samples");
        assertThat(lineage.edgesOf(context.taskRunId)).extracting(LineageEdge::artifactSha256, LineageEdge::role)
                .contains(org.assertj.core.groups.Tuple.tuple(dataset.sha256(), "dataset"));
    }

    @Test
    void shapesMustBeListsOrNumbersOfWholePositiveSizes() {
        assertThat(ConvertOperator.options(Map.of("model", "m", "shapes", Map.of("images", List.of(1, 3, 640, 640),
                "batch", 1))).shapes()).satisfies(s -> {
                    assertThat(s.byInput()).containsEntry("images", List.of(1L, 3L, 640L, 640L));
                    assertThat(s.byDimension()).containsEntry("batch", 1L);
                });
        assertThatThrownBy(() -> ConvertOperator.options(Map.of("shapes", List.of(1, 3))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("with.shapes must be an object");
        assertThatThrownBy(() -> ConvertOperator.options(Map.of("shapes", Map.of("images", List.of(1, 0, 2.5)))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("with.shapes.images holds 0; sizes must be whole numbers of at least 1");
        assertThatThrownBy(() -> ConvertOperator.options(Map.of("shapes", Map.of("height", "640"))))
                .isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("with.shapes.height holds 640");
    }

    @Test
    void shapesThatDoNotFitTheModelNameTheInput() {
        // cnn_mnist: input_image [b, 1, 28, 28]
        assertThatThrownBy(() -> operator.run(context(), Map.of("model", model.sha256(), "shapes",
                Map.of("input_image", List.of(1, 3, 28, 28)))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("with.shapes.input_image gives 3 for axis 1 but input 'input_image' fixes it at 1");
    }

    private static Context context() {
        String runId = "run-" + UUID.randomUUID();
        runs.create(runId, "test", "{}", "tester");
        return new Context(runId, taskRuns.start(runId, "convert", 1, "convert", "{}"));
    }

    private static final class Context implements TaskContext {
        final String runId;
        final long taskRunId;
        final List<String> stages = new ArrayList<>();

        Context(String runId, long taskRunId) {
            this.runId = runId;
            this.taskRunId = taskRunId;
        }

        @Override
        public String runId() {
            return runId;
        }

        @Override
        public String taskId() {
            return "convert";
        }

        @Override
        public long taskRunId() {
            return taskRunId;
        }

        @Override
        public void heartbeat(Object progress) {
            stages.add(String.valueOf(((Map<?, ?>) progress).get("stage")));
        }
    }
}
