package dev.anvil.modelkit.compile;

import com.google.flatbuffers.FlatBufferBuilder;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.lite.schema.Buffer;
import org.tensorflow.lite.schema.BufferT;
import org.tensorflow.lite.schema.Metadata;
import org.tensorflow.lite.schema.MetadataT;
import org.tensorflow.lite.schema.Model;
import org.tensorflow.lite.schema.ModelT;
import org.tensorflow.lite.schema.Operator;
import org.tensorflow.lite.schema.OperatorCode;
import org.tensorflow.lite.schema.OperatorT;
import org.tensorflow.lite.schema.QuantizationParameters;
import org.tensorflow.lite.schema.QuantizationParametersT;
import org.tensorflow.lite.schema.SignatureDef;
import org.tensorflow.lite.schema.SignatureDefT;
import org.tensorflow.lite.schema.SubGraph;
import org.tensorflow.lite.schema.SubGraphT;
import org.tensorflow.lite.schema.Tensor;
import org.tensorflow.lite.schema.TensorT;

/**
 * Serialises a {@link ModelT} as the generated object API's {@code serializeToBinary} does, with two differences:
 * <ul>
 *   <li>buffer data is aligned to 16 bytes, as the schema asks ({@code data:[ubyte] (force_align: 16)}; the Java
 *       object API ignores the attribute), like TFLite's own converter writes it;</li>
 *   <li>identical quantisation parameters are written once and referenced from every tensor that has them, and
 *       identical scale / zero-point vectors once: the per-channel zero points of a layer's weights and of its bias
 *       (both all zero), or the parameters an int8 pooling / reshape shares with its input. A FlatBuffer is a graph
 *       of offsets, so two tables may point at one vector (the builder's own vtable and shared-string
 *       deduplication rely on it); readers, the TFLite interpreter among them, only follow offsets.</li>
 * </ul>
 */
final class TflitePacker {
    private final FlatBufferBuilder b = new FlatBufferBuilder(1 << 16);
    private final Map<String, Integer> floatVectors = new HashMap<>();
    private final Map<String, Integer> longVectors = new HashMap<>();
    private final Map<String, Integer> quantizations = new HashMap<>();

    private TflitePacker() {}

    static byte[] pack(ModelT m) {
        return new TflitePacker().model(m);
    }

    private byte[] model(ModelT m) {
        // the weights first: the builder writes back to front, so they end up at the end of the file
        int[] buffers = new int[m.getBuffers().length];
        for (int i = buffers.length - 1; i >= 0; i--) {
            buffers[i] = buffer(m.getBuffers()[i]);
        }
        int buffersVec = Model.createBuffersVector(b, buffers);
        int[] subgraphs = new int[m.getSubgraphs().length];
        for (int i = 0; i < subgraphs.length; i++) {
            subgraphs[i] = subgraph(m.getSubgraphs()[i]);
        }
        int subgraphsVec = Model.createSubgraphsVector(b, subgraphs);
        int[] codes = Arrays.stream(m.getOperatorCodes()).mapToInt(c -> OperatorCode.pack(b, c)).toArray();
        int codesVec = Model.createOperatorCodesVector(b, codes);
        int description = m.getDescription() == null ? 0 : b.createString(m.getDescription());
        int metadata = 0;
        if (m.getMetadata() != null && m.getMetadata().length > 0) {
            metadata = Model.createMetadataVector(b,
                    Arrays.stream(m.getMetadata()).mapToInt((MetadataT x) -> Metadata.pack(b, x)).toArray());
        }
        int signatures = 0;
        if (m.getSignatureDefs() != null && m.getSignatureDefs().length > 0) {
            signatures = Model.createSignatureDefsVector(b,
                    Arrays.stream(m.getSignatureDefs()).mapToInt((SignatureDefT x) -> SignatureDef.pack(b, x)).toArray());
        }
        Model.startModel(b);
        Model.addVersion(b, m.getVersion());
        Model.addOperatorCodes(b, codesVec);
        Model.addSubgraphs(b, subgraphsVec);
        if (description != 0) {
            Model.addDescription(b, description);
        }
        Model.addBuffers(b, buffersVec);
        if (metadata != 0) {
            Model.addMetadata(b, metadata);
        }
        if (signatures != 0) {
            Model.addSignatureDefs(b, signatures);
        }
        Model.finishModelBuffer(b, Model.endModel(b));
        return b.sizedByteArray();
    }

