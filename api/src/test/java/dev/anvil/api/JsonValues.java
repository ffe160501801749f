package dev.anvil.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/** A JSON value the API returned (a map, a list, a number...) written back as compact JSON text, for contains-checks. */
public final class JsonValues {
    private static final ObjectMapper JSON = new ObjectMapper();

    private JsonValues() {
    }

    public static String text(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON-serialisable: " + value, e);
        }
    }
}
