package dev.anvil.modelkit.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.tflite.TfliteModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A model that runs dataset batches, whatever runtime holds it: ONNX Runtime ({@link OrtInferenceRunner}) or the
 * TFLite interpreter ({@link TfliteInferenceRunner}). The evaluator and the comparator measure models through it, so
 * a .tflite build is validated like an ONNX model. Inputs and outputs are described as ONNX Runtime describes them
 * (names, element types, shapes with -1 for a free dimension) and outputs come back as ONNX Runtime values, so the
 * scoring and comparison code reads both alike.
 */
public interface InferenceRunner extends AutoCloseable {
    /** The model's inputs, in its order. */
    Map<String, NodeInfo> inputs();

    /** The model's outputs, in its order. */
    Map<String, NodeInfo> outputs();

    /**
     * Opens {@code reader} for this model's inputs, checking the dataset against them (see {@link DatasetFeed}).
     *
     * @param limit at most this many samples are fed (0 = all)
     */
    DatasetFeed feed(DatasetReader reader, int batchSize, long limit) throws OrtException, IOException;

    /** Runs one batch of a feed this runner (or another over the same dataset) opened; the caller closes the outputs. */
    Outputs run(DatasetFeed.Batch batch, Set<String> outputs) throws OrtException;

    /** The runtime's name as reports state it: {@code onnxruntime} or {@code tflite}. */
    String runtime();

    /** How the runs so far departed from what was asked (e.g. a batch run sample by sample); null when they did not. */
    default String note() {
        return null;
    }

    @Override
    void close() throws OrtException;

    /**
     * Opens {@code model} in the runtime its bytes call for: a TFLite flatbuffer (identifier {@code TFL3}) in the
     * TFLite interpreter, anything else in ONNX Runtime with every graph optimisation.
     *
     * @param threads intra-op threads of either runtime (ONNX Runtime with one inter-op thread); 0 leaves the
     *     runtime's default
     */
    static InferenceRunner open(OrtEnvironment env, Path model, int threads) throws OrtException, IOException {
        if (TfliteModel.isTflite(model)) {
            return TfliteInferenceRunner.open(env, model, threads);
        }
        return OrtInferenceRunner.open(env, model, threads);
    }

    /** The named values of one run; closing them frees what the runtime allocated. */
    final class Outputs implements AutoCloseable {
        private final Map<String, OnnxValue> values;
        private final AutoCloseable owner;

        Outputs(Map<String, ? extends OnnxValue> values, AutoCloseable owner) {
            this.values = new LinkedHashMap<>(values);
            this.owner = owner;
        }

        public Optional<OnnxValue> get(String name) {
            return Optional.ofNullable(values.get(name));
        }

        @Override
        public void close() {
            try {
                owner.close();
            } catch (Exception e) {
                throw new IllegalStateException("could not free a model's outputs: " + e.getMessage(), e);
            }
        }
    }
}
