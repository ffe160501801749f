package dev.anvil.api.airflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * Request bodies as Airflow's models take them: a JSON object whose keys are all known (any other is 422
 * {@code extra_forbidden}) and whose required keys are present, even when null ({@code missing}).
 */
final class AirflowBodies {
    private static final ObjectMapper JSON = new ObjectMapper();

    private AirflowBodies() {
    }

    static ObjectNode object(String body, Set<String> allowed, Set<String> required) {
        JsonNode node;
        try {
            node = body == null || body.isBlank() ? null : JSON.readTree(body);
        } catch (IOException e) {
            throw AirflowException.invalid("json_invalid", "JSON decode error", "body");
        }
        if (node == null) {
            throw AirflowException.invalid("missing", "Field required", "body");
        }
        if (!node.isObject()) {
            throw AirflowException.invalid("model_attributes_type", "Input should be a valid dictionary or object", "body");
        }
        AirflowException.Validation errors = new AirflowException.Validation();
        for (String key : required) {
            if (!node.has(key)) {
                errors.add("missing", "Field required", "body", key);
            }
        }
        for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                errors.add("extra_forbidden", "Extra inputs are not permitted", "body", name);
            }
        }
        errors.throwIfAny();
        return (ObjectNode) node;
    }

    /** A nullable string field; anything else but null is 422. */
    static String string(ObjectNode body, String field, AirflowException.Validation errors) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            errors.add("string_type", "Input should be a valid string", "body", field);
            return null;
        }
        return v.asText();
    }

    static Boolean bool(ObjectNode body, String field, boolean fallback, AirflowException.Validation errors) {
        JsonNode v = body.get(field);
        if (v == null) {
            return fallback;
        }
        if (!v.isBoolean()) {
            errors.add("bool_type", "Input should be a valid boolean", "body", field);
            return fallback;
        }
        return v.asBoolean();
    }

    static java.time.Instant dateTime(ObjectNode body, String field, AirflowException.Validation errors) {
        String text = string(body, field, errors);
        if (text == null) {
            return null;
        }
        java.time.Instant t = AirflowQuery.instant(text);
        if (t == null) {
            errors.add("datetime_from_date_parsing", "Input should be a valid datetime", "body", field);
        }
        return t;
    }

    static List<String> strings(ObjectNode body, String field, AirflowException.Validation errors) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isArray()) {
            errors.add("list_type", "Input should be a valid list", "body", field);
            return null;
        }
        List<String> out = new java.util.ArrayList<>();
        for (int i = 0; i < v.size(); i++) {
            if (!v.get(i).isTextual()) {
                errors.add("string_type", "Input should be a valid string", "body", field, i);
            } else {
                out.add(v.get(i).asText());
            }
        }
        return out;
    }
}
