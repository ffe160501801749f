package dev.anvil.modelkit.quantize;

/**
 * A float weight stored in 8 bits: one scale and zero point per channel of {@code axis} (or one for the
 * whole tensor when {@code axis} is -1), symmetric for s8 and asymmetric for u8, the range always
 * including 0. Shared by the static, dynamic and Gather rewrites.
 *
 * @param values the 8-bit values, as stored
 * @param scales one per channel
 * @param zeros  one per channel, as stored
 */
record QuantizedWeights(byte[] values, float[] scales, byte[] zeros) {

    static QuantizedWeights of(float[] weights, long[] dims, int axis, QuantType type) {
        int channels = axis < 0 ? 1 : (int) dims[axis];
        long stride = 1;
        if (axis >= 0) {
            for (int d = axis + 1; d < dims.length; d++) {
                stride *= dims[d];
            }
        }
        double[] lo = new double[channels];
        double[] hi = new double[channels];
        for (int i = 0; i < weights.length; i++) {
            int c = channel(i, axis, stride, channels);
            lo[c] = Math.min(lo[c], weights[i]);
            hi[c] = Math.max(hi[c], weights[i]);
        }
        QuantParams[] params = new QuantParams[channels];
        float[] scales = new float[channels];
        byte[] zeros = new byte[channels];
        for (int c = 0; c < channels; c++) {
            params[c] = QuantParams.of(lo[c], hi[c], type, type == QuantType.S8);
            scales[c] = params[c].scale();
            zeros[c] = (byte) params[c].zeroPoint();
        }
        byte[] q = new byte[weights.length];
        for (int i = 0; i < weights.length; i++) {
            q[i] = (byte) params[channel(i, axis, stride, channels)].quantize(weights[i], type);
        }
        return new QuantizedWeights(q, scales, zeros);
    }

    private static int channel(int index, int axis, long stride, int channels) {
        return axis < 0 ? 0 : (int) ((index / stride) % channels);
    }
}
