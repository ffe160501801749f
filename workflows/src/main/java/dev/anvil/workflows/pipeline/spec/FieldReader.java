package dev.anvil.workflows.pipeline.spec;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Reads typed values out of a spec's syntax tree, recording a {@link SpecError} instead of
 * throwing, so one pass reports every problem. An explicit YAML null counts as absent.
 */
final class FieldReader {
    private final List<SpecError> errors;
    private final ObjectMapper mapper;

    FieldReader(List<SpecError> errors, ObjectMapper mapper) {
        this.errors = errors;
        this.mapper = mapper;
    }

    void error(String path, String message) {
        errors.add(new SpecError(path, message));
    }

    static boolean absent(JsonNode node) {
        return node == null || node.isNull() || node.isMissingNode();
    }

    /** Reports every field of {@code object} not in {@code allowed}. */
    void rejectUnknownFields(JsonNode object, List<String> allowed, String prefix, String where) {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!allowed.contains(field)) {
                error(prefix + field, "unknown field '" + field + "' in " + where + "; allowed fields: "
                        + String.join(", ", allowed));
            }
        }
    }

    Optional<String> string(JsonNode node, String path) {
        if (absent(node)) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            error(path, "must be a string, got " + describe(node));
            return Optional.empty();
        }
        return Optional.of(node.asText());
    }

    Optional<Boolean> bool(JsonNode node, String path) {
        if (absent(node)) {
            return Optional.empty();
        }
        if (!node.isBoolean()) {
            error(path, "must be true or false, got " + describe(node));
            return Optional.empty();
        }
        return Optional.of(node.booleanValue());
    }

    Optional<Integer> retries(JsonNode node, String path) {
        if (absent(node)) {
            return Optional.empty();
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            error(path, "must be a whole number of retries (0 or more), got " + describe(node));
            return Optional.empty();
        }
        if (node.intValue() < 0) {
            error(path, "must be 0 or more, got " + node.intValue() + "; use 0 for no retries");
            return Optional.empty();
        }
        return Optional.of(node.intValue());
    }

    /** A whole number of runs, 1 or more; absent means no bound. */
    Optional<Integer> maxActiveRuns(JsonNode node, String path) {
        if (absent(node)) {
            return Optional.empty();
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
            error(path, "must be a whole number of runs (1 or more), got " + describe(node)
                    + "; leave it out for no bound");
            return Optional.empty();
        }
        if (node.intValue() < 1) {
            error(path, "must be 1 or more, got " + node.intValue() + "; leave it out for no bound");
            return Optional.empty();
        }
        return Optional.of(node.intValue());
    }

    /** A duration string, or a whole number of seconds; {@code positive} rejects zero. */
    Optional<Duration> duration(JsonNode node, String path, boolean positive) {
        if (absent(node)) {
            return Optional.empty();
        }
        Optional<Duration> d = Optional.empty();
        if (node.isIntegralNumber() && node.canConvertToLong() && node.longValue() >= 0) {
            d = Optional.of(Duration.ofSeconds(node.longValue()));
        } else if (node.isTextual()) {
            d = Durations.parse(node.asText());
        }
        if (d.isEmpty()) {
            error(path, "bad duration " + describe(node) + "; write " + Durations.FORMS);
        } else if (positive && d.get().isZero()) {
            error(path, "must be longer than 0; write " + Durations.FORMS);
            return Optional.empty();
        }
        return d;
    }

    Optional<TriggerRule> triggerRule(JsonNode node, String path) {
        Optional<String> text = string(node, path);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        Optional<TriggerRule> rule = TriggerRule.fromSpecName(text.get().strip().toLowerCase(Locale.ROOT));
        if (rule.isEmpty()) {
            error(path, "unknown trigger rule '" + text.get() + "'; valid rules: " + String.join(", ", TriggerRule.specNames()));
        }
        return rule;
    }

    Optional<String> queue(JsonNode node, String path) {
        Optional<String> text = string(node, path);
        if (text.isPresent() && !SpecParser.QUEUES.contains(text.get())) {
            error(path, "unknown queue '" + text.get() + "'; valid queues: " + String.join(", ", SpecParser.QUEUES));
            return Optional.empty();
        }
        return text;
    }

    /** A mapping as plain Java values (maps, lists, strings, numbers, booleans, nulls), in order. */
    Optional<Map<String, Object>> object(JsonNode node, String path, String example) {
        if (absent(node)) {
            return Optional.empty();
        }
        if (!node.isObject()) {
            error(path, "must be a mapping, e.g. " + example + ", got " + describe(node));
            return Optional.empty();
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = mapper.convertValue(node, Map.class);
        return Optional.of(map);
    }

    List<String> stringList(JsonNode node, String path, String example) {
        List<String> out = new ArrayList<>();
        if (absent(node)) {
            return out;
        }
        if (!node.isArray()) {
            error(path, "must be a list, e.g. " + example + ", got " + describe(node));
            return out;
        }
        for (int i = 0; i < node.size(); i++) {
            string(node.get(i), path + "[" + i + "]").ifPresent(out::add);
        }
        return out;
    }

    static String describe(JsonNode node) {
        JsonNodeType type = node.getNodeType();
        return switch (type) {
            case STRING -> "'" + node.asText() + "'";
            case NUMBER, BOOLEAN -> node.asText();
            case ARRAY -> "a list";
            case OBJECT -> "a mapping";
            case NULL -> "null";
            default -> type.name().toLowerCase(Locale.ROOT);
        };
    }
}
