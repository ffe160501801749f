package dev.anvil.modelkit.compile.tensorrt;

/**
 * The precision of an engine. TensorRT 11 networks are strongly typed: the engine computes in the types the ONNX
 * model carries, so FP16 is built from the model converted to float16 (float32 inputs and outputs kept) and INT8 from
 * a QDQ model (explicit quantisation), never from builder flags or a calibrator (TensorRT 11 has neither).
 */
public enum TensorRtPrecision {
    FP32("float32"), FP16("float16"), INT8("int8");

    private final String specName;

    TensorRtPrecision(String specName) {
        this.specName = specName;
    }

    /** The name specs write (as for target tflite). */
    public String specName() {
        return specName;
    }

    /** @throws IllegalArgumentException listing the choices */
    public static TensorRtPrecision parse(String value) {
        for (TensorRtPrecision p : values()) {
            if (p.specName.equals(value)) {
                return p;
            }
        }
        throw new IllegalArgumentException("precision must be float32, float16 or int8, got " + value);
    }
}
