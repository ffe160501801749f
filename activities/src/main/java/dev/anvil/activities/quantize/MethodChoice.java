package dev.anvil.activities.quantize;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code method: auto}: of the candidates (minmax, percentile, entropy, in that order), the one with
 * the highest top-1 agreement, then the highest mean cosine; on a tie the first tried (minmax needs no
 * histogram, so it is the cheapest to reproduce). An absent figure ranks below any value.
 */
final class MethodChoice {
    private static final Comparator<Double> HIGHER_FIRST = Comparator.nullsLast(Comparator.<Double>reverseOrder());
    static final Comparator<QuantizeOperator.Candidate> ORDER = Comparator
            .comparing((QuantizeOperator.Candidate c) -> c.figures.gated().get("top1_agreement"), HIGHER_FIRST)
            .thenComparing(c -> c.figures.gated().get("mean_cosine"), HIGHER_FIRST);

    private MethodChoice() {}

    static QuantizeOperator.Candidate best(List<QuantizeOperator.Candidate> candidates) {
        QuantizeOperator.Candidate best = candidates.get(0);
        for (QuantizeOperator.Candidate c : candidates) {
            if (ORDER.compare(c, best) < 0) {
                best = c; // strictly better only: a tie keeps the earlier one
            }
        }
        return best;
    }

    /** Why {@code chosen} won, in words. */
    static String why(List<QuantizeOperator.Candidate> candidates, QuantizeOperator.Candidate chosen) {
        List<QuantizeOperator.Candidate> others = candidates.stream().filter(c -> c != chosen).toList();
        Double agreement = chosen.figures.gated().get("top1_agreement");
        boolean agreementTied = others.stream()
                .anyMatch(c -> java.util.Objects.equals(c.figures.gated().get("top1_agreement"), agreement));
        boolean allTied = others.stream().anyMatch(c -> ORDER.compare(c, chosen) == 0);
        if (allTied) {
            return "tied with " + others.stream().filter(c -> ORDER.compare(c, chosen) == 0)
                    .map(QuantizeOperator.Candidate::label).collect(Collectors.joining(", "))
                    + " on top-1 agreement and mean cosine; kept the first tried";
        }
        if (agreement != null && !agreementTied) {
            return "highest top-1 agreement with the float model";
        }
        if (agreement != null) {
            return "tied on top-1 agreement (" + agreement + "); highest mean cosine among those";
        }
        return "highest mean cosine with the float model (the output is not class scores)";
    }

    /** The candidates' deciding figures on one line, for messages. */
    static String summary(List<QuantizeOperator.Candidate> candidates) {
        return candidates.stream().map(c -> c.label() + " " + describe(c)).collect(Collectors.joining(", "));
    }

    private static String describe(QuantizeOperator.Candidate c) {
        Map<String, Double> g = c.figures.gated();
        return g.get("top1_agreement") != null
                ? String.format(Locale.ROOT, "agreement %s, mean cosine %s", fmt(g.get("top1_agreement")), fmt(g.get("mean_cosine")))
                : String.format(Locale.ROOT, "mean cosine %s", fmt(g.get("mean_cosine")));
    }

    private static String fmt(Double v) {
        return v == null ? "n/a" : String.format(Locale.ROOT, "%.4f", v);
    }

    /** The report's {@code method_auto}: every method's figures, the one kept and why. */
    static Map<String, Object> toJson(List<QuantizeOperator.Candidate> candidates, QuantizeOperator.Candidate chosen) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (QuantizeOperator.Candidate c : candidates) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("method", c.label());
            row.putAll(c.figures.toJson());
            row.remove("seconds");
            row.put("size_bytes", c.size);
            row.put("p50_ms", c.latency == null ? null : Figures.finite(c.latency.p50Ms()));
            if (c.latency != null && c.latency.p50Ms() == null) {
                row.put("p50_ms_absent_reason", c.latency.absentReason());
            }
            row.put("chosen", c == chosen);
            rows.add(row);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("chosen", chosen.label());
        out.put("why", why(candidates, chosen));
        out.put("rule", "highest top1_agreement, then highest mean_cosine; a tie keeps the first tried"
                + " (minmax, percentile, entropy)");
        out.put("calibration", "one pass with histograms; each method's ranges chosen from the same statistics");
        out.put("methods", rows);
        return out;
    }
}
