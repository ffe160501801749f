package dev.anvil.modelkit.convert;

import static dev.anvil.modelkit.convert.TinyModels.BOOL;
import static dev.anvil.modelkit.convert.TinyModels.ENV;
import static dev.anvil.modelkit.convert.TinyModels.FLOAT;
import static dev.anvil.modelkit.convert.TinyModels.INT64;
import static dev.anvil.modelkit.convert.TinyModels.floatTensor;
import static dev.anvil.modelkit.convert.TinyModels.ints;
import static dev.anvil.modelkit.convert.TinyModels.list;
import static dev.anvil.modelkit.convert.TinyModels.longTensor;
import static dev.anvil.modelkit.convert.TinyModels.range;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.anvil.modelkit.convert.TinyModels.Graph;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.InvalidModelException;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Convert's self-check: realistic shapes, with.shapes, a dataset, control flow, and what it warns about. */
class SelfCheckTest {
    private final ModelConverter converter = new ModelConverter(ENV);

    @TempDir
    Path dir;

    /** Conv 3×3 without padding, then a 2×2 max pool: on a 2×2 image it cannot run at all. */
    private static dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto graphWithInput(String batch, String height, String width) {
        Graph g = new Graph()
                .init(floatTensor("w", new long[] {4, 1, 3, 3}, range(36, 0.5f)))
                .init(floatTensor("b", new long[] {4}, range(4, 0.1f)))
                .node("Conv", list("x", "w", "b"), list("c"), ints("kernel_shape", 3, 3))
                .node("Relu", list("c"), list("r"))
                .node("MaxPool", list("r"), list("y"), ints("kernel_shape", 2, 2), ints("strides", 2, 2))
                .output("y", FLOAT, -1, 4, -1, -1);
        g.g.addInput(named("x", FLOAT, batch, "1", height, width));
        return g.graph();
    }

