package dev.anvil.modelkit.convert;

import static dev.anvil.modelkit.convert.TinyModels.BOOL;
import static dev.anvil.modelkit.convert.TinyModels.ENV;
import static dev.anvil.modelkit.convert.TinyModels.FLOAT;
import static dev.anvil.modelkit.convert.TinyModels.INT64;
import static dev.anvil.modelkit.convert.TinyModels.f;
import static dev.anvil.modelkit.convert.TinyModels.floatTensor;
import static dev.anvil.modelkit.convert.TinyModels.floats;
import static dev.anvil.modelkit.convert.TinyModels.i;
import static dev.anvil.modelkit.convert.TinyModels.ints;
import static dev.anvil.modelkit.convert.TinyModels.list;
import static dev.anvil.modelkit.convert.TinyModels.longTensor;
import static dev.anvil.modelkit.convert.TinyModels.s;
import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.modelkit.convert.TinyModels.Graph;
import dev.anvil.modelkit.convert.TinyModels.Inputs;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The opset rewrites on small models built for them: each model runs in ONNX Runtime at its own opset
 * and after conversion, on the same inputs, and the outputs must agree.
 */
class OpsetAdaptersTest {
    private static final double TOLERANCE = 1e-5;
    private final ModelConverter converter = new ModelConverter(ENV);

    @TempDir
    Path dir;

