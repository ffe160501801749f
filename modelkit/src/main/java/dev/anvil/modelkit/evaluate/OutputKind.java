package dev.anvil.modelkit.evaluate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.anvil.modelkit.onnx.ValueTypes;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What a model output holds, judged from its declared type and shape, which picks the comparison
 * metrics that mean something for it ({@link #defaults()}). A token model (one with an integer input,
 * such as {@code input_ids}) has hidden states and embeddings where an image model has maps and class
 * scores; {@code with.metrics} overrides the choice when the guess is wrong.
 * See {@link #of(String, ValueInfo, boolean)}.
 */
public enum OutputKind {
    /** Float {@code [B, C]} with C ≥ 2, or a sequence of maps (ONNX-ML {@code ZipMap}) made dense by its keys. */
    CLASS_SCORES("class_scores", List.of(ComparisonMetric.TOP1_AGREEMENT, ComparisonMetric.REL_L2, ComparisonMetric.MAX_ABS)),
    /** An integer or bool tensor: predicted labels, token ids, counts. */
    LABELS("labels", List.of(ComparisonMetric.EXACT_AGREEMENT)),
    /** Float rank ≥ 4 ({@code [B, C, H, W]}), or rank 3 in a model without integer inputs: probability or heat maps. */
    MAP("map", List.of(ComparisonMetric.IOU, ComparisonMetric.DICE, ComparisonMetric.REL_L2, ComparisonMetric.MAX_ABS)),
    /**
     * Float rank 3 in a token model (hidden states, mean pooled when pooling is mean), or rank 2 in a token
     * model when the output's name says it is an embedding ({@code embed}, {@code pool}, {@code sentence}):
     * a text classifier's {@code [B, C]} logits stay class scores.
     */
    EMBEDDING("embedding", List.of(ComparisonMetric.COSINE, ComparisonMetric.REL_L2)),
    /** Float scalars per sample ({@code [B]}, {@code [B, 1]}): regression values and scores. */
    VALUES("values", List.of(ComparisonMetric.REL_L2, ComparisonMetric.MAX_ABS)),
    /** Strings, maps that are not in a sequence, sequences of tensors: reported as not compared, with the reason. */
    UNSUPPORTED("unsupported", List.of());

    private final String wireName;
    private final List<ComparisonMetric> defaults;

    OutputKind(String wireName, List<ComparisonMetric> defaults) {
        this.wireName = wireName;
        this.defaults = defaults;
    }

    public String wireName() {
        return wireName;
    }

    /** The metrics reported for an output of this kind unless {@code with.metrics} names others. */
    public List<ComparisonMetric> defaults() {
        return defaults;
    }

    /** A model with an integer input feeds tokens (or ids), so its float rank-2/3 outputs are embeddings. */
    public static boolean tokenModel(Map<String, NodeInfo> inputs) {
        return inputs.values().stream().anyMatch(i -> i.getInfo() instanceof TensorInfo t && isInteger(t.type));
    }

    public static OutputKind of(String name, ValueInfo info, boolean tokenModel) {
        if (info instanceof SequenceInfo s) {
            return s.sequenceOfMaps && isFloat(s.mapInfo.valueType) ? CLASS_SCORES : UNSUPPORTED;
        }
        if (!(info instanceof TensorInfo t)) {
            return UNSUPPORTED;
        }
        if (isInteger(t.type)) {
            return LABELS;
        }
        if (!isFloat(t.type)) {
            return UNSUPPORTED;
        }
        long[] shape = t.getShape();
        if (shape.length <= 1 || (shape.length == 2 && shape[1] == 1)) {
            return VALUES;
        }
        if (shape.length == 2) {
            return tokenModel && namedLikeAnEmbedding(name) ? EMBEDDING : CLASS_SCORES;
        }
        if (shape.length == 3) {
            return tokenModel ? EMBEDDING : MAP;
        }
        return MAP;
    }

    /** Why an output of kind {@link #UNSUPPORTED} is not compared. */
    public static String unsupportedReason(String output, ValueInfo info) {
        return "output '" + output + "' is " + describe(info)
                + ": only numeric tensors and sequences of maps with float values can be compared";
    }

    /**
     * A type as a person reads it, in ONNX's notation ({@link ValueTypes}), with a tensor's shape:
     * {@code tensor(float)[-1, 10]}, {@code seq(map(int64,tensor(float)))}.
     */
    public static String describe(ValueInfo info) {
        return ValueTypes.describe(info) + (info instanceof TensorInfo t ? Arrays.toString(t.getShape()) : "");
    }

    private static boolean namedLikeAnEmbedding(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        return n.contains("embed") || n.contains("pool") || n.contains("sentence");
    }

    static boolean isInteger(OnnxJavaType type) {
        return switch (type) {
            case INT8, INT16, INT32, INT64, UINT8, BOOL -> true;
            default -> false;
        };
    }

    static boolean isFloat(OnnxJavaType type) {
        return switch (type) {
            case FLOAT, DOUBLE, FLOAT16, BFLOAT16 -> true;
            default -> false;
        };
    }
}
