package dev.anvil.modelkit.convert;

import java.util.List;
import java.util.Map;

/**
 * What a conversion changed. Op-type counts use {@code domain:Op} for operators outside the default
 * domain; opset maps name the default domain {@code ai.onnx}. Sizes are of the single model file.
 *
 * @param adaptations the opset rewrites, grouped by operator, version crossed and kind of change
 * @param fp16Summary what the float16 conversion did; null without fp16
 * @param verification how the result compared with the original in ONNX Runtime
 * @param notes caveats worth reading (e.g. that extended/all emit ORT-specific operators)
 * @param warnings what a reviewer must see: a self-check that did not run, a result larger than its source
 */
public record ConversionReport(
        long opsetBefore,
        long opsetAfter,
        Map<String, Long> opsetsBefore,
        Map<String, Long> opsetsAfter,
        long irVersionBefore,
        long irVersionAfter,
        int nodesBefore,
        int nodesAfter,
        Map<String, Integer> opTypesBefore,
        Map<String, Integer> opTypesAfter,
        long sizeBytesBefore,
        long sizeBytesAfter,
        boolean fp16,
        String optimization,
        List<Adaptation> adaptations,
        Fp16Converter.Summary fp16Summary,
        Verification verification,
        List<String> notes,
        List<String> warnings,
        long durationMs) {

    /** {@code nodes} nodes of {@code op} were rewritten to cross opset {@code version}, as {@code change} says. */
    public record Adaptation(String op, int version, String change, int nodes) {}

    /**
     * The converted model run against the original on the same inputs.
     *
     * @param verified whether outputs were compared (and, the conversion having succeeded, agreed)
     * @param reason why no comparison ran; null when it did
     * @param inputs how the inputs were made
     * @param shapes the shape of each input fed (of the first batch, for a dataset)
     * @param samples how many samples were compared (a synthetic batch counts as one)
     * @param maxAbsDiff per float output, the largest absolute difference
     * @param maxRelDiff per float output, the largest difference relative to the output's largest magnitude
     * @param mismatchedValues per non-float output, how many values differ
     */
    public record Verification(boolean verified, String reason, String inputs, Map<String, List<Long>> shapes,
            long samples, Map<String, Double> maxAbsDiff, Map<String, Double> maxRelDiff,
            Map<String, Long> mismatchedValues) {}
}
