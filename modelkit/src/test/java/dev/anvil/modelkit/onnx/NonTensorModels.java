package dev.anvil.modelkit.onnx;

import com.google.protobuf.ByteString;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.nio.charset.StandardCharsets;

/**
 * Small models with outputs that are not tensors, the way exporters write them: a scikit-learn style
 * classifier (label tensor and ZipMap probabilities, a sequence of maps, in the {@code ai.onnx.ml}
 * domain), a sequence of tensors, and an optional tensor. Free dimensions are symbolic ("N").
 */
public final class NonTensorModels {
    /** The classifier's input width and its classes. */
    public static final int FEATURES = 4;
    public static final int CLASSES = 3;
    /** The class names of {@link #classifier(boolean)} with string labels. */
    public static final String[] CLASS_NAMES = {"cat", "dog", "bird"};
    /** Weights [FEATURES, CLASSES]: feature i votes for class i (feature 3 for none), so the argmax is plain. */
    private static final float[] WEIGHTS = {
        2f, 0f, 0f,
        0f, 2f, 0f,
        0f, 0f, 2f,
        0.1f, 0.1f, 0.1f};

    private NonTensorModels() {
    }

    /**
     * Input {@code features} (FP32 [N, 4]); outputs, in this order, {@code label} (INT64 [N], the argmax)
     * and {@code probabilities}: softmax(features × W) zipped per row into a map from class (0, 1, 2, or
     * with stringLabels "cat", "dog", "bird") to its probability, i.e. {@code seq(map(int64,tensor(float)))}
     * or {@code seq(map(string,tensor(float)))}, as skl2onnx exports a classifier.
     */
    public static byte[] classifier(boolean stringLabels) {
        TensorProto.Builder weights = TensorProto.newBuilder().setName("W").setDataType(DataType.FLOAT_VALUE)
                .addDims(FEATURES).addDims(CLASSES);
        for (float w : WEIGHTS) {
            weights.addFloatData(w);
        }
        NodeProto.Builder zipMap = NodeProto.newBuilder().setOpType("ZipMap").setDomain("ai.onnx.ml")
                .setName("ZipMap").addInput("probs").addOutput("probabilities");
        if (stringLabels) {
            AttributeProto.Builder labels = AttributeProto.newBuilder().setName("classlabels_strings")
                    .setType(AttributeProto.AttributeType.STRINGS);
            for (String name : CLASS_NAMES) {
                labels.addStrings(ByteString.copyFrom(name, StandardCharsets.UTF_8));
            }
            zipMap.addAttribute(labels);
        } else {
            AttributeProto.Builder labels = AttributeProto.newBuilder().setName("classlabels_int64s")
                    .setType(AttributeProto.AttributeType.INTS);
            for (int c = 0; c < CLASSES; c++) {
                labels.addInts(c);
            }
            zipMap.addAttribute(labels);
        }
        GraphProto graph = GraphProto.newBuilder().setName("classifier")
                .addInput(tensor("features", DataType.FLOAT_VALUE, FEATURES))
                .addInitializer(weights)
                .addNode(node("MatMul", "features", "W", "logits"))
                .addNode(node("Softmax", "logits", null, "probs").toBuilder().addAttribute(intAttribute("axis", 1)))
                .addNode(node("ArgMax", "probs", null, "label").toBuilder()
                        .addAttribute(intAttribute("axis", 1)).addAttribute(intAttribute("keepdims", 0)))
                .addNode(zipMap)
                .addOutput(tensor("label", DataType.INT64_VALUE))
                .addOutput(ValueInfoProto.newBuilder().setName("probabilities").setType(sequenceOf(
                        TypeProto.newBuilder().setMapType(TypeProto.Map.newBuilder()
                                .setKeyType(stringLabels ? DataType.STRING_VALUE : DataType.INT64_VALUE)
                                .setValueType(elementType(DataType.FLOAT_VALUE))).build())))
                .build();
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("non-tensor-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(3))
                .setGraph(graph).build().toByteArray();
    }

    /**
     * The probabilities {@link #classifier} computes for one row of features: softmax(row × W).
     */
    public static float[] probabilities(float[] row) {
        double[] logits = new double[CLASSES];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < CLASSES; c++) {
            for (int f = 0; f < FEATURES; f++) {
                logits[c] += row[f] * WEIGHTS[f * CLASSES + c];
            }
            max = Math.max(max, logits[c]);
        }
        double sum = 0;
        for (int c = 0; c < CLASSES; c++) {
            logits[c] = Math.exp(logits[c] - max);
            sum += logits[c];
        }
        float[] p = new float[CLASSES];
        for (int c = 0; c < CLASSES; c++) {
            p[c] = (float) (logits[c] / sum);
        }
        return p;
    }

    /**
     * Input {@code x} (FP32 [N, 2]); outputs {@code rows}, x split into its N rows
     * ({@code seq(tensor(float))}, each row FP32 [2]), and {@code doubled} = x + x (FP32 [N, 2]).
     */
    public static byte[] sequenceOfTensors() {
        GraphProto graph = GraphProto.newBuilder().setName("rows")
                .addInput(tensor("x", DataType.FLOAT_VALUE, 2))
                .addNode(node("SplitToSequence", "x", null, "rows").toBuilder()
                        .addAttribute(intAttribute("axis", 0)).addAttribute(intAttribute("keepdims", 0)))
                .addNode(node("Add", "x", "x", "doubled"))
                .addOutput(ValueInfoProto.newBuilder().setName("rows").setType(sequenceOf(elementType(DataType.FLOAT_VALUE))))
                .addOutput(tensor("doubled", DataType.FLOAT_VALUE, 2))
                .build();
        return model(graph);
    }

    /** Input {@code x} (FP32 [N]); output {@code maybe}, x wrapped as {@code optional(tensor(float))}. */
    public static byte[] optionalOutput() {
        GraphProto graph = GraphProto.newBuilder().setName("optional")
                .addInput(tensor("x", DataType.FLOAT_VALUE))
                .addNode(node("Optional", "x", null, "maybe"))
                .addOutput(ValueInfoProto.newBuilder().setName("maybe").setType(TypeProto.newBuilder()
                        .setOptionalType(TypeProto.Optional.newBuilder().setElemType(elementType(DataType.FLOAT_VALUE)))))
                .build();
        return model(graph);
    }

    private static byte[] model(GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("non-tensor-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(graph).build().toByteArray();
    }

    private static TypeProto sequenceOf(TypeProto element) {
        return TypeProto.newBuilder().setSequenceType(TypeProto.Sequence.newBuilder().setElemType(element)).build();
    }

    /** A tensor type without a shape, as ZipMap's map values and SplitToSequence's elements are declared. */
    private static TypeProto elementType(int type) {
        return TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(type)).build();
    }

    private static NodeProto node(String op, String a, String b, String out) {
        NodeProto.Builder node = NodeProto.newBuilder().setOpType(op).setName(op + "_" + out).addInput(a);
        if (b != null) {
            node.addInput(b);
        }
        return node.addOutput(out).build();
    }

    private static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    /** A tensor [N, fixed...] of the element type. */
    private static ValueInfoProto tensor(String name, int type, long... fixed) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        for (long d : fixed) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(type).setShape(shape))).build();
    }
}
