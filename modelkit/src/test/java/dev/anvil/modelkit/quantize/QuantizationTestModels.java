package dev.anvil.modelkit.quantize;

import dev.anvil.modelkit.onnx.OnnxModel;
import java.nio.file.Path;

/** Test models. */
public final class QuantizationTestModels {
    private QuantizationTestModels() {}

    /**
     * cnn_mnist at opset 13. Its ops (Conv, Relu, MaxPool, Reshape, Gemm, Softmax on 2-D input) mean the
     * same at 9 and 13, so raising the import is enough here; the convert operator does this in general.
     */
    public static void raiseCnnMnistOpset(Path source, Path target) throws Exception {
        OnnxModel model = OnnxModel.read(source);
        model.setOpset("", 13);
        model.proto().setIrVersion(7);
        model.write(target);
    }
}
