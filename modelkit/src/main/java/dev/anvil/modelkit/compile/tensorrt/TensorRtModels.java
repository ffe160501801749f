package dev.anvil.modelkit.compile.tensorrt;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.anvil.modelkit.convert.Fp16Converter;
import dev.anvil.modelkit.convert.TensorTypes;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.onnx.proto.OnnxMl.NodeProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.quantize.CalibrationMethod;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.modelkit.quantize.ModelQuantizer;
import dev.anvil.modelkit.quantize.QuantType;
import dev.anvil.modelkit.quantize.QuantizationPlan;
import dev.anvil.modelkit.quantize.QuantizeOptions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The ONNX model TensorRT parses for each precision. TensorRT 11 builds strongly typed networks only, so the
 * precision is in the model: float32 as given; float16 through Anvil's float16 conversion (float32 inputs and
 * outputs kept); int8 as explicit quantisation, either the QDQ model a quantize task published or one written here
 * from a calibration table in the form TensorRT takes (int8, symmetric: zero point 0; weights per channel).
 */
public final class TensorRtModels {
    /** The quantisation TensorRT's explicit INT8 takes: s8 activations and weights, zero points 0. */
    static final QuantizeOptions TENSORRT_INT8 = new QuantizeOptions(QuantizeOptions.Mode.STATIC, QuantType.S8,
            QuantType.S8, true, true, CalibrationMethod.MINMAX, 99.999, 0, 32, Set.of("Conv", "MatMul", "Gemm"),
            Set.of(), Set.of(), 0);

    /** What TensorRT will parse, and how it came about (for the report). */
    public record Prepared(OnnxModel model, String how) {}

    private TensorRtModels() {}

    /**
     * @param table int8 only: the ranges to quantise with; null for a model that is already QDQ
     * @throws IllegalArgumentException when the model does not fit the precision (a QDQ model at float32, a float
     *                                  model at int8 without a table, uint8 or asymmetric Q/DQ, a table of another
     *                                  model)
     */
    public static Prepared prepare(OnnxModel model, TensorRtPrecision precision, CalibrationTable table)
            throws OrtException {
        boolean qdq = isQdq(model);
        switch (precision) {
            case FP32 -> {
                if (qdq) {
                    throw new IllegalArgumentException("the model is quantised (QuantizeLinear/DequantizeLinear):"
                            + " TensorRT would build it as INT8; compile it with precision int8, or pass the float"
                            + " model");
                }
                return new Prepared(model, "the model as given (float32)");
            }
            case FP16 -> {
                if (qdq) {
                    throw new IllegalArgumentException("the model is quantised (QDQ): precision float16 takes a float"
                            + " model");
                }
                OnnxModel copy = OnnxModel.of(model.build());
                Fp16Converter.Summary s = Fp16Converter.convert(copy,
                        TensorTypes.probe(OrtEnvironment.getEnvironment(), copy));
                return new Prepared(copy, "converted to float16, float32 inputs and outputs kept ("
                        + s.initializersConverted() + " initializers, " + s.castsInserted() + " casts, "
                        + s.valuesClamped() + " values clamped to the float16 range)");
            }
            case INT8 -> {
                if (table != null) {
                    if (qdq) {
                        throw new IllegalArgumentException("the model is already quantised (QDQ): pass the float model"
                                + " with calibration_table, or the QDQ model without it");
                    }
                    return new Prepared(quantize(model, table), "quantised here from the calibration table (int8"
                            + " symmetric activations, int8 per-channel weights, QDQ: explicit quantisation)");
                }
                if (!qdq) {
                    throw new IllegalArgumentException("precision int8 needs a QDQ model (a quantize task's model output"
                            + ", mode: static, activation_type: s8, symmetric_activations: true) or"
                            + " with.calibration_table with the float model: TensorRT 11 has no implicit INT8"
                            + " calibration");
                }
                refuseUnlessSymmetricInt8(model);
                return new Prepared(model, "the QDQ model as given (explicit quantisation)");
            }
            default -> throw new IllegalStateException(precision.name());
        }
    }

    /**
     * A QDQ model from the float {@code model} with {@code table}'s ranges.
     *
     * @throws EngineRefusedException when the table lacks ranges the model needs (it was measured on another model),
     *                                naming them
     */
    static OnnxModel quantize(OnnxModel model, CalibrationTable table) {
        OnnxModel copy = OnnxModel.of(model.build());
        QuantizationPlan plan = ModelQuantizer.plan(copy, TENSORRT_INT8);
        Set<String> missing = new TreeSet<>(plan.activationTensors());
        missing.removeAll(table.tensors().keySet());
        if (!missing.isEmpty()) {
            List<String> held = new ArrayList<>(table.tensors().keySet());
            throw new EngineRefusedException("the calibration table has no range for " + missing.size()
                    + " tensor(s) the INT8 model needs: " + missing + "; it holds " + held.size() + " other tensor(s)"
                    + (held.isEmpty() ? "" : ", e.g. " + held.subList(0, Math.min(5, held.size())))
                    + ". It was measured on model " + table.modelSha256() + ", most likely another model: calibrate"
                    + " this model (quantize, mode: static) and pass that task's calibration_table");
        }
        ModelQuantizer.applyStatic(copy, plan, table, TENSORRT_INT8);
        return copy;
    }

    static boolean isQdq(OnnxModel model) {
        for (NodeProto n : model.graph().proto().getNodeList()) {
            if (n.getOpType().equals("QuantizeLinear") || n.getOpType().equals("DequantizeLinear")) {
                return true;
            }
        }
        return false;
    }

    /** TensorRT's explicit quantisation takes int8 Q/DQ with zero point 0 only. */
    static void refuseUnlessSymmetricInt8(OnnxModel model) {
        List<String> bad = new ArrayList<>();
        for (NodeProto n : model.graph().proto().getNodeList()) {
            if (!n.getOpType().equals("QuantizeLinear") && !n.getOpType().equals("DequantizeLinear")) {
                continue;
            }
            if (n.getInputCount() < 3 || n.getInput(2).isEmpty()) {
                continue; // no zero point: int8 (ONNX default is uint8 only for QuantizeLinear without one)
            }
            TensorProto zp = model.graph().initializer(n.getInput(2)).orElse(null);
            if (zp == null) {
                bad.add(n.getName() + " (zero point is not a constant)");
            } else if (zp.getDataType() != TensorProto.DataType.INT8_VALUE) {
                bad.add(n.getName() + " (" + TensorProto.DataType.forNumber(zp.getDataType()) + ")");
            } else if (!allZero(zp)) {
                bad.add(n.getName() + " (zero point not 0)");
            }
            if (bad.size() >= 5) {
                break;
            }
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException("TensorRT takes int8 Q/DQ with zero point 0 only; this model has " + bad
                    + ": quantize with activation_type: s8, weight_type: s8 and symmetric_activations: true, or pass"
                    + " the float model with calibration_table");
        }
    }

    private static boolean allZero(TensorProto t) {
        if (!t.getRawData().isEmpty()) {
            for (byte b : t.getRawData().toByteArray()) {
                if (b != 0) {
                    return false;
                }
            }
            return true;
        }
        return t.getInt32DataList().stream().allMatch(v -> v == 0);
    }
}
