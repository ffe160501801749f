package dev.anvil.modelkit.inference;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.onnx.DatasetFeed;
import dev.anvil.modelkit.onnx.OrtSessions;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** An ONNX model in an ONNX Runtime session (every graph optimisation). */
public final class OrtInferenceRunner implements InferenceRunner {
    private final OrtEnvironment env;
    private final OrtSession session;
    private final Map<String, NodeInfo> inputs;
    private final Map<String, NodeInfo> outputs;

    private OrtInferenceRunner(OrtEnvironment env, OrtSession session) throws OrtException {
        this.env = env;
        this.session = session;
        this.inputs = session.getInputInfo();
        this.outputs = session.getOutputInfo();
    }

    static OrtInferenceRunner open(OrtEnvironment env, Path model, int threads) throws OrtException, IOException {
        try (OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
            so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            if (threads > 0) {
                so.setIntraOpNumThreads(threads);
                so.setInterOpNumThreads(1);
            }
            OrtSession session = OrtSessions.open(env, model, so);
            try {
                return new OrtInferenceRunner(env, session);
            } catch (OrtException | RuntimeException e) {
                session.close();
                throw e;
            }
        }
    }

    @Override
    public Map<String, NodeInfo> inputs() {
        return inputs;
    }

    @Override
    public Map<String, NodeInfo> outputs() {
        return outputs;
    }

    @Override
    public DatasetFeed feed(DatasetReader reader, int batchSize, long limit) throws OrtException, IOException {
        return DatasetFeed.open(env, session, reader, batchSize, limit);
    }

    /** A stateful dataset's state travels per session, as {@link DatasetFeed.Batch#run} keeps it. */
    @Override
    public Outputs run(DatasetFeed.Batch batch, Set<String> names) throws OrtException {
        OrtSession.Result result = batch.run(session, names);
        Map<String, OnnxValue> values = new LinkedHashMap<>();
        for (Map.Entry<String, OnnxValue> e : result) {
            values.put(e.getKey(), e.getValue());
        }
        return new Outputs(values, result);
    }

    @Override
    public String runtime() {
        return "onnxruntime";
    }

    @Override
    public void close() throws OrtException {
        session.close();
    }
}
