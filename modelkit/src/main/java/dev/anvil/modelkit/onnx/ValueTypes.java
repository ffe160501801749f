package dev.anvil.modelkit.onnx;

import ai.onnxruntime.MapInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.SequenceInfo;
import ai.onnxruntime.TensorInfo;
import ai.onnxruntime.ValueInfo;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TensorProto;
import dev.anvil.modelkit.onnx.proto.OnnxMl.TypeProto;
import java.util.Locale;

/**
 * A model input's or output's type as a person reads it, in the notation of ONNX's own operator
 * schemas: {@code tensor(float)}, {@code seq(tensor(int64))}, {@code map(string,tensor(float))},
 * {@code seq(map(int64,tensor(float)))} (what scikit-learn classifiers' ZipMap returns),
 * {@code optional(tensor(float))}, {@code sparse_tensor(float)}. Element types are ONNX's names
 * ({@code float}, {@code int64}, {@code bfloat16}). One spelling for the file's view ({@link TypeProto})
 * and ONNX Runtime's ({@link ValueInfo}), so inspect, signatures and the gateway say the same thing.
 */
public final class ValueTypes {
    private static final String ORT_ELEMENT_PREFIX = "ONNX_TENSOR_ELEMENT_DATA_TYPE_";

    private ValueTypes() {
    }

    /** The type as the model file declares it; a type the file leaves empty reads {@code unknown}. */
    public static String describe(TypeProto type) {
        return switch (type.getValueCase()) {
            case TENSOR_TYPE -> "tensor(" + element(type.getTensorType().getElemType()) + ")";
            case SPARSE_TENSOR_TYPE -> "sparse_tensor(" + element(type.getSparseTensorType().getElemType()) + ")";
            case SEQUENCE_TYPE -> "seq(" + describe(type.getSequenceType().getElemType()) + ")";
            case MAP_TYPE -> "map(" + element(type.getMapType().getKeyType()) + ","
                    + describe(type.getMapType().getValueType()) + ")";
            case OPTIONAL_TYPE -> "optional(" + describe(type.getOptionalType().getElemType()) + ")";
            case OPAQUE_TYPE -> "opaque(" + type.getOpaqueType().getDomain() + "," + type.getOpaqueType().getName() + ")";
            case VALUE_NOT_SET -> "unknown";
        };
    }

    /** ONNX's name of a tensor element type number ({@code 1} → {@code float}). */
    public static String element(int elemType) {
        TensorProto.DataType type = TensorProto.DataType.forNumber(elemType);
        return type == null ? "type" + elemType : type.name().toLowerCase(Locale.ROOT);
    }

    /**
     * The type as ONNX Runtime reports it. Its Java API knows less than the file: a sequence's tensors
     * have no shape, map values are plain elements (written as ONNX does, {@code tensor(float)}), and a
     * sparse tensor reads as a dense one.
     */
    public static String describe(ValueInfo info) {
        if (info instanceof TensorInfo tensor) {
            return "tensor(" + element(tensor) + ")";
        }
        if (info instanceof SequenceInfo sequence) {
            return "seq(" + (sequence.isSequenceOfMaps() ? describe(sequence.mapInfo)
                    : "tensor(" + element(sequence.sequenceType) + ")") + ")";
        }
        if (info instanceof MapInfo map) {
            return "map(" + element(map.keyType) + ",tensor(" + element(map.valueType) + "))";
        }
        return "unknown";
    }

    /** True for a plain (dense) tensor, the one kind of value the Open Inference Protocol's tensors carry. */
    public static boolean isTensor(ValueInfo info) {
        return info instanceof TensorInfo;
    }

    private static String element(TensorInfo tensor) {
        if (tensor.onnxType != null) {
            String name = tensor.onnxType.name();
            if (name.startsWith(ORT_ELEMENT_PREFIX)) {
                return name.substring(ORT_ELEMENT_PREFIX.length()).toLowerCase(Locale.ROOT);
            }
        }
        return element(tensor.type);
    }

    private static String element(OnnxJavaType type) {
        return type == null ? "unknown" : type.name().toLowerCase(Locale.ROOT);
    }
}
