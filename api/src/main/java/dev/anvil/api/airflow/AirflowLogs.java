package dev.anvil.api.airflow;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.TaskRun;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What Anvil recorded of a task attempt, as Airflow's structured log lines and XCom entries. Anvil does not
 * capture an operator's own output yet, so a log is the attempt's record (start, parameters, outputs or error,
 * end) and says so in its first line; the XCom entries are the attempt's outputs, one per top-level key.
 */
final class AirflowLogs {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String NOT_CAPTURED = "Anvil has not captured this operator's own output; these lines are what it"
            + " recorded of the attempt";

    private AirflowLogs() {
    }

    static List<Map<String, Object>> lines(TaskRun attempt) {
        List<Map<String, Object>> lines = new ArrayList<>();
        Instant start = attempt.startedAt();
        lines.add(line(start, NOT_CAPTURED, "info"));
        lines.add(line(start, "try " + attempt.attempt() + " of task " + attempt.taskId() + " started (operator "
                + attempt.operator() + ")", "info"));
        Map<String, Object> parameters = AirflowViews.json(attempt.parametersJson());
        if (parameters != null && !parameters.isEmpty()) {
            lines.add(line(start, "parameters: " + toJson(parameters), "info"));
        }
        Instant end = attempt.finishedAt();
        if (attempt.cachedFrom() != null) {
            lines.add(line(end, "reused the outputs of an earlier attempt (task run " + attempt.cachedFrom()
                    + ") with the same inputs instead of running", "info"));
        }
        Map<String, Object> outputs = AirflowViews.json(attempt.metricsJson());
        if (outputs != null && !outputs.isEmpty()) {
            lines.add(line(end, "outputs: " + toJson(outputs), "info"));
        }
        if (attempt.error() != null) {
            lines.add(line(end, attempt.error(), "error"));
        }
        if (end != null) {
            lines.add(line(end, "try " + attempt.attempt() + " ended " + attempt.status(),
                    attempt.status().equals("success") ? "info" : "error"));
        } else {
            lines.add(line(Instant.now(), "try " + attempt.attempt() + " is " + attempt.status(), "info"));
        }
        return lines;
    }

    /**
     * A part of a try's log: its lines, and where the next read starts (a byte offset into the captured log, or
     * a line index into what Anvil recorded of the attempt).
     */
    record Chunk(List<Map<String, Object>> lines, boolean captured, long end) {
    }

    /**
     * The lines the try's worker captured (NDJSON in the artifact store, see TaskLogResource) from a byte offset on,
     * as Airflow's structured lines, up to the last whole line (a line still being written is left for the next
     * read); empty when the try kept no log (it ran before logs were captured, or has written nothing yet).
     */
    static java.util.Optional<Chunk> captured(dev.anvil.storage.ObjectStore objects, String runId, String taskId,
                                              int tryNumber, long offset) {
        return dev.anvil.api.runs.TaskLogResource.read(objects, runId, taskId, tryNumber, offset).map(slice -> {
            byte[] bytes = slice.bytes();
            int whole = bytes.length;
            while (whole > 0 && bytes[whole - 1] != '\n') {
                whole--;
            }
            List<Map<String, Object>> lines = new ArrayList<>();
            for (String text : new String(bytes, 0, whole, java.nio.charset.StandardCharsets.UTF_8).split("\n")) {
                if (text.isBlank()) {
                    continue;
                }
                try {
                    Map<String, Object> stored = JSON.readValue(text, new com.fasterxml.jackson.core.type.TypeReference<
                            LinkedHashMap<String, Object>>() { });
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("timestamp", stored.get("timestamp"));
                    m.put("event", stored.get("event"));
                    m.put("level", stored.get("level"));
                    m.put("logger", stored.get("logger"));
                    lines.add(m);
                } catch (JsonProcessingException e) {
                    lines.add(line(Instant.now(), text, "info"));
                }
            }
            return new Chunk(lines, true, Math.min(offset, slice.size()) + whole);
        });
    }

    /**
     * What Anvil recorded of the attempt ({@link #lines}) from line {@code from} on. While the attempt runs its last
     * line says so and is not counted as read: the lines that replace it when the attempt ends (outputs or error,
     * the end) come with the next read.
     */
    static Chunk recorded(TaskRun attempt, long from) {
        List<Map<String, Object>> all = lines(attempt);
        int start = (int) Math.min(from, all.size());
        int end = attempt.finishedAt() == null ? Math.max(start, all.size() - 1) : all.size();
        return new Chunk(all.subList(start, all.size()), false, end);
    }

    private static Map<String, Object> line(Instant at, String event, String level) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("timestamp", AirflowViews.time(at == null ? Instant.now() : at));
        m.put("event", event);
        m.put("level", level);
        return m;
    }

    /** The attempt's outputs, one XCom entry per top-level key; none for an attempt that has not succeeded. */
    static List<Map<String, Object>> xcoms(PipelineRun run, TaskRun attempt, boolean stringify) {
        List<Map<String, Object>> out = new ArrayList<>();
        if (attempt == null || !attempt.status().equals("success")) {
            return out;
        }
        Map<String, Object> outputs = AirflowViews.json(attempt.metricsJson());
        if (outputs == null) {
            return out;
        }
        outputs.forEach((key, value) -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("key", key);
            m.put("timestamp", AirflowViews.time(attempt.finishedAt() != null ? attempt.finishedAt() : attempt.startedAt()));
            m.put("logical_date", AirflowViews.time(AirflowViews.logicalDate(run)));
            m.put("map_index", -1);
            m.put("task_id", attempt.taskId());
            m.put("dag_id", run.pipeline());
            m.put("run_id", run.id());
            m.put("dag_display_name", run.pipeline());
            m.put("task_display_name", attempt.taskId());
            m.put("value", stringify ? toJson(value) : value);
            m.put("run_after", AirflowViews.time(AirflowViews.runAfter(run)));
            out.add(m);
        });
        return out;
    }

    static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            return String.valueOf(value);
        }
    }
}
