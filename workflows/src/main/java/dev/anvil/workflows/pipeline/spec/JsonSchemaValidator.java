package dev.anvil.workflows.pipeline.spec;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A small JSON Schema subset, enough to check operator {@code with} blocks: {@code type} (object,
 * string, integer, number, boolean, array, null; one or a list), {@code required},
 * {@code properties}, {@code additionalProperties} (false or a schema), {@code items},
 * {@code enum}, {@code minimum}, {@code maximum}. Annotations ({@code description},
 * {@code default}, {@code title}, {@code $schema}) are allowed and ignored; any other keyword is
 * refused up front by {@link #checkSupported}, so a schema never silently checks less than it says.
 * A value that is a whole {@code ${...}} reference is not checked: its type is known only at run time.
 */
public final class JsonSchemaValidator {
    static final Set<String> KEYWORDS = Set.of("type", "required", "properties", "additionalProperties", "items",
            "enum", "minimum", "maximum", "description", "default", "title", "$schema", "examples");

    private JsonSchemaValidator() {}

    /** @throws IllegalArgumentException naming the first keyword this subset does not implement */
    public static void checkSupported(Map<String, Object> schema) {
        for (Map.Entry<String, Object> e : schema.entrySet()) {
            if (!KEYWORDS.contains(e.getKey())) {
                throw new IllegalArgumentException("JSON Schema keyword '" + e.getKey() + "' is not supported; use "
                        + KEYWORDS.stream().sorted().collect(Collectors.joining(", ")));
            }
        }
        subSchemas(schema).forEach(JsonSchemaValidator::checkSupported);
    }

    /** The problems with {@code value} at {@code path}; empty when it conforms. */
    public static List<SpecError> validate(Map<String, Object> schema, Object value, String path) {
        List<SpecError> errors = new ArrayList<>();
        check(schema, value, path, errors);
        return errors;
    }

    private static void check(Map<String, Object> schema, Object value, String path, List<SpecError> errors) {
        if (References.looksWhole(value)) {
            return;
        }
        Object type = schema.get("type");
        if (type != null && !typeMatches(type, value)) {
            errors.add(new SpecError(path, "must be " + typeNames(type) + ", got " + describe(value)));
            return;
        }
        Object allowed = schema.get("enum");
        if (allowed instanceof List<?> options && !options.contains(value)) {
            errors.add(new SpecError(path, "must be one of " + options + ", got " + describe(value)));
        }
        if (value instanceof Number n) {
            checkBounds(schema, n, path, errors);
        }
        if (value instanceof Map<?, ?> map) {
            checkObject(schema, map, path, errors);
        }
        if (value instanceof List<?> list && schema.get("items") instanceof Map<?, ?> items) {
            for (int i = 0; i < list.size(); i++) {
                check(asSchema(items), list.get(i), path + "[" + i + "]", errors);
            }
        }
    }

    private static void checkBounds(Map<String, Object> schema, Number n, String path, List<SpecError> errors) {
        BigDecimal v = decimal(n);
        if (schema.get("minimum") instanceof Number min && v.compareTo(decimal(min)) < 0) {
            errors.add(new SpecError(path, "must be at least " + min + ", got " + n));
        }
        if (schema.get("maximum") instanceof Number max && v.compareTo(decimal(max)) > 0) {
            errors.add(new SpecError(path, "must be at most " + max + ", got " + n));
        }
    }

    private static void checkObject(Map<String, Object> schema, Map<?, ?> map, String path, List<SpecError> errors) {
        Map<String, Object> props = schema.get("properties") instanceof Map<?, ?> p ? asSchema(p) : Map.of();
        if (schema.get("required") instanceof List<?> required) {
            for (Object name : required) {
                if (!map.containsKey(name)) {
                    errors.add(new SpecError(join(path, name), "missing required field '" + name + "'"
                            + hint(props.get(String.valueOf(name)))));
                }
            }
        }
        Object additional = schema.get("additionalProperties");
        for (Map.Entry<?, ?> e : map.entrySet()) {
            String key = String.valueOf(e.getKey());
            if (props.get(key) instanceof Map<?, ?> sub) {
                check(asSchema(sub), e.getValue(), join(path, key), errors);
            } else if (Boolean.FALSE.equals(additional)) {
                errors.add(new SpecError(join(path, key), "unknown field '" + key + "'; allowed fields: "
                        + (props.isEmpty() ? "none" : String.join(", ", props.keySet()))));
            } else if (additional instanceof Map<?, ?> sub) {
                check(asSchema(sub), e.getValue(), join(path, key), errors);
            }
        }
    }

    private static String hint(Object propertySchema) {
        if (propertySchema instanceof Map<?, ?> s && s.get("type") != null) {
            return "; add it (" + typeNames(s.get("type")) + ")";
        }
        return "; add it";
    }

    private static boolean typeMatches(Object type, Object value) {
        if (type instanceof List<?> types) {
            return types.stream().anyMatch(t -> typeMatches(t, value));
        }
        return switch (String.valueOf(type)) {
            case "object" -> value instanceof Map;
            case "array" -> value instanceof List;
            case "string" -> value instanceof String;
            case "boolean" -> value instanceof Boolean;
            case "null" -> value == null;
            case "number" -> value instanceof Number;
            // JSON Schema counts 2.0 as an integer too.
            case "integer" -> value instanceof Number n && isWhole(n);
            default -> false;
        };
    }

    private static boolean isWhole(Number n) {
        if (n instanceof Integer || n instanceof Long || n instanceof BigInteger || n instanceof Short || n instanceof Byte) {
            return true;
        }
        double d = n.doubleValue();
        return !Double.isInfinite(d) && d == Math.rint(d);
    }

    private static String typeNames(Object type) {
        if (type instanceof List<?> types) {
            return types.stream().map(JsonSchemaValidator::typeNames).collect(Collectors.joining(" or "));
        }
        String t = String.valueOf(type);
        return switch (t) {
            case "object", "array", "integer" -> "an " + t;
            default -> "a " + t;
        };
    }

    static String describe(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return "string '" + s + "'";
        }
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof List) {
            return "an array";
        }
        if (value instanceof Boolean b) {
            return "boolean " + b;
        }
        return (value instanceof Number n && isWhole(n) ? "integer " : "number ") + value;
    }

    private static BigDecimal decimal(Number n) {
        return n instanceof BigDecimal b ? b : n instanceof BigInteger i ? new BigDecimal(i) : new BigDecimal(n.toString());
    }

    private static String join(String path, Object key) {
        return path.isEmpty() ? String.valueOf(key) : path + "." + key;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asSchema(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }

    private static List<Map<String, Object>> subSchemas(Map<String, Object> schema) {
        List<Map<String, Object>> subs = new ArrayList<>();
        if (schema.get("properties") instanceof Map<?, ?> props) {
            props.values().stream().filter(Map.class::isInstance).forEach(s -> subs.add(asSchema((Map<?, ?>) s)));
        }
        if (schema.get("items") instanceof Map<?, ?> items) {
            subs.add(asSchema(items));
        }
        if (schema.get("additionalProperties") instanceof Map<?, ?> extra) {
            subs.add(asSchema(extra));
        }
        return subs;
    }
}
