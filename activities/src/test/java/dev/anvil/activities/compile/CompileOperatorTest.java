package dev.anvil.activities.compile;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.InvalidTaskInputException;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.db.LineageEdge;
import dev.anvil.db.Relation;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** compile against the local stack's S3 and PostgreSQL: the .tflite published, its verification, refusals. */
class CompileOperatorTest {
    @TempDir
    static Path dir;
    static LocalStackStores stores;
    static ArtifactIO io;
    static String model;
    static String evaluation;
    static String model13;
    static Map<String, Object> table;
    static Map<String, Object> otherTable;

    @BeforeAll
    static void start() throws Exception {
        CnnMnistCompileFixture fixture = CnnMnistCompileFixture.open("compile_op", "compile-test", dir, 1000);
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

        List<LineageEdge> edges() {
            return stores.lineage().edgesOf(taskRunId);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void tfliteFloat32IsVerifiedAndPublished() throws Exception {
        Attempt attempt = new Attempt();
        Map<String, Object> out = new CompileOperator(io).run(attempt, Map.of("model", model, "target", "tflite",
                "precision", "float32", "dataset", evaluation));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        Map<String, Object> v = (Map<String, Object>) report.get("verification");
        System.out.println("compile report: " + report);
        assertThat(((Number) v.get("samples")).intValue()).isEqualTo(1000);
        assertThat((double) v.get("top1_agreement")).isEqualTo(1.0);
        assertThat((double) v.get("max_abs_error_probabilities")).isLessThan(1e-4);
        Map<String, Object> published = (Map<String, Object>) out.get("model");
        assertThat(published.get("media_type") != null ? published.get("media_type") : published.get("mediaType"))
                .isEqualTo(CompileOperator.TFLITE_MEDIA_TYPE);
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role())
                .contains("GENERATED/model", "USED/model", "USED/evaluation_dataset");
    }

    @Test
    @SuppressWarnings("unchecked")
    void tfliteInt8FromTheQuantizeCalibrationTableIsVerifiedAndPublished() throws Exception {
        Attempt attempt = new Attempt();
        Map<String, Object> out = new CompileOperator(io).run(attempt, Map.of("model", model13, "target", "tflite",
                "precision", "int8", "calibration_table", table, "dataset", evaluation));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        Map<String, Object> v = (Map<String, Object>) report.get("verification");
        System.out.println("compile int8 report: " + report);
        assertThat(report.get("precision")).isEqualTo("int8");
        assertThat((double) report.get("size_ratio")).isLessThan(0.35);
        assertThat(((Map<String, Object>) report.get("io")).get("type")).isEqualTo("float32");
        assertThat(((Map<String, Object>) report.get("calibration")).get("same_model_file")).isEqualTo(true);
        assertThat(((Number) v.get("samples")).intValue()).isEqualTo(1000);
        assertThat((double) v.get("accuracy_drop_points")).isLessThanOrEqualTo(0.5);
        assertThat((double) v.get("top1_agreement")).isGreaterThan(0.99);
        assertThat(v).containsKeys("max_abs_error", "max_abs_error_probabilities", "accuracy", "reference_accuracy");
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role())
                .contains("GENERATED/model", "USED/model", "USED/calibration_table", "USED/evaluation_dataset");
    }

    @Test
    @SuppressWarnings("unchecked")
    void int8IoGivesEachTensorsScaleAndZeroPointAndIsVerifiedQuantised() throws Exception {
        Attempt attempt = new Attempt();
        Map<String, Object> out = new CompileOperator(io).run(attempt, Map.of("model", model13, "precision", "int8",
                "io", "int8", "calibration_table", table, "dataset", evaluation));
        Map<String, Object> report = (Map<String, Object>) out.get("report");
        System.out.println("compile int8 io report: " + report);
        Map<String, Object> ioReport = (Map<String, Object>) report.get("io");
        assertThat(ioReport.get("type")).isEqualTo("int8");
        List<Map<String, Object>> tensors = (List<Map<String, Object>>) ioReport.get("tensors");
        assertThat(tensors).extracting(t -> t.get("role") + " " + t.get("name") + " " + t.get("type"))
                .containsExactly("input input_image int8", "output output_probs int8");
        assertThat(tensors).allSatisfy(t -> {
            assertThat(((Number) t.get("scale")).doubleValue()).isPositive();
            assertThat(((Number) t.get("zero_point")).longValue()).isBetween(-128L, 127L);
        });
        assertThat(((Number) tensors.get(1).get("scale")).doubleValue()).isEqualTo(16.0 / 256);
        assertThat((Map<String, Integer>) report.get("tflite_ops")).doesNotContainKeys("QUANTIZE", "DEQUANTIZE");
        Map<String, Object> v = (Map<String, Object>) report.get("verification");
        assertThat(((Number) v.get("samples")).intValue()).isEqualTo(1000);
        assertThat((double) v.get("accuracy_drop_points")).isLessThanOrEqualTo(0.5);
        assertThat((double) v.get("top1_agreement")).isGreaterThan(0.99);
    }

