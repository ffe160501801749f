package dev.anvil.modelkit.convert;

import ai.onnxruntime.OrtSession.SessionOptions.OptLevel;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * ONNX Runtime graph optimisation applied to the converted model and saved with it.
 * <ul>
 *   <li>{@code none}: the model as converted, no ORT rewrite.</li>
 *   <li>{@code basic}: semantics-preserving rewrites that keep standard ONNX operators (constant folding,
 *       removal of redundant nodes such as Identity and inference-time Dropout, Conv+BatchNormalization
 *       and Conv+Add folding). The result runs anywhere the opset runs.</li>
 *   <li>{@code extended}: adds fusions into ONNX Runtime's own operators (com.microsoft domain: FusedConv,
 *       FusedGemm, Gelu, LayerNormalization, Attention, ...). The result needs ONNX Runtime, and fusions are
 *       chosen for the CPU execution provider.</li>
 *   <li>{@code all}: adds layout optimisations (com.microsoft.nchwc blocked-layout convolutions). These
 *       depend on the CPU's vector width, so the saved model is only right for machines like the one
 *       that converted it.</li>
 * </ul>
 */
public enum OptimizationLevel {
    NONE(OptLevel.NO_OPT),
    BASIC(OptLevel.BASIC_OPT),
    EXTENDED(OptLevel.EXTENDED_OPT),
    ALL(OptLevel.ALL_OPT);

    private final OptLevel ort;

    OptimizationLevel(OptLevel ort) {
        this.ort = ort;
    }

    public OptLevel ort() {
        return ort;
    }

    /** The name used in task specs and reports: {@code none}, {@code basic}, {@code extended}, {@code all}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<OptimizationLevel> parse(String value) {
        return Arrays.stream(values()).filter(l -> l.label().equals(value)).findFirst();
    }
}
