package dev.anvil.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import dev.anvil.db.TaskRun;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A task's warnings output (convert's unverified result, a larger model) shows beside its state on the run page. */
class RunGraphWarningsTest {

    private static TaskRun task(String id, String operator, String outputs) {
        return new TaskRun(1, "run-1", id, 1, operator, "success", "{}", outputs, null, Instant.EPOCH, Instant.EPOCH,
                null, null);
    }

    @Test
    void warningsOfATaskShowOnePerLineAndTasksWithoutNoneShow() {
        Map<String, List<String>> upstream = new LinkedHashMap<>();
        upstream.put("convert", List.of());
        upstream.put("inspect", List.of());
        upstream.put("noop", List.of());
        Map<String, TaskRun> tasks = Map.of(
                "convert", task("convert", "convert", "{\"verified\": false, \"warnings\": [\"not verified: no tensor"
                        + " output\", \"the converted model is larger than the original: 9 bytes against 8\"]}"),
                "inspect", task("inspect", "inspect", "{\"warnings\": []}"),
                "noop", task("noop", "noop", null));

        RunGraph graph = RunGraph.layout(upstream, tasks);

        assertThat(graph.nodes()).extracting(RunGraph.Node::warnings).containsExactly(
                "not verified: no tensor output\nthe converted model is larger than the original: 9 bytes against 8",
                null, null);
    }
}
