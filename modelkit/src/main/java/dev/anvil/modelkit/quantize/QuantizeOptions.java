package dev.anvil.modelkit.quantize;

import java.util.Set;

/**
 * How to quantise.
 *
 * @param mode             static (QDQ with calibrated activation ranges) or dynamic (activations quantised at run time)
 * @param activationType   u8 (default, as ONNX Runtime) or s8
 * @param weightType       s8 (default, symmetric) or u8 (asymmetric)
 * @param perChannel       one weight scale per output channel of Conv / column of MatMul and Gemm (needs opset 13)
 * @param symmetricActivations activations centred on zero (s8: zero point 0; u8: zero point 128)
 * @param method           calibration method (static mode)
 * @param percentile       for {@link CalibrationMethod#PERCENTILE}, e.g. 99.999
 * @param calibrationSamples at most this many samples are calibrated on (0 = the whole dataset)
 * @param batchSize        samples per ONNX Runtime run during calibration
 * @param opTypes          op types to quantise (Conv, MatMul, Gemm; Gather for weight-only embedding tables)
 * @param excludeOpTypes   op types to leave in float
 * @param excludeNodes     node names to leave in float
 * @param smoothAlpha      static mode: activation smoothing strength α for inputs of MatMuls with constant
 *                         weights (0 = off; 0.5 is SmoothQuant's usual value)
 */
public record QuantizeOptions(
        Mode mode,
        QuantType activationType,
        QuantType weightType,
        boolean perChannel,
        boolean symmetricActivations,
        CalibrationMethod method,
        double percentile,
        long calibrationSamples,
        int batchSize,
        Set<String> opTypes,
        Set<String> excludeOpTypes,
        Set<String> excludeNodes,
        double smoothAlpha) {

    public enum Mode { STATIC, DYNAMIC }

    public static final Set<String> DEFAULT_OP_TYPES = Set.of("Conv", "MatMul", "Gemm", "Gather");
    public static final Set<String> SUPPORTED_OP_TYPES = DEFAULT_OP_TYPES;

    public QuantizeOptions {
        opTypes = Set.copyOf(opTypes);
        excludeOpTypes = Set.copyOf(excludeOpTypes);
        excludeNodes = Set.copyOf(excludeNodes);
        for (String op : opTypes) {
            if (!SUPPORTED_OP_TYPES.contains(op)) {
                throw new IllegalArgumentException("op type '" + op + "' cannot be quantised here; supported: "
                        + SUPPORTED_OP_TYPES);
            }
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        }
        if (method == CalibrationMethod.PERCENTILE && !(percentile > 50 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile must be in (50, 100], got " + percentile);
        }
        if (!(smoothAlpha >= 0 && smoothAlpha < 1)) {
            throw new IllegalArgumentException("smooth must be in [0, 1), got " + smoothAlpha);
        }
        if (calibrationSamples < 0) {
            throw new IllegalArgumentException("calibration samples must be 0 (all) or more, got " + calibrationSamples);
        }
    }

    public static QuantizeOptions staticDefaults(CalibrationMethod method) {
        return new QuantizeOptions(Mode.STATIC, QuantType.U8, QuantType.S8, true, false, method, 99.999, 0, 32,
                DEFAULT_OP_TYPES, Set.of(), Set.of(), 0);
    }

    public static QuantizeOptions dynamicDefaults() {
        return new QuantizeOptions(Mode.DYNAMIC, QuantType.U8, QuantType.S8, true, false, CalibrationMethod.MINMAX, 99.999,
                0, 32, DEFAULT_OP_TYPES, Set.of(), Set.of(), 0);
    }

    /** The same options with another calibration method (e.g. to choose ranges from one calibration's statistics). */
    public QuantizeOptions withMethod(CalibrationMethod other) {
        return new QuantizeOptions(mode, activationType, weightType, perChannel, symmetricActivations, other, percentile,
                calibrationSamples, batchSize, opTypes, excludeOpTypes, excludeNodes, smoothAlpha);
    }

    public QuantizeOptions withBatchSize(int size) {
        return new QuantizeOptions(mode, activationType, weightType, perChannel, symmetricActivations, method, percentile,
                calibrationSamples, size, opTypes, excludeOpTypes, excludeNodes, smoothAlpha);
    }
}
