package dev.anvil.modelkit.evaluate;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.TensorInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Which outputs a classifier is scored on against a dataset's labels, chosen by their kind: a label
 * output (integer {@code [B]} or {@code [B, 1]}, such as a scikit-learn export's {@code label}) gives
 * the predicted class directly; class scores (float {@code [B, C]}, or a sequence of maps from ONNX-ML
 * {@code ZipMap}) give it by their highest score, and top-k. A model with neither is not scored, and
 * {@link #absentReason} says why.
 *
 * @param labelOutput the label output, or null
 * @param scoresOutput the class-score output, or null
 */
public record Scoring(String labelOutput, String scoresOutput, String absentReason) {

    public static Scoring of(Map<String, NodeInfo> outputs, boolean tokenModel) {
        String label = null;
        String scores = null;
        List<String> seen = new ArrayList<>();
        for (NodeInfo info : outputs.values()) {
            seen.add(info.getName() + ": " + OutputKind.describe(info.getInfo()));
            OutputKind kind = OutputKind.of(info.getName(), info.getInfo(), tokenModel);
            if (label == null && kind == OutputKind.LABELS && info.getInfo() instanceof TensorInfo t && isLabel(t)) {
                label = info.getName();
            }
            if (scores == null && kind == OutputKind.CLASS_SCORES) {
                scores = info.getName();
            }
        }
        String reason = label == null && scores == null
                ? "no output holds class scores (float [B, C] or a sequence of maps) or labels (integer [B]); the outputs are "
                        + seen + ": accuracy is not measured"
                : null;
        return new Scoring(label, scores, reason);
    }

    public boolean scored() {
        return absentReason == null;
    }

    private static boolean isLabel(TensorInfo t) {
        long[] shape = t.getShape();
        boolean integer = t.type == OnnxJavaType.INT64 || t.type == OnnxJavaType.INT32;
        return integer && (shape.length == 1 || (shape.length == 2 && shape[1] == 1));
    }

    /**
     * The classes ranked by score for sample {@code s} (best first, at most {@code k}), as class numbers:
     * the column for a tensor, the map key for a sequence of maps keyed by integers.
     *
     * @throws IllegalArgumentException for maps keyed by strings: labels.npy holds class numbers
     */
    public static long[] ranked(String output, OutputValues scores, int s, int samples, int k) {
        int classes = scores.perSample(samples);
        int[] top = topIndices(scores.values(), s * classes, classes, k);
        long[] out = new long[top.length];
        for (int i = 0; i < top.length; i++) {
            out[i] = classOf(output, scores, top[i]);
        }
        return out;
    }

    private static long classOf(String output, OutputValues scores, int column) {
        if (scores.keys() == null) {
            return column;
        }
        Object key = scores.keys().get(column);
        if (key instanceof Number n) {
            return n.longValue();
        }
        throw new IllegalArgumentException("output '" + output + "' scores classes by name " + scores.keys()
                + " but labels.npy holds class numbers: score a model with an integer label output, or map the names to numbers");
    }

    /** The indices of the k largest values in {@code v[offset, offset + length)}, largest first. */
    public static int[] topIndices(double[] v, int offset, int length, int k) {
        int take = Math.min(k, length);
        int[] best = new int[take];
        java.util.Arrays.fill(best, -1);
        for (int i = 0; i < length; i++) {
            double value = v[offset + i];
            for (int slot = 0; slot < take; slot++) {
                if (best[slot] < 0 || value > v[offset + best[slot]]) {
                    System.arraycopy(best, slot, best, slot + 1, take - slot - 1);
                    best[slot] = i;
                    break;
                }
            }
        }
        return best;
    }
}
