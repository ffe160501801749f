package dev.anvil.activities.quantize;

import dev.anvil.modelkit.validate.ModelEvaluator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * FP32 against INT8 per batch, and the report's figures: {@code latency_ms} of both, {@code speedup}
 * (FP32 p50 / INT8 p50), a warning when INT8 is slower, and the {@code candidate} / {@code references.input}
 * blocks in the validation report's shape, so a gate reading this report can hold a slower model with
 * {@code latency_ratio_vs: {model: input, max: 1.0}}.
 */
record Latencies(ModelEvaluator.Latency fp32, int batchSize, int threads) {

    void report(Map<String, Object> report, QuantizeOperator.Candidate chosen, long fp32Size, List<String> warnings) {
        ModelEvaluator.Latency int8 = chosen.latency;
        Map<String, Object> latency = new LinkedHashMap<>();
        latency.put("fp32", json(fp32));
        latency.put("int8", json(int8));
        latency.put("batch_size", batchSize);
        latency.put("threads", threads);
        report.put("latency_ms", latency);
        Double a = Figures.finite(fp32.p50Ms());
        Double b = Figures.finite(int8.p50Ms());
        if (a == null || b == null || b == 0) {
            report.put("speedup", null);
            report.put("speedup_absent_reason", a == null ? "FP32 latency is absent: " + fp32.absentReason()
                    : b == null ? "INT8 latency is absent: " + int8.absentReason() : "INT8 p50 is 0 ms");
        } else {
            double speedup = Figures.round(a / b);
            report.put("speedup", speedup);
            if (b > a) {
                warnings.add(String.format(Locale.ROOT, "the quantised model is slower here: %.3f ms vs %.3f ms per batch"
                        + " of %d (INT8 vs FP32 p50, %d thread(s); speedup %.2f); hold it with a gate rule such as"
                        + " latency_ratio_vs: {model: input, max: 1.0}", b, a, batchSize, threads, speedup));
            }
        }
        Map<String, Object> evaluation = report.get("evaluation") instanceof Map<?, ?> m ? cast(m) : Map.of();
        Map<String, Object> candidate = new LinkedHashMap<>();
        candidate.put("size_bytes", chosen.size);
        candidate.put("accuracy", evaluation.get("accuracy"));
        candidate.put("latency_ms", json(int8));
        report.put("candidate", candidate);
        Map<String, Object> input = new LinkedHashMap<>();
        input.put("size_bytes", fp32Size);
        input.put("accuracy", evaluation.get("float_accuracy"));
        input.put("agreement", evaluation.get("top1_agreement"));
        input.put("mean_cosine", evaluation.get("mean_cosine"));
        input.put("latency_ms", json(fp32));
        report.put("references", Map.of("input", input));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    private static Map<String, Object> json(ModelEvaluator.Latency l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("p50", Figures.finite(l.p50Ms()));
        m.put("p95", Figures.finite(l.p95Ms()));
        m.put("p25", Figures.finite(l.p25Ms()));
        m.put("p75", Figures.finite(l.p75Ms()));
        m.put("batches", l.batches());
        m.put("warmup_batches", l.warmupBatches());
        if (l.absentReason() != null) {
            m.put("absent_reason", l.absentReason());
        }
        return m;
    }
}
