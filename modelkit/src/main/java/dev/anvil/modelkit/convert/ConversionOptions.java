package dev.anvil.modelkit.convert;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What to make of a model, and what to check the result on.
 *
 * @param targetOpset the default-domain opset to raise to; empty keeps the model's
 * @param optimization the ONNX Runtime graph optimisation to apply and save
 * @param fp16 whether to convert float32 computation to float16 (graph inputs and outputs stay float32)
 * @param shapes sizes for the free dimensions of the self-check's synthetic batch
 * @param checkDataset a dataset file whose first samples the self-check feeds instead of a synthetic batch
 */
public record ConversionOptions(OptionalLong targetOpset, OptimizationLevel optimization, boolean fp16,
        InputShapes shapes, Optional<Path> checkDataset) {
    public ConversionOptions {
        Objects.requireNonNull(targetOpset, "targetOpset");
        Objects.requireNonNull(optimization, "optimization");
        Objects.requireNonNull(shapes, "shapes");
        Objects.requireNonNull(checkDataset, "checkDataset");
    }

    public ConversionOptions(OptionalLong targetOpset, OptimizationLevel optimization, boolean fp16) {
        this(targetOpset, optimization, fp16, InputShapes.none(), Optional.empty());
    }

    public static ConversionOptions of(Integer targetOpset, OptimizationLevel optimization, boolean fp16) {
        return new ConversionOptions(targetOpset == null ? OptionalLong.empty() : OptionalLong.of(targetOpset),
                optimization, fp16);
    }

    /** These options with the self-check fed {@code dataset} (null: a synthetic batch) and sized by {@code shapes}. */
    public ConversionOptions withSelfCheck(InputShapes shapes, Path dataset) {
        return new ConversionOptions(targetOpset, optimization, fp16, shapes, Optional.ofNullable(dataset));
    }

    /** What was asked of the model (the self-check's inputs are not part of it: they do not change the result). */
    public String describe() {
        return "opset " + (targetOpset.isPresent() ? Long.toString(targetOpset.getAsLong()) : "unchanged")
                + ", optimization " + optimization.label() + ", fp16 " + (fp16 ? "yes" : "no");
    }
}
