package dev.anvil.cli;

import static dev.anvil.cli.ApiClient.segment;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code anvil runs watch}: polls a run until it ends. On a terminal the task table is redrawn in place; otherwise
 * (a pipe, a CI log) one line is printed per change, so the output stays readable as a log.
 */
public class RunWatcher {
    private static final List<String> TERMINAL = List.of("success", "failed", "cancelled");
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss");

    private final ApiClient api;
    private final CliContext ctx;
    private final long intervalMillis;
    private int drawnLines;

    public RunWatcher(ApiClient api, CliContext ctx, long intervalMillis) {
        this.api = api;
        this.ctx = ctx;
        this.intervalMillis = intervalMillis;
    }

    /** Watches until the run ends; returns 0 when it succeeded, 4 when it failed or was cancelled. */
    public int watch(String runId) {
        PrintWriter out = ctx.out();
        Map<String, String> seen = new LinkedHashMap<>();
        String seenRunStatus = null;
        String seenWaiting = null;
        while (true) {
            JsonNode res = api.get("/api/runs/" + segment(runId));
            String status = res.path("run").path("status").asText("?");
            String waiting = RunsCommand.waiting(res);
            Map<String, JsonNode> latest = latestAttempts(res.path("tasks"));
            if (ctx.tty()) {
                redraw(out, res.path("run"), waiting, latest);
            } else {
                // a run that starts reads before its tasks; one that ended, after them, as it happened
                boolean waitEnded = seenWaiting != null && waiting == null;
                boolean runChanged = !status.equals(seenRunStatus) || !Objects.equals(waiting, seenWaiting);
                seenRunStatus = status;
                seenWaiting = waiting;
                if (runChanged && !TERMINAL.contains(status)) {
                    out.println(now() + "  run " + runId + " " + status + (waiting != null ? ": " + waiting
                            : waitEnded ? ": no longer waiting, a slot freed" : ""));
                }
                for (Map.Entry<String, JsonNode> e : latest.entrySet()) {
                    String state = e.getValue().path("status").asText() + " (attempt " + e.getValue().path("attempt").asInt() + ")";
                    if (!state.equals(seen.put(e.getKey(), state))) {
                        String error = e.getValue().path("error").asText("");
                        out.println(now() + "  " + e.getKey() + " " + state + (error.isEmpty() ? "" : ": " + firstLine(error)));
                    }
                }
                if (runChanged && TERMINAL.contains(status)) {
                    out.println(now() + "  run " + runId + " " + status);
                }
            }
            out.flush();
            if (TERMINAL.contains(status)) {
                String error = res.path("run").path("error").asText("");
                out.println("run " + runId + " ended " + status + (error.isEmpty() ? "" : ": " + firstLine(error)));
                out.flush();
                return status.equals("success") ? ExitCodes.OK : ExitCodes.RUN_FAILED;
            }
            try {
                Thread.sleep(intervalMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CliException(ExitCodes.REFUSED, "stopped watching run " + runId);
            }
        }
    }

    /** The newest attempt of each task, in the order the tasks first appeared. */
    static Map<String, JsonNode> latestAttempts(JsonNode tasks) {
        Map<String, JsonNode> latest = new LinkedHashMap<>();
        for (JsonNode t : tasks) {
            String id = t.path("taskId").asText();
            JsonNode prev = latest.get(id);
            if (prev == null || t.path("attempt").asInt() >= prev.path("attempt").asInt()) {
                latest.put(id, t);
            }
        }
        return latest;
    }

    private void redraw(PrintWriter out, JsonNode run, String waiting, Map<String, JsonNode> latest) {
        List<String> lines = new ArrayList<>();
        lines.add("run " + run.path("id").asText() + "  " + run.path("status").asText() + "   (" + now() + ")");
        if (waiting != null) {
            lines.add(waiting);
        }
        var rows = ApiClient.JSON.createArrayNode();
        latest.values().forEach(rows::add);
        Output.table(rows, "taskId", "attempt", "status", "startedAt", "finishedAt", "error").lines().forEach(lines::add);
        if (drawnLines > 0) {
            out.print("\033[" + drawnLines + "A"); // back to the top of the last drawing
        }
        for (String line : lines) {
            out.print("\033[2K" + line + "\n");
        }
        for (int i = lines.size(); i < drawnLines; i++) {
            out.print("\033[2K\n"); // clear what a longer earlier drawing left
        }
        drawnLines = Math.max(lines.size(), drawnLines);
    }

    private static String now() {
        return LocalTime.now().format(CLOCK);
    }

    private static String firstLine(String text) {
        return text.lines().findFirst().orElse("");
    }
}
