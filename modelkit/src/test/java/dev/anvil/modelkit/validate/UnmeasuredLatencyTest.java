package dev.anvil.modelkit.validate;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.gate.GatePolicy;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A latency that was never measured is null with its reason, and a gate on it fails saying why. */
class UnmeasuredLatencyTest {

    @TempDir
    Path dir;

    @Test
    void warmUpNeverTakesEveryBatchOfASmallDataset() throws Exception {
        Path model = dir.resolve("relu.onnx");
        Files.write(model, reluModel().toByteArray());
        Path data = dir.resolve("two.zip");
        DatasetWriter.write(data, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {2, 4},
                new float[] {1, -2, 3, -4, 5, -6, 7, -8})), Optional.empty()));

        ModelEvaluator.Evaluation e = new ModelEvaluator(OrtEnvironment.getEnvironment())
                .evaluate(model, data, new ModelEvaluator.Options(1, 1, 1, 0, 2, 1));

        assertThat(e.latency().warmupBatches()).as("two batches: a quarter of them is none").isZero();
        assertThat(e.latency().batches()).isEqualTo(2);
        assertThat(e.latency().repeatedBatches()).as("two timed runs reach the minimum of one").isZero();
        assertThat(e.latency().absentReason()).isNull();
        assertThat(e.latency().p95Ms()).isNotNull().isPositive();
        assertThat(e.latency().histogram().total()).isEqualTo(2);
        assertThat(e.throughputPerSecond()).isNotNull().isPositive();
    }

    @Test
    void aSmallDatasetIsRunAgainUntilEnoughRunsAreTimedForTheSpread() throws Exception {
        Path model = dir.resolve("relu.onnx");
        Files.write(model, reluModel().toByteArray());
        Path data = dir.resolve("three.zip");
        DatasetWriter.write(data, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {3, 4}, new float[12])),
                Optional.empty()));

        ModelEvaluator.Evaluation e = new ModelEvaluator(OrtEnvironment.getEnvironment())
                .evaluate(model, data, new ModelEvaluator.Options(1, 1, 1, 0, 2, 20));

        assertThat(e.samples()).as("accuracy and sample counts see each sample once").isEqualTo(3);
        assertThat(e.latency().warmupBatches()).as("22 runs: the two warm-up runs asked for fit").isEqualTo(2);
        assertThat(e.latency().batches()).isEqualTo(20);
        assertThat(e.latency().repeatedBatches()).as("22 runs, 3 of them the dataset's first pass").isEqualTo(19);
        assertThat(e.latency().histogram().total()).isEqualTo(20);
        assertThat(e.latency().p25Ms()).isNotNull().isLessThanOrEqualTo(e.latency().p75Ms());
        assertThat(ModelEvaluator.toJson(e)).extractingByKey("latency_ms").asInstanceOf(
                org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("repeated_batches", 19);
    }

    @Test
    void warmUpTakesAtMostAQuarterOfTheBatches() {
        assertThat(ModelEvaluator.warmupFor(2, 0)).isZero();
        assertThat(ModelEvaluator.warmupFor(2, 1)).isZero();
        assertThat(ModelEvaluator.warmupFor(2, 7)).isEqualTo(1);
        assertThat(ModelEvaluator.warmupFor(2, 8)).isEqualTo(2);
        assertThat(ModelEvaluator.warmupFor(2, 1000)).isEqualTo(2);
        assertThat(ModelEvaluator.warmupFor(0, 1000)).isZero();
    }

    @Test
    void nothingTimedIsNullWithAReasonNeverZero() {
        ModelEvaluator.Latency none = ModelEvaluator.latencyOf(List.of(), 2, 2);
        Map<String, Object> json = ModelEvaluator.latencyJson(none);

        assertThat(json).containsEntry("p50", null).containsEntry("p25", null).containsEntry("p75", null).containsEntry("p95", null).containsEntry("p99", null)
                .containsEntry("mean", null).containsEntry("batches", 0).doesNotContainKey("histogram")
                .containsEntry("absent_reason", "the dataset has 2 batch(es) and warm-up took 2: nothing was timed");
        assertThat(ModelEvaluator.latency(List.of(), 2).absentReason())
                .isEqualTo("no batch ran: the dataset has no samples to feed");
    }

    @Test
    void aGateOnAnAbsentLatencyFailsNamingTheReason() {
        Map<String, Object> absent = ModelEvaluator.latencyJson(ModelEvaluator.latencyOf(List.of(), 2, 2));
        Map<String, Object> report = Map.of(
                "candidate", Map.of("latency_ms", absent, "size_bytes", 10),
                "references", Map.of("input", Map.of("latency_ms", Map.of("p95", 3.0), "size_bytes", 10)));

        GatePolicy.Outcome outcome = GatePolicy.check(Map.of("p95_latency_ms", "<= 0.001"), report);
        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.rules().get(0).value()).isNull();
        assertThat(outcome.rules().get(0).note()).isEqualTo(
                "p95_latency_ms is absent: the dataset has 2 batch(es) and warm-up took 2: nothing was timed");
        assertThat(outcome.failureTable()).contains("p95_latency_ms is absent");

        GatePolicy.Outcome ratio = GatePolicy.check(Map.of("latency_ratio_vs", Map.of("model", "input", "max", 1.2)),
                report);
        assertThat(ratio.passed()).isFalse();
        assertThat(ratio.rules().get(0).note()).startsWith("the candidate's p95 latency is absent: the dataset has 2");
    }

    private static ModelProto reluModel() {
        return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17))
                .setGraph(GraphProto.newBuilder().setName("relu")
                        .addNode(NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("y"))
                        .addInput(floatValue("x")).addOutput(floatValue("y")))
                .build();
    }

    private static ValueInfoProto floatValue(String name) {
        TensorShapeProto shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"))
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)).build();
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }
}
