package dev.anvil.modelkit.convert;

import dev.anvil.modelkit.onnx.Tensors;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The rewrites for operator changes that alter a node's form or meaning between opsets, following the
 * ONNX operator changelog. Each takes a node written for the version before {@code version} and leaves
 * it meaning the same under {@code version}; each returns a short description of what it did (the
 * report groups nodes by it, so it names no node). Nodes they insert use only operators whose meaning
 * has not changed since (Shape, Flatten, Reshape), so they are valid at any later target.
 */
final class Adapters {
    private Adapters() {}

    /**
     * Softmax, LogSoftmax and Hardmax at 13: before, the input was coerced to 2-D at {@code axis}
     * (default 1) and the op ran over the whole trailing block; from 13 it runs along {@code axis} alone
     * (default -1). Same result when the axis is the last one; otherwise the old coercion is rebuilt
     * with Flatten, the op on the last axis, and Reshape back to the input's shape.
     */
    static String softmax13(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        long axis = Attrs.getInt(n, "axis").orElse(1L);
        String input = n.getInput(0);
        OptionalInt rank = r.rank(input);
        if (rank.isPresent()) {
            long normalized = axis < 0 ? axis + rank.getAsInt() : axis;
            if (normalized == rank.getAsInt() - 1) {
                Attrs.setInt(n, "axis", -1);
                return "axis is the input's last axis: kept, axis set to -1";
            }
        }
        String output = n.getOutput(0);
        String shape = r.name(output + "_shape");
        String flat = r.name(output + "_2d_in");
        String result = r.name(output + "_2d_out");
        r.before.add(Attrs.node("Shape", r.name(output + "/Shape"), List.of(input), List.of(shape)));
        r.before.add(Attrs.node("Flatten", r.name(output + "/Flatten"), List.of(input), List.of(flat),
                Attrs.intAttr("axis", axis)));
        n.setInput(0, flat);
        n.setOutput(0, result);
        Attrs.setInt(n, "axis", -1);
        r.after.add(Attrs.node("Reshape", r.name(output + "/Reshape"), List.of(result, shape), List.of(output)));
        return "old 2-D coercion kept with Flatten + " + n.getOpType() + "(axis=-1) + Reshape"
                + (rank.isPresent() ? " (axis is not the last axis)" : " (input rank unknown)");
    }

    /** An {@code axes} attribute becomes the second input (Squeeze, Unsqueeze, ReduceSum at 13; other Reduce ops at 18). */
    static String axesToInput(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        Optional<long[]> axes = Attrs.getInts(n, "axes");
        if (axes.isEmpty()) {
            return "no axes attribute: nothing to move";
        }
        Attrs.remove(n, "axes");
        String name = r.int64s(n.getOutput(0) + "_axes", axes.get());
        setInput(n, 1, name);
        return "axes moved from attribute to input";
    }

    /** Split at 13: the {@code split} attribute becomes the second input. */
    static String split13(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        Optional<long[]> split = Attrs.getInts(n, "split");
        if (split.isEmpty()) {
            return "no split attribute: equal parts, nothing to move";
        }
        Attrs.remove(n, "split");
        setInput(n, 1, r.int64s(n.getOutput(0) + "_split", split.get()));
        return "split moved from attribute to input";
    }

    /** Split at 18: without a {@code split} input the number of parts must be given as {@code num_outputs}. */
    static String split18(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        if (n.getInputCount() > 1 && !n.getInput(1).isEmpty()) {
            return "split sizes given as input: nothing to change";
        }
        Attrs.setInt(n, "num_outputs", n.getOutputCount());
        return "num_outputs set to the number of outputs (equal parts)";
    }

    /** Clip at 11: {@code min} and {@code max} attributes become optional inputs typed like the data. */
    static String clip11(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        Optional<Float> min = Attrs.getFloat(n, "min");
        Optional<Float> max = Attrs.getFloat(n, "max");
        Attrs.remove(n, "min");
        Attrs.remove(n, "max");
        if (min.isEmpty() && max.isEmpty()) {
            return "no min/max attributes: nothing to move";
        }
        int type = r.elemType(n.getInput(0), DataType.FLOAT_VALUE);
        String base = n.getOutput(0);
        setInput(n, 1, min.isPresent() ? r.floatScalar(base + "_min", type, min.get()) : "");
        if (max.isPresent()) {
            setInput(n, 2, r.floatScalar(base + "_max", type, max.get()));
        }
        return "min/max moved from attributes to inputs";
    }