    @Test
    void badIoValuesAreRefusedBeforeAnyWork() {
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model13, "precision", "int8",
                "io", "uint8", "calibration_table", table)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("io must be float32 (default) or int8, got uint8");
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model13, "precision", "float16",
                "io", "int8")))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("io int8 needs precision int8")
                .hasMessageContaining("float16");
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model13, "io", "int8")))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("io int8 needs precision int8")
                .hasMessageContaining("float32");
        assertThat(attempt.edges()).isEmpty();
    }

    @Test
    void int8RefusesACalibrationTableOfAnotherModelNamingTheMissingTensors() {
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model13, "precision", "int8",
                "calibration_table", otherTable, "dataset", evaluation)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("the calibration table has no range for")
                .hasMessageContaining("input_image")
                .hasMessageContaining("calibrate this model");
        assertThat(attempt.edges()).noneMatch(e -> e.relation() == Relation.GENERATED);
    }

    @Test
    void int8WithoutACalibrationTableOrWithAnotherDocumentIsRefused() throws Exception {
        assertThatThrownBy(() -> new CompileOperator(io).run(new Attempt(), Map.of("model", model13, "precision",
                "int8"))).isInstanceOf(InvalidTaskInputException.class).hasMessageContaining("with.calibration_table");
        Attempt attempt = new Attempt();
        Map<String, Object> notATable = io.asOutput(io.publishJson(attempt, Map.of("format", "something/else",
                "tensors", Map.of()), "report"));
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model13, "precision", "int8",
                "calibration_table", notATable))).isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("not a calibration table");
    }

    @Test
    void unsupportedOpsAreRefusedBeforeTheCalibrationTableIsRead() throws Exception {
        // an ONNX model with an op TFLite int8 has no kernel for (Div), and a table reference that does not exist:
        // the refusal names the node, so nothing else was fetched
        Path div = dir.resolve("div.onnx");
        OnnxModel m = OnnxModel.read(SharedData.cnnMnist());
        m.setOpset("", 13);
        m.proto().setIrVersion(7);
        var g = m.proto().getGraphBuilder();
        String out = g.getOutput(0).getName();
        g.getNodeBuilderList().stream().filter(n -> n.getOutput(0).equals(out)).findFirst().orElseThrow()
                .setOutput(0, "before_div");
        g.addNode(dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto.newBuilder().setOpType("Div").setName("scale_down")
                .addInput("before_div").addInput("before_div").addOutput(out));
        m.write(div);
        String divModel = stores.upload(div, "application/octet-stream").sha256();
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", divModel, "precision", "int8",
                "calibration_table", "0".repeat(64))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("Div 'scale_down'");
        assertThat(attempt.edges()).extracting(e -> e.relation() + "/" + e.role()).containsExactly("USED/model");
    }

    @Test
    void tensorrtOnAWorkerWithoutTensorRtIsRefusedWithTheDetectedReason() {
        // this machine has no GPU and the default build no TensorRT natives: the operator says so, publishes nothing
        org.junit.jupiter.api.Assumptions.assumeFalse(
                dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime.detect().available(), "TensorRT loads here");
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model, "target", "tensorrt",
                "dataset", evaluation)))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("TensorRT is unavailable on this worker: "
                        + dev.anvil.modelkit.compile.tensorrt.TensorRtRuntime.detect().reason());
        assertThat(attempt.edges()).isEmpty();
    }

    @Test
    void tensorrtOnlyFieldsAreRefusedForTflite() {
        Attempt attempt = new Attempt();
        assertThatThrownBy(() -> new CompileOperator(io).run(attempt, Map.of("model", model, "target", "tflite",
                "shapes", Map.of("input_image", List.of(1, 1, 28, 28)))))
                .isInstanceOf(InvalidTaskInputException.class)
                .hasMessageContaining("with.shapes applies to target tensorrt only");
        assertThat(attempt.edges()).isEmpty();
    }
}
