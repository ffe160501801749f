package dev.anvil.activities.compress;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** Reads typed values out of a task's {@code with}; a value of the wrong type is an IllegalArgumentException naming the key. */
final class With {
    private With() {}

    static Double number(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (v == null) {
            return null;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new IllegalArgumentException(key + " must be a number, got " + v);
    }

    static double number(Map<String, Object> with, String key, double fallback) {
        Double v = number(with, key);
        return v == null ? fallback : v;
    }

    static int integer(Map<String, Object> with, String key, int fallback) {
        Double v = number(with, key);
        if (v == null) {
            return fallback;
        }
        if (v != Math.rint(v)) {
            throw new IllegalArgumentException(key + " must be a whole number, got " + v);
        }
        return v.intValue();
    }

    static boolean bool(Map<String, Object> with, String key, boolean fallback) {
        Object v = with.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException(key + " must be true or false, got " + v);
    }

    static String string(Map<String, Object> with, String key, String fallback) {
        Object v = with.get(key);
        return v == null ? fallback : v.toString();
    }

    static Set<String> names(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (v == null) {
            return Set.of();
        }
        if (v instanceof Collection<?> c) {
            Set<String> out = new LinkedHashSet<>();
            c.forEach(x -> out.add(String.valueOf(x)));
            return out;
        }
        throw new IllegalArgumentException(key + " must be a list of layer names, got " + v);
    }

    /** A map of layer name to number, e.g. {@code layers: {Conv_1: 0.8}}. */
    static Map<String, Double> numbersByLayer(Map<String, Object> with, String key) {
        Object v = with.get(key);
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException(key + " must map layer names to numbers, got " + v);
        }
        Map<String, Double> out = new LinkedHashMap<>();
        m.forEach((name, value) -> {
            if (!(value instanceof Number n)) {
                throw new IllegalArgumentException(key + "." + name + " must be a number, got " + value);
            }
            out.put(String.valueOf(name), n.doubleValue());
        });
        return out;
    }

    static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }
}