    /** A float tensor value whose dims are numbers or names. */
    private static ValueInfoProto named(String name, int type, String... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (String d : dims) {
            shape.addDim(d.chars().allMatch(Character::isDigit)
                    ? TensorShapeProto.Dimension.newBuilder().setDimValue(Long.parseLong(d))
                    : TensorShapeProto.Dimension.newBuilder().setDimParam(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }

    private static ModelProto model(dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto graph) {
        return new Graph().model(13).toBuilder().setGraph(graph).build();
    }

    private ConversionReport convert(ModelProto model, ConversionOptions options) throws Exception {
        Path in = TinyModels.write(dir, "in-" + System.nanoTime() + ".onnx", model);
        return converter.convert(in, dir.resolve("out-" + System.nanoTime() + ".onnx"), options);
    }

    private static ConversionOptions basic() {
        return ConversionOptions.of(null, OptimizationLevel.BASIC, false);
    }

    @Test
    void aConvThatCannotRunOnATwoByTwoImageIsVerifiedAtARealisticSize() throws Exception {
        ConversionReport report = convert(model(graphWithInput("N", "H", "W")), basic());

        assertThat(report.verification().verified()).isTrue();
        assertThat(report.verification().reason()).isNull();
        assertThat(report.verification().shapes()).containsEntry("x", List.of(1L, 1L, 224L, 224L));
        assertThat(report.verification().inputs()).contains("batch 1, image height/width 224");
        assertThat(report.warnings()).isEmpty();
    }

    @Test
    void dimensionNamesPickTheirDefaultsAndInputsSharingANameAgree() {
        Map<String, long[]> declared = new java.util.LinkedHashMap<>();
        declared.put("input_ids", new long[] {-1, -1});
        declared.put("attention_mask", new long[] {-1, -1});
        declared.put("image", new long[] {-1, -1, -1, 3});
        var graph = dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto.newBuilder()
                .addInput(named("input_ids", INT64, "batch", "sequence"))
                .addInput(named("attention_mask", INT64, "batch", "sequence"))
                .addInput(named("image", FLOAT, "batch", "h", "w", "3"));
        Map<String, long[]> shapes = SelfCheckShapes.resolve(declared, graph, InputShapes.none());
        assertThat(shapes.get("input_ids")).containsExactly(1, 128);
        assertThat(shapes.get("attention_mask")).containsExactly(1, 128);
        assertThat(shapes.get("image")).as("NHWC: the fixed last axis is the channels").containsExactly(1, 224, 224, 3);

        Map<String, long[]> given = SelfCheckShapes.resolve(declared, graph,
                new InputShapes(Map.of("input_ids", List.of(2L, 64L)), Map.of("h", 320L)));
        assertThat(given.get("attention_mask")).as("shares 'sequence' with input_ids").containsExactly(2, 64);
        assertThat(given.get("image")).containsExactly(2, 320, 224, 3);
    }

    @Test
    void withShapesSizesTheCheckByInputOrByDimensionName() throws Exception {
        ConversionReport byInput = convert(model(graphWithInput("N", "H", "W")), basic().withSelfCheck(
                new InputShapes(Map.of("x", List.of(2L, 1L, 64L, 48L)), Map.of()), null));
        assertThat(byInput.verification().verified()).isTrue();
        assertThat(byInput.verification().shapes()).containsEntry("x", List.of(2L, 1L, 64L, 48L));

        ConversionReport byName = convert(model(graphWithInput("batch", "height", "width")), basic().withSelfCheck(
                new InputShapes(Map.of(), Map.of("height", 640L, "width", 480L)), null));
        assertThat(byName.verification().verified()).isTrue();
        assertThat(byName.verification().shapes()).containsEntry("x", List.of(1L, 1L, 640L, 480L));
    }

    @Test
    void badShapesAreRefusedNamingTheInput() {
        ModelProto model = model(graphWithInput("batch", "height", "width"));
        assertThatThrownBy(() -> convert(model, basic().withSelfCheck(
                new InputShapes(Map.of("x", List.of(1L, 224L, 224L)), Map.of()), null)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("with.shapes.x has 3 dimensions but input 'x' has rank 4 [batch, 1, height, width]");
        assertThatThrownBy(() -> convert(model, basic().withSelfCheck(
                new InputShapes(Map.of("x", List.of(1L, 3L, 224L, 224L)), Map.of()), null)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("with.shapes.x gives 3 for axis 1 but input 'x' fixes it at 1");
        assertThatThrownBy(() -> convert(model, basic().withSelfCheck(
                new InputShapes(Map.of("x", List.of(1L, 1L, 0L, 224L)), Map.of()), null)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("with.shapes.x gives 0 for axis 2 of input 'x'; sizes must be whole numbers of at least 1");
        assertThatThrownBy(() -> convert(model, basic().withSelfCheck(
                new InputShapes(Map.of(), Map.of("height", -5L)), null)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("with.shapes.height is -5 for dimension 'height' of input 'x'");
        assertThatThrownBy(() -> convert(model, basic().withSelfCheck(
                new InputShapes(Map.of("images", List.of(1L, 1L, 2L, 2L)), Map.of()), null)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("with.shapes names input 'images', which the model does not have; its inputs are [x]");
        assertThatThrownBy(() -> convert(model, basic().withSelfCheck(
                new InputShapes(Map.of(), Map.of("depth", 3L)), null)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("names dimension 'depth', which no input has; the model's named free dimensions are"
                        + " [batch, height, width]");
    }

    @Test
    void aDatasetFeedsTheCheckWithItsFirstSamples() throws Exception {
        int n = 20;
        float[] pixels = range(n * 40 * 30, 1f);
        Path data = dir.resolve("images.zip");
        DatasetWriter.write(data, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {n, 1, 40, 30}, pixels)),
                Optional.empty()));

        ConversionReport report = convert(model(graphWithInput("N", "H", "W")), basic().withSelfCheck(InputShapes.none(), data));

        assertThat(report.verification().verified()).isTrue();
        assertThat(report.verification().samples()).isEqualTo(n);
        assertThat(report.verification().shapes()).containsEntry("x", List.of(8L, 1L, 40L, 30L));
        assertThat(report.verification().inputs()).isEqualTo("the dataset's first 20 samples, in batches of up to 8");
    }

    @Test
    void aDatasetThatDoesNotFitTheModelIsBadInput() throws Exception {
        Path data = dir.resolve("wrong.zip");
        DatasetWriter.write(data, new Dataset(Map.of("pixels", NpyArray.ofFloat32(new long[] {2, 1, 8, 8},
                new float[2 * 64])), Optional.empty()));
        assertThatThrownBy(() -> convert(model(graphWithInput("N", "H", "W")), basic().withSelfCheck(InputShapes.none(), data)))
                .isInstanceOf(InvalidModelException.class)
                .hasMessageContaining("with.dataset cannot feed the self-check: the dataset has no array for model input 'x'");
    }

    @Test
    void aCheckThatCannotRunIsAWarningAndVerifiedFalse() throws Exception {
        // reshapes to a fixed 4×4: only 16 values fit, and the realistic default batch of 1×128 does not
        ModelProto model = new Graph()
                .input("x", FLOAT, -1, -1)
                .init(longTensor("shape", new long[] {2}, 4, 4))
                .node("Reshape", list("x", "shape"), list("y"))
                .output("y", FLOAT, 4, 4)
                .model(13);

        ConversionReport report = convert(model, basic());

        assertThat(report.verification().verified()).isFalse();
        assertThat(report.verification().reason()).contains("the original model does not run on a synthetic batch of shapes x [1, 128]")
                .contains("give with.shapes the sizes it takes");
        assertThat(report.warnings()).singleElement().asString().startsWith("not verified: ");

        ConversionReport sized = convert(model, basic().withSelfCheck(
                new InputShapes(Map.of("x", List.of(2L, 8L)), Map.of()), null));
        assertThat(sized.verification().verified()).isTrue();
        assertThat(sized.warnings()).isEmpty();
    }

    /** All the weights live in the If's branches: y = cond ? x·A : x·B. */
    private static ModelProto weightsInBranches() {
        Graph then = new Graph()
                .init(floatTensor("a", new long[] {8, 8}, range(64, 0.5f)))
                .node("MatMul", list("x", "a"), list("t_out"))
                .output("t_out", FLOAT, -1, 8);
        Graph otherwise = new Graph()
                .init(floatTensor("bw", new long[] {8, 8}, range(64, -0.25f)))
                .node("MatMul", list("x", "bw"), list("e_out"))
                .output("e_out", FLOAT, -1, 8);
        return new Graph()
                .input("cond", BOOL)
                .input("x", FLOAT, -1, 8)
                .node("If", list("cond"), list("y"), TinyModels.graph("then_branch", then.graph()),
                        TinyModels.graph("else_branch", otherwise.graph()))
                .output("y", FLOAT, -1, 8)
                .model(13);
    }

    @Test
    void anIfModelIsComparedNotSkipped() throws Exception {
        ConversionReport report = convert(weightsInBranches(), basic());
        assertThat(report.verification().verified()).isTrue();
        assertThat(report.verification().maxAbsDiff()).containsKey("y");
        assertThat(report.warnings()).isEmpty();
    }

    /** y = tanh(tanh(tanh(x·W)·W)·W): a Loop of 3 whose body reads the outer weight W. */
    private static ModelProto loopModel() {
        Graph body = new Graph()
                .input("i", INT64)
                .input("cond_in", BOOL)
                .input("acc", FLOAT, -1, 8)
                .node("Identity", list("cond_in"), list("cond_out"))
                .node("MatMul", list("acc", "w"), list("mm"))
                .node("Tanh", list("mm"), list("acc_out"))
                .output("cond_out", BOOL)
                .output("acc_out", FLOAT, -1, 8);
        return new Graph()
                .input("x", FLOAT, -1, 8)
                .init(floatTensor("w", new long[] {8, 8}, range(64, 0.3f)))
                .init(longTensor("trips", new long[0], 3))
                .node("Loop", list("trips", "", "x"), list("y"), TinyModels.graph("body", body.graph()))
                .output("y", FLOAT, -1, 8)
                .model(13);
    }

    @Test
    void aLoopModelIsComparedNotSkipped() throws Exception {
        ModelProto model = loopModel();
        ConversionReport report = convert(model, ConversionOptions.of(null, OptimizationLevel.EXTENDED, false));
        assertThat(report.verification().verified()).isTrue();
        assertThat(report.verification().maxAbsDiff().get("y")).isLessThan(1e-5);
    }

    @Test
    void fp16ConvertsTheWeightsInsideIfBranchesAndTheResultIsVerified() throws Exception {
        Path in = TinyModels.write(dir, "if.onnx", weightsInBranches());
        Path out = dir.resolve("if-fp16.onnx");
        ConversionReport report = converter.convert(in, out, ConversionOptions.of(null, OptimizationLevel.NONE, true));

        assertThat(report.verification().verified()).isTrue();
        assertThat(report.fp16Summary().subgraphsConverted()).isEqualTo(2);
        assertThat(report.fp16Summary().initializersConverted()).isEqualTo(2);
        assertThat(report.notes()).anySatisfy(n -> assertThat(n).contains("fp16 converted 2 control-flow sub-graph(s)"));
        var ifNode = dev.anvil.modelkit.onnx.OnnxModel.read(out).graph().nodes().stream()
                .filter(n -> n.getOpType().equals("If")).findFirst().orElseThrow();
        assertThat(ifNode.getAttributeList()).allSatisfy(a -> assertThat(a.getG().getInitializerList())
                .allSatisfy(t -> assertThat(t.getDataType()).isEqualTo(dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType.FLOAT16_VALUE)));
        // both branches, not only the one a synthetic (zero) condition takes
        for (boolean cond : new boolean[] {true, false}) {
            try (TinyModels.Inputs inputs = new TinyModels.Inputs(3).bool("cond", cond).floats("x", 4, 8)) {
                TinyModels.assertSameOutputs(in, out, inputs, 2e-2);
            }
        }
    }

    @Test
    void fp16ConvertsALoopBodyThatReadsAnOuterWeight() throws Exception {
        Path in = TinyModels.write(dir, "loop.onnx", loopModel());
        Path out = dir.resolve("loop-fp16.onnx");
        ConversionReport report = converter.convert(in, out, ConversionOptions.of(null, OptimizationLevel.BASIC, true));

        assertThat(report.verification().verified()).isTrue();
        assertThat(report.verification().maxRelDiff().get("y")).isLessThan(1e-2);
        assertThat(report.fp16Summary().subgraphsConverted()).isEqualTo(1);
        try (TinyModels.Inputs inputs = new TinyModels.Inputs(5).floats("x", 3, 8)) {
            TinyModels.assertSameOutputs(in, out, inputs, 2e-2);
        }
    }

    @Test
    void fp16ReachesAnIfNestedInALoopBody() throws Exception {
        // each step: acc = tanh(acc·A) if sum(acc) > 0 else tanh(acc·B), the weights in the nested branches
        Graph then = new Graph()
                .init(floatTensor("a", new long[] {8, 8}, range(64, 0.4f)))
                .node("MatMul", list("acc", "a"), list("t_mm"))
                .node("Tanh", list("t_mm"), list("t_out"))
                .output("t_out", FLOAT, -1, 8);
        Graph otherwise = new Graph()
                .init(floatTensor("bw", new long[] {8, 8}, range(64, -0.3f)))
                .node("MatMul", list("acc", "bw"), list("e_mm"))
                .node("Tanh", list("e_mm"), list("e_out"))
                .output("e_out", FLOAT, -1, 8);
        Graph body = new Graph()
                .input("i", INT64)
                .input("cond_in", BOOL)
                .input("acc", FLOAT, -1, 8)
                .init(floatTensor("zero", new long[0], 0f))
                .node("Identity", list("cond_in"), list("cond_out"))
                .node("ReduceSum", list("acc"), list("total"), TinyModels.i("keepdims", 0))
                .node("Greater", list("total", "zero"), list("positive"))
                .node("If", list("positive"), list("acc_out"), TinyModels.graph("then_branch", then.graph()),
                        TinyModels.graph("else_branch", otherwise.graph()))
                .output("cond_out", BOOL)
                .output("acc_out", FLOAT, -1, 8);
        ModelProto model = new Graph()
                .input("x", FLOAT, -1, 8)
                .init(longTensor("trips", new long[0], 4))
                .node("Loop", list("trips", "", "x"), list("y"), TinyModels.graph("body", body.graph()))
                .output("y", FLOAT, -1, 8)
                .model(13);
        Path in = TinyModels.write(dir, "nested.onnx", model);
        Path out = dir.resolve("nested-fp16.onnx");

        ConversionReport report = converter.convert(in, out, ConversionOptions.of(null, OptimizationLevel.NONE, true));

        assertThat(report.verification().verified()).isTrue();
        assertThat(report.fp16Summary().subgraphsConverted()).isEqualTo(3);
        assertThat(report.fp16Summary().initializersConverted()).as("a, bw and zero").isEqualTo(3);
        try (TinyModels.Inputs inputs = new TinyModels.Inputs(9).floats("x", 2, 8)) {
            TinyModels.assertSameOutputs(in, out, inputs, 2e-2);
        }
    }

    @Test
    void aConversionThatGrowsTheModelSaysSoAndWhy() throws Exception {
        // one tiny weight: fp16's Casts weigh more than the two bytes it saves
        ModelProto model = new Graph()
                .input("x", FLOAT, -1, 4)
                .init(floatTensor("k", new long[] {1}, 0.5f))
                .node("Mul", list("x", "k"), list("y"))
                .output("y", FLOAT, -1, 4)
                .model(13);

        ConversionReport report = convert(model, ConversionOptions.of(null, OptimizationLevel.NONE, true));

        assertThat(report.sizeBytesAfter()).isGreaterThan(report.sizeBytesBefore());
        assertThat(report.warnings()).singleElement().asString()
                .startsWith("the converted model is larger than the original: " + report.sizeBytesAfter() + " bytes against "
                        + report.sizeBytesBefore())
                .contains("fp16 +").contains("fp16 added 2 Cast nodes");
    }
}
