package dev.anvil.modelkit.evaluate;

import com.google.protobuf.ByteString;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.proto.OnnxMl.AttributeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.GraphProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ModelProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.OperatorSetIdProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorShapeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.ValueInfoProto;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Small models with the outputs that broke per-sample cosine and the raw casts, built in code: a detector
 * whose maps are all zero, a sparse probability map and its FP16-like twin, and a scikit-learn style
 * classifier with an integer label output and an ONNX-ML {@code ZipMap} sequence of maps.
 */
public final class ComparisonModels {
    public static final int SIDE = 8;

    private ComparisonModels() {
    }

    /** {@code map = x · 0}: a text detector on images without text, {@code [B, 1, 8, 8]} all zero. */
    public static Path allZeroDetector(Path file) throws IOException {
        GraphProto.Builder g = GraphProto.newBuilder().setName("zero_detector")
                .addInitializer(floats("zero", new long[] {1}, new float[] {0}))
                .addNode(NodeProto.newBuilder().setOpType("Mul").addInput("image").addInput("zero").addOutput("map"))
                .addInput(floatValue("image", -1, 1, SIDE, SIDE)).addOutput(floatValue("map", -1, 1, SIDE, SIDE));
        return write(file, g, false);
    }

    /**
     * {@code map = sigmoid(x) + noise}: with {@code noise} zero the reference probability map; with ±{@code
     * amplitude} of fixed pseudo-random noise, what FP16 arithmetic does to the near-zero background.
     */
    public static Path sparseMap(Path file, float amplitude) throws IOException {
        float[] noise = new float[SIDE * SIDE];
        Random random = new Random(7);
        for (int i = 0; i < noise.length; i++) {
            noise[i] = amplitude * (2 * random.nextFloat() - 1);
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("sparse_map")
                .addInitializer(floats("noise", new long[] {1, 1, SIDE, SIDE}, noise))
                .addNode(NodeProto.newBuilder().setOpType("Sigmoid").addInput("image").addOutput("prob"))
                .addNode(NodeProto.newBuilder().setOpType("Add").addInput("prob").addInput("noise").addOutput("output_probs"))
                .addInput(floatValue("image", -1, 1, SIDE, SIDE)).addOutput(floatValue("output_probs", -1, 1, SIDE, SIDE));
        return write(file, g, false);
    }

    /**
     * {@code images.npy} of {@code samples} 8×8 logit maps: odd samples hold a 3×3 "text" block (logit
     * +8), the rest is background (logit −16, probability 1e-7).
     */
    public static Path sparseMapDataset(Path file, int samples) throws IOException {
        float[] x = new float[samples * SIDE * SIDE];
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < SIDE * SIDE; i++) {
                int row = i / SIDE;
                int col = i % SIDE;
                boolean text = s % 2 == 1 && row >= 2 && row < 5 && col >= 3 && col < 6;
                x[s * SIDE * SIDE + i] = text ? 8f : -16f;
            }
        }
        DatasetWriter.write(file, new Dataset(Map.of("image", NpyArray.ofFloat32(new long[] {samples, 1, SIDE, SIDE}, x)),
                Optional.empty()));
        return file;
    }

    /**
     * A three-class classifier as scikit-learn exports it: {@code probs = softmax(x · W)}, {@code label =
     * argmax(probs)} (int64 {@code [B]}), {@code output_probability = ZipMap(probs)} (a sequence of maps
     * class → probability). Outputs in that order: label first, as skl2onnx writes them.
     */
    public static Path zipMapClassifier(Path file, float[] weights) throws IOException {
        TypeProto mapType = TypeProto.newBuilder().setMapType(TypeProto.Map.newBuilder()
                .setKeyType(TensorProto.DataType.INT64_VALUE)
                .setValueType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT_VALUE)))).build();
        ValueInfoProto probabilities = ValueInfoProto.newBuilder().setName("output_probability").setType(TypeProto.newBuilder()
                .setSequenceType(TypeProto.Sequence.newBuilder().setElemType(mapType))).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("zipmap_classifier")
                .addInitializer(floats("W", new long[] {3, 3}, weights))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("x").addInput("W").addOutput("logits"))
                .addNode(NodeProto.newBuilder().setOpType("Softmax").addInput("logits").addOutput("probs")
                        .addAttribute(intAttr("axis", 1)))
                .addNode(NodeProto.newBuilder().setOpType("ArgMax").addInput("probs").addOutput("label")
                        .addAttribute(intAttr("axis", 1)).addAttribute(intAttr("keepdims", 0)))
                .addNode(NodeProto.newBuilder().setOpType("ZipMap").setDomain("ai.onnx.ml").addInput("probs")
                        .addOutput("output_probability").addAttribute(AttributeProto.newBuilder().setName("classlabels_int64s")
                                .setType(AttributeProto.AttributeType.INTS).addInts(0).addInts(1).addInts(2)))
                .addInput(floatValue("x", -1, 3))
                .addOutput(ValueInfoProto.newBuilder().setName("label").setType(TypeProto.newBuilder().setTensorType(
                        TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE).setShape(shape(-1)))))
                .addOutput(probabilities);
        return write(file, g, true);
    }

    public static final float[] IDENTITY = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    /** Swaps classes 1 and 2: a "broken" classifier that agrees only on class 0. */
    public static final float[] SWAPPED = {1, 0, 0, 0, 0, 1, 0, 1, 0};

    /** {@code x.npy} with {@code samples} rows whose largest value is at {@code s % 3}, and labels {@code s % 3}. */
    public static Path classifierDataset(Path file, int samples, boolean labelled) throws IOException {
        float[] x = new float[samples * 3];
        long[] labels = new long[samples];
        for (int s = 0; s < samples; s++) {
            for (int c = 0; c < 3; c++) {
                x[s * 3 + c] = c == s % 3 ? 2f + s % 5 : 0.1f * c;
            }
            labels[s] = s % 3;
        }
        DatasetWriter.write(file, new Dataset(Map.of("x", NpyArray.ofFloat32(new long[] {samples, 3}, x)),
                labelled ? Optional.of(NpyArray.ofInt64(new long[] {samples}, labels)) : Optional.empty()));
        return file;
    }

    /**
     * A token model: {@code last_hidden_state = table[input_ids] · mask} ({@code [B, 3, 4]}),
     * {@code sentence_embedding} its mean over tokens ({@code [B, 4]}) and {@code logits} a two-class head
     * over it ({@code [B, 2]}).
     */
    public static Path tokenModel(Path file) throws IOException {
        float[] table = new float[10 * 4];
        for (int i = 0; i < table.length; i++) {
            table[i] = (i % 7) - 3;
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("tokens")
                .addInitializer(floats("table", new long[] {10, 4}, table))
                .addInitializer(floats("head", new long[] {4, 2}, new float[] {1, -1, 0.5f, 0, -1, 1, 0, 2}))
                .addInitializer(TensorProto.newBuilder().setName("axis2").setDataType(TensorProto.DataType.INT64_VALUE)
                        .addDims(1).addInt64Data(2))
                .addNode(NodeProto.newBuilder().setOpType("Gather").addInput("table").addInput("input_ids").addOutput("hidden"))
                .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("attention_mask").addOutput("mask_f")
                        .addAttribute(intAttr("to", TensorProto.DataType.FLOAT_VALUE)))
                .addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("mask_f").addInput("axis2").addOutput("mask3"))
                .addNode(NodeProto.newBuilder().setOpType("Mul").addInput("hidden").addInput("mask3").addOutput("last_hidden_state"))
                .addNode(NodeProto.newBuilder().setOpType("ReduceMean").addInput("last_hidden_state").addOutput("sentence_embedding")
                        .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS).addInts(1))
                        .addAttribute(intAttr("keepdims", 0)))
                .addNode(NodeProto.newBuilder().setOpType("MatMul").addInput("sentence_embedding").addInput("head").addOutput("logits"))
                .addInput(int64Value("input_ids", -1, 3)).addInput(int64Value("attention_mask", -1, 3))
                .addOutput(floatValue("last_hidden_state", -1, 3, 4)).addOutput(floatValue("sentence_embedding", -1, 4))
                .addOutput(floatValue("logits", -1, 2));
        return write(file, g, false);
    }

    /** {@code samples} rows of three token ids, the last one padding in every other row. */
    public static Path tokenDataset(Path file, int samples) throws IOException {
        long[] ids = new long[samples * 3];
        long[] mask = new long[samples * 3];
        for (int s = 0; s < samples; s++) {
            for (int t = 0; t < 3; t++) {
                ids[s * 3 + t] = (s + 3L * t) % 10;
                mask[s * 3 + t] = t == 2 && s % 2 == 0 ? 0 : 1;
            }
        }
        DatasetWriter.write(file, new Dataset(Map.of("input_ids", NpyArray.ofInt64(new long[] {samples, 3}, ids),
                "attention_mask", NpyArray.ofInt64(new long[] {samples, 3}, mask)), Optional.empty()));
        return file;
    }

    private static ValueInfoProto int64Value(String name, long... dims) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE).setShape(shape(dims)))).build();
    }

    private static Path write(Path file, GraphProto.Builder graph, boolean ml) throws IOException {
        ModelProto.Builder model = ModelProto.newBuilder().setIrVersion(8)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13));
        if (ml) {
            model.addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("ai.onnx.ml").setVersion(1));
        }
        Files.write(file, model.setGraph(graph).build().toByteArray());
        return file;
    }

    private static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static TensorProto floats(String name, long[] dims, float[] values) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            raw.putFloat(v);
        }
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .setRawData(ByteString.copyFrom(raw.array()));
        for (long d : dims) {
            t.addDims(d);
        }
        return t.build();
    }

    private static TensorShapeProto shape(long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return shape.build();
    }

    private static ValueInfoProto floatValue(String name, long... dims) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape(dims)))).build();
    }
}
