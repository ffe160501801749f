package dev.anvil.modelkit.convert;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * What to make of a model.
 *
 * @param targetOpset the default-domain opset to raise to; empty keeps the model's
 * @param optimization the ONNX Runtime graph optimisation to apply and save
 * @param fp16 whether to convert float32 computation to float16 (graph inputs and outputs stay float32)
 */
public record ConversionOptions(OptionalLong targetOpset, OptimizationLevel optimization, boolean fp16) {
    public ConversionOptions {
        Objects.requireNonNull(targetOpset, "targetOpset");
        Objects.requireNonNull(optimization, "optimization");
    }

    public static ConversionOptions of(Integer targetOpset, OptimizationLevel optimization, boolean fp16) {
        return new ConversionOptions(targetOpset == null ? OptionalLong.empty() : OptionalLong.of(targetOpset),
                optimization, fp16);
    }

    public String describe() {
        return "opset " + (targetOpset.isPresent() ? Long.toString(targetOpset.getAsLong()) : "unchanged")
                + ", optimization " + optimization.label() + ", fp16 " + (fp16 ? "yes" : "no");
    }
}
