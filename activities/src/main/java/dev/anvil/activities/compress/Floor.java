package dev.anvil.activities.compress;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The least a compressed model must keep, measured against the input model on the evaluation dataset:
 * {@code accuracy} (at least), {@code accuracy_drop_points} (at most), {@code top1_agreement} and
 * {@code mean_cosine} (at least). Any subset; none means no floor.
 */
record Floor(Map<String, Double> limits) {
    static final List<String> KEYS = List.of("accuracy", "accuracy_drop_points", "top1_agreement", "mean_cosine");

    /** What the evaluation measured; accuracies and agreement are null where the model's output has no classes or the data no labels. */
    record Measured(long samples, Double accuracy, Double referenceAccuracy, Double top1Agreement, double meanCosine) {
        Double dropPoints() {
            return accuracy == null || referenceAccuracy == null ? null : 100 * (referenceAccuracy - accuracy);
        }
    }

    static Floor parse(Object value) {
        if (value == null) {
            return new Floor(Map.of());
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("floor must be an object such as {accuracy_drop_points: 0.5}, got " + value);
        }
        Map<String, Double> limits = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            String key = String.valueOf(k);
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("floor." + key + " is not a floor; use " + KEYS);
            }
            if (!(v instanceof Number n)) {
                throw new IllegalArgumentException("floor." + key + " must be a number, got " + v);
            }
            limits.put(key, n.doubleValue());
        });
        return new Floor(limits);
    }

    boolean isEmpty() {
        return limits.isEmpty();
    }

    /** The limits the measurement breaks, as sentences; empty when it meets the floor. */
    List<String> broken(Measured m) {
        List<String> broken = new ArrayList<>();
        limits.forEach((key, limit) -> {
            Double value = switch (key) {
                case "accuracy" -> m.accuracy();
                case "accuracy_drop_points" -> m.dropPoints();
                case "top1_agreement" -> m.top1Agreement();
                default -> m.meanCosine();
            };
            if (value == null) {
                broken.add(key + " could not be measured (the output is not class scores, or the dataset has no labels)");
            } else if (key.equals("accuracy_drop_points") ? value > limit : value < limit) {
                broken.add(String.format("%s %.4f %s %.4f", key, value,
                        key.equals("accuracy_drop_points") ? "is above the floor's maximum" : "is below the floor", limit));
            }
        });
        return broken;
    }
}