    private int buffer(BufferT buf) {
        int[] data = buf.getData();
        if (data == null || data.length == 0) {
            Buffer.startBuffer(b);
            return Buffer.endBuffer(b);
        }
        b.startVector(1, data.length, 16);
        for (int i = data.length - 1; i >= 0; i--) {
            b.addByte((byte) data[i]);
        }
        int vec = b.endVector();
        return Buffer.createBuffer(b, vec);
    }

    private int subgraph(SubGraphT sg) {
        int[] tensors = Arrays.stream(sg.getTensors()).mapToInt(this::tensor).toArray();
        int tensorsVec = SubGraph.createTensorsVector(b, tensors);
        int inputs = SubGraph.createInputsVector(b, sg.getInputs());
        int outputs = SubGraph.createOutputsVector(b, sg.getOutputs());
        int[] ops = Arrays.stream(sg.getOperators()).mapToInt((OperatorT o) -> Operator.pack(b, o)).toArray();
        int opsVec = SubGraph.createOperatorsVector(b, ops);
        int name = sg.getName() == null ? 0 : b.createString(sg.getName());
        return SubGraph.createSubGraph(b, tensorsVec, inputs, outputs, opsVec, name);
    }

    private int tensor(TensorT t) {
        int shape = t.getShape() == null ? 0 : Tensor.createShapeVector(b, t.getShape());
        int name = t.getName() == null ? 0 : b.createString(t.getName());
        int quantization = quantization(t.getQuantization());
        int signature = t.getShapeSignature() == null || t.getShapeSignature().length == 0 ? 0
                : Tensor.createShapeSignatureVector(b, t.getShapeSignature());
        if (t.getSparsity() != null || (t.getVariantTensors() != null && t.getVariantTensors().length > 0)) {
            throw new IllegalArgumentException("tensor '" + t.getName() + "': sparsity and variant tensors are not written");
        }
        return Tensor.createTensor(b, shape, t.getType(), t.getBuffer(), name, quantization, t.getIsVariable(), 0,
                signature, t.getHasRank(), 0);
    }

    private int quantization(QuantizationParametersT q) {
        if (q == null) {
            return 0;
        }
        if (q.getDetails() != null && q.getDetails().getType() != 0) {
            throw new IllegalArgumentException("custom quantization details are not written");
        }
        String key = Arrays.toString(q.getMin()) + Arrays.toString(q.getMax()) + Arrays.toString(q.getScale())
                + Arrays.toString(q.getZeroPoint()) + "@" + q.getQuantizedDimension();
        Integer known = quantizations.get(key);
        if (known != null) {
            return known;
        }
        int min = floats(q.getMin());
        int max = floats(q.getMax());
        int scale = floats(q.getScale());
        int zeroPoint = longs(q.getZeroPoint());
        int off = QuantizationParameters.createQuantizationParameters(b, min, max, scale, zeroPoint, (byte) 0, 0,
                q.getQuantizedDimension());
        quantizations.put(key, off);
        return off;
    }

    private int floats(float[] v) {
        if (v == null || v.length == 0) {
            return 0;
        }
        return floatVectors.computeIfAbsent(Arrays.toString(v), k -> QuantizationParameters.createScaleVector(b, v));
    }

    private int longs(long[] v) {
        if (v == null || v.length == 0) {
            return 0;
        }
        return longVectors.computeIfAbsent(Arrays.toString(v), k -> QuantizationParameters.createZeroPointVector(b, v));
    }
}
