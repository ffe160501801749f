package dev.anvil.workflows.pipeline.spec;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the spec layer knows about an operator: its name in specs, the Temporal activity type
 * that runs it, the task queue it runs on unless a task says otherwise, the JSON Schema (draft
 * 2020-12) its {@code with} must satisfy, and whether it is deterministic (same inputs, same outputs), which
 * is what makes its results safe to cache.
 */
public record OperatorDescriptor(
        String name, String activityType, String taskQueue, Map<String, Object> withSchema, boolean deterministic) {

    public OperatorDescriptor {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(activityType, "activityType");
        Objects.requireNonNull(taskQueue, "taskQueue");
        if (!SpecParser.QUEUES.contains(taskQueue)) {
            throw new IllegalArgumentException("operator '" + name + "': unknown task queue '" + taskQueue
                    + "'; use one of " + SpecParser.QUEUES);
        }
        withSchema = JsonValues.freezeMap(withSchema);
    }

    /** A schema written as JSON text, keys in order, as operators usually declare theirs. */
    public static Map<String, Object> schemaFromJson(String json) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, Object> m = new ObjectMapper().readValue(json, LinkedHashMap.class);
            return m;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("operator schema is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }
}
