package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.TaskRun;
import dev.anvil.storage.ObjectStore;
import java.io.InputStream;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What a reviewer sees about a run: the latest attempt of each task and the reports its validate and gate tasks published. */
final class Evidence {
    private final ObjectStore objects;
    private final ObjectMapper json;

    Evidence(ObjectStore objects, ObjectMapper json) {
        this.objects = objects;
        this.json = json;
    }

    /** The latest attempt of each task, in the order the tasks first ran. */
    static Map<String, TaskRun> latestAttempts(List<TaskRun> runs) {
        Map<String, TaskRun> latest = new LinkedHashMap<>();
        runs.stream().sorted(Comparator.comparingLong(TaskRun::id))
                .forEach(t -> latest.merge(t.taskId(), t, (a, b) -> b.attempt() >= a.attempt() ? b : a));
        return latest;
    }

    /** The JSON document an output of the latest successful task of {@code operator} references, if any. */
    Optional<Map<String, Object>> report(Map<String, TaskRun> tasks, String operator, String output) {
        return tasks.values().stream().filter(t -> operator.equals(t.operator()) && "success".equals(t.status()))
                .reduce((a, b) -> b).flatMap(t -> read(t.metricsJson(), output));
    }

    @SuppressWarnings("unchecked")
    private Optional<Map<String, Object>> read(String metricsJson, String output) {
        try {
            Map<String, Object> outputs = json.readValue(metricsJson == null ? "{}" : metricsJson, Map.class);
            if (!(outputs.get(output) instanceof Map<?, ?> ref) || !(ref.get("sha256") instanceof String sha)) {
                return Optional.empty();
            }
            long size = ((Number) ref.get("size")).longValue();
            try (InputStream in = objects.open(sha, size)) {
                return Optional.of(json.readValue(in, Map.class));
            }
        } catch (Exception e) {
            // a report that cannot be read shows as missing; the page says so
            return Optional.empty();
        }
    }
}
