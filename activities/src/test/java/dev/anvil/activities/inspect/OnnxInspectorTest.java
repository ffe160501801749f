package dev.anvil.activities.inspect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.ModelStructure;
import dev.anvil.modelkit.onnx.NonTensorModels;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import dev.anvil.workflows.inspect.ModelReport;
import dev.anvil.workflows.inspect.TensorSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxInspectorTest {
    private final OnnxInspector inspector = new OnnxInspector(OrtEnvironment.getEnvironment());

    @TempDir
    Path dir;

    @Test
    void reportsTheRealDigitClassifier() throws Exception {
        Path model = SharedData.cnnMnist();
        ModelReport report = inspector.inspect(model, "ab".repeat(32));

        assertThat(report.sizeBytes()).isEqualTo(Files.size(model));
        assertThat(report.opsets()).containsEntry("", 9L);
        assertThat(report.irVersion()).isGreaterThanOrEqualTo(3);
        assertThat(report.inputs()).singleElement().satisfies(input -> {
            assertThat(input.name()).isEqualTo("input_image");
            assertThat(input.elementType()).isEqualTo("FLOAT");
            assertThat(input.shape()).hasSize(4).endsWith("1", "28", "28");
        });
        assertThat(report.outputs()).extracting(TensorSpec::name).containsExactly("output_probs");
        assertThat(report.outputs().get(0).shape()).hasSize(2).last().isEqualTo("10");
        // Conv x2 + Gemm x2: weights and biases of four layers, stored as float32 initializers. The
        // file is mostly those weights, so 4 bytes a parameter must come close to the file size.
        assertThat(report.nodeCount()).isGreaterThanOrEqualTo(4);
        assertThat(report.parameterCount() * 4).isBetween(report.sizeBytes() / 2, report.sizeBytes());
    }

    @Test
    void countsTheWeightsInBothBranchesOfAnIf() throws Exception {
        // All weights live in the branches: then adds two 2-element initializers, else passes a
        // third one through. Both branches are stored, so all 6 elements count.
        GraphProto thenBranch = GraphProto.newBuilder().setName("then")
                .addInitializer(Tensors.floats("a", new long[] {2}, new float[] {1, 2}))
                .addInitializer(Tensors.floats("b", new long[] {2}, new float[] {3, 4}))
                .addNode(NodeProto.newBuilder().setOpType("Add").setName("add").addInput("a").addInput("b")
                        .addOutput("then_out"))
                .addOutput(floatValue("then_out", 2))
                .build();
        GraphProto elseBranch = GraphProto.newBuilder().setName("else")
                .addInitializer(Tensors.floats("c", new long[] {2}, new float[] {5, 6}))
                .addNode(NodeProto.newBuilder().setOpType("Identity").setName("pass").addInput("c").addOutput("else_out"))
                .addOutput(floatValue("else_out", 2))
                .build();
        GraphProto main = GraphProto.newBuilder().setName("branches")
                .addInput(ValueInfoProto.newBuilder().setName("cond").setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.BOOL_VALUE)
                                .setShape(TensorShapeProto.getDefaultInstance()))))
                .addNode(NodeProto.newBuilder().setOpType("If").setName("choose").addInput("cond").addOutput("y")
                        .addAttribute(graphAttribute("then_branch", thenBranch))
                        .addAttribute(graphAttribute("else_branch", elseBranch)))
                .addOutput(floatValue("y", 2))
                .build();
        Path file = Files.write(dir.resolve("branches.onnx"), model(main).toByteArray());

        ModelReport report = inspector.inspect(file, "00".repeat(32));

        assertThat(report.parameterCount()).isEqualTo(6);
        assertThat(report.warnings()).isEmpty();
    }

    @Test
    void warnsOfADomainTheModelUsesWithoutImportingIt() throws Exception {
        // ONNX Runtime forgives the missing import for its own domains and loads the model; the
        // report still says what the file lacks.
        GraphProto main = GraphProto.newBuilder().setName("gelu")
                .addInput(floatValue("x", 2))
                .addNode(NodeProto.newBuilder().setOpType("Gelu").setName("n1").setDomain("com.microsoft")
                        .addInput("x").addOutput("y"))
                .addOutput(floatValue("y", 2))
                .build();
        Path file = Files.write(dir.resolve("gelu.onnx"), model(main).toByteArray());

        ModelReport report = inspector.inspect(file, "00".repeat(32));

        assertThat(report.warnings()).containsExactly("node 'n1' (Gelu) uses domain 'com.microsoft', which the model"
                + " does not import: add an opset_import for it (domain 'com.microsoft' with the operator set"
                + " version the nodes were written for)");
        assertThat(report.outputs()).extracting(TensorSpec::name).containsExactly("y");
    }

    @Test
    void aZipMapClassifiersProbabilitiesReadAsTheirOnnxType() throws Exception {
        Path file = Files.write(dir.resolve("classifier.onnx"), NonTensorModels.classifier(false));

        ModelReport report = inspector.inspect(file, "00".repeat(32));

        assertThat(report.inputs()).containsExactly(new TensorSpec("features", "FLOAT", List.of("N", "4")));
        assertThat(report.outputs()).containsExactly(
                new TensorSpec("label", "INT64", List.of("N")),
                new TensorSpec("probabilities", "seq(map(int64,tensor(float)))", List.of()));
        assertThat(report.warnings()).isEmpty();
    }

    @Test
    void aSequenceOfTensorsReadsAsOne() throws Exception {
        Path file = Files.write(dir.resolve("rows.onnx"), NonTensorModels.sequenceOfTensors());

        assertThat(inspector.inspect(file, "00".repeat(32)).outputs()).containsExactly(
                new TensorSpec("rows", "seq(tensor(float))", List.of()),
                new TensorSpec("doubled", "FLOAT", List.of("N", "2")));
    }

    @Test
    void anOptionalOutputThatOnnxRuntimeCannotDescribeIsReadFromTheFile() throws Exception {
        // ONNX Runtime runs the model, but its Java API refuses to describe an optional value
        // (ORT_NOT_IMPLEMENTED): the report must not call the model unloadable
        Path file = Files.write(dir.resolve("optional.onnx"), NonTensorModels.optionalOutput());

        ModelReport report = inspector.inspect(file, "00".repeat(32));

        assertThat(report.inputs()).containsExactly(new TensorSpec("x", "FLOAT", List.of("N")));
        assertThat(report.outputs()).containsExactly(new TensorSpec("maybe", "optional(tensor(float))", List.of()));
    }

    @Test
    void randomBytesAreNotAModel() throws Exception {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        Path file = Files.write(dir.resolve("noise.onnx"), noise);
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
    }

    @Test
    void aTextFileIsNotAModel() throws Exception {
        Path file = Files.writeString(dir.resolve("readme.onnx"), "this is a README, not a model\n");
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
    }

    @Test
    void aTruncatedModelIsRejected() throws Exception {
        byte[] bytes = Files.readAllBytes(SharedData.cnnMnist());
        Path file = Files.write(dir.resolve("truncated.onnx"), Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("not an ONNX model");
    }

    @Test
    void anEmptyFileIsRejected() throws Exception {
        Path file = Files.write(dir.resolve("empty.onnx"), new byte[0]);
        assertThatThrownBy(() -> inspector.inspect(file, "00".repeat(32)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessage("not an ONNX model: the file is empty");
    }

    @Test
    void opsetsAreListedPerDomain() throws Exception {
        ModelStructure structure = OnnxModel.readStructure(SharedData.cnnMnist());
        assertThat(structure.opsets()).isNotEmpty();
        assertThat(List.copyOf(structure.opsets().keySet())).contains("");
    }

    private static ValueInfoProto floatValue(String name, long size) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(size)))))
                .build();
    }

    private static AttributeProto graphAttribute(String name, GraphProto graph) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(graph).build();
    }

    /** A model importing only the default domain, opset 13. */
    private static ModelProto model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test").setGraph(graph)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                .build();
    }
}
