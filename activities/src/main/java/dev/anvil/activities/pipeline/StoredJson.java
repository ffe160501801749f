package dev.anvil.activities.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON objects stored in the database (run parameters, task metrics) read back as ordered maps. */
final class StoredJson {
    private StoredJson() {}

    /** The object in {@code text}, or an empty map when nothing was stored. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> read(ObjectMapper json, String text) {
        if (text == null || text.isBlank()) {
            return new LinkedHashMap<>();
        }
        try {
            return json.readValue(text, LinkedHashMap.class);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
