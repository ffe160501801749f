package dev.anvil.modelkit.quantize;

/**
 * Scale and zero point mapping a float range onto an 8-bit type, as ONNX's QuantizeLinear defines it:
 * {@code q = saturate(round(x / scale) + zeroPoint)}. The range is widened to include 0 so that zero
 * (padding, ReLU's floor) is exact.
 */
public record QuantParams(float scale, int zeroPoint) {
    public static QuantParams of(double rmin, double rmax, QuantType type, boolean symmetric) {
        rmin = Math.min(rmin, 0);
        rmax = Math.max(rmax, 0);
        if (symmetric) {
            double absMax = Math.max(-rmin, rmax);
            if (type == QuantType.S8) {
                return new QuantParams(scale(absMax / 127.0), 0);
            }
            return new QuantParams(scale(2 * absMax / 255.0), 128);
        }
        float scale = scale((rmax - rmin) / (type.qmax - type.qmin));
        int zero = (int) Math.rint(type.qmin - rmin / scale);
        return new QuantParams(scale, Math.max(type.qmin, Math.min(type.qmax, zero)));
    }

    private static float scale(double value) {
        float s = (float) value;
        return s > 0 && Float.isFinite(s) ? s : 1f; // an all-zero tensor: any scale represents it exactly
    }

    public int quantize(float x, QuantType type) {
        long q = Math.round(Math.rint(x / scale)) + zeroPoint;
        return (int) Math.max(type.qmin, Math.min(type.qmax, q));
    }

    public float dequantize(int q) {
        return (q - zeroPoint) * scale;
    }
}
