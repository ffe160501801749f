package dev.anvil.modelkit.validate;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The last guard before a report is written: a NaN or infinite number must never reach a report, a
 * gate or a page (JSON cannot even hold one, and a gate compares it as a number). Each becomes null with
 * {@code <field>_absent_reason} beside it, like every other figure that could not be measured.
 */
public final class FiniteFigures {
    private FiniteFigures() {
    }

    /** A copy of {@code doc} (nested maps and lists too) with every non-finite number made null with a reason. */
    public static Map<String, Object> of(Map<String, ?> doc) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : doc.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            if (isNonFinite(value)) {
                out.put(key, null);
                if (!doc.containsKey(key + "_absent_reason") || doc.get(key + "_absent_reason") == null) {
                    out.put(key + "_absent_reason", key + " came out as " + describe(value)
                            + ": it is undefined for these outputs and reported as null, never as a number");
                }
                continue;
            }
            int[] replaced = {0};
            Object clean = clean(value, replaced);
            out.put(key, clean);
            if (replaced[0] > 0 && !doc.containsKey(key + "_absent_reason")) {
                out.put(key + "_absent_reason", key + " held " + replaced[0]
                        + " NaN or infinite value(s); they are reported as null");
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object clean(Object value, int[] replaced) {
        if (value instanceof Map<?, ?> m) {
            return of((Map<String, ?>) m);
        }
        if (value instanceof Collection<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object item : list) {
                if (isNonFinite(item)) {
                    replaced[0]++;
                    out.add(null);
                } else {
                    out.add(clean(item, replaced));
                }
            }
            return out;
        }
        if (value instanceof double[] array) {
            List<Object> out = new ArrayList<>(array.length);
            for (double d : array) {
                out.add(clean(d, replaced));
            }
            return out;
        }
        if (value instanceof float[] array) {
            List<Object> out = new ArrayList<>(array.length);
            for (float f : array) {
                out.add(clean(f, replaced));
            }
            return out;
        }
        if (isNonFinite(value)) {
            replaced[0]++;
            return null;
        }
        return value;
    }

    static boolean isNonFinite(Object v) {
        return (v instanceof Double d && !Double.isFinite(d)) || (v instanceof Float f && !Float.isFinite(f));
    }

    private static String describe(Object v) {
        double d = ((Number) v).doubleValue();
        return Double.isNaN(d) ? "NaN (not a number)" : (d > 0 ? "+" : "-") + "infinity";
    }
}