    @Test
    void clipSlicePadAndTopKMoveAttributesToInputsFrom9To13() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 2, 3, 8)
                .node("Clip", list("x"), list("c"), f("min", -0.5f), f("max", 0.5f))
                .node("Clip", list("x"), list("c_max"), f("max", 0.1f))
                .node("Slice", list("c"), list("sl"), ints("starts", 0, 1), ints("ends", 2, 3), ints("axes", 0, 1))
                .node("Pad", list("sl"), list("p"), ints("pads", 0, 0, 1, 0, 0, 2), f("value", 0.25f))
                .node("TopK", list("p"), list("vals", "idx"), i("k", 3))
                .output("vals", FLOAT, 2, 2, 3)
                .output("idx", INT64, 2, 2, 3)
                .output("c_max", FLOAT, 2, 3, 8)
                .model(9);

        ConversionReport report = convertAndCompare(model, 13, inputs -> inputs.floats("x", 2, 3, 8));

        assertThat(changes(report)).containsOnlyKeys("Clip@11", "Slice@10", "Pad@11", "TopK@10");
        assertThat(changes(report).get("Clip@11")).isEqualTo(2);
        OnnxModel converted = OnnxModel.read(dir.resolve("converted.onnx"));
        NodeProto pad = node(converted, "Pad");
        assertThat(pad.getInputCount()).as("data, pads and the non-zero constant value").isEqualTo(3);
        assertThat(pad.getAttributeList()).extracting(a -> a.getName()).doesNotContain("pads", "value");
        assertThat(node(converted, "TopK").getInputCount()).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(ints = {13, 18, 24})
    void axesSplitAndSoftmaxSemanticsCarryFrom11(int target) throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 2, 3, 4)
                .node("Unsqueeze", list("x"), list("u"), ints("axes", 0, 3))
                .node("Squeeze", list("u"), list("sq"), ints("axes", 0, 3))
                .node("Softmax", list("sq"), list("y_soft"), i("axis", 1))
                .node("Softmax", list("x"), list("y_default"))
                .node("LogSoftmax", list("sq"), list("y_log"), i("axis", -1))
                .node("Hardmax", list("sq"), list("y_hard"), i("axis", 1))
                .node("ReduceSum", list("sq"), list("y_sum"), ints("axes", 1), i("keepdims", 0))
                .node("ReduceMean", list("sq"), list("y_mean"), ints("axes", -1))
                .node("ReduceMax", list("sq"), list("y_max"), ints("axes", 0))
                .node("Split", list("sq"), list("y_a", "y_b"), i("axis", 2), ints("split", 1, 3))
                .node("Split", list("sq"), list("y_c", "y_d", "y_e"), i("axis", 1))
                .output("y_soft", FLOAT, 2, 3, 4).output("y_default", FLOAT, 2, 3, 4).output("y_log", FLOAT, 2, 3, 4)
                .output("y_hard", FLOAT, 2, 3, 4).output("y_sum", FLOAT, 2, 4).output("y_mean", FLOAT, 2, 3, 1)
                .output("y_max", FLOAT, 1, 3, 4).output("y_a", FLOAT, 2, 3, 1).output("y_b", FLOAT, 2, 3, 3)
                .output("y_c", FLOAT, 2, 1, 4).output("y_d", FLOAT, 2, 1, 4).output("y_e", FLOAT, 2, 1, 4)
                .model(11);

        ConversionReport report = convertAndCompare(model, target, inputs -> inputs.floats("x", 2, 3, 4));

        Map<String, Integer> changes = changes(report);
        assertThat(changes).containsEntry("Softmax@13", 2).containsEntry("Hardmax@13", 1).containsEntry("LogSoftmax@13", 1)
                .containsEntry("Squeeze@13", 1).containsEntry("Unsqueeze@13", 1).containsEntry("ReduceSum@13", 1)
                .containsEntry("Split@13", 2);
        assertThat(report.adaptations()).filteredOn(a -> a.op().equals("LogSoftmax"))
                .singleElement().extracting(ConversionReport.Adaptation::change).asString().contains("last axis: kept");
        assertThat(report.adaptations()).filteredOn(a -> a.op().equals("Softmax"))
                .singleElement().extracting(ConversionReport.Adaptation::change).asString().contains("Flatten");
        if (target >= 18) {
            assertThat(changes).containsEntry("ReduceMean@18", 1).containsEntry("ReduceMax@18", 1).containsEntry("Split@18", 2);
        } else {
            assertThat(changes).doesNotContainKeys("ReduceMean@18", "Split@18");
        }
        assertThat(report.opsetAfter()).isEqualTo(target);
        assertThat(report.verification().maxAbsDiff()).allSatisfy((name, diff) -> assertThat(diff).isLessThan(1e-5));
    }

    @Test
    void nodesInsideIfBranchesAreConvertedToo() throws Exception {
        Graph then = new Graph()
                .node("Softmax", list("x"), list("t_out"), i("axis", 1))
                .output("t_out", FLOAT, 2, 3, 4);
        Graph otherwise = new Graph()
                .node("Unsqueeze", list("x"), list("e_u"), ints("axes", 0))
                .node("Squeeze", list("e_u"), list("e_out"), ints("axes", 0))
                .output("e_out", FLOAT, 2, 3, 4);
        ModelProto model = new Graph()
                .input("cond", BOOL)
                .input("x", FLOAT, 2, 3, 4)
                .node("If", list("cond"), list("y"), TinyModels.graph("then_branch", then.graph()),
                        TinyModels.graph("else_branch", otherwise.graph()))
                .output("y", FLOAT, 2, 3, 4)
                .model(11);

        ConversionReport report = convertAndCompare(model, 13, inputs -> inputs.bool("cond", true).floats("x", 2, 3, 4));
        try (Inputs inputs = new Inputs(7).bool("cond", false).floats("x", 2, 3, 4)) {
            TinyModels.assertSameOutputs(dir.resolve("original.onnx"), dir.resolve("converted.onnx"), inputs, TOLERANCE);
        }

        assertThat(changes(report)).containsOnlyKeys("Softmax@13", "Squeeze@13", "Unsqueeze@13");
        assertThat(report.adaptations()).filteredOn(a -> a.op().equals("Softmax")).singleElement()
                .extracting(ConversionReport.Adaptation::change).asString().contains("input rank unknown");
    }

    @Test
    void upsampleBecomesResizeWithTheOldCoordinateMapping() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 1, 2, 3, 4)
                .init(floatTensor("scales_nearest", new long[] {4}, 1, 1, 2, 3))
                .init(floatTensor("scales_linear", new long[] {4}, 1, 1, 2, 2))
                .node("Upsample", list("x", "scales_nearest"), list("near"), s("mode", "nearest"))
                .node("Upsample", list("x", "scales_linear"), list("lin"), s("mode", "linear"))
                .output("near", FLOAT, 1, 2, 6, 12)
                .output("lin", FLOAT, 1, 2, 6, 8)
                .model(9);

        ConversionReport report = convertAndCompare(model, 13, inputs -> inputs.floats("x", 1, 2, 3, 4));

        assertThat(changes(report)).containsOnlyKeys("Upsample@10", "Resize@11").containsEntry("Resize@11", 2);
        OnnxModel converted = OnnxModel.read(dir.resolve("converted.onnx"));
        assertThat(converted.graph().nodes()).extracting(NodeProto::getOpType).containsOnly("Resize");
    }

    @Test
    void resize10ShrinkingKeepsItsRounding() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 1, 1, 5, 7)
                .init(floatTensor("half", new long[] {4}, 1, 1, 0.5f, 0.5f))
                .node("Resize", list("x", "half"), list("near"), s("mode", "nearest"))
                .node("Resize", list("x", "half"), list("lin"), s("mode", "linear"))
                .output("near", FLOAT, 1, 1, 2, 3)
                .output("lin", FLOAT, 1, 1, 2, 3)
                .model(10);

        ConversionReport report = convertAndCompare(model, 13, inputs -> inputs.floats("x", 1, 1, 5, 7));

        assertThat(changes(report)).containsOnlyKeys("Resize@11").containsEntry("Resize@11", 2);
        assertThat(Attrs.getString(node(OnnxModel.read(dir.resolve("converted.onnx")), "Resize"), "nearest_mode"))
                .contains("ceil");
    }

    @Test
    void opset7ModelsCarryUpsampleScalesAndBatchNormSpatial() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 1, 3, 4, 4)
                .init(floatTensor("scale", new long[] {3}, 1.5f, 0.5f, 2f))
                .init(floatTensor("bias", new long[] {3}, 0.1f, -0.2f, 0.3f))
                .init(floatTensor("mean", new long[] {3}, 0.05f, 0.1f, -0.1f))
                .init(floatTensor("var", new long[] {3}, 1.2f, 0.8f, 2.5f))
                .node("BatchNormalization", list("x", "scale", "bias", "mean", "var"), list("bn"), i("spatial", 1),
                        f("epsilon", 1e-5f))
                .node("Upsample", list("bn"), list("up"), floats("scales", 1, 1, 2, 2), s("mode", "nearest"))
                .output("up", FLOAT, 1, 3, 8, 8)
                .model(7);

        ConversionReport report = convertAndCompare(model, 15, inputs -> inputs.floats("x", 1, 3, 4, 4));

        assertThat(changes(report)).containsOnlyKeys("BatchNormalization@9", "BatchNormalization@14", "Upsample@9",
                "Upsample@10", "Resize@11");
        assertThat(report.irVersionBefore()).isEqualTo(3);
        assertThat(report.irVersionAfter()).isEqualTo(8);
    }

    @Test
    void dropoutLosesItsUnusedMaskAndRatioAttribute() throws Exception {
        ModelProto model = new Graph()
                .input("x", FLOAT, 2, 5)
                .node("Dropout", list("x"), list("y", "mask"), f("ratio", 0.3f))
                .node("Relu", list("y"), list("out"))
                .output("out", FLOAT, 2, 5)
                .model(9);

        ConversionReport report = convertAndCompare(model, 15, inputs -> inputs.floats("x", 2, 5));

        assertThat(changes(report)).containsOnlyKeys("Dropout@10", "Dropout@12");
        assertThat(node(OnnxModel.read(dir.resolve("converted.onnx")), "Dropout").getOutputCount()).isEqualTo(1);
    }

    @Test
    void scatterBecomesScatterElements() throws Exception {
        ModelProto model = new Graph()
                .input("data", FLOAT, 3, 3)
                .init(longTensor("indices", new long[] {2, 3}, 1, 0, 2, 0, 2, 1))
                .init(floatTensor("updates", new long[] {2, 3}, 1f, 2f, 3f, 4f, 5f, 6f))
                .node("Scatter", list("data", "indices", "updates"), list("y"), i("axis", 0))
                .output("y", FLOAT, 3, 3)
                .model(9);

        ConversionReport report = convertAndCompare(model, 13, inputs -> inputs.floats("data", 3, 3));

        assertThat(changes(report)).containsOnlyKeys("Scatter@11");
        assertThat(node(OnnxModel.read(dir.resolve("converted.onnx")), "ScatterElements")).isNotNull();
    }

    /** The operators of a BERT-style encoder export at opset 11 (all-MiniLM-L6-v2 uses these). */
    @ParameterizedTest
    @ValueSource(ints = {13, 18})
    void transformerEncoderOpsFrom11(int target) throws Exception {
        ModelProto model = new Graph()
                .input("ids", INT64, 2, 5)
                .input("x", FLOAT, 2, 5, 8)
                .init(floatTensor("gamma", new long[] {8}, TinyModels.range(8, 1f)))
                .init(floatTensor("beta", new long[] {8}, TinyModels.range(8, 0.1f)))
                .init(floatTensor("W", new long[] {8, 8}, TinyModels.range(64, 0.5f)))
                .init(floatTensor("two", new long[0], 2f))
                .init(floatTensor("eps", new long[0], 1e-5f))
                .init(floatTensor("sqrt2", new long[0], 1.4142135f))
                .init(floatTensor("half", new long[0], 0.5f))
                .init(floatTensor("one", new long[0], 1f))
                .init(floatTensor("neg_big", new long[0], -10000f))
                .init(floatTensor("zero", new long[0], 0f))
                .init(longTensor("zero_i", new long[0], 0))
                .init(longTensor("c5", new long[] {1}, 5))
                .init(longTensor("c2", new long[] {1}, 2))
                .init(longTensor("c4", new long[] {1}, 4))
                .init(longTensor("expand_to", new long[] {3}, 3, 2, 5))
                .init(longTensor("starts", new long[] {1}, 1))
                .init(longTensor("ends", new long[] {1}, 4))
                .init(longTensor("slice_axes", new long[] {1}, 1))
                // layer norm, spelt out as exporters do at opset 11
                .node("ReduceMean", list("x"), list("mean"), ints("axes", -1))
                .node("Sub", list("x", "mean"), list("d"))
                .node("Pow", list("d", "two"), list("p"))
                .node("ReduceMean", list("p"), list("v"), ints("axes", -1))
                .node("Add", list("v", "eps"), list("e"))
                .node("Sqrt", list("e"), list("sd"))
                .node("Div", list("d", "sd"), list("n"))
                .node("Mul", list("n", "gamma"), list("w"))
                .node("Add", list("w", "beta"), list("ln"))
                .node("MatMul", list("ln", "W"), list("m"))
                // heads: reshape with a shape computed from Shape/Gather/Unsqueeze/Concat
                .node("Shape", list("m"), list("shape"))
                .node("Gather", list("shape", "zero_i"), list("b0"), i("axis", 0))
                .node("Unsqueeze", list("b0"), list("b0u"), ints("axes", 0))
                .node("Concat", list("b0u", "c5", "c2", "c4"), list("heads_shape"), i("axis", 0))
                .node("Reshape", list("m", "heads_shape"), list("r"))
                .node("Transpose", list("r"), list("t"), ints("perm", 0, 2, 1, 3))
                .node("Transpose", list("t"), list("tt"), ints("perm", 0, 1, 3, 2))
                .node("MatMul", list("t", "tt"), list("att"))
                // attention mask from the ids
                .node("Equal", list("ids", "zero_i"), list("pad"))
                .node("Where", list("pad", "neg_big", "zero"), list("maskf"))
                .node("Unsqueeze", list("maskf"), list("mask4"), ints("axes", 1, 2))
                .node("Add", list("att", "mask4"), list("scores"))
                .node("Softmax", list("scores"), list("probs"), i("axis", 3))
                .node("MatMul", list("probs", "t"), list("ctx"))
                // gelu via Erf
                .node("Div", list("ctx", "sqrt2"), list("g1"))
                .node("Erf", list("g1"), list("g2"))
                .node("Add", list("g2", "one"), list("g3"))
                .node("Mul", list("ctx", "g3"), list("g4"))
                .node("Mul", list("g4", "half"), list("out_gelu"))
                // Cast, ConstantOfShape, Expand, Slice (inputs form), Constant
                .node("Cast", list("ids"), list("idsf"), i("to", FLOAT))
                .node("Shape", list("ids"), list("ids_shape"))
                .node("ConstantOfShape", list("ids_shape"), list("ones"),
                        TinyModels.tensor("value", floatTensor("", new long[] {1}, 1f)))
                .node("Mul", list("idsf", "ones"), list("idsf1"))
                .node("Expand", list("idsf1", "expand_to"), list("out_expand"))
                .node("Slice", list("x", "starts", "ends", "slice_axes"), list("sl"))
                .node("Constant", list(), list("k"), TinyModels.tensor("value", floatTensor("", new long[0], 3f)))
                .node("Mul", list("sl", "k"), list("out_slice"))
                .output("out_gelu", FLOAT, 2, 2, 5, 4)
                .output("out_expand", FLOAT, 3, 2, 5)
                .output("out_slice", FLOAT, 2, 3, 8)
                .output("probs", FLOAT, 2, 2, 5, 5)
                .model(11);

        ConversionReport report = convertAndCompare(model, target, inputs -> inputs.longs("ids", 3, 2, 5).floats("x", 2, 5, 8));

        Map<String, Integer> changes = changes(report);
        assertThat(changes).containsEntry("Unsqueeze@13", 2).containsEntry("Softmax@13", 1);
        assertThat(report.adaptations()).filteredOn(a -> a.op().equals("Softmax")).singleElement()
                .extracting(ConversionReport.Adaptation::change).asString().contains("last axis: kept");
        if (target >= 18) {
            assertThat(changes).containsEntry("ReduceMean@18", 2);
        }
        assertThat(report.opTypesAfter()).isEqualTo(report.opTypesBefore());
    }

    private interface InputMaker {
        Inputs fill(Inputs inputs) throws Exception;
    }

    /** Writes the model, converts it (no optimisation), and compares both in ORT on seeded inputs. */
    private ConversionReport convertAndCompare(ModelProto model, int target, InputMaker inputs) throws Exception {
        Path original = TinyModels.write(dir, "original.onnx", model);
        Path converted = dir.resolve("converted.onnx");
        ConversionReport report = converter.convert(original, converted,
                ConversionOptions.of(target, OptimizationLevel.NONE, false));
        assertThat(report.opsetAfter()).isEqualTo(target);
        assertThat(OnnxModel.read(converted).opset("")).contains((long) target);
        try (Inputs in = inputs.fill(new Inputs(1))) {
            TinyModels.assertSameOutputs(original, converted, in, TOLERANCE);
        }
        return report;
    }

    private static Map<String, Integer> changes(ConversionReport report) {
        return report.adaptations().stream().collect(Collectors.toMap(a -> a.op() + "@" + a.version(),
                ConversionReport.Adaptation::nodes, Integer::sum));
    }

    private static NodeProto node(OnnxModel model, String opType) {
        List<NodeProto> found = model.graph().nodes().stream().filter(n -> n.getOpType().equals(opType)).toList();
        assertThat(found).as("a %s node", opType).isNotEmpty();
        return found.get(0);
    }
}
