package dev.anvil.serving;

import ai.onnxruntime.OnnxJavaType;
import java.util.Arrays;
import java.util.Optional;

/** The Open Inference Protocol's tensor datatypes that the gateway serves, and their ORT types. */
enum TensorType {
    BOOL(OnnxJavaType.BOOL, 1),
    UINT8(OnnxJavaType.UINT8, 1),
    INT8(OnnxJavaType.INT8, 1),
    INT16(OnnxJavaType.INT16, 2),
    INT32(OnnxJavaType.INT32, 4),
    INT64(OnnxJavaType.INT64, 8),
    FP32(OnnxJavaType.FLOAT, 4),
    FP64(OnnxJavaType.DOUBLE, 8);

    final OnnxJavaType ort;
    final int bytes;

    TensorType(OnnxJavaType ort, int bytes) {
        this.ort = ort;
        this.bytes = bytes;
    }

    static Optional<TensorType> of(OnnxJavaType ort) {
        return Arrays.stream(values()).filter(t -> t.ort == ort).findFirst();
    }

    static Optional<TensorType> named(String name) {
        return Arrays.stream(values()).filter(t -> t.name().equals(name)).findFirst();
    }

    /** The v2 name of an ORT type, including ones the gateway cannot serve (for metadata). */
    static String v2Name(OnnxJavaType ort) {
        return of(ort).map(Enum::name).orElse(switch (ort) {
            case FLOAT16 -> "FP16";
            case BFLOAT16 -> "BF16";
            case STRING -> "BYTES";
            default -> ort.name();
        });
    }

    boolean integral() {
        return this != BOOL && this != FP32 && this != FP64;
    }

    long min() {
        return switch (this) {
            case UINT8 -> 0;
            case INT8 -> Byte.MIN_VALUE;
            case INT16 -> Short.MIN_VALUE;
            case INT32 -> Integer.MIN_VALUE;
            default -> Long.MIN_VALUE;
        };
    }

    long max() {
        return switch (this) {
            case UINT8 -> 255;
            case INT8 -> Byte.MAX_VALUE;
            case INT16 -> Short.MAX_VALUE;
            case INT32 -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
    }
}
