package dev.anvil.api.ui;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.anvil.db.PipelineRun;
import dev.anvil.db.PipelineStore;
import dev.anvil.db.TaskRun;
import dev.anvil.workflows.pipeline.spec.OperatorRegistry;
import dev.anvil.workflows.pipeline.spec.PipelineSpec;
import dev.anvil.workflows.pipeline.spec.SpecLoader;
import dev.anvil.workflows.pipeline.spec.TaskSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A run's DAG laid out for the tags/runGraph.html template: tasks in columns by depth, one box each,
 * coloured by state, with lines from upstream to downstream; the template adds the same tasks as a
 * table for screen readers and copying.
 */
record RunGraph(int width, int height, List<Line> lines, List<Node> nodes) {
    private static final ObjectMapper JSON = new ObjectMapper();

    record Line(int x1, int y1, int x2, int y2) {
    }

    /**
     * @param attempt null while the task has not run
     * @param warnings what the task's {@code warnings} output says (e.g. convert's unverified result), one per line
     */
    record Node(String task, String operator, String upstream, Integer attempt, String state, String error,
            String warnings, int x, int y) {
        public int textX() {
            return x + 8;
        }

        public int nameY() {
            return y + 17;
        }

        public int stateY() {
            return y + 33;
        }

        public String fill() {
            return switch (state) {
                case "success" -> "#dcfce7";
                case "failed", "upstream_failed" -> "#fee2e2";
                case "running", "queued", "up_for_retry" -> "#fef9c3";
                default -> "#e5e7eb";
            };
        }
    }

    /** The run's tasks as its pipeline version declares them, else (an old spec that no longer loads) as recorded. */
    static RunGraph of(PipelineRun run, Map<String, TaskRun> tasks, PipelineStore pipelines) {
        Map<String, List<String>> upstream = new LinkedHashMap<>();
        if (run != null && run.pipelineVersion() != null) {
            pipelines.find(run.pipeline(), run.pipelineVersion()).ifPresent(v -> {
                try {
                    PipelineSpec spec = SpecLoader.load(v.spec(), OperatorRegistry.builtIns(), Set.of());
                    for (TaskSpec t : spec.tasks().values()) {
                        upstream.put(t.id(), t.upstream());
                    }
                } catch (Exception e) {
                    // an old spec that no longer validates: fall back to the recorded tasks
                }
            });
        }
        if (upstream.isEmpty()) {
            tasks.keySet().forEach(t -> upstream.put(t, List.of()));
        }
        return layout(upstream, tasks);
    }

    static RunGraph layout(Map<String, List<String>> upstream, Map<String, TaskRun> tasks) {
        Map<String, Integer> depth = new LinkedHashMap<>();
        for (String t : upstream.keySet()) {
            depthOf(t, upstream, depth, 0);
        }
        Map<Integer, Integer> rows = new LinkedHashMap<>();
        Map<String, int[]> at = new LinkedHashMap<>();
        for (String t : upstream.keySet()) {
            int d = depth.get(t);
            int row = rows.merge(d, 1, Integer::sum) - 1;
            at.put(t, new int[] {10 + d * 180, 10 + row * 56});
        }
        List<Line> lines = new ArrayList<>();
        upstream.forEach((t, ups) -> ups.forEach(u -> {
            int[] from = at.get(u);
            int[] to = at.get(t);
            if (from != null && to != null) {
                lines.add(new Line(from[0] + 150, from[1] + 20, to[0], to[1] + 20));
            }
        }));
        List<Node> nodes = new ArrayList<>();
        upstream.forEach((t, ups) -> {
            TaskRun r = tasks.get(t);
            int[] p = at.get(t);
            nodes.add(new Node(t, r == null ? null : r.operator(), String.join(", ", ups), r == null ? null : r.attempt(),
                    r == null ? "queued" : r.status(), r == null ? null : r.error(), r == null ? null : warnings(r),
                    p[0], p[1]));
        });
        int width = at.values().stream().mapToInt(p -> p[0]).max().orElse(0) + 170;
        int height = at.values().stream().mapToInt(p -> p[1]).max().orElse(0) + 50;
        return new RunGraph(width, height, lines, nodes);
    }

    /** A task's {@code warnings} output, one per line; null when it has none (or its outputs cannot be read). */
    private static String warnings(TaskRun run) {
        if (run.metricsJson() == null || !run.metricsJson().contains("\"warnings\"")) {
            return null;
        }
        try {
            if (JSON.readTree(run.metricsJson()).get("warnings") instanceof ArrayNode list && !list.isEmpty()) {
                List<String> lines = new ArrayList<>();
                list.forEach(w -> lines.add(w.asText()));
                return String.join("\n", lines);
            }
        } catch (Exception e) {
            // outputs that are not JSON show no warnings; the task's own page still has them
        }
        return null;
    }

    private static int depthOf(String t, Map<String, List<String>> upstream, Map<String, Integer> depth, int guard) {
        Integer known = depth.get(t);
        if (known != null) {
            return known;
        }
        int d = 0;
        if (guard < 200) {
            for (String u : upstream.getOrDefault(t, List.of())) {
                if (upstream.containsKey(u)) {
                    d = Math.max(d, depthOf(u, upstream, depth, guard + 1) + 1);
                }
            }
        }
        depth.put(t, d);
        return d;
    }
}
