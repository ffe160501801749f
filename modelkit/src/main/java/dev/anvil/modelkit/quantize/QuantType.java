package dev.anvil.modelkit.quantize;

import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto.DataType;

/** The 8-bit integer types quantised tensors are stored in. */
public enum QuantType {
    U8(0, 255, DataType.UINT8),
    S8(-128, 127, DataType.INT8);

    final int qmin;
    final int qmax;
    final DataType onnxType;

    QuantType(int qmin, int qmax, DataType onnxType) {
        this.qmin = qmin;
        this.qmax = qmax;
        this.onnxType = onnxType;
    }

    public static QuantType parse(String text) {
        return switch (text) {
            case "u8", "uint8" -> U8;
            case "s8", "int8" -> S8;
            default -> throw new IllegalArgumentException("unknown 8-bit type '" + text + "'; use u8 or s8");
        };
    }

    public String wireName() {
        return this == U8 ? "u8" : "s8";
    }
}