    /** Pad at 11: {@code pads} and the constant {@code value} attributes become inputs. */
    static String pad11(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        long[] pads = Attrs.getInts(n, "pads").orElseThrow(() -> r.cannot(version, "it has no pads attribute"));
        float value = Attrs.getFloat(n, "value").orElse(0f);
        String mode = Attrs.getString(n, "mode").orElse("constant");
        Attrs.remove(n, "pads");
        Attrs.remove(n, "value");
        String base = n.getOutput(0);
        setInput(n, 1, r.int64s(base + "_pads", pads));
        if (mode.equals("constant") && value != 0f) {
            setInput(n, 2, r.floatScalar(base + "_value", r.elemType(n.getInput(0), DataType.FLOAT_VALUE), value));
        }
        return "pads (and a non-zero constant value) moved from attributes to inputs";
    }

    /** Slice at 10: {@code starts}, {@code ends} and {@code axes} attributes become inputs. */
    static String slice10(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        long[] starts = Attrs.getInts(n, "starts").orElseThrow(() -> r.cannot(version, "it has no starts attribute"));
        long[] ends = Attrs.getInts(n, "ends").orElseThrow(() -> r.cannot(version, "it has no ends attribute"));
        Optional<long[]> axes = Attrs.getInts(n, "axes");
        Attrs.remove(n, "starts");
        Attrs.remove(n, "ends");
        Attrs.remove(n, "axes");
        String base = n.getOutput(0);
        setInput(n, 1, r.int64s(base + "_starts", starts));
        setInput(n, 2, r.int64s(base + "_ends", ends));
        if (axes.isPresent()) {
            setInput(n, 3, r.int64s(base + "_axes", axes.get()));
        }
        return "starts/ends/axes moved from attributes to inputs";
    }

    /** TopK at 10: the {@code k} attribute becomes a 1-element input. */
    static String topK10(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        long k = Attrs.getInt(n, "k").orElseThrow(() -> r.cannot(version, "it has no k attribute"));
        Attrs.remove(n, "k");
        setInput(n, 1, r.int64s(n.getOutput(0) + "_k", k));
        return "k moved from attribute to input";
    }

    /** Dropout at 10: the mask output became bool (it was typed like the data); an unused mask is dropped. */
    static String dropout10(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        if (n.getOutputCount() < 2 || n.getOutput(1).isEmpty()) {
            return "no mask output: nothing to change";
        }
        if (r.isRead(n.getOutput(1))) {
            throw r.cannot(version, "its mask output changed type from the data's to bool, and this model reads the mask");
        }
        keepOutputs(n, 1);
        return "unused mask output dropped (its type changed to bool)";
    }

    /** Dropout at 12: the {@code ratio} attribute becomes an optional input (inference ignores it either way). */
    static String dropout12(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        Optional<Float> ratio = Attrs.getFloat(n, "ratio");
        if (ratio.isEmpty()) {
            return "no ratio attribute: nothing to move";
        }
        Attrs.remove(n, "ratio");
        setInput(n, 1, r.floatScalar(n.getOutput(0) + "_ratio", DataType.FLOAT_VALUE, ratio.get()));
        return "ratio moved from attribute to input";
    }

    /** BatchNormalization at 9: the {@code spatial} attribute was removed; only spatial=1 keeps its meaning. */
    static String batchNorm9(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        Optional<Long> spatial = Attrs.getInt(n, "spatial");
        if (spatial.isEmpty()) {
            return "no spatial attribute: nothing to change";
        }
        if (spatial.get() != 1) {
            throw r.cannot(version, "spatial=" + spatial.get() + " (per-activation statistics) has no equivalent after it");
        }
        Attrs.remove(n, "spatial");
        return "spatial=1 attribute removed";
    }

