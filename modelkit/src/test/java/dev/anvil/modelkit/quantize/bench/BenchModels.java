package dev.anvil.modelkit.quantize.bench;

import ai.onnxruntime.OrtEnvironment;
import dev.anvil.modelkit.convert.ConversionOptions;
import dev.anvil.modelkit.convert.ModelConverter;
import dev.anvil.modelkit.convert.OptimizationLevel;
import java.nio.file.Path;
import java.util.OptionalLong;

/** Opset raising for the bench models, with the convert operator's engine. */
final class BenchModels {
    private BenchModels() {}

    static void raiseOpset(Path source, Path target, int opset) throws Exception {
        new ModelConverter(OrtEnvironment.getEnvironment()).convert(source, target,
                new ConversionOptions(OptionalLong.of(opset), OptimizationLevel.NONE, false));
    }

    /** Raises the opset (per-channel static quantisation needs 13); false when the model cannot be converted. */
    static boolean raiseOpsetIfPossible(Path source, Path target, int opset) {
        try {
            raiseOpset(source, target, opset);
            return true;
        } catch (Exception e) {
            System.out.println("opset " + opset + " conversion failed (" + e.getMessage() + "); static quantisation"
                    + " falls back to per-tensor weights");
            return false;
        }
    }
}