    /**
     * BatchNormalization at 14: the optional outputs (running and saved statistics) exist only in
     * training mode; unused ones are dropped, read ones cannot be kept.
     */
    static String batchNorm14(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        if (n.getOutputCount() <= 1) {
            return "single output: nothing to change";
        }
        for (int i = 1; i < n.getOutputCount(); i++) {
            if (!n.getOutput(i).isEmpty() && r.isRead(n.getOutput(i))) {
                throw r.cannot(version, "its statistics outputs exist only in training mode from then on, and this model reads '"
                        + n.getOutput(i) + "'");
            }
        }
        keepOutputs(n, 1);
        return "unused training-statistics outputs dropped";
    }

    /** Upsample at 9: the {@code scales} attribute becomes an input. */
    static String upsample9(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        float[] scales = Attrs.getFloats(n, "scales").orElseThrow(() -> r.cannot(version, "it has no scales attribute"));
        Attrs.remove(n, "scales");
        setInput(n, 1, r.constant(n.getOutput(0) + "_scales", Tensors.floats("", new long[] {scales.length}, scales)));
        return "scales moved from attribute to input";
    }

    /** Upsample is deprecated at 10; Resize-10 takes the same inputs and mode. */
    static String upsampleToResize10(NodeRewrite r, int version) {
        r.node.setOpType("Resize");
        return "replaced by Resize-10 (same inputs and mode)";
    }

    /**
     * Resize at 11: a {@code roi} input is inserted before {@code scales}, and the coordinate mapping the
     * opset-10 Resize used (asymmetric; nearest rounds down when enlarging, up when shrinking) is spelt
     * out, since the new defaults differ (half_pixel, round_prefer_floor).
     */
    static String resize11(NodeRewrite r, int version) {
        NodeProto.Builder n = r.node;
        String mode = Attrs.getString(n, "mode").orElse("nearest");
        String scales = n.getInputCount() > 1 ? n.getInput(1) : "";
        if (mode.equals("nearest")) {
            TensorProto value = r.constantValue(scales).orElseThrow(() -> r.cannot(version,
                    "its scales are computed at run time, so the opset-10 nearest rounding (down when enlarging, up when"
                            + " shrinking, per axis) cannot be expressed with one nearest_mode"));
            float[] s = Tensors.toFloats(value);
            boolean up = true;
            boolean down = true;
            for (float f : s) {
                up &= f >= 1f;
                down &= f <= 1f;
            }
            if (!up && !down) {
                throw r.cannot(version, "it enlarges some axes and shrinks others (scales " + java.util.Arrays.toString(s)
                        + "), which needs different nearest rounding per axis");
            }
            Attrs.setString(n, "nearest_mode", up ? "floor" : "ceil");
        }
        List<String> inputs = new ArrayList<>(n.getInputList());
        String roi = r.constant(n.getOutput(0) + "_roi", Tensors.floats("", new long[] {0}, new float[0]));
        inputs.add(1, roi);
        n.clearInput().addAllInput(inputs);
        Attrs.setString(n, "coordinate_transformation_mode", "asymmetric");
        return "roi input inserted; opset-10 coordinate mapping (asymmetric" + (mode.equals("nearest") ? ", nearest rounding" : "")
                + ") made explicit";
    }

    /** Scatter is deprecated at 11; ScatterElements-11 has the same inputs and axis. */
    static String scatterToScatterElements11(NodeRewrite r, int version) {
        r.node.setOpType("ScatterElements");
        return "replaced by ScatterElements-11 (same inputs and axis)";
    }

    /** RoiAlign at 16: the new coordinate_transformation_mode defaults to half_pixel; the old behaviour is output_half_pixel. */
    static String roiAlign16(NodeRewrite r, int version) {
        if (Attrs.get(r.node, "coordinate_transformation_mode").isPresent()) {
            return "coordinate_transformation_mode already set";
        }
        Attrs.setString(r.node, "coordinate_transformation_mode", "output_half_pixel");
        return "coordinate_transformation_mode=output_half_pixel set (the old behaviour)";
    }

    /** Sets input {@code index}, padding skipped optional inputs with empty names. */
    private static void setInput(NodeProto.Builder n, int index, String name) {
        while (n.getInputCount() <= index) {
            n.addInput("");
        }
        n.setInput(index, name);
    }

    private static void keepOutputs(NodeProto.Builder n, int count) {
        List<String> kept = new ArrayList<>(n.getOutputList().subList(0, count));
        n.clearOutput().addAllOutput(kept);
    }
}
